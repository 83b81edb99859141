/*
 * The registry of connected clients and its uid index (docs/state.md,
 * "Databases"): the client record encoding, the batched connect, bind,
 * touch and close, a dead worker's cleanup with the uids it leaves
 * unconnected, and the lookups.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/log.h"
#include "shared/store.h"
#include "shared/store_int.h"

/*
 * Version 3 adds the certificate's notAfter after last_seen_ms; version 2
 * (an older takd's, still running while takctl is upgraded) is read with
 * it unknown, and touched as it is.
 */
#define STORE_REC_VERSION	3
#define STORE_REC_V2		2
#define STORE_REC_HDR		28	/* docs/state.md */
#define STORE_REC_HDR_V2	20
#define STORE_REC_F_V1		0x01	/* flags: the session speaks v1 */
#define STORE_REC_LASTSEEN	12	/* offset of last_seen_ms */
#define STORE_REC_NOTAFTER	20	/* offset of not_after (v3) */
#define STORE_REC_NFIELDS	10
#define STORE_REC_MAX		(STORE_REC_HDR + 2 * STORE_REC_NFIELDS + \
	STORE_UID_SIZE + STORE_CALLSIGN_SIZE + STORE_GROUP_SIZE + \
	STORE_ROLE_SIZE + STORE_SUBJECT_SIZE + STORE_SERIAL_SIZE + \
	STORE_PEER_SIZE + STORE_USER_SIZE + 2 * STORE_GROUPS_SIZE)

static const struct {
	const char	*name;
	size_t		 off;
	size_t		 size;
} store_fields[STORE_REC_NFIELDS] = {
	{ "uid", offsetof(struct store_client, uid), STORE_UID_SIZE },
	{ "callsign", offsetof(struct store_client, callsign),
	    STORE_CALLSIGN_SIZE },
	{ "group", offsetof(struct store_client, group), STORE_GROUP_SIZE },
	{ "role", offsetof(struct store_client, role), STORE_ROLE_SIZE },
	{ "subject", offsetof(struct store_client, subject),
	    STORE_SUBJECT_SIZE },
	{ "serial", offsetof(struct store_client, serial), STORE_SERIAL_SIZE },
	{ "peer", offsetof(struct store_client, peer), STORE_PEER_SIZE },
	{ "user", offsetof(struct store_client, user), STORE_USER_SIZE },
	{ "groups_in", offsetof(struct store_client, groups_in),
	    STORE_GROUPS_SIZE },
	{ "groups_out", offsetof(struct store_client, groups_out),
	    STORE_GROUPS_SIZE },
};

/* ---- client records ---- */

/* Encoded size of a client record, 0 when a field is not terminated. */
static size_t
store_rec_size(const struct store_client *c)
{
	const char	*f;
	size_t		 i, n, len = STORE_REC_HDR;

	for (i = 0; i < STORE_REC_NFIELDS; i++) {
		f = (const char *)c + store_fields[i].off;
		if ((n = strnlen(f, store_fields[i].size)) ==
		    store_fields[i].size) {
			log_warnx("store: connection %llx: %s not terminated",
			    (unsigned long long)c->conn_id,
			    store_fields[i].name);
			return (0);
		}
		len += 2 + n;
	}
	return (len);
}

static void
store_rec_encode(const struct store_client *c, unsigned char *p)
{
	const char	*f;
	size_t		 i, n;

	p[0] = STORE_REC_VERSION;
	p[1] = c->v1 ? STORE_REC_F_V1 : 0;
	store_put16(p + 2, c->worker);
	store_put64(p + 4, c->connected_ms);
	store_put64(p + STORE_REC_LASTSEEN, c->last_seen_ms);
	store_put64(p + STORE_REC_NOTAFTER, (uint64_t)c->not_after);
	p += STORE_REC_HDR;
	for (i = 0; i < STORE_REC_NFIELDS; i++) {
		f = (const char *)c + store_fields[i].off;
		n = strlen(f);
		store_put16(p, (unsigned)n);
		memcpy(p + 2, f, n);
		p += 2 + n;
	}
}

