/*
 * The supervisor's duties towards the shared state (shared/store.h,
 * docs/state.md): open it once per start, forget the connections of a dead
 * worker before its slot is reused, purge old SA entries, close it last.
 */
#ifndef TAKD_STATE_H
#define TAKD_STATE_H

#include "shared/store.h"
#include "supervisor/sup.h"

#define STATE_PURGE_INTERVAL_MS	(10 * 60 * 1000)
#define STATE_SA_MAX_AGE_MS	((uint64_t)24 * 60 * 60 * 1000)
/* Reader slots beyond one per process, for takctl instances. */
#define STATE_SPARE_READERS	16
/*
 * The largest IPC_MSG_DEPARTED record: three string lengths, uid, type and
 * groups.
 */
#define STATE_DEPARTED_REC_MAX	(3 * 4 + STORE_UID_SIZE + STORE_TYPE_SIZE + \
	STORE_GROUPS_SIZE)

/*
 * After the privilege drop, in state_dir, before the first fork: open the
 * store (STORE_OPEN_START), empty the client registry, purge stale SA.
 * A store that cannot be opened or written (a full state_dir) is
 * discarded and made anew; when even that fails, takd runs without it
 * (sup->store NULL).  Returns 0; err is kept for the interface.
 */
int	 state_open(struct sup *, unsigned workers, char *err, size_t errlen);
/*
 * Remove the stored SAs of the certificates the CRL in force revokes (after
 * a reload, at start and with every purge).
 */
void	 state_sa_revoked(struct sup *);
/*
 * A reaped worker: clear its reader slot and its registry entries (the api
 * process: its reader slot only).
 */
void	 state_worker_gone(struct sup *, const struct proc_slot *);
/* Run the periodic purge when due; ms until the next one, -1 for none. */
int	 state_tick(struct sup *);
/* After every worker is gone: flush and mark the store cleanly closed. */
void	 state_close(struct sup *);

#endif
