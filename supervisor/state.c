/*
 * The supervisor's side of the shared state: see state.h and docs/state.md.
 * Every call here is one short write transaction in the supervisor's loop;
 * the workers write their own batches.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/x509.h>

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/crlset.h"
#include "shared/log.h"
#include "shared/store.h"
#include "supervisor/proc.h"
#include "supervisor/state.h"

/* The largest record fits in a frame of its own. */
_Static_assert(STATE_DEPARTED_REC_MAX <= IPC_FRAME_MAX -
    sizeof(struct ipc_hdr), "STATE_DEPARTED_REC_MAX");

/* The uids a dead worker's clients left, on their way to the others. */
struct state_departed {
	struct sup		*sup;
	const struct proc_slot	*dead;
	struct ipc_buf		*b;	/* the frame being filled */
	unsigned		 in_frame;	/* records in b */
	size_t			 uids;		/* announced */
	size_t			 unsent;	/* frames a worker did not get */
	unsigned		 live;		/* workers to tell */
};


/*
 * Whether the CRL set in force lists the serial (the hex of worker/tls.c)
 * of the certificate that stored an SA.  Serials are unique per CA; takd
 * trusts the CRL's issuer only.
 */
static bool
state_serial_revoked(const char *hex, void *arg)
{
	const struct crlset	*set = arg;
	ASN1_INTEGER		*ai;
	BIGNUM			*bn = NULL;
	int			 hit;

	if (BN_hex2bn(&bn, hex) == 0 || (ai = BN_to_ASN1_INTEGER(bn,
	    NULL)) == NULL) {
		BN_free(bn);
		return (false);
	}
	hit = crlset_find(set, ai, NULL);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return (hit == 1);
}

/*
 * The positions stored by certificates the CRL in force revokes go: a
 * revoked device must not stay on everybody's map.  Each stored SA's
 * serial is looked up in the set (a binary search): the SAs are bounded by
 * [cot] sa_store_max, the CRL may hold a million serials.
 */
void
state_sa_revoked(struct sup *sup)
{
	long	 gone;

	if (sup->store == NULL || sup->crl.crl == NULL ||
	    crlset_count(sup->crl.crl) == 0)
		return;
	if ((gone = store_sa_purge_revoked(sup->store, state_serial_revoked,
	    sup->crl.crl)) > 0)
		log_info("store: removed %ld SA entr%s of revoked certificates",
		    gone, gone == 1 ? "y" : "ies");
}

static void
state_purge(struct sup *sup)
{
	long	 n;

	if ((n = store_sa_purge(sup->store, (uint64_t)clock_wall_ms(),
	    STATE_SA_MAX_AGE_MS)) > 0)
		log_info("store: purged %ld SA entries stale for over %" PRIu64
		    " h", n, STATE_SA_MAX_AGE_MS / 3600000);
	/* A session revoked mid-commit may have stored one more. */
	state_sa_revoked(sup);
	sup->state_purge_ms = clock_mono_ms() + STATE_PURGE_INTERVAL_MS;
}

/* Open the store and empty its registry; NULL with a reason in err. */
static struct store *
state_try(struct sup *sup, unsigned readers, char *err, size_t errlen)
{
	struct store	*st;
	long		 n;

	/*
	 * The supervisor works in STATE_DIR/store, the service user's: see
	 * prepare_dirs().
	 */
	if ((st = store_open(".", 0, readers, STORE_OPEN_START, err,
	    errlen)) == NULL)
		return (NULL);
	if ((n = store_reset_clients(st)) == -1) {
		snprintf(err, errlen, "cannot reset the client registry (is "
		    "state_dir full?)");
		store_close(st);
		return (NULL);
	}
	log_info("store %s/store open (%u reader slots)%s",
	    sup->cfg->state_dir, readers, n > 0 ? "; registry entries of the last run removed" :
	    "");
	return (st);
}

int
state_open(struct sup *sup, unsigned workers, char *err, size_t errlen)
{
	char		 serr[512];
	unsigned	 readers;

	/* One slot per process (MDB_NOTLS): workers, us, a few takctl. */
	readers = workers + 1 + STATE_SPARE_READERS;
	if (readers < STORE_DEFAULT_READERS)
		readers = STORE_DEFAULT_READERS;
	if ((sup->store = state_try(sup, readers, serr, sizeof(serr))) !=
	    NULL)
		goto done;
	/*
	 * The state is a cache: rather than not serving at all (a full disk,
	 * a damaged file), start over without it, which frees its space.
	 */
	log_warnx("state_dir %s: %s; discarding the stored state",
	    sup->cfg->state_dir, serr);
	if ((unlink("data.mdb") == -1 && errno != ENOENT) ||
	    (unlink("lock.mdb") == -1 && errno != ENOENT))
		log_warn("state_dir %s: removing the store",
		    sup->cfg->state_dir);
	if ((sup->store = state_try(sup, readers, serr, sizeof(serr))) !=
	    NULL)
		goto done;
	/*
	 * Still not: serve without the shared state (no SA replay, takctl
	 * clients and sa unavailable, identities checked within each worker).
	 */
	log_warnx("state_dir %s: %s; running WITHOUT the shared state: no "
	    "latest SA replay, identities checked within each worker only",
	    sup->cfg->state_dir, serr);
	(void)err;
	(void)errlen;
	return (0);
 done:
	state_purge(sup);
	return (0);
}