/* Decode the first nfields strings (1: the uid only); -1 if malformed. */
static int
store_rec_decode(const unsigned char *p, size_t len, size_t nfields,
    struct store_client *c)
{
	char	*f;
	size_t	 i, n, off;

	if (len >= STORE_REC_HDR && p[0] == STORE_REC_VERSION) {
		off = STORE_REC_HDR;
		c->not_after = (int64_t)store_get64(p + STORE_REC_NOTAFTER);
	} else if (len >= STORE_REC_HDR_V2 && p[0] == STORE_REC_V2) {
		off = STORE_REC_HDR_V2;
		c->not_after = 0;
	} else
		return (-1);
	c->v1 = (p[1] & STORE_REC_F_V1) != 0;
	c->worker = store_get16(p + 2);
	c->connected_ms = store_get64(p + 4);
	c->last_seen_ms = store_get64(p + STORE_REC_LASTSEEN);
	for (i = 0; i < nfields; i++) {
		if (len - off < 2)
			return (-1);
		n = store_get16(p + off);
		off += 2;
		if (n >= store_fields[i].size || n > len - off)
			return (-1);
		f = (char *)c + store_fields[i].off;
		memcpy(f, p + off, n);
		f[n] = '\0';
		off += n;
	}
	return (nfields < STORE_REC_NFIELDS || off == len ? 0 : -1);
}

/* Indexes in store_fields[]: decode this many plus one. */
#define STORE_REC_SERIAL	5
#define STORE_REC_GROUPS_IN	8

/* ---- the serial index ([tls] max_sessions_per_cert) ---- */

/* The serial of an encoded record into ser ("" when unreadable). */
static void
store_rec_serial(const void *p, size_t len, char *ser)
{
	struct store_client	 c;

	ser[0] = '\0';
	if (store_rec_decode(p, len, STORE_REC_SERIAL + 1, &c) == 0)
		memcpy(ser, c.serial, strlen(c.serial) + 1);
}

static int
store_sidx_put(struct store *s, MDB_txn *txn, const char *ser,
    unsigned char *idkey, bool add)
{
	MDB_val	 k, v;
	int	 rc;

	if (ser[0] == '\0')
		return (0);
	k.mv_data = (void *)(uintptr_t)ser;
	k.mv_size = strlen(ser);
	v.mv_data = idkey;
	v.mv_size = 8;
	if (add) {
		rc = mdb_put(txn, s->dbi[STORE_DB_SIDX], &k, &v, MDB_NODUPDATA);
		return (rc == MDB_KEYEXIST ? 0 : rc);
	}
	rc = mdb_del(txn, s->dbi[STORE_DB_SIDX], &k, &v);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

/*
 * A client operation moves the connection's serial index entry: from the
 * stored record's serial (if any) to the new record's (none for a delete).
 * The old record is read and decoded before anything is written.
 */
int
store_apply_serial(struct store *s, MDB_txn *txn, const struct store_op *op)
{
	MDB_val		 k, old;
	unsigned char	 idkey[8];
	char		 was[STORE_SERIAL_SIZE], now[STORE_SERIAL_SIZE];
	int		 rc;

	store_put64(idkey, op->conn_id);
	k.mv_data = idkey;
	k.mv_size = sizeof(idkey);
	was[0] = now[0] = '\0';
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_CLIENTS], &k, &old)) == 0)
		store_rec_serial(old.mv_data, old.mv_size, was);
	else if (rc != MDB_NOTFOUND)
		return (rc);
	if (op->kind == STORE_OP_CLIENT)
		store_rec_serial(s->arena + op->voff, op->vlen, now);
	if (strcmp(was, now) == 0)
		return (0);
	if ((rc = store_sidx_put(s, txn, was, idkey, false)) != 0)
		return (rc);
	return (store_sidx_put(s, txn, now, idkey, true));
}

static int
store_visit_serial(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;

	(void)k;
	if (v->mv_size != 8 ||
	    STORE_CONN_WORKER(store_get64(v->mv_data)) == sv->skip_worker)
		return (0);
	return (++sv->n >= sv->max);
}

