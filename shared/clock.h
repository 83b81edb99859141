/*
 * The clock every process reads: milliseconds on the monotonic clock
 * (timeouts, deadlines, rates: whatever measures an interval) and on the
 * wall clock (CoT times, the state store, what is shown to people).
 * CLOCK_MONOTONIC is one clock for the whole host, so a deadline made by
 * the supervisor means the same in a worker (session ticket keys).
 */
#ifndef TAKD_CLOCK_H
#define TAKD_CLOCK_H

#include <stdint.h>

int64_t	 clock_mono_ms(void);
int64_t	 clock_wall_ms(void);

/*
 * Tests only: read the monotonic clock from fn instead (NULL: the real
 * one again), to drive deadlines without waiting for them.
 */
void	 clock_fake_mono(int64_t (*fn)(void));

#endif
