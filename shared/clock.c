/* The clock of every process: see clock.h. */
#include <stddef.h>
#include <time.h>

#include "shared/clock.h"

static int64_t	(*clock_fake)(void);

static int64_t
clock_ms(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
clock_mono_ms(void)
{
	if (clock_fake != NULL)
		return (clock_fake());
	return (clock_ms(CLOCK_MONOTONIC));
}

int64_t
clock_wall_ms(void)
{
	return (clock_ms(CLOCK_REALTIME));
}

void
clock_fake_mono(int64_t (*fn)(void))
{
	clock_fake = fn;
}