int
store_count_serial(struct store *s, const char *serial, unsigned skip_worker,
    size_t max, size_t *n)
{
	struct store_visit	 sv = { .max = max, .skip_worker = skip_worker };
	MDB_val			 k;
	char			 kbuf[STORE_SERIAL_SIZE];
	int			 rc;

	*n = 0;
	k.mv_size = strnlen(serial, sizeof(kbuf));
	if (max == 0 || k.mv_size == 0 || k.mv_size == sizeof(kbuf))
		return (0);
	memcpy(kbuf, serial, k.mv_size);
	k.mv_data = kbuf;
	rc = store_scan(s, "serial lookup", STORE_DB_SIDX, &k,
	    store_visit_serial, &sv);
	*n = sv.n;
	return (rc);
}

/* ---- batched writes ---- */

int
store_batch_client(struct store *s, const struct store_client *c)
{
	struct store_op	*op;
	size_t		 len;

	if (c->worker != STORE_CONN_WORKER(c->conn_id)) {
		log_warnx("store: connection %llx: worker %u does not match",
		    (unsigned long long)c->conn_id, c->worker);
		return (store_refuse(s, "client"));
	}
	if ((len = store_rec_size(c)) == 0)
		return (store_refuse(s, "client"));
	if ((op = store_op_add(s, STORE_OP_CLIENT, c->conn_id, len)) == NULL)
		return (-1);
	store_rec_encode(c, s->arena + op->voff);
	return (0);
}

int
store_batch_client_del(struct store *s, uint64_t conn_id)
{
	return (store_op_add(s, STORE_OP_CLIENT_DEL, conn_id, 0) == NULL ?
	    -1 : 0);
}

int
store_batch_touch(struct store *s, uint64_t conn_id, uint64_t now_ms)
{
	struct store_touch	*t;
	void			*p;

	if (s == NULL || s->magic != STORE_MAGIC) {
		log_warnx("store: touch on a closed or invalid store");
		return (-1);
	}
	/* A connection's events tend to come in a row. */
	if (s->ntouch > 0 && s->touches[s->ntouch - 1].conn_id == conn_id) {
		t = &s->touches[s->ntouch - 1];
		if (now_ms > t->ms)
			t->ms = now_ms;
		return (0);
	}
	p = s->touches;
	if (store_array_grow(&p, &s->touchcap, s->ntouch + 1,
	    sizeof(*s->touches), STORE_BATCH_OPS) == -1)
		return (store_refuse(s, "batch full"));
	s->touches = p;
	t = &s->touches[s->ntouch++];
	t->conn_id = conn_id;
	t->ms = now_ms;
	return (0);
}

/*
 * Drop the index entries (uid, callsign) of a connection's stored record,
 * except keep's (NULL: none) when they are the same.  removed
 * (STORE_UID_SIZE bytes, or NULL) gets the uid whose entry this deleted,
 * "" when none.
 */
