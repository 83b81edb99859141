/*
 * The latest SA event of every uid (docs/state.md, "Databases"): batched
 * puts that supersede the previous one, the purge of long-stale entries,
 * and the replay walk.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "shared/log.h"
#include "shared/store.h"
#include "shared/store_int.h"

/* ---- batched writes ---- */

int
store_batch_sa(struct store *s, const char *uid, const char *type,
    uint64_t stale_ms, uint64_t now_ms, const void *event, size_t len)
{
	struct store_op	*op;
	unsigned char	*p;
	const char	*why = NULL;
	size_t		 ulen, tlen;

	if (type == NULL)
		type = "";
	ulen = uid != NULL ? strnlen(uid, STORE_UID_SIZE) : 0;
	tlen = strnlen(type, STORE_TYPE_SIZE);
	if (ulen == 0)
		why = "empty uid";
	else if (ulen == STORE_UID_SIZE)
		why = "uid too long";
	else if (tlen == STORE_TYPE_SIZE)
		why = "type too long";
	else if (event == NULL || len == 0 || len > STORE_SA_MAX)
		why = "bad event size";
	if (why != NULL) {
		log_warnx("store: SA of uid \"%.64s\" (%zu bytes) refused: %s",
		    uid != NULL ? uid : "", len, why);
		return (store_refuse(s, "SA"));
	}
	if ((op = store_op_add(s, STORE_OP_SA, 0, ulen + STORE_SA_HDR + tlen +
	    len)) == NULL)
		return (-1);
	/* The arena holds the uid (the key), then the value. */
	p = s->arena + op->voff;
	memcpy(p, uid, ulen);
	op->koff = op->voff;
	op->klen = ulen;
	op->voff += ulen;
	op->vlen -= ulen;
	p += ulen;
	p[0] = STORE_SA_VERSION;
	p[1] = (unsigned char)tlen;
	p[2] = p[3] = 0;
	store_put64(p + 4, stale_ms);
	store_put64(p + 12, now_ms);
	memcpy(p + STORE_SA_HDR, type, tlen);
	memcpy(p + STORE_SA_HDR + tlen, event, len);
	return (0);
}

int
store_sa_type(const MDB_val *v, const char **type, size_t *len)
{
	const unsigned char	*p = v->mv_data;

	/* The header, the type without a NUL, at least one event byte. */
	if (v->mv_size < STORE_SA_HDR || p[0] != STORE_SA_VERSION ||
	    p[1] >= STORE_TYPE_SIZE || v->mv_size - STORE_SA_HDR <= p[1] ||
	    memchr(p + STORE_SA_HDR, '\0', p[1]) != NULL)
		return (-1);
	*type = (const char *)p + STORE_SA_HDR;
	*len = p[1];
	return (0);
}

/* ---- immediate writes (supervisor) ---- */

struct store_purge {
	uint64_t	 now_ms;
	uint64_t	 max_age_ms;
	long		 n;		/* entries deleted */
};

static int
store_cull_sa(struct store *s, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, void *arg, int *rc)
{
	const struct store_purge	*pg = arg;
	const unsigned char		*p = v->mv_data;
	uint64_t			 stale;

	/* Unreadable entries go too: nothing could replay them. */
	if (v->mv_size < STORE_SA_HDR || p[0] != STORE_SA_VERSION)
		return (1);
	stale = store_get64(p + 4);
	return (stale <= pg->now_ms && pg->now_ms - stale >= pg->max_age_ms);
}

static int
store_purge_apply(struct store *s, MDB_txn *txn, void *arg)
{
	struct store_purge	*pg = arg;

	return (store_cull(s, txn, STORE_DB_SA, NULL, store_cull_sa, pg,
	    &pg->n));
}

long
store_sa_purge(struct store *s, uint64_t now_ms, uint64_t max_age_ms)
{
	struct store_purge	 pg = { now_ms, max_age_ms, 0 };

	if (store_write(s, "SA purge", store_purge_apply, &pg) == -1)
		return (-1);
	return (pg.n);
}

/* ---- reads ---- */

static int
store_visit_sa(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;
	struct store_sa		 sa;
	const unsigned char	*p = v->mv_data;
	const char		*type;
	size_t			 tlen;

	if (sv->skip != NULL && k->mv_size == sv->skiplen &&
	    memcmp(k->mv_data, sv->skip, sv->skiplen) == 0)
		return (0);
	if (k->mv_size == 0 || k->mv_size >= sizeof(sa.uid) ||
	    store_sa_type(v, &type, &tlen) == -1) {
		sv->bad++;
		return (0);
	}
	if ((sa.stale_ms = store_get64(p + 4)) <= sv->now_ms)
		return (0);
	memcpy(sa.uid, k->mv_data, k->mv_size);
	sa.uid[k->mv_size] = '\0';
	memcpy(sa.type, type, tlen);
	sa.type[tlen] = '\0';
	sa.time_ms = store_get64(p + 12);
	sa.event = p + STORE_SA_HDR + tlen;
	sa.len = v->mv_size - STORE_SA_HDR - tlen;
	return (sv->sa_cb(&sa, sv->arg) != 0);
}

int
store_foreach_sa(struct store *s, uint64_t now_ms, const char *skip_uid,
    int (*cb)(const struct store_sa *, void *), void *arg)
{
	struct store_visit	 sv = { .sa_cb = cb, .arg = arg };

	sv.now_ms = now_ms;
	sv.skip = skip_uid;
	sv.skiplen = skip_uid != NULL ? strlen(skip_uid) : 0;
	return (store_visit_done(s, &sv, "SA replay", store_scan(s,
	    "SA replay", STORE_DB_SA, NULL, store_visit_sa, &sv)));
}
