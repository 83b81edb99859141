/*
 * The latest SA event of every uid (docs/state.md, "Databases"): batched
 * puts that supersede the previous one, with their owner and certificate
 * serial; two indexes (by stored time, by owner) that let a commit keep
 * each owner and the whole store under their caps by removing the oldest,
 * and the replay walk newest first; the deletions (stale, by uid, by the
 * owner's CN, by revoked serial, all).
 *
 * An SA value: u8 version, u8 type length, u8 serial length, u8 flags,
 * u64 stale_ms, u64 stored_ms, u16 owner length, u16 groups length, then
 * the type, the serial, the owner, the sender's IN groups (a list of
 * names, shared/grouplist.h) and the event bytes.  Its "sa_time" entry is
 * stored_ms (8 bytes) + uid -> "", its "sa_owner" entry owner -> stored_ms
 * + uid; meta "sa_bytes" is the sum of the uid and value sizes of every SA.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "shared/grouplist.h"
#include "shared/log.h"
#include "shared/store.h"
#include "shared/store_int.h"

#define STORE_META_SCHEMA	"schema"
#define STORE_META_SA_BYTES	"sa_bytes"
#define STORE_TKEY_MAX		(8 + STORE_UID_SIZE)

/* A decoded SA value; pointers into it. */
struct store_sa_rec {
	const char		*type, *serial, *owner, *groups;
	size_t			 tlen, slen, olen, glen;
	unsigned		 flags;
	uint64_t		 stale_ms;
	uint64_t		 time_ms;
	const unsigned char	*event;
	size_t			 len;
};

static int
store_sa_decode(const MDB_val *v, struct store_sa_rec *r)
{
	const unsigned char	*p = v->mv_data;
	size_t			 need;

	if (v->mv_size < STORE_SA_HDR || p[0] != STORE_SA_VERSION)
		return (-1);
	r->tlen = p[1];
	r->slen = p[2];
	r->flags = p[3];
	r->stale_ms = store_get64(p + 4);
	r->time_ms = store_get64(p + 12);
	r->olen = store_get16(p + 20);
	r->glen = store_get16(p + 22);
	need = STORE_SA_HDR + r->tlen + r->slen + r->olen + r->glen;
	/* At least one event byte; the strings without a NUL. */
	if (r->tlen >= STORE_TYPE_SIZE || r->slen >= STORE_SERIAL_SIZE ||
	    r->olen >= STORE_OWNER_SIZE || r->glen >= STORE_GROUPS_SIZE ||
	    v->mv_size <= need ||
	    memchr(p + STORE_SA_HDR, '\0', need - STORE_SA_HDR) != NULL)
		return (-1);
	r->type = (const char *)p + STORE_SA_HDR;
	r->serial = r->type + r->tlen;
	r->owner = r->serial + r->slen;
	r->groups = r->owner + r->olen;
	/* Who may have it replayed must be readable: else nobody. */
	if (grouplist_check(r->groups, r->glen) == -1)
		return (-1);
	r->event = p + need;
	r->len = v->mv_size - need;
	return (0);
}

int
store_sa_type(const MDB_val *v, const char **type, size_t *len)
{
	struct store_sa_rec	 r;

	if (store_sa_decode(v, &r) == -1)
		return (-1);
	*type = r.type;
	*len = r.tlen;
	return (0);
}

/* ---- batched writes ---- */

int
store_batch_sa(struct store *s, const char *uid, const char *type,
    uint64_t stale_ms, uint64_t now_ms, const void *event, size_t len)
{
	struct store_sa_put	 p;

	memset(&p, 0, sizeof(p));
	p.uid = uid;
	p.type = type;
	p.stale_ms = stale_ms;
	p.now_ms = now_ms;
	p.event = event;
	p.len = len;
	return (store_batch_sa_put(s, &p));
}