static int
store_unindex(struct store *s, MDB_txn *txn, unsigned char *idkey,
    const MDB_val *old, const struct store_client *keep, char *removed)
{
	struct store_client	 c;
	MDB_val			 k, v;
	int			 rc;

	if (removed != NULL)
		removed[0] = '\0';
	if (store_rec_decode(old->mv_data, old->mv_size, 2, &c) == -1) {
		log_warnx("store %s: connection %llx: unreadable record "
		    "dropped", s->dir, (unsigned long long)store_get64(idkey));
		return (0);
	}
	v.mv_data = idkey;
	v.mv_size = 8;
	if (c.callsign[0] != '\0' && (keep == NULL ||
	    strcmp(c.callsign, keep->callsign) != 0)) {
		k.mv_data = c.callsign;
		k.mv_size = strlen(c.callsign);
		rc = mdb_del(txn, s->dbi[STORE_DB_CSIDX], &k, &v);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return (rc);
	}
	if (c.uid[0] == '\0' || (keep != NULL &&
	    strcmp(c.uid, keep->uid) == 0))
		return (0);
	k.mv_data = c.uid;
	k.mv_size = strlen(c.uid);
	rc = mdb_del(txn, s->dbi[STORE_DB_UIDX], &k, &v);
	if (rc == 0 && removed != NULL)
		memcpy(removed, c.uid, k.mv_size + 1);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

/* Index the connection idkey under key in db (uid or callsign). */
static int
store_index(struct store *s, MDB_txn *txn, int db, const char *key,
    unsigned char *idkey)
{
	MDB_val	 k, v;
	int	 rc;

	if (key[0] == '\0')
		return (0);
	k.mv_data = store_ro(key);
	k.mv_size = strlen(key);
	v.mv_data = idkey;
	v.mv_size = 8;
	rc = mdb_put(txn, s->dbi[db], &k, &v, MDB_NODUPDATA);
	return (rc == MDB_KEYEXIST ? 0 : rc);
}

int
store_apply_client(struct store *s, MDB_txn *txn, const struct store_op *op)
{
	struct store_client	 c;
	MDB_val			 k, v, old;
	unsigned char		 idkey[8];
	int			 rc;

	store_put64(idkey, op->conn_id);
	k.mv_data = idkey;
	k.mv_size = sizeof(idkey);
	c.uid[0] = c.callsign[0] = '\0';
	if (op->kind == STORE_OP_CLIENT && store_rec_decode(s->arena +
	    op->voff, op->vlen, 2, &c) == -1)
		return (EINVAL);	/* we encoded it: cannot happen */
	rc = mdb_get(txn, s->dbi[STORE_DB_CLIENTS], &k, &old);
	if (rc == 0)
		rc = store_unindex(s, txn, idkey, &old,
		    op->kind == STORE_OP_CLIENT ? &c : NULL, NULL);
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0)
		return (rc);
	if (op->kind == STORE_OP_CLIENT_DEL) {
		rc = mdb_del(txn, s->dbi[STORE_DB_CLIENTS], &k, NULL);
		return (rc == MDB_NOTFOUND ? 0 : rc);
	}
	v.mv_data = s->arena + op->voff;
	v.mv_size = op->vlen;
	if ((rc = mdb_put(txn, s->dbi[STORE_DB_CLIENTS], &k, &v, 0)) != 0 ||
	    (rc = store_index(s, txn, STORE_DB_UIDX, c.uid, idkey)) != 0)
		return (rc);
	return (store_index(s, txn, STORE_DB_CSIDX, c.callsign, idkey));
}

int
store_apply_touch(struct store *s, MDB_txn *txn, uint64_t conn_id,
    uint64_t ms)
{
	MDB_val		 k, v;
	unsigned char	 idkey[8], rec[STORE_REC_MAX], *p;
	int		 rc;

	store_put64(idkey, conn_id);
	k.mv_data = idkey;
	k.mv_size = sizeof(idkey);
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_CLIENTS], &k, &v)) != 0)
		return (rc == MDB_NOTFOUND ? 0 : rc);	/* gone: fine */
	p = v.mv_data;
	if (v.mv_size < STORE_REC_HDR_V2 || v.mv_size > sizeof(rec) ||
	    (p[0] != STORE_REC_VERSION && p[0] != STORE_REC_V2) ||
	    ms < store_get64(p + STORE_REC_LASTSEEN) + STORE_TOUCH_GRAIN_MS)
		return (0);
	memcpy(rec, p, v.mv_size);
	store_put64(rec + STORE_REC_LASTSEEN, ms);
	v.mv_data = rec;
	return (mdb_put(txn, s->dbi[STORE_DB_CLIENTS], &k, &v, 0));
}

/* ---- immediate writes (supervisor) ---- */

/* store_del_worker(): the worker slot, and the uids left unconnected. */
struct store_gone {
	unsigned	 worker;
	bool		 collect;
	char		*buf;	/* "uid\0type\0groups\0" per departed uid */
	size_t		 len, cap;
	size_t		 n;
	size_t		 lost;		/* not noted: out of memory */
	long		 removed;	/* connections deleted */
	struct store_client rec;	/* the one being deleted */
};

/*
 * uid just lost an index entry.  When it has none left (every connection
 * of the dead worker that held it is gone, and no other worker's holds it),
 * note it with the type of its latest SA and the IN groups of the connection
 * (who may be told).  Each uid reaches that state once per walk, so each
 * is noted once.
 */
