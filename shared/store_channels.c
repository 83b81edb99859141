/*
 * The channels each user turned off (shared/channels.h): database
 * "channels", key the user's name, value the encoded off set.  The
 * supervisor writes it (store_put_channels(), an immediate write); the
 * workers and the api process read it (store_get_channels()).  See
 * store.h.
 */
#include <string.h>

#include "shared/log.h"
#include "shared/store_int.h"

struct store_chan {
	const char	*user;
	size_t		 ulen;
	const char	*rec;
	size_t		 len;
	char		*buf;		/* get: the value, cap bytes */
	size_t		 cap;
	size_t		*outlen;
	bool		 found;
	bool		 toolong;
};

static int
store_chan_key(const char *user, size_t *len)
{
	*len = strnlen(user, STORE_USER_SIZE);
	return (*len == 0 || *len == STORE_USER_SIZE ? -1 : 0);
}

static int
store_chan_visit(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct store_chan	*sc = arg;

	sc->found = true;
	if (v->mv_size > sc->cap) {
		sc->toolong = true;
		return (1);
	}
	memcpy(sc->buf, v->mv_data, v->mv_size);
	*sc->outlen = v->mv_size;
	return (1);
}

int
store_get_channels(struct store *s, const char *user, char *buf, size_t cap,
    size_t *len)
{
	struct store_chan	 sc;
	MDB_val			 k;

	*len = 0;
	memset(&sc, 0, sizeof(sc));
	if (s->no_channels || store_chan_key(user, &sc.ulen) == -1)
		return (1);
	sc.buf = buf;
	sc.cap = cap;
	sc.outlen = len;
	k.mv_size = sc.ulen;
	k.mv_data = store_ro(user);
	if (store_scan(s, "channels", STORE_DB_CHANNELS, &k, store_chan_visit,
	    &sc) == -1)
		return (-1);
	if (sc.toolong) {
		log_warnx("store %s: the channels of user \"%s\" are longer "
		    "than %zu bytes", s->dir, user, cap);
		*len = 0;
		return (-1);
	}
	return (sc.found ? 0 : 1);
}

static int
store_chan_apply(struct store *s, MDB_txn *txn, void *arg)
{
	struct store_chan	*sc = arg;
	MDB_val			 k, v;
	int			 rc;

	k.mv_size = sc->ulen;
	k.mv_data = store_ro(sc->user);
	if (sc->len == 0) {
		rc = mdb_del(txn, s->dbi[STORE_DB_CHANNELS], &k, NULL);
		return (rc == MDB_NOTFOUND ? 0 : rc);
	}
	v.mv_size = sc->len;
	v.mv_data = store_ro(sc->rec);
	return (mdb_put(txn, s->dbi[STORE_DB_CHANNELS], &k, &v, 0));
}

int
store_put_channels(struct store *s, const char *user, const char *rec,
    size_t len)
{
	struct store_chan	 sc;

	memset(&sc, 0, sizeof(sc));
	if (store_chan_key(user, &sc.ulen) == -1) {
		log_warnx("store: channels of a user without a valid name");
		return (-1);
	}
	sc.user = user;
	sc.rec = rec;
	sc.len = len;
	return (store_write(s, "channels", store_chan_apply, &sc));
}