int
store_batch_sa_put(struct store *s, const struct store_sa_put *sp)
{
	struct store_op	*op;
	unsigned char	*p;
	const char	*why = NULL, *type, *owner, *serial, *groups;
	size_t		 ulen, tlen, olen, slen, glen;

	type = sp->type != NULL ? sp->type : "";
	owner = sp->owner != NULL ? sp->owner : "";
	serial = sp->serial != NULL ? sp->serial : "";
	groups = sp->groups != NULL ? sp->groups : "";
	ulen = sp->uid != NULL ? strnlen(sp->uid, STORE_UID_SIZE) : 0;
	tlen = strnlen(type, STORE_TYPE_SIZE);
	olen = strnlen(owner, STORE_OWNER_SIZE);
	slen = strnlen(serial, STORE_SERIAL_SIZE);
	glen = strnlen(groups, STORE_GROUPS_SIZE);
	if (ulen == 0)
		why = "empty uid";
	else if (ulen == STORE_UID_SIZE)
		why = "uid too long";
	else if (tlen == STORE_TYPE_SIZE)
		why = "type too long";
	else if (olen == STORE_OWNER_SIZE)
		why = "owner too long";
	else if (slen == STORE_SERIAL_SIZE)
		why = "serial too long";
	else if (glen == STORE_GROUPS_SIZE || grouplist_check(groups,
	    glen) == -1)
		why = "not a list of groups";
	else if (sp->event == NULL || sp->len == 0 || sp->len > STORE_SA_MAX)
		why = "bad event size";
	if (why != NULL) {
		log_warnx("store: SA of uid \"%.64s\" (%zu bytes) refused: %s",
		    sp->uid != NULL ? sp->uid : "", sp->len, why);
		return (store_refuse(s, "SA"));
	}
	if ((op = store_op_add(s, STORE_OP_SA, 0, ulen + STORE_SA_HDR + tlen +
	    slen + olen + glen + sp->len)) == NULL)
		return (-1);
	op->max_per_owner = sp->max_per_owner;
	/* The arena holds the uid (the key), then the value. */
	p = s->arena + op->voff;
	memcpy(p, sp->uid, ulen);
	op->koff = op->voff;
	op->klen = ulen;
	op->voff += ulen;
	op->vlen -= ulen;
	p += ulen;
	p[0] = STORE_SA_VERSION;
	p[1] = (unsigned char)tlen;
	p[2] = (unsigned char)slen;
	p[3] = (unsigned char)sp->flags;
	store_put64(p + 4, sp->stale_ms);
	store_put64(p + 12, sp->now_ms);
	store_put16(p + 20, (unsigned)olen);
	store_put16(p + 22, (unsigned)glen);
	p += STORE_SA_HDR;
	memcpy(p, type, tlen);
	memcpy(p + tlen, serial, slen);
	memcpy(p + tlen + slen, owner, olen);
	memcpy(p + tlen + slen + olen, groups, glen);
	memcpy(p + tlen + slen + olen + glen, sp->event, sp->len);
	return (0);
}

void
store_set_sa_max_bytes(struct store *s, uint64_t max_bytes)
{
	if (s != NULL && s->magic == STORE_MAGIC)
		s->sa_max_bytes = max_bytes;
}

/* ---- the indexes and the byte count, inside a write ---- */

static int
store_meta_get(struct store *s, MDB_txn *txn, const char *name, uint64_t *val)
{
	MDB_val	 k, v;
	int	 rc;

	*val = 0;
	k.mv_data = store_ro(name);
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_META], &k, &v)) ==
	    MDB_NOTFOUND)
		return (0);
	if (rc == 0 && v.mv_size == 8)
		*val = store_get64(v.mv_data);
	return (rc);
}

static int
store_meta_put(struct store *s, MDB_txn *txn, const char *name, uint64_t val)
{
	MDB_val		 k, v;
	unsigned char	 b[8];

	store_put64(b, val);
	k.mv_data = store_ro(name);
	k.mv_size = strlen(name);
	v.mv_data = b;
	v.mv_size = sizeof(b);
	return (mdb_put(txn, s->dbi[STORE_DB_META], &k, &v, 0));
}

void
store_sa_begin(struct store *s)
{
	s->sa_bytes_loaded = s->sa_bytes_dirty = false;
	s->sa_bytes = 0;
}

