/*
 * The supervisor's side of the shared state: see state.h and docs/state.md.
 * Every call here is one short write transaction in the supervisor's loop;
 * the workers write their own batches.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "shared/log.h"
#include "shared/store.h"
#include "supervisor/state.h"

static uint64_t
state_wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
state_purge(struct sup *sup)
{
	long	 n;

	if ((n = store_sa_purge(sup->store, state_wall_ms(),
	    STATE_SA_MAX_AGE_MS)) > 0)
		log_info("store: purged %ld SA entries stale for over %" PRIu64
		    " h", n, STATE_SA_MAX_AGE_MS / 3600000);
	sup->state_purge_ms = sup_now_ms() + STATE_PURGE_INTERVAL_MS;
}

int
state_open(struct sup *sup, unsigned workers, char *err, size_t errlen)
{
	char		 serr[512];
	unsigned	 readers;
	long		 n;

	/* One slot per process (MDB_NOTLS): workers, us, a few takctl. */
	readers = workers + 1 + STATE_SPARE_READERS;
	if (readers < STORE_DEFAULT_READERS)
		readers = STORE_DEFAULT_READERS;
	/* The supervisor chdir()ed into state_dir: see prepare_dirs(). */
	if ((sup->store = store_open(".", 0, readers, STORE_OPEN_START, serr,
	    sizeof(serr))) == NULL) {
		snprintf(err, errlen, "state_dir %s: %s", sup->cfg->state_dir,
		    serr);
		return (-1);
	}
	if ((n = store_reset_clients(sup->store)) == -1) {
		snprintf(err, errlen, "state_dir %s: cannot reset the client "
		    "registry", sup->cfg->state_dir);
		store_close(sup->store);
		sup->store = NULL;
		return (-1);
	}
	log_info("store %s open (%u reader slots)%s", sup->cfg->state_dir,
	    readers, n > 0 ? "; registry entries of the last run removed" :
	    "");
	state_purge(sup);
	return (0);
}

void
state_worker_gone(struct sup *sup, const struct proc_slot *slot)
{
	long	 n;
	int	 dead = 0;

	if (sup->store == NULL)
		return;
	/* A worker killed inside a read pins old pages until this. */
	if (store_reader_check(sup->store, &dead) == 0 && dead > 0)
		log_info("store: cleared %d stale reader slot%s after worker "
		    "%u", dead, dead == 1 ? "" : "s", slot->id);
	/*
	 * The respawned worker restarts its connection sequence, so its old
	 * ids must be gone before it runs.
	 */
	if ((n = store_del_worker(sup->store, slot->id)) > 0)
		log_info("store: removed %ld connection%s of worker %u", n,
		    n == 1 ? "" : "s", slot->id);
}

int
state_tick(struct sup *sup)
{
	int64_t	 left;

	if (sup->store == NULL || sup->stopping)
		return (-1);
	if ((left = sup->state_purge_ms - sup_now_ms()) <= 0) {
		state_purge(sup);
		left = STATE_PURGE_INTERVAL_MS;
	}
	return ((int)left);
}

void
state_close(struct sup *sup)
{
	store_close(sup->store);
	sup->store = NULL;
}