static int
store_gone_note(struct store *s, MDB_txn *txn, struct store_gone *g,
    char *uid, const char *groups)
{
	const char		*type = "";
	MDB_val			 k, v;
	size_t			 ulen = strlen(uid), tlen = 0;
	size_t			 glen = strlen(groups);
	void			*np;
	int			 rc;

	k.mv_data = uid;
	k.mv_size = ulen;
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_UIDX], &k, &v)) == 0)
		return (0);
	if (rc != MDB_NOTFOUND)
		return (rc);
	/* No SA, or an unreadable one: the type is "". */
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_SA], &k, &v)) == 0) {
		if (store_sa_type(&v, &type, &tlen) == -1) {
			type = "";
			tlen = 0;
		}
	} else if (rc != MDB_NOTFOUND)
		return (rc);
	np = g->buf;
	if (store_array_grow(&np, &g->cap, g->len + ulen + tlen + glen + 3, 1,
	    STORE_BATCH_BYTES) == -1) {
		g->lost++;
		return (0);
	}
	g->buf = np;
	memcpy(g->buf + g->len, uid, ulen + 1);
	g->len += ulen + 1;
	memcpy(g->buf + g->len, type, tlen);
	g->buf[g->len + tlen] = '\0';
	g->len += tlen + 1;
	memcpy(g->buf + g->len, groups, glen + 1);
	g->len += glen + 1;
	g->n++;
	return (0);
}

static int
store_cull_worker(struct store *s, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, void *arg, int *rc)
{
	struct store_gone	*g = arg;
	struct store_client	*c = &g->rec;
	unsigned char		 idkey[8];
	char			 uid[STORE_UID_SIZE];

	if (k->mv_size != 8 ||
	    STORE_CONN_WORKER(store_get64(k->mv_data)) != g->worker)
		return (-1);
	memcpy(idkey, k->mv_data, sizeof(idkey));
	/*
	 * Read before any write in txn may move the record's page: the
	 * serial, and the groups its notice follows ("": nobody is told).
	 */
	memset(c, 0, sizeof(*c));
	if (store_rec_decode(v->mv_data, v->mv_size, STORE_REC_GROUPS_IN + 1,
	    c) == -1)
		c->serial[0] = c->groups_in[0] = '\0';
	*rc = store_unindex(s, txn, idkey, v, NULL, uid);
	if (*rc == 0)
		*rc = store_sidx_put(s, txn, c->serial, idkey, false);
	if (*rc == 0 && g->collect && uid[0] != '\0')
		*rc = store_gone_note(s, txn, g, uid, c->groups_in);
	return (1);
}

static int
store_reset_apply(struct store *s, MDB_txn *txn, void *arg)
{
	MDB_stat	 st;
	long		*n = arg;
	int		 rc;

	if ((rc = mdb_stat(txn, s->dbi[STORE_DB_CLIENTS], &st)) != 0 ||
	    (rc = mdb_drop(txn, s->dbi[STORE_DB_CLIENTS], 0)) != 0 ||
	    (rc = mdb_drop(txn, s->dbi[STORE_DB_UIDX], 0)) != 0 ||
	    (rc = mdb_drop(txn, s->dbi[STORE_DB_CSIDX], 0)) != 0 ||
	    (rc = mdb_drop(txn, s->dbi[STORE_DB_SIDX], 0)) != 0 ||
	    (rc = store_sa_migrate(s, txn)) != 0)
		return (rc);
	*n = (long)st.ms_entries;
	return (0);
}

long
store_reset_clients(struct store *s)
{
	long	 n = 0;

	if (store_write(s, "registry reset", store_reset_apply, &n) == -1)
		return (-1);
	return (n);
}

static int
store_gone_apply(struct store *s, MDB_txn *txn, void *arg)
{
	struct store_gone	*g = arg;
	MDB_val			 k;
	unsigned char		 lo[8];

	/* A run again after the map grew notes everything again. */
	g->len = g->n = g->lost = 0;
	/* A worker's connections are one key range. */
	store_put64(lo, STORE_CONN_ID(g->worker, 0));
	k.mv_data = lo;
	k.mv_size = sizeof(lo);
	return (store_cull(s, txn, STORE_DB_CLIENTS, &k, store_cull_worker, g,
	    &g->removed));
}