int
store_sa_end(struct store *s, MDB_txn *txn)
{
	if (!s->sa_bytes_dirty)
		return (0);
	s->sa_bytes_dirty = false;
	return (store_meta_put(s, txn, STORE_META_SA_BYTES, s->sa_bytes));
}

/* The SA byte count of this write, read once. */
static int
store_sa_bytes(struct store *s, MDB_txn *txn, uint64_t *bytes)
{
	int	 rc;

	if (!s->sa_bytes_loaded) {
		if ((rc = store_meta_get(s, txn, STORE_META_SA_BYTES,
		    &s->sa_bytes)) != 0)
			return (rc);
		s->sa_bytes_loaded = true;
	}
	*bytes = s->sa_bytes;
	return (0);
}

/* Add (or with sub, take) n bytes to "sa_bytes" (at store_sa_end()). */
static int
store_sa_count(struct store *s, MDB_txn *txn, uint64_t n, bool sub)
{
	uint64_t	 cur;
	int		 rc;

	if ((rc = store_sa_bytes(s, txn, &cur)) != 0)
		return (rc);
	if (sub)
		s->sa_bytes = cur > n ? cur - n : 0;
	else
		s->sa_bytes = cur + n;
	s->sa_bytes_dirty = true;
	return (0);
}

static size_t
store_sa_tkey(unsigned char *tk, uint64_t time_ms, const void *uid,
    size_t ulen)
{
	store_put64(tk, time_ms);
	memcpy(tk + 8, uid, ulen);
	return (8 + ulen);
}

/* Put (or with del, delete) the index entries of uid's value v. */
static int
store_sa_index(struct store *s, MDB_txn *txn, const MDB_val *uid,
    const MDB_val *v, bool del)
{
	struct store_sa_rec	 r;
	MDB_val			 k, d;
	unsigned char		 tk[STORE_TKEY_MAX];
	int			 rc;

	/* An unreadable value has no index entries to remove. */
	if (uid->mv_size >= STORE_UID_SIZE || store_sa_decode(v, &r) == -1)
		return (del ? 0 : EINVAL);
	k.mv_data = tk;
	k.mv_size = store_sa_tkey(tk, r.time_ms, uid->mv_data, uid->mv_size);
	d.mv_data = store_ro("");
	d.mv_size = 0;
	rc = del ? mdb_del(txn, s->dbi[STORE_DB_SA_TIME], &k, NULL) :
	    mdb_put(txn, s->dbi[STORE_DB_SA_TIME], &k, &d, 0);
	if (rc != 0 && !(del && rc == MDB_NOTFOUND))
		return (rc);
	if (r.olen > 0) {
		d = k;
		k.mv_data = store_ro(r.owner);
		k.mv_size = r.olen;
		rc = del ? mdb_del(txn, s->dbi[STORE_DB_SA_OWNER], &k, &d) :
		    mdb_put(txn, s->dbi[STORE_DB_SA_OWNER], &k, &d,
		    MDB_NODUPDATA);
		if (rc != 0 && !(del && rc == MDB_NOTFOUND) &&
		    !(!del && rc == MDB_KEYEXIST))
			return (rc);
	}
	return (store_sa_count(s, txn, uid->mv_size + v->mv_size, del));
}

/* Delete uid's SA and its index entries; MDB_NOTFOUND when it has none. */
static int
store_sa_unlink(struct store *s, MDB_txn *txn, const void *uid, size_t ulen)
{
	MDB_val		 k, v;
	char		 key[STORE_UID_SIZE];
	int		 rc;

	if (ulen == 0 || ulen >= sizeof(key))
		return (MDB_NOTFOUND);
	/* Copied: the index entry that named it is about to go. */
	memcpy(key, uid, ulen);
	k.mv_data = key;
	k.mv_size = ulen;
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_SA], &k, &v)) != 0)
		return (rc);
	if ((rc = store_sa_index(s, txn, &k, &v, true)) != 0)
		return (rc);
	return (mdb_del(txn, s->dbi[STORE_DB_SA], &k, NULL));
}