/*
 * Send the frame to every live worker.  The dead slot is waiting for its
 * respawn (or given up, or stopped): its next process starts with fresh
 * sessions and needs no notice.
 */
static void
state_departed_flush(struct state_departed *sd)
{
	struct sup		*sup = sd->sup;
	struct proc_slot	*slot;
	unsigned		 i;

	if (sd->in_frame == 0)
		return;
	for (i = 0; i < sup->n_slots; i++) {
		slot = &sup->slots[i];
		if (slot == sd->dead || slot->state != SLOT_RUNNING)
			continue;
		/*
		 * proc_send() logs why.  A worker that is dying too (EPIPE)
		 * has no sessions left to tell.
		 */
		if (proc_send(sup, slot, IPC_MSG_DEPARTED, sd->dead->id,
		    sd->b->data, sd->b->len, -1) == -1 && errno != EPIPE &&
		    errno != ECONNRESET)
			sd->unsent++;
	}
	/* The other nodes' clients are told too (docs/cluster.md). */
	if (sup->cluster_run && sup->cluster.state == SLOT_RUNNING)
		(void)proc_send(sup, &sup->cluster, IPC_MSG_DEPARTED,
		    sd->dead->id, sd->b->data, sd->b->len, -1);
	ipc_buf_init(sd->b);
	sd->in_frame = 0;
}

static int
state_departed_one(const struct store_departed *d, void *arg)
{
	struct state_departed	*sd = arg;
	size_t			 len;

	/* A frame holds what fits, IPC_DEPARTED_MAX records at most. */
	len = 3 * 4 + strlen(d->uid) + strlen(d->type) + strlen(d->groups);
	if (sd->b->len + len > sizeof(sd->b->data))
		state_departed_flush(sd);
	ipc_put_str(sd->b, d->uid);
	ipc_put_str(sd->b, d->type);
	/* Who may be told: those whose OUT groups meet these. */
	ipc_put_str(sd->b, d->groups);
	sd->uids++;
	if (++sd->in_frame == IPC_DEPARTED_MAX)
		state_departed_flush(sd);
	return (0);
}

void
state_worker_gone(struct sup *sup, const struct proc_slot *slot)
{
	struct state_departed	 sd;
	long			 n;
	unsigned		 i;
	int			 dead = 0;

	if (sup->store == NULL)
		return;
	/* A worker killed inside a read pins old pages until this. */
	if (store_reader_check(sup->store, &dead) == 0 && dead > 0)
		log_info("store: cleared %d stale reader slot%s after %s %u",
		    dead, dead == 1 ? "" : "s", slot->id == TAKD_API_SLOT ?
		    "the api process, slot" : "worker", slot->id);
	/*
	 * The api process only reads the registry, the cluster process
	 * writes only SAs: nothing of theirs to remove.
	 */
	if (slot->id == TAKD_API_SLOT || slot->id == TAKD_CLUSTER_SLOT)
		return;
	memset(&sd, 0, sizeof(sd));
	sd.sup = sup;
	sd.dead = slot;
	for (i = 0; i < sup->n_slots; i++)
		if (&sup->slots[i] != slot &&
		    sup->slots[i].state == SLOT_RUNNING)
			sd.live++;
	/* A frame is 64 KiB: not for the stack.  Without it, nobody is told. */
	if ((sd.b = malloc(sizeof(*sd.b))) == NULL)
		log_warn("worker %u: disconnect notices", slot->id);
	else
		ipc_buf_init(sd.b);
	/*
	 * The respawned worker restarts its connection sequence, so its old
	 * ids must be gone before it runs.  A worker that ended its sessions
	 * itself told their peers and removed them: what is left here died
	 * with it, unannounced.
	 */
	n = store_del_worker(sup->store, slot->id, sd.b != NULL ?
	    state_departed_one : NULL, &sd);
	if (sd.b != NULL)
		state_departed_flush(&sd);
	free(sd.b);
	if (n <= 0)
		return;
	log_info("store: removed %ld connection%s of worker %u", n,
	    n == 1 ? "" : "s", slot->id);
	if (sd.live > 0)
		log_info("worker %u died: %zu client%s announced as "
		    "disconnected", slot->id, sd.uids, sd.uids == 1 ? "" : "s");
	else
		log_info("worker %u died: %zu client%s gone, no other worker "
		    "to announce it to", slot->id, sd.uids,
		    sd.uids == 1 ? "" : "s");
	if (sd.unsent > 0)
		log_warnx("worker %u died: %zu disconnect notice frame%s not "
		    "sent to a worker", slot->id, sd.unsent,
		    sd.unsent == 1 ? "" : "s");
}

int
state_tick(struct sup *sup)
{
	int64_t	 left;

	if (sup->store == NULL || sup->stopping)
		return (-1);
	if ((left = sup->state_purge_ms - clock_mono_ms()) <= 0) {
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