long
store_del_worker(struct store *s, unsigned worker,
    int (*departed)(const struct store_departed *, void *), void *arg)
{
	struct store_gone	 g;
	struct store_departed	 d;
	size_t			 i, off = 0;
	int			 rc;

	if (worker > STORE_WORKER_MAX) {
		log_warnx("store: no worker %u", worker);
		return (-1);
	}
	memset(&g, 0, sizeof(g));
	g.worker = worker;
	g.collect = departed != NULL;
	rc = store_write(s, "worker cleanup", store_gone_apply, &g);
	if (rc == 0 && g.lost > 0)
		log_warnx("store %s: worker %u cleanup: %zu uids left without "
		    "a connection cannot be reported: out of memory", s->dir,
		    worker, g.lost);
	/* Only what is committed: a failed write removed nothing. */
	for (i = 0; rc == 0 && i < g.n; i++) {
		d.uid = g.buf + off;
		off += strlen(d.uid) + 1;
		d.type = g.buf + off;
		off += strlen(d.type) + 1;
		d.groups = g.buf + off;
		off += strlen(d.groups) + 1;
		if (departed(&d, arg) != 0)
			break;
	}
	free(g.buf);
	return (rc == 0 ? g.removed : -1);
}

/* ---- reads ---- */

static int
store_visit_client(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;
	struct store_client	 c, *cp;

	cp = sv->client != NULL ? sv->client : &c;
	memset(cp, 0, sizeof(*cp));
	if (k->mv_size != 8 || store_rec_decode(v->mv_data, v->mv_size,
	    STORE_REC_NFIELDS, cp) == -1) {
		sv->bad++;
		return (0);
	}
	cp->conn_id = store_get64(k->mv_data);
	sv->n++;
	return (sv->client_cb != NULL ? (sv->client_cb(cp, sv->arg) != 0) : 1);
}

static int
store_visit_uid(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;

	if (v->mv_size != 8)
		return (0);
	if (sv->n < sv->max)
		sv->ids[sv->n] = store_get64(v->mv_data);
	sv->n++;
	return (0);
}

int
store_foreach_client(struct store *s,
    int (*cb)(const struct store_client *, void *), void *arg)
{
	struct store_visit	 sv = { .client_cb = cb, .arg = arg };

	return (store_visit_done(s, &sv, "client list", store_scan(s,
	    "client list", STORE_DB_CLIENTS, NULL, store_visit_client, &sv)));
}

int
store_get_client(struct store *s, uint64_t conn_id, struct store_client *c)
{
	struct store_visit	 sv = { .client = c };
	MDB_val			 k;
	unsigned char		 idkey[8];

	store_put64(idkey, conn_id);
	k.mv_data = idkey;
	k.mv_size = sizeof(idkey);
	if (store_visit_done(s, &sv, "client lookup", store_scan(s,
	    "client lookup", STORE_DB_CLIENTS, &k, store_visit_client,
	    &sv)) == -1 || sv.bad > 0)
		return (-1);
	return (sv.n > 0 ? 0 : 1);
}

static int
store_lookup(struct store *s, int db, const char *what, const char *key,
    uint64_t *ids, size_t max, size_t *n)
{
	struct store_visit	 sv = { .ids = ids, .max = max };
	MDB_val			 k;
	char			 kbuf[STORE_UID_SIZE];
	int			 rc;

	*n = 0;
	k.mv_size = strnlen(key, sizeof(kbuf));
	if (k.mv_size == 0 || k.mv_size == sizeof(kbuf))
		return (0);	/* never indexed */
	memcpy(kbuf, key, k.mv_size);
	k.mv_data = kbuf;
	rc = store_scan(s, what, db, &k, store_visit_uid, &sv);
	*n = sv.n;
	return (rc);
}

int
store_lookup_uid(struct store *s, const char *uid, uint64_t *ids, size_t max,
    size_t *n)
{
	return (store_lookup(s, STORE_DB_UIDX, "uid lookup", uid, ids, max,
	    n));
}

int
store_lookup_callsign(struct store *s, const char *callsign, uint64_t *ids,
    size_t max, size_t *n)
{
	return (store_lookup(s, STORE_DB_CSIDX, "callsign lookup", callsign,
	    ids, max, n));
}