/* Remove the owner's oldest SAs (never keep's) while it has over max. */
static int
store_sa_owner_cap(struct store *s, MDB_txn *txn, const MDB_val *owner,
    unsigned max, const MDB_val *keep)
{
	MDB_cursor	*cur;
	MDB_val		 k, d;
	size_t		 n;
	unsigned char	 uid[STORE_UID_SIZE];
	size_t		 ulen;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, s->dbi[STORE_DB_SA_OWNER], &cur)) != 0)
		return (rc);
	for (;;) {
		k = *owner;
		if ((rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY)) != 0 ||
		    (rc = mdb_cursor_count(cur, &n)) != 0 || n <= max)
			break;
		/* The oldest first; the one just stored stays. */
		if ((rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST_DUP)) == 0 &&
		    d.mv_size - 8 == keep->mv_size &&
		    memcmp((const char *)d.mv_data + 8, keep->mv_data,
		    keep->mv_size) == 0)
			rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT_DUP);
		if (rc != 0 || d.mv_size <= 8 ||
		    (ulen = d.mv_size - 8) >= sizeof(uid))
			break;
		memcpy(uid, (const char *)d.mv_data + 8, ulen);
		if ((rc = store_sa_unlink(s, txn, uid, ulen)) != 0)
			break;
		s->evicting++;
	}
	mdb_cursor_close(cur);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

/* Remove the oldest SAs (never keep's) while all take over the cap. */
static int
store_sa_total_cap(struct store *s, MDB_txn *txn, const MDB_val *keep)
{
	MDB_cursor	*cur;
	MDB_val		 k, d;
	uint64_t	 bytes;
	unsigned char	 uid[STORE_UID_SIZE];
	size_t		 ulen;
	int		 rc;

	if (s->sa_max_bytes == 0)
		return (0);
	if ((rc = store_sa_bytes(s, txn, &bytes)) != 0 ||
	    bytes <= s->sa_max_bytes)
		return (rc);
	if ((rc = mdb_cursor_open(txn, s->dbi[STORE_DB_SA_TIME], &cur)) != 0)
		return (rc);
	for (;;) {
		if ((rc = store_sa_bytes(s, txn, &bytes)) != 0 ||
		    bytes <= s->sa_max_bytes)
			break;
		if ((rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST)) == 0 &&
		    k.mv_size - 8 == keep->mv_size &&
		    memcmp((const char *)k.mv_data + 8, keep->mv_data,
		    keep->mv_size) == 0)
			rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
		if (rc != 0 || k.mv_size <= 8 ||
		    (ulen = k.mv_size - 8) >= sizeof(uid))
			break;
		memcpy(uid, (const char *)k.mv_data + 8, ulen);
		if ((rc = store_sa_unlink(s, txn, uid, ulen)) != 0)
			break;
		s->evicting++;
	}
	mdb_cursor_close(cur);
	return (rc == MDB_NOTFOUND ? 0 : rc);
}

int
store_apply_sa(struct store *s, MDB_txn *txn, const struct store_op *op)
{
	struct store_sa_rec	 r, o;
	MDB_val			 k, v, old, owner;
	unsigned		 max = op->max_per_owner;
	bool			 same = false;
	int			 rc;

	k.mv_data = s->arena + op->koff;
	k.mv_size = op->klen;
	v.mv_data = s->arena + op->voff;
	v.mv_size = op->vlen;
	if (store_sa_decode(&v, &r) == -1)
		return (EINVAL);	/* we encoded it: cannot happen */
	/* The previous SA's index entries go; the value is overwritten. */
	if ((rc = mdb_get(txn, s->dbi[STORE_DB_SA], &k, &old)) == 0) {
		same = store_sa_decode(&old, &o) == 0 && o.olen == r.olen &&
		    memcmp(o.owner, r.owner, r.olen) == 0;
		rc = store_sa_index(s, txn, &k, &old, true);
	} else if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0 || (rc = mdb_put(txn, s->dbi[STORE_DB_SA], &k, &v, 0)) !=
	    0 || (rc = store_sa_index(s, txn, &k, &v, false)) != 0)
		return (rc);
	/* An owner updating a position it had keeps its count. */
	if (max > 0 && r.olen > 0 && !same) {
		owner.mv_data = store_ro(r.owner);
		owner.mv_size = r.olen;
		if ((rc = store_sa_owner_cap(s, txn, &owner, max, &k)) != 0)
			return (rc);
	}
	return (store_sa_total_cap(s, txn, &k));
}

int
store_sa_migrate(struct store *s, MDB_txn *txn)
{
	struct store_sa_rec	 r;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	MDB_stat		 st;
	uint64_t		 schema;
	int			 rc;

	if ((rc = store_meta_get(s, txn, STORE_META_SCHEMA, &schema)) != 0 ||
	    schema == STORE_SCHEMA)
		return (rc);
	if ((rc = mdb_stat(txn, s->dbi[STORE_DB_SA], &st)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->dbi[STORE_DB_SA], &cur)) != 0)
		return (rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	/* Written by this version before the marker was: keep them. */
	if (rc == MDB_NOTFOUND || store_sa_decode(&v, &r) == 0)
		return (store_meta_put(s, txn, STORE_META_SCHEMA,
		    STORE_SCHEMA));
	log_info("store %s: %llu SA entries of an older layout dropped",
	    s->dir, (unsigned long long)st.ms_entries);
	store_sa_begin(s);
	if ((rc = mdb_drop(txn, s->dbi[STORE_DB_SA], 0)) != 0 ||
	    (rc = mdb_drop(txn, s->dbi[STORE_DB_SA_TIME], 0)) != 0 ||
	    (rc = mdb_drop(txn, s->dbi[STORE_DB_SA_OWNER], 0)) != 0 ||
	    (rc = store_meta_put(s, txn, STORE_META_SA_BYTES, 0)) != 0)
		return (rc);
	return (store_meta_put(s, txn, STORE_META_SCHEMA, STORE_SCHEMA));
}

/* ---- immediate writes (supervisor) ---- */

struct store_sa_del {
	const struct store_sa_match	*m;
	char				**serials;	/* sorted copies */
	long				 n;
};

static int
store_str_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Whether the RFC 2253 subject has the RDN "CN=name". */
static bool
store_owner_has_cn(const char *owner, size_t olen, const char *name)
{
	size_t	 nlen = strlen(name), i = 0;

	while (i + 3 + nlen <= olen) {
		if (memcmp(owner + i, "CN=", 3) == 0 &&
		    memcmp(owner + i + 3, name, nlen) == 0 &&
		    (i + 3 + nlen == olen || owner[i + 3 + nlen] == ','))
			return (true);
		/* The next RDN: after a ',' that is not escaped. */
		for (; i < olen; i++)
			if (owner[i] == '\\')
				i++;
			else if (owner[i] == ',') {
				i++;
				break;
			}
		while (i < olen && owner[i] == ' ')
			i++;
	}
	return (false);
}

static bool
store_sa_selected(const struct store_sa_del *sd, const MDB_val *k,
    const MDB_val *v)
{
	const struct store_sa_match	*m = sd->m;
	struct store_sa_rec		 r;
	char				 serial[STORE_SERIAL_SIZE], *sp = serial;

	/* Unreadable entries go too: nothing could replay them. */
	if (store_sa_decode(v, &r) == -1)
		return (m->sel != STORE_SA_SEL_UID);
	switch (m->sel) {
	case STORE_SA_SEL_ALL:
		return (true);
	case STORE_SA_SEL_UID:
		return (k->mv_size == strlen(m->value) &&
		    memcmp(k->mv_data, m->value, k->mv_size) == 0);
	case STORE_SA_SEL_CN:
		return (store_owner_has_cn(r.owner, r.olen, m->value));
	case STORE_SA_SEL_SERIALS:
		if (r.slen == 0 || sd->serials == NULL)
			return (false);
		memcpy(serial, r.serial, r.slen);
		serial[r.slen] = '\0';
		return (bsearch(&sp, sd->serials, m->n, sizeof(char *),
		    store_str_cmp) != NULL);
	case STORE_SA_SEL_SERIAL_FN:
		if (r.slen == 0 || m->serial_fn == NULL)
			return (false);
		memcpy(serial, r.serial, r.slen);
		serial[r.slen] = '\0';
		return (m->serial_fn(serial, m->arg));
	case STORE_SA_SEL_STALE:
		return (r.stale_ms <= m->now_ms &&
		    m->now_ms - r.stale_ms >= m->max_age_ms);
	}
	return (false);
}

static int
store_cull_sa(struct store *s, MDB_txn *txn, const MDB_val *k,
    const MDB_val *v, void *arg, int *rc)
{
	struct store_sa_del	*sd = arg;

	if (!store_sa_selected(sd, k, v))
		return (0);
	/* The value's indexes go first; the cursor deletes the entry. */
	*rc = store_sa_index(s, txn, k, v, true);
	return (1);
}

static int
store_sa_del_apply(struct store *s, MDB_txn *txn, void *arg)
{
	struct store_sa_del	*sd = arg;
	MDB_val			 k;
	char			 key[STORE_UID_SIZE];
	int			 rc;

	store_sa_begin(s);
	sd->n = 0;
	if (sd->m->sel != STORE_SA_SEL_UID)
		rc = store_cull(s, txn, STORE_DB_SA, NULL, store_cull_sa, sd,
		    &sd->n);
	else {
		/* One key: no walk. */
		k.mv_size = strnlen(sd->m->value, sizeof(key));
		if (k.mv_size == 0 || k.mv_size == sizeof(key))
			return (0);
		memcpy(key, sd->m->value, k.mv_size);
		k.mv_data = key;
		if ((rc = store_sa_unlink(s, txn, k.mv_data, k.mv_size)) == 0)
			sd->n = 1;
		else if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	return (rc != 0 ? rc : store_sa_end(s, txn));
}

long
store_sa_delete(struct store *s, const struct store_sa_match *m)
{
	struct store_sa_del	 sd;
	size_t			 i;
	int			 rc;

	memset(&sd, 0, sizeof(sd));
	sd.m = m;
	if ((m->sel == STORE_SA_SEL_UID || m->sel == STORE_SA_SEL_CN) &&
	    (m->value == NULL || m->value[0] == '\0')) {
		log_warnx("store: SA delete without a %s",
		    m->sel == STORE_SA_SEL_UID ? "uid" : "name");
		return (-1);
	}
	if (m->sel == STORE_SA_SEL_SERIALS) {
		if (m->n == 0)
			return (0);
		if ((sd.serials = calloc(m->n, sizeof(char *))) == NULL) {
			log_warn("store: SA delete of %zu serials", m->n);
			return (-1);
		}
		for (i = 0; i < m->n; i++)
			sd.serials[i] = store_ro(m->serials[i]);
		qsort(sd.serials, m->n, sizeof(char *), store_str_cmp);
	}
	rc = store_write(s, "SA delete", store_sa_del_apply, &sd);
	free(sd.serials);
	return (rc == -1 ? -1 : sd.n);
}

long
store_sa_purge(struct store *s, uint64_t now_ms, uint64_t max_age_ms)
{
	struct store_sa_match	 m;

	memset(&m, 0, sizeof(m));
	m.sel = STORE_SA_SEL_STALE;
	m.now_ms = now_ms;
	m.max_age_ms = max_age_ms;
	return (store_sa_delete(s, &m));
}

long
store_sa_purge_serials(struct store *s, const char *const *serials, size_t n)
{
	struct store_sa_match	 m;

	memset(&m, 0, sizeof(m));
	m.sel = STORE_SA_SEL_SERIALS;
	m.serials = serials;
	m.n = n;
	return (store_sa_delete(s, &m));
}

long
store_sa_purge_revoked(struct store *s, bool (*revoked)(const char *, void *),
    void *arg)
{
	struct store_sa_match	 m;

	memset(&m, 0, sizeof(m));
	m.sel = STORE_SA_SEL_SERIAL_FN;
	m.serial_fn = revoked;
	m.arg = arg;
	return (store_sa_delete(s, &m));
}

/* ---- reads ---- */

/* Fill sa from uid's value; -1 when unreadable. */
static int
store_sa_fill(struct store_sa *sa, const void *uid, size_t ulen,
    const MDB_val *v)
{
	struct store_sa_rec	 r;

	if (ulen == 0 || ulen >= sizeof(sa->uid) ||
	    store_sa_decode(v, &r) == -1)
		return (-1);
	memcpy(sa->uid, uid, ulen);
	sa->uid[ulen] = '\0';
	memcpy(sa->type, r.type, r.tlen);
	sa->type[r.tlen] = '\0';
	memcpy(sa->serial, r.serial, r.slen);
	sa->serial[r.slen] = '\0';
	memcpy(sa->owner, r.owner, r.olen);
	sa->owner[r.olen] = '\0';
	memcpy(sa->groups, r.groups, r.glen);
	sa->groups[r.glen] = '\0';
	sa->stale_ms = r.stale_ms;
	sa->time_ms = r.time_ms;
	sa->flags = r.flags;
	sa->event = r.event;
	sa->len = r.len;
	return (0);
}

/* One "sa_time" entry, newest first: its SA, unless stale or skipped. */
static int
store_visit_sa(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;
	struct store_sa		*sa = sv->sa;
	MDB_val			 uk, sv_val;
	MDB_txn			*txn;

	if (k->mv_size <= 8) {
		sv->bad++;
		return (0);
	}
	uk.mv_data = store_ro((const char *)k->mv_data + 8);
	uk.mv_size = k->mv_size - 8;
	if (sv->skip != NULL && uk.mv_size == sv->skiplen &&
	    memcmp(uk.mv_data, sv->skip, sv->skiplen) == 0)
		return (0);
	if ((txn = store_rtxn(sv->store)) == NULL ||
	    mdb_get(txn, sv->store->dbi[STORE_DB_SA], &uk, &sv_val) != 0 ||
	    store_sa_fill(sa, uk.mv_data, uk.mv_size, &sv_val) == -1) {
		sv->bad++;
		return (0);
	}
	if (sa->stale_ms <= sv->now_ms)
		return (0);
	return (sv->sa_cb(sa, sv->arg) != 0);
}

int
store_foreach_sa(struct store *s, uint64_t now_ms, const char *skip_uid,
    int (*cb)(const struct store_sa *, void *), void *arg)
{
	struct store_visit	 sv = { .sa_cb = cb, .arg = arg };
	struct store_sa		*sa;
	int			 rc;

	/* Owner and groups strings: not for the stack of a deep caller. */
	if ((sa = malloc(sizeof(*sa))) == NULL) {
		log_warn("store: SA replay");
		return (-1);
	}
	sv.store = s;
	sv.sa = sa;
	sv.now_ms = now_ms;
	sv.skip = skip_uid;
	sv.skiplen = skip_uid != NULL ? strlen(skip_uid) : 0;
	rc = store_visit_done(s, &sv, "SA replay", store_scan_dir(s,
	    "SA replay", STORE_DB_SA_TIME, NULL, STORE_SCAN_REVERSE,
	    store_visit_sa, &sv));
	free(sa);
	return (rc);
}

static int
store_visit_owner(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_visit	*sv = arg;
	struct store_sa_rec	 r;

	if (store_sa_decode(v, &r) == -1) {
		sv->bad++;
		return (1);
	}
	if (r.olen > 0) {
		memcpy(sv->owner, r.owner, r.olen);
		sv->owner[r.olen] = '\0';
		sv->n = 1;
	}
	return (1);
}

int
store_get_sa_owner(struct store *s, const char *uid, char *owner)
{
	struct store_visit	 sv = { .owner = owner };
	MDB_val			 k;
	char			 kbuf[STORE_UID_SIZE];

	owner[0] = '\0';
	k.mv_size = strnlen(uid, sizeof(kbuf));
	if (k.mv_size == 0 || k.mv_size == sizeof(kbuf))
		return (1);
	memcpy(kbuf, uid, k.mv_size);
	k.mv_data = kbuf;
	if (store_visit_done(s, &sv, "SA owner", store_scan(s, "SA owner",
	    STORE_DB_SA, &k, store_visit_owner, &sv)) == -1)
		return (-1);
	return (sv.n > 0 ? 0 : 1);
}
