/*
 * Unit tests for shared/store*.c: the client registry, the uid index, the SA
 * store, batching, several processes on one environment, a map that fills
 * up, dead readers, and the crash marker.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include <lmdb.h>

#include "tests/unit/unit.h"

#include "shared/log.h"
#include "shared/store.h"

#define FUTURE_MS	((uint64_t)4000000000000ULL)	/* year 2096 */
#define NOW_MS		((uint64_t)1700000000000ULL)

static char	 tmpdir[64];	/* /tmp/takd-store-XXXXXX */
static int	 nfds;		/* open at setup: none may leak */

static int
setup(void **state)
{
	if (unit_tmpdir_make(tmpdir, sizeof(tmpdir), "store") == -1)
		return (-1);
	nfds = unit_count_fds();
	return (0);
}

static int
teardown(void **state)
{
	return (unit_tmpdir_remove(tmpdir, nfds));
}

static struct store *
open_ok(const char *dir, size_t mapsize, int flags)
{
	struct store	*s;
	char		 err[512];

	s = store_open(dir, mapsize, 0, flags, err, sizeof(err));
	if (s == NULL)
		fail_msg("store_open %s: %s", dir, err);
	return (s);
}

/* store_open must fail with a message containing want. */
static void
open_fails(const char *dir, int flags, const char *want)
{
	char	 err[512] = "";

	assert_null(store_open(dir, 0, 0, flags, err, sizeof(err)));
	if (strstr(err, want) == NULL)
		fail_msg("open %s: error \"%s\" lacks \"%s\"", dir, err, want);
}

static void
client_fill(struct store_client *c, unsigned worker, uint64_t seq,
    const char *uid)
{
	memset(c, 0, sizeof(*c));
	c->conn_id = STORE_CONN_ID(worker, seq);
	c->worker = worker;
	snprintf(c->uid, sizeof(c->uid), "%s", uid);
	snprintf(c->callsign, sizeof(c->callsign), "CS-%u-%" PRIu64, worker,
	    seq);
	snprintf(c->group, sizeof(c->group), "Cyan");
	snprintf(c->role, sizeof(c->role), "Team Member");
	snprintf(c->subject, sizeof(c->subject), "CN=client-%u-%" PRIu64
	    ",O=takd", worker, seq);
	snprintf(c->serial, sizeof(c->serial), "%02X%016" PRIX64, worker,
	    seq);
	snprintf(c->peer, sizeof(c->peer), "[2001:db8::%u]:%u", worker,
	    (unsigned)(40000 + seq % 20000));
	snprintf(c->user, sizeof(c->user), "user-%u-%" PRIu64, worker, seq);
	snprintf(c->groups_in, sizeof(c->groups_in), "Blue,G%u", worker);
	snprintf(c->groups_out, sizeof(c->groups_out), "Blue,HQ");
	c->connected_ms = NOW_MS + seq;
	c->last_seen_ms = NOW_MS + seq + 10;
	/* Every other one on TAK protocol v1 (the record's flag). */
	c->v1 = seq % 2 == 1;
	/* The certificate's notAfter (record version 3). */
	c->not_after = 1900000000 + (int64_t)seq;
}

static void
put_client(struct store *s, unsigned worker, uint64_t seq, const char *uid)
{
	struct store_client	 c;

	client_fill(&c, worker, seq, uid);
	assert_int_equal(store_batch_client(s, &c), 0);
}

static void
assert_client_equal(const struct store_client *a, const struct store_client *b)
{
	assert_int_equal(a->conn_id, b->conn_id);
	assert_int_equal(a->worker, b->worker);
	assert_string_equal(a->uid, b->uid);
	assert_string_equal(a->callsign, b->callsign);
	assert_string_equal(a->group, b->group);
	assert_string_equal(a->role, b->role);
	assert_string_equal(a->subject, b->subject);
	assert_string_equal(a->serial, b->serial);
	assert_string_equal(a->peer, b->peer);
	assert_string_equal(a->user, b->user);
	assert_string_equal(a->groups_in, b->groups_in);
	assert_string_equal(a->groups_out, b->groups_out);
	assert_int_equal(a->connected_ms, b->connected_ms);
	assert_int_equal(a->last_seen_ms, b->last_seen_ms);
	assert_int_equal(a->v1, b->v1);
	assert_int_equal(a->not_after, b->not_after);
}

/* Connection ids of uid, checked against the expected list. */
static void
assert_uid(struct store *s, const char *uid, size_t n, const uint64_t *want)
{
	uint64_t	 ids[16];
	size_t		 got, i;

	assert_int_equal(store_lookup_uid(s, uid, ids, 16, &got), 0);
	if (got != n)
		fail_msg("uid %s: %zu connections, want %zu", uid, got, n);
	for (i = 0; i < n; i++)
		assert_int_equal(ids[i], want[i]);
}

struct collect {
	size_t		 n;
	uint64_t	 ids[64];
	char		 uids[64][STORE_UID_SIZE];
	unsigned char	*events[64];
	size_t		 lens[64];
	uint64_t	 stale[64];
	char		 types[64][STORE_TYPE_SIZE];
	char		 groups[64][64];
	size_t		 stop_after;	/* 0: never */
};

static int
collect_client(const struct store_client *c, void *arg)
{
	struct collect	*col = arg;

	assert_true(col->n < 64);
	col->ids[col->n] = c->conn_id;
	snprintf(col->uids[col->n], STORE_UID_SIZE, "%s", c->uid);
	col->n++;
	return (col->stop_after != 0 && col->n == col->stop_after);
}

static int
collect_sa(const struct store_sa *sa, void *arg)
{
	struct collect	*col = arg;

	assert_true(col->n < 64);
	snprintf(col->uids[col->n], STORE_UID_SIZE, "%s", sa->uid);
	snprintf(col->types[col->n], STORE_TYPE_SIZE, "%s", sa->type);
	snprintf(col->groups[col->n], 64, "%.63s", sa->groups);
	col->events[col->n] = malloc(sa->len);
	assert_non_null(col->events[col->n]);
	memcpy(col->events[col->n], sa->event, sa->len);
	col->lens[col->n] = sa->len;
	col->stale[col->n] = sa->stale_ms;
	col->n++;
	return (col->stop_after != 0 && col->n == col->stop_after);
}

static void
collect_free(struct collect *col)
{
	size_t	 i;

	for (i = 0; i < col->n; i++)
		free(col->events[i]);
	memset(col, 0, sizeof(*col));
}

static size_t
count_clients(struct store *s)
{
	struct collect	 col;

	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_client(s, collect_client, &col), 0);
	return (col.n);
}

static int
count_cb(const struct store_sa *sa, void *arg)
{
	(*(size_t *)arg)++;
	return (0);
}

static size_t
count_sa(struct store *s, uint64_t now)
{
	size_t	 n = 0;

	assert_int_equal(store_foreach_sa(s, now, NULL, count_cb, &n), 0);
	return (n);
}

static void
put_sa(struct store *s, const char *uid, uint64_t stale, const char *event)
{
	assert_int_equal(store_batch_sa(s, uid, "a-f-G-U-C", stale, NOW_MS,
	    event, strlen(event)), 0);
}

static void
file_mode_is(const char *dir, const char *name, mode_t want)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) == -1)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(st.st_mode & 07777, want);
}

/* A revoked() for store_sa_purge_revoked(): serial 0D only. */
static bool
serial_is_0d(const char *serial, void *arg)
{
	(void)arg;
	return (strcmp(serial, "0D") == 0);
}

static void
test_open(void **state)
{
	struct store	*s;
	char		 path[PATH_MAX], cwd[PATH_MAX];
	int		 fd;

	s = open_ok(tmpdir, 0, STORE_OPEN_START);
	file_mode_is(tmpdir, "data.mdb", 0600);
	file_mode_is(tmpdir, "lock.mdb", 0600);
	file_mode_is(tmpdir, "store.boot", 0600);
	open_fails(tmpdir, 0, "already open in this process");
	store_close(s);
	store_close(NULL);

	/* Relative paths: the workers cannot resolve state_dir's parents. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	s = open_ok("state", 0, 0);
	put_client(s, 1, 1, "ANDROID-rel");
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	assert_int_equal(chdir("state"), 0);
	s = open_ok(".", 0, 0);
	assert_int_equal(count_clients(s), 1);
	store_close(s);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof(path), "%s/state/data.mdb", tmpdir);
	assert_int_equal(access(path, F_OK), 0);

	open_fails("", 0, "bad state directory");
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	open_fails(path, 0, "not a directory");
	snprintf(path, sizeof(path), "%s/no/such", tmpdir);
	open_fails(path, 0, "mkdir");
	open_fails(tmpdir, STORE_OPEN_RDONLY | STORE_OPEN_START, "read-only");

	/* A reader creates nothing where there is no state. */
	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	open_fails(path, STORE_OPEN_RDONLY, "no state");
	snprintf(path, sizeof(path), "%s/empty/lock.mdb", tmpdir);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_client_roundtrip(void **state)
{
	struct store_client	 c, got, bad;
	struct store_stats	 st;
	struct store		*s;
	struct collect		 col;
	uint64_t		 id;

	s = open_ok(tmpdir, 0, 0);
	client_fill(&c, 3, 77, "ANDROID-0123456789abcdef");
	assert_int_equal(store_batch_client(s, &c), 0);
	/* Not visible before the commit. */
	assert_int_equal(store_get_client(s, c.conn_id, &got), 1);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_get_client(s, c.conn_id, &got), 0);
	assert_client_equal(&c, &got);

	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_client(s, collect_client, &col), 0);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.ids[0], c.conn_id);
	id = c.conn_id;
	assert_uid(s, c.uid, 1, &id);

	/* Full-length fields survive; an unterminated one is refused. */
	client_fill(&c, 3, 78, "");
	memset(c.subject, 'S', sizeof(c.subject) - 1);
	memset(c.callsign, 'C', sizeof(c.callsign) - 1);
	assert_int_equal(store_batch_client(s, &c), 0);
	bad = c;
	bad.conn_id = STORE_CONN_ID(3, 79);
	memset(bad.peer, 'P', sizeof(bad.peer));
	assert_int_equal(store_batch_client(s, &bad), -1);
	bad = c;
	bad.worker = 4;		/* conn id says 3 */
	assert_int_equal(store_batch_client(s, &bad), -1);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_get_client(s, c.conn_id, &got), 0);
	assert_client_equal(&c, &got);
	assert_int_equal(store_get_client(s, STORE_CONN_ID(3, 79), &got), 1);
	/* A connection without a uid yet is listed, not indexed. */
	assert_int_equal(count_clients(s), 2);
	assert_uid(s, "", 0, NULL);

	store_get_stats(s, &st);
	assert_int_equal(st.commits, 2);
	assert_int_equal(st.ops_dropped, 2);
	assert_int_equal(st.mapsize, STORE_DEFAULT_MAPSIZE);
	store_close(s);
}

static void
test_index_and_delete(void **state)
{
	struct store	*s;
	struct store_client c;
	uint64_t	 a = STORE_CONN_ID(0, 1), b = STORE_CONN_ID(2, 5);
	uint64_t	 ab[2] = { a, b };

	s = open_ok(tmpdir, 0, 0);
	put_client(s, 0, 1, "U1");
	assert_int_equal(store_commit(s), 0);
	assert_uid(s, "U1", 1, &a);

	/* The connection announces another uid: the index follows. */
	put_client(s, 0, 1, "U2");
	put_client(s, 2, 5, "U2");
	assert_int_equal(store_commit(s), 0);
	assert_uid(s, "U1", 0, NULL);
	assert_uid(s, "U2", 2, ab);
	/* Same uid again: no duplicate index entry. */
	put_client(s, 2, 5, "U2");
	assert_int_equal(store_commit(s), 0);
	assert_uid(s, "U2", 2, ab);

	assert_int_equal(store_batch_client_del(s, a), 0);
	assert_int_equal(store_batch_client_del(s, STORE_CONN_ID(9, 9)), 0);
	assert_int_equal(store_commit(s), 0);
	assert_uid(s, "U2", 1, &b);
	assert_int_equal(store_get_client(s, a, &c), 1);

	/* Connect and disconnect in one loop iteration: applied in order. */
	put_client(s, 1, 7, "U3");
	assert_int_equal(store_batch_client_del(s, STORE_CONN_ID(1, 7)), 0);
	assert_int_equal(store_commit(s), 0);
	assert_uid(s, "U3", 0, NULL);
	assert_int_equal(count_clients(s), 1);
	/* Delete then reconnect with the same id. */
	assert_int_equal(store_batch_client_del(s, b), 0);
	put_client(s, 2, 5, "U4");
	assert_int_equal(store_commit(s), 0);
	assert_uid(s, "U2", 0, NULL);
	assert_uid(s, "U4", 1, &b);
	store_close(s);
}

static void
test_del_worker(void **state)
{
	struct store	*s;
	struct collect	 col;
	uint64_t	 seqs[3] = { 0, 1, 0xffffffffffffULL };
	uint64_t	 w0[2], id;
	unsigned	 w, i;
	char		 uid[32];

	s = open_ok(tmpdir, 0, 0);
	for (w = 0; w < 3; w++)
		for (i = 0; i < 3; i++) {
			snprintf(uid, sizeof(uid), "W%u-%u", w, i);
			put_client(s, w, seqs[i], uid);
		}
	/* Worker 0's and worker 1's first connections share a uid. */
	put_client(s, 1, 0, "W0-0");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(count_clients(s), 9);
	w0[0] = STORE_CONN_ID(0, 0);
	w0[1] = STORE_CONN_ID(1, 0);
	assert_uid(s, "W0-0", 2, w0);

	assert_int_equal(store_del_worker(s, 1, NULL, NULL), 3);
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_client(s, collect_client, &col), 0);
	assert_int_equal(col.n, 6);
	/* In key order: worker 0, then worker 2. */
	for (i = 0; i < 6; i++) {
		assert_int_equal(STORE_CONN_WORKER(col.ids[i]),
		    i < 3 ? 0 : 2);
		assert_int_equal(col.ids[i] & 0xffffffffffffULL, seqs[i % 3]);
	}
	assert_uid(s, "W0-0", 1, w0);
	assert_uid(s, "W1-1", 0, NULL);
	assert_uid(s, "W1-2", 0, NULL);
	id = STORE_CONN_ID(2, 0xffffffffffffULL);
	assert_uid(s, "W2-2", 1, &id);

	assert_int_equal(store_del_worker(s, 1, NULL, NULL), 0);
	assert_int_equal(store_del_worker(s, 2, NULL, NULL), 3);
	assert_int_equal(store_del_worker(s, 0x10000, NULL, NULL), -1);
	assert_int_equal(count_clients(s), 3);
	store_close(s);
}

static int
collect_departed(const struct store_departed *d, void *arg)
{
	struct collect	*col = arg;

	assert_true(col->n < 64);
	snprintf(col->uids[col->n], STORE_UID_SIZE, "%s", d->uid);
	snprintf(col->types[col->n], STORE_TYPE_SIZE, "%s", d->type);
	snprintf(col->groups[col->n], 64, "%.63s", d->groups);
	col->n++;
	return (col->stop_after != 0 && col->n == col->stop_after);
}

struct departed_seq {
	unsigned	 n;
	bool		 in_order;
	const char	*type;		/* of every uid */
};

/* D0, D1, ... in order, each once. */
static int
count_departed(const struct store_departed *d, void *arg)
{
	struct departed_seq	*ds = arg;
	char			 want[32];

	snprintf(want, sizeof(want), "D%u", ds->n++);
	if (strcmp(d->uid, want) != 0 || strcmp(d->type, ds->type) != 0)
		ds->in_order = false;
	return (0);
}

/*
 * store_del_worker() reports each uid that only the removed connections
 * held, once, with the type of its latest SA, after the commit: not a uid
 * that another worker still holds, not an unbound connection, not the uid
 * a connection had before it changed.
 */
static void
test_del_worker_departed(void **state)
{
	struct store		*s;
	struct collect		 col;
	struct departed_seq	 ds;
	char			 uid[32], type[STORE_TYPE_SIZE];
	unsigned		 i;

	memset(type, 'a', sizeof(type) - 1);
	type[sizeof(type) - 1] = '\0';
	s = open_ok(tmpdir, 0, 0);
	put_client(s, 1, 1, "A");
	put_client(s, 1, 2, "B");
	put_client(s, 1, 3, "");
	put_client(s, 1, 4, "A");	/* A twice on the dying worker */
	put_client(s, 1, 5, "C");
	put_client(s, 2, 1, "C");	/* and C on another one too */
	put_client(s, 1, 6, "old");
	put_client(s, 1, 6, "E");	/* rebound: "old" went then */
	put_client(s, 1, 7, "F");
	assert_int_equal(store_batch_sa(s, "A", "a-f-G-E-V", FUTURE_MS,
	    NOW_MS, "<event/>", 8), 0);
	assert_int_equal(store_batch_sa(s, "F", type, 1, NOW_MS, "<e/>", 4),
	    0);
	assert_int_equal(store_batch_sa(s, "C", "a-f-G-U-C", FUTURE_MS,
	    NOW_MS, "<event/>", 8), 0);
	assert_int_equal(store_commit(s), 0);

	memset(&col, 0, sizeof(col));
	assert_int_equal(store_del_worker(s, 1, collect_departed, &col), 7);
	/* In connection order, each uid when its last entry went. */
	assert_int_equal(col.n, 4);
	assert_string_equal(col.uids[0], "B");
	assert_string_equal(col.types[0], "");
	/* With the IN groups of its last connection: who may be told. */
	assert_string_equal(col.groups[0], "Blue,G1");
	assert_string_equal(col.uids[1], "A");
	assert_string_equal(col.types[1], "a-f-G-E-V");
	assert_string_equal(col.uids[2], "E");
	assert_string_equal(col.types[2], "");
	/* A stale SA still names the type. */
	assert_string_equal(col.uids[3], "F");
	assert_string_equal(col.types[3], type);
	assert_int_equal(count_clients(s), 1);
	assert_uid(s, "A", 0, NULL);

	/* C's last connection now; a second pass finds nothing. */
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_del_worker(s, 2, collect_departed, &col), 1);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.uids[0], "C");
	assert_string_equal(col.types[0], "a-f-G-U-C");
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_del_worker(s, 2, collect_departed, &col), 0);
	assert_int_equal(col.n, 0);

	/* Stopping early stops the reports, not the removal. */
	put_client(s, 3, 1, "G");
	put_client(s, 3, 2, "H");
	assert_int_equal(store_commit(s), 0);
	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	assert_int_equal(store_del_worker(s, 3, collect_departed, &col), 2);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.uids[0], "G");
	assert_int_equal(count_clients(s), 0);

	/* Many: the list grows; every uid once, in order. */
	for (i = 0; i < 3000; i++) {
		snprintf(uid, sizeof(uid), "D%u", i);
		put_client(s, 4, i, uid);
		assert_int_equal(store_batch_sa(s, uid, "a-f-G", FUTURE_MS,
		    NOW_MS, "<e/>", 4), 0);
	}
	assert_int_equal(store_commit(s), 0);
	memset(&ds, 0, sizeof(ds));
	ds.in_order = true;
	ds.type = "a-f-G";
	assert_int_equal(store_del_worker(s, 4, count_departed, &ds), 3000);
	assert_int_equal(ds.n, 3000);
	assert_true(ds.in_order);
	store_close(s);

	/* A store that cannot write removes nothing and reports nothing. */
	s = open_ok(tmpdir, 0, 0);
	put_client(s, 5, 1, "R");
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	s = open_ok(tmpdir, 0, STORE_OPEN_RDONLY);
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_del_worker(s, 5, collect_departed, &col), -1);
	assert_int_equal(col.n, 0);
	assert_int_equal(count_clients(s), 1);
	store_close(s);
}

static void
test_touch(void **state)
{
	struct store		*s;
	struct store_client	 c;
	uint64_t		 a = STORE_CONN_ID(1, 1);
	uint64_t		 b = STORE_CONN_ID(1, 2);
	uint64_t		 base;

	s = open_ok(tmpdir, 0, 0);
	put_client(s, 1, 1, "A");
	put_client(s, 1, 2, "B");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_get_client(s, a, &c), 0);
	base = c.last_seen_ms;

	/* Interleaved and out of order: the newest per connection wins. */
	assert_int_equal(store_batch_touch(s, a, base + 5000), 0);
	assert_int_equal(store_batch_touch(s, a, base + 3000), 0);
	assert_int_equal(store_batch_touch(s, b, base + 2000), 0);
	assert_int_equal(store_batch_touch(s, a, base + 4000), 0);
	assert_int_equal(store_batch_touch(s, STORE_CONN_ID(5, 5), base), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_get_client(s, a, &c), 0);
	assert_int_equal(c.last_seen_ms, base + 5000);
	assert_string_equal(c.uid, "A");
	assert_int_equal(store_get_client(s, b, &c), 0);
	assert_int_equal(c.last_seen_ms, base + 2000);

	/* Below the grain: not written.  Older: never goes back. */
	assert_int_equal(store_batch_touch(s, a, base + 5000 +
	    STORE_TOUCH_GRAIN_MS - 1), 0);
	assert_int_equal(store_batch_touch(s, b, base), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_get_client(s, a, &c), 0);
	assert_int_equal(c.last_seen_ms, base + 5000);
	assert_int_equal(store_get_client(s, b, &c), 0);
	assert_int_equal(c.last_seen_ms, base + 2000);

	/* A touch after the delete in the same batch recreates nothing. */
	assert_int_equal(store_batch_client_del(s, a), 0);
	assert_int_equal(store_batch_touch(s, a, base + 90000), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_get_client(s, a, &c), 1);
	store_close(s);
}

static void
test_sa(void **state)
{
	struct store		*s;
	struct store_stats	 st;
	struct collect		 col;
	char			 big[STORE_UID_SIZE + 1];
	unsigned char		 ev[3] = { 'x', 0, 'y' };

	s = open_ok(tmpdir, 0, 0);
	put_sa(s, "U1", FUTURE_MS, "<event uid='U1' v='1'/>");
	put_sa(s, "U2", NOW_MS - 1, "<event uid='U2'/>");
	put_sa(s, "U3", FUTURE_MS + 1, "<event uid='U3'/>");
	/* Superseded in the same batch. */
	put_sa(s, "U1", FUTURE_MS, "<event uid='U1' v='2'/>");
	assert_int_equal(store_commit(s), 0);

	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_sa(s, NOW_MS, NULL, collect_sa, &col),
	    0);
	/* Stored at the same time: the larger uid first. */
	assert_int_equal(col.n, 2);
	assert_string_equal(col.uids[1], "U1");
	assert_string_equal(col.types[1], "a-f-G-U-C");
	assert_int_equal(col.stale[1], FUTURE_MS);
	assert_int_equal(col.lens[1], strlen("<event uid='U1' v='2'/>"));
	assert_memory_equal(col.events[1], "<event uid='U1' v='2'/>",
	    col.lens[1]);
	assert_string_equal(col.uids[0], "U3");
	collect_free(&col);

	/* Superseded by a later commit; binary bytes; empty type. */
	assert_int_equal(store_batch_sa(s, "U1", NULL, FUTURE_MS, NOW_MS, ev,
	    sizeof(ev)), 0);
	assert_int_equal(store_commit(s), 0);
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_sa(s, NOW_MS, "U3", collect_sa, &col),
	    0);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.uids[0], "U1");
	assert_string_equal(col.types[0], "");
	assert_int_equal(col.lens[0], sizeof(ev));
	assert_memory_equal(col.events[0], ev, sizeof(ev));
	collect_free(&col);
	/* skip_uid must match exactly, not as a prefix. */
	assert_int_equal(count_sa(s, NOW_MS), 2);
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_sa(s, NOW_MS, "U", collect_sa, &col),
	    0);
	assert_int_equal(col.n, 2);
	collect_free(&col);
	/* The callback stops the walk. */
	col.stop_after = 1;
	assert_int_equal(store_foreach_sa(s, NOW_MS, NULL, collect_sa, &col),
	    0);
	assert_int_equal(col.n, 1);
	collect_free(&col);
	/* Everything is stale later; stale_ms == now counts as stale. */
	assert_int_equal(count_sa(s, FUTURE_MS), 1);
	assert_int_equal(count_sa(s, FUTURE_MS + 1), 0);
	assert_int_equal(count_sa(s, 0), 3);

	/* Bad input is refused and counted. */
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_batch_sa(s, "", "t", FUTURE_MS, NOW_MS, "e", 1),
	    -1);
	assert_int_equal(store_batch_sa(s, NULL, "t", FUTURE_MS, NOW_MS, "e",
	    1), -1);
	assert_int_equal(store_batch_sa(s, big, "t", FUTURE_MS, NOW_MS, "e",
	    1), -1);
	assert_int_equal(store_batch_sa(s, "U9", "t", FUTURE_MS, NOW_MS, "e",
	    0), -1);
	assert_int_equal(store_batch_sa(s, "U9", "t", FUTURE_MS, NOW_MS, "e",
	    STORE_SA_MAX + 1), -1);
	big[STORE_TYPE_SIZE] = '\0';
	assert_int_equal(store_batch_sa(s, "U9", big, FUTURE_MS, NOW_MS, "e",
	    1), -1);
	big[STORE_UID_SIZE - 1] = '\0';
	memset(big, 'u', STORE_UID_SIZE - 1);
	assert_int_equal(store_batch_sa(s, big, "t", FUTURE_MS, NOW_MS, "e",
	    1), 0);
	assert_int_equal(store_commit(s), 0);
	store_get_stats(s, &st);
	assert_int_equal(st.ops_dropped, 6);
	assert_int_equal(count_sa(s, NOW_MS), 3);

	/* Purge: U2 went stale at NOW-1. */
	assert_int_equal(store_sa_purge(s, NOW_MS + 1000, 2000), 0);
	assert_int_equal(store_sa_purge(s, NOW_MS + 1000, 1001), 1);
	assert_int_equal(count_sa(s, 0), 3);
	assert_int_equal(store_sa_purge(s, FUTURE_MS + 10, 0), 3);
	assert_int_equal(count_sa(s, 0), 0);
	store_close(s);
}

static void
put_owned(struct store *s, const char *uid, const char *owner,
    const char *serial, uint64_t at, unsigned max)
{
	struct store_sa_put	 p;
	char			 ev[64];

	snprintf(ev, sizeof(ev), "<event uid='%s'/>", uid);
	memset(&p, 0, sizeof(p));
	p.uid = uid;
	p.type = "a-f-G-U-C";
	p.owner = owner;
	p.serial = serial;
	p.stale_ms = FUTURE_MS;
	p.now_ms = at;
	p.max_per_owner = max;
	p.event = ev;
	p.len = strlen(ev);
	assert_int_equal(store_batch_sa_put(s, &p), 0);
}

static long
sa_delete(struct store *s, enum store_sa_sel sel, const char *value)
{
	struct store_sa_match	 m;

	memset(&m, 0, sizeof(m));
	m.sel = sel;
	m.value = value;
	return (store_sa_delete(s, &m));
}

/*
 * SAs carry their owner: an owner keeps at most its cap (the oldest go),
 * the store at most its bytes (the oldest overall go), the replay is
 * newest first, and deletions find them by uid, CN, serial or all.
 */
static void
test_sa_owner(void **state)
{
	static const char *const revoked[] = { "0B", "FF" };
	struct store		*s;
	struct store_stats	 st;
	struct collect		 col;
	char			 uid[32], owner[STORE_OWNER_SIZE];
	uint64_t		 t = NOW_MS;
	int			 i;

	s = open_ok(tmpdir, 0, 0);
	put_owned(s, "ALICE", "CN=alice,O=TAK", "0A", t++, 4);
	/* Mallory floods with new uids: she keeps her 4 newest. */
	for (i = 0; i < 10; i++) {
		snprintf(uid, sizeof(uid), "%s-%02d", i % 2 ? "Z" : "A", i);
		put_owned(s, uid, "CN=mallory,O=TAK", "0B", t++, 4);
	}
	assert_int_equal(store_commit(s), 0);
	store_get_stats(s, &st);
	assert_int_equal(st.sa_evicted, 6);
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_sa(s, NOW_MS, NULL, collect_sa, &col),
	    0);
	assert_int_equal(col.n, 5);
	assert_string_equal(col.uids[0], "Z-09");
	assert_string_equal(col.uids[3], "A-06");
	assert_string_equal(col.uids[4], "ALICE");
	collect_free(&col);
	/* Alice's position, updated, comes first. */
	put_owned(s, "ALICE", "CN=alice,O=TAK", "0A", t++, 4);
	assert_int_equal(store_commit(s), 0);
	col.stop_after = 1;
	assert_int_equal(store_foreach_sa(s, NOW_MS, NULL, collect_sa, &col),
	    0);
	assert_string_equal(col.uids[0], "ALICE");
	collect_free(&col);

	assert_int_equal(store_get_sa_owner(s, "ALICE", owner), 0);
	assert_string_equal(owner, "CN=alice,O=TAK");
	assert_int_equal(store_get_sa_owner(s, "A-00", owner), 1);
	assert_string_equal(owner, "");

	/* Deletions. */
	assert_int_equal(sa_delete(s, STORE_SA_SEL_CN, "mall"), 0);
	assert_int_equal(sa_delete(s, STORE_SA_SEL_UID, "Z-09"), 1);
	assert_int_equal(sa_delete(s, STORE_SA_SEL_UID, "Z-09"), 0);
	assert_int_equal(store_sa_purge_serials(s, revoked, 2), 3);
	assert_int_equal(count_sa(s, 0), 1);
	assert_int_equal(sa_delete(s, STORE_SA_SEL_CN, "alice"), 1);
	put_owned(s, "B", "O=TAK,CN=bob\\,jr,OU=x", "0C", t++, 4);
	put_owned(s, "C", "", "", t++, 4);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(sa_delete(s, STORE_SA_SEL_CN, "bob\\,jr"), 1);
	/* By a predicate (the CRL set in force): C has no serial to ask. */
	put_owned(s, "D", "CN=dave", "0D", t++, 4);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_sa_purge_revoked(s, serial_is_0d, NULL), 1);
	assert_int_equal(count_sa(s, 0), 1);
	assert_int_equal(sa_delete(s, STORE_SA_SEL_ALL, NULL), 1);
	assert_int_equal(count_sa(s, 0), 0);
	assert_int_equal(sa_delete(s, STORE_SA_SEL_UID, ""), -1);

	/* The store's cap: 2 KiB hold about 30 of these; the oldest go. */
	store_set_sa_max_bytes(s, 2048);
	for (i = 0; i < 100; i++) {
		snprintf(uid, sizeof(uid), "U%03d", i);
		put_owned(s, uid, "CN=gw", "0D", t++, 0);
	}
	assert_int_equal(store_commit(s), 0);
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_sa(s, NOW_MS, NULL, collect_sa, &col),
	    0);
	assert_true(col.n > 10 && col.n < 40);
	assert_string_equal(col.uids[0], "U099");
	snprintf(uid, sizeof(uid), "U%03zu", 100 - col.n);
	assert_string_equal(col.uids[col.n - 1], uid);
	collect_free(&col);
	/* The byte count follows deletions: all fit again after them. */
	assert_true(sa_delete(s, STORE_SA_SEL_CN, "gw") > 10);
	for (i = 0; i < 10; i++) {
		snprintf(uid, sizeof(uid), "V%03d", i);
		put_owned(s, uid, "CN=gw", "0D", t++, 0);
	}
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(count_sa(s, 0), 10);
	store_close(s);
}

/* The connections bound to a callsign, as for a uid. */
static void
test_callsign_index(void **state)
{
	struct store		*s;
	struct store_client	 c;
	uint64_t		 ids[4];
	size_t			 n;

	s = open_ok(tmpdir, 0, 0);
	memset(&c, 0, sizeof(c));
	c.conn_id = STORE_CONN_ID(1, 7);
	c.worker = 1;
	snprintf(c.uid, sizeof(c.uid), "U1");
	snprintf(c.callsign, sizeof(c.callsign), "ALPHA");
	assert_int_equal(store_batch_client(s, &c), 0);
	c.conn_id = STORE_CONN_ID(2, 7);
	c.worker = 2;
	snprintf(c.uid, sizeof(c.uid), "U2");
	assert_int_equal(store_batch_client(s, &c), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_lookup_callsign(s, "ALPHA", ids, 4, &n), 0);
	assert_int_equal(n, 2);
	/* A rename moves it; a delete removes it. */
	snprintf(c.callsign, sizeof(c.callsign), "BRAVO");
	assert_int_equal(store_batch_client(s, &c), 0);
	assert_int_equal(store_batch_client_del(s, STORE_CONN_ID(1, 7)), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_lookup_callsign(s, "ALPHA", ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_lookup_callsign(s, "BRAVO", ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], STORE_CONN_ID(2, 7));
	/* A dead worker's go with it. */
	assert_int_equal(store_del_worker(s, 2, NULL, NULL), 1);
	assert_int_equal(store_lookup_callsign(s, "BRAVO", ids, 4, &n), 0);
	assert_int_equal(n, 0);
	store_close(s);
}

static void
test_reset_clients(void **state)
{
	struct store	*s;

	s = open_ok(tmpdir, 0, 0);
	put_client(s, 0, 1, "A");
	put_client(s, 1, 1, "B");
	put_client(s, 1, 2, "");
	put_sa(s, "A", FUTURE_MS, "<event/>");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_reset_clients(s), 3);
	assert_int_equal(count_clients(s), 0);
	assert_uid(s, "A", 0, NULL);
	assert_uid(s, "B", 0, NULL);
	assert_int_equal(count_sa(s, NOW_MS), 1);
	assert_int_equal(store_reset_clients(s), 0);
	store_close(s);
}

/*
 * An SA carries its sender's IN groups, a list of names: the replay hands
 * them out, a put of anything else is refused, and an SA of the layout
 * before them (2) is dropped once, at the next start.
 */
static void
test_sa_groups(void **state)
{
	struct store		*s;
	struct store_sa_put	 p;
	struct collect		 col;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 sa, meta;
	MDB_val			 k, v;
	unsigned char		 old[40], two[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
	size_t			 i;
	static const char *const bad[] = { ",", "Blue,", "a,,b", " Blue",
	    "a:b" };

	s = open_ok(tmpdir, 0, 0);
	memset(&p, 0, sizeof(p));
	p.uid = "U1";
	p.type = "a-f-G";
	p.owner = "CN=alice";
	p.groups = "Blue,HQ";
	p.stale_ms = FUTURE_MS;
	p.now_ms = NOW_MS;
	p.event = "<event/>";
	p.len = 8;
	assert_int_equal(store_batch_sa_put(s, &p), 0);
	p.uid = "U2";
	p.groups = NULL;	/* nobody may have it */
	assert_int_equal(store_batch_sa_put(s, &p), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.groups = bad[i];
		assert_int_equal(store_batch_sa_put(s, &p), -1);
	}
	assert_int_equal(store_commit(s), 0);
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_sa(s, NOW_MS, NULL, collect_sa, &col),
	    0);
	assert_int_equal(col.n, 2);
	assert_string_equal(col.uids[0], "U2");
	assert_string_equal(col.groups[0], "");
	assert_string_equal(col.uids[1], "U1");
	assert_string_equal(col.groups[1], "Blue,HQ");
	assert_memory_equal(col.events[1], "<event/>", 8);
	collect_free(&col);
	store_close(s);

	/* An SA of layout 2, as the version before groups wrote it. */
	memset(old, 0, sizeof(old));
	old[0] = 2;		/* version */
	old[1] = 1;		/* type length */
	old[11] = 0x7f;		/* stale_ms, far ahead */
	memcpy(old + 24, "a<e/>", 5);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, tmpdir, MDB_NOTLS, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "sa", 0, &sa), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	k.mv_data = (void *)(uintptr_t)"OLD";
	k.mv_size = 3;
	v.mv_data = old;
	v.mv_size = 29;
	assert_int_equal(mdb_put(txn, sa, &k, &v, 0), 0);
	k.mv_data = (void *)(uintptr_t)"schema";
	k.mv_size = 6;
	v.mv_data = two;
	v.mv_size = sizeof(two);
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	s = open_ok(tmpdir, 0, 0);
	assert_int_equal(store_reset_clients(s), 0);
	assert_int_equal(count_sa(s, 0), 0);
	store_close(s);
}

static int
nested_cb(const struct store_client *c, void *arg)
{
	struct store	*s = arg;
	uint64_t	 ids[4];
	size_t		 n;

	/* A read inside a read shares the transaction. */
	assert_int_equal(store_lookup_uid(s, c->uid, ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], c->conn_id);
	assert_int_equal(count_clients(s), 2);
	/* Writes would move the map under the borrowed pointers. */
	put_client(s, 5, 5, "late");
	assert_int_equal(store_commit(s), -1);
	assert_int_equal(store_del_worker(s, 0, NULL, NULL), -1);
	assert_int_equal(store_sa_purge(s, 0, 0), -1);
	return (0);
}

static void
test_nested_and_misuse(void **state)
{
	struct store		*s;
	struct store_stats	 st;
	struct collect		 col;
	uint64_t		 ids[1];
	size_t			 n;

	s = open_ok(tmpdir, 0, 0);
	put_client(s, 0, 1, "A");
	put_client(s, 0, 2, "B");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_foreach_client(s, nested_cb, s), 0);
	assert_int_equal(count_clients(s), 2);
	/* More ids than room: the total is still reported. */
	put_client(s, 0, 3, "A");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_lookup_uid(s, "A", ids, 1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], STORE_CONN_ID(0, 1));
	memset(&col, 0, sizeof(col));
	col.stop_after = 2;
	assert_int_equal(store_foreach_client(s, collect_client, &col), 0);
	assert_int_equal(col.n, 2);
	/*
	 * The six writes tried inside the read (two of each kind) failed;
	 * empty commits are free.
	 */
	assert_int_equal(store_commit(s), 0);
	store_get_stats(s, &st);
	assert_int_equal(st.commits, 2);
	assert_int_equal(st.commit_failures, 6);
	store_close(s);

	store_get_stats(NULL, &st);
	assert_int_equal(st.commits, 0);
	assert_int_equal(store_commit(NULL), -1);
	assert_int_equal(store_batch_client_del(NULL, 1), -1);
	assert_int_equal(store_batch_touch(NULL, 1, 1), -1);
	assert_int_equal(store_reset_clients(NULL), -1);
	assert_int_equal(store_del_worker(NULL, 1, NULL, NULL), -1);
	assert_int_equal(store_sa_purge(NULL, 0, 0), -1);
}

static void
test_rdonly(void **state)
{
	struct store	*s;

	s = open_ok(tmpdir, 0, 0);
	put_client(s, 0, 1, "A");
	put_sa(s, "A", FUTURE_MS, "<event/>");
	assert_int_equal(store_commit(s), 0);
	store_close(s);

	s = open_ok(tmpdir, 0, STORE_OPEN_RDONLY);
	assert_int_equal(count_clients(s), 1);
	assert_int_equal(count_sa(s, NOW_MS), 1);
	put_client(s, 0, 2, "B");
	assert_int_equal(store_commit(s), -1);
	assert_int_equal(store_reset_clients(s), -1);
	assert_int_equal(store_del_worker(s, 0, NULL, NULL), -1);
	store_close(s);
}

/*
 * A store an older takd made, without the channels database: a reader
 * (takctl before the daemon's restart) opens it, and nobody has channels
 * off; before, the open failed with MDB_NOTFOUND.
 */
static void
test_rdonly_without_channels(void **state)
{
	struct store	*s;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	char		 buf[64];
	size_t		 len = 99;

	s = open_ok(tmpdir, 0, 0);
	put_client(s, 0, 1, "A");
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, STORE_DEFAULT_MAPSIZE), 0);
	assert_int_equal(mdb_env_open(env, tmpdir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "channels", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	s = open_ok(tmpdir, 0, STORE_OPEN_RDONLY);
	assert_int_equal(count_clients(s), 1);
	assert_int_equal(store_get_channels(s, "alice", buf, sizeof(buf),
	    &len), 1);
	assert_int_equal(len, 0);
	store_close(s);
}

/*
 * A client record of version 2, as the takd before notAfter wrote it
 * (takctl upgraded while that takd still runs): read with notAfter
 * unknown and everything else as it was, and touched in place.
 */
static void
test_read_v2_record(void **state)
{
	struct store		*s;
	struct store_client	 want, got;
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	MDB_val			 k, v;
	unsigned char		 key[8], old[8192];
	int			 i;

	s = open_ok(tmpdir, 0, 0);
	client_fill(&want, 0, 7, "OLD");
	assert_int_equal(store_batch_client(s, &want), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	/* Version 3's header is version 2's and the 8 bytes of notAfter. */
	for (i = 0; i < 8; i++)
		key[i] = (unsigned char)(want.conn_id >> (56 - 8 * i));
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, STORE_DEFAULT_MAPSIZE), 0);
	assert_int_equal(mdb_env_open(env, tmpdir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "clients", 0, &dbi), 0);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_true(v.mv_size > 28 && v.mv_size - 8 <= sizeof(old));
	assert_int_equal(((unsigned char *)v.mv_data)[0], 3);
	memcpy(old, v.mv_data, 20);
	memcpy(old + 20, (unsigned char *)v.mv_data + 28, v.mv_size - 28);
	old[0] = 2;
	v.mv_size -= 8;
	v.mv_data = old;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	want.not_after = 0;
	s = open_ok(tmpdir, 0, STORE_OPEN_RDONLY);
	assert_int_equal(count_clients(s), 1);
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_get_client(s, want.conn_id, &got), 0);
	assert_client_equal(&got, &want);
	store_close(s);
	/* The worker's last-seen touch still applies to it. */
	s = open_ok(tmpdir, 0, 0);
	assert_int_equal(store_batch_touch(s, want.conn_id,
	    want.last_seen_ms + 5000), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_get_client(s, want.conn_id, &got), 0);
	assert_int_equal(got.last_seen_ms, want.last_seen_ms + 5000);
	assert_int_equal(got.not_after, 0);
	store_close(s);
}

/* Children report through their exit status: cmocka is the parent's. */
static void
child_check(int ok, int code)
{
	if (!ok)
		_exit(code);
}

static void
wait_child(pid_t pid, int want)
{
	int	 status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != want)
		fail_msg("child status %#x, want exit %d", status, want);
}

static void
test_two_processes(void **state)
{
	struct store		*s, *cs;
	struct store_client	 c;
	struct collect		 col;
	char			 err[256];
	pid_t			 pid;
	int			 dead = -1;

	s = open_ok(tmpdir, 0, STORE_OPEN_START);
	put_client(s, 0, 1, "PARENT");
	assert_int_equal(store_commit(s), 0);
	/* The parent holds a read open across the fork. */
	assert_int_equal(count_clients(s), 1);

	if ((pid = fork()) == 0) {
		/* The inherited handle refuses to work here. */
		child_check(store_foreach_client(s, collect_client, &col) ==
		    -1, 10);
		put_client(s, 9, 9, "X");
		child_check(store_commit(s) == -1, 11);
		cs = store_open(tmpdir, 0, 0, 0, err, sizeof(err));
		child_check(cs != NULL, 12);
		client_fill(&c, 1, 42, "CHILD");
		child_check(store_batch_client(cs, &c) == 0, 13);
		child_check(store_batch_sa(cs, "CHILD", "a-f-G", FUTURE_MS,
		    NOW_MS, "<event uid='CHILD'/>", 20) == 0, 14);
		child_check(store_commit(cs) == 0, 15);
		/* The child sees the parent's writes too. */
		child_check(store_get_client(cs, STORE_CONN_ID(0, 1), &c) ==
		    0 && strcmp(c.uid, "PARENT") == 0, 16);
		store_close(cs);
		store_close(s);
		_exit(0);
	}
	assert_true(pid > 0);
	wait_child(pid, 0);

	assert_int_equal(store_get_client(s, STORE_CONN_ID(1, 42), &c), 0);
	assert_string_equal(c.uid, "CHILD");
	assert_string_equal(c.callsign, "CS-1-42");
	memset(&col, 0, sizeof(col));
	assert_int_equal(store_foreach_sa(s, NOW_MS, NULL, collect_sa, &col),
	    0);
	assert_int_equal(col.n, 1);
	assert_memory_equal(col.events[0], "<event uid='CHILD'/>", 20);
	collect_free(&col);
	/* The parent's handle survived the child's open and close. */
	put_client(s, 0, 2, "PARENT2");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(count_clients(s), 3);
	assert_int_equal(store_reader_check(s, &dead), 0);
	assert_int_equal(dead, 0);
	assert_int_equal(store_del_worker(s, 1, NULL, NULL), 1);
	assert_int_equal(count_clients(s), 2);
	store_close(s);
}

/* Each process holds one reader slot: a full table fails the open clearly. */
static void
test_readers_full(void **state)
{
	struct store	*s, *cs;
	char		 err[256];
	pid_t		 pid;

	s = store_open(tmpdir, 0, 1, 0, err, sizeof(err));
	assert_non_null(s);
	if ((pid = fork()) == 0) {
		err[0] = '\0';
		cs = store_open(tmpdir, 0, 1, 0, err, sizeof(err));
		child_check(cs == NULL, 12);
		child_check(strstr(err, "MDB_READERS_FULL") != NULL &&
		    strstr(err, "raise max_readers") != NULL, 13);
		_exit(0);
	}
	assert_true(pid > 0);
	wait_child(pid, 0);
	store_close(s);
}

static int
block_cb(const struct store_sa *sa, void *arg)
{
	int	 fd = *(int *)arg;

	if (write(fd, "r", 1) != 1)
		_exit(20);
	for (;;)
		pause();
	return (0);
}

static void
test_reader_check(void **state)
{
	struct store	*s, *cs;
	char		 err[256], c;
	pid_t		 pid;
	int		 p[2], dead = -1;

	s = open_ok(tmpdir, 0, 0);
	put_sa(s, "A", FUTURE_MS, "<event/>");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		cs = store_open(tmpdir, 0, 0, 0, err, sizeof(err));
		child_check(cs != NULL, 12);
		store_foreach_sa(cs, NOW_MS, NULL, block_cb, &p[1]);
		_exit(21);
	}
	assert_true(pid > 0);
	close(p[1]);
	/* The child is inside its read transaction now. */
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(store_reader_check(s, &dead), 0);
	assert_int_equal(dead, 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(store_reader_check(s, &dead), 0);
	assert_int_equal(dead, 1);
	assert_int_equal(store_reader_check(s, &dead), 0);
	assert_int_equal(dead, 0);
	/* Writes go on, and the pages it pinned can be reused. */
	put_sa(s, "A", FUTURE_MS, "<event v='2'/>");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(count_sa(s, NOW_MS), 1);
	store_close(s);
}

static void
sa_fill(unsigned char *buf, size_t len, unsigned i)
{
	size_t	 j;

	for (j = 0; j < len; j++)
		buf[j] = (unsigned char)(i * 31 + j);
}

struct verify {
	unsigned	 n, bad, seen_failed;
	unsigned	 failed;		/* the uid number that failed */
};

/* Entries "U<n>" hold sa_fill(n) over 8 KiB. */
static int
verify_sa(const struct store_sa *sa, void *arg)
{
	static unsigned char	 buf[8 << 10];
	struct verify		*v = arg;
	unsigned		 i;

	if (sa->uid[0] != 'U' || sscanf(sa->uid + 1, "%u", &i) != 1) {
		v->bad++;
		return (0);
	}
	sa_fill(buf, sizeof(buf), i);
	if (sa->len != sizeof(buf) || memcmp(sa->event, buf, sizeof(buf)) != 0)
		v->bad++;
	if (i == v->failed)
		v->seen_failed++;
	v->n++;
	return (0);
}

static void
test_map_full(void **state)
{
	struct store		*s;
	struct store_stats	 st;
	struct verify		 v;
	static unsigned char	 buf[64 << 10];
	char			 uid[32];
	unsigned		 i, ok = 0;

	s = open_ok(tmpdir, 64 << 10, 0);
	store_get_stats(s, &st);
	assert_int_equal(st.mapsize, 64 << 10);
	/* 8 KiB events, one commit each, until the map cannot grow. */
	for (i = 0; i < 400; i++) {
		snprintf(uid, sizeof(uid), "U%u", i);
		sa_fill(buf, 8 << 10, i);
		assert_int_equal(store_batch_sa(s, uid, "a-f-G", FUTURE_MS,
		    NOW_MS, buf, 8 << 10), 0);
		if (store_commit(s) == -1)
			break;
		ok++;
	}
	assert_true(i < 400 && ok > 16);
	store_get_stats(s, &st);
	assert_int_equal(st.map_grows, 4);	/* 64 KiB -> 1 MiB */
	assert_int_equal(st.mapsize, (64 << 10) * STORE_MAP_GROWTH);
	assert_int_equal(st.commit_failures, 1);
	assert_int_equal(st.commits, ok);

	/* Everything committed is intact; the failed one is not there. */
	memset(&v, 0, sizeof(v));
	v.failed = ok;
	assert_int_equal(store_foreach_sa(s, NOW_MS, NULL, verify_sa, &v), 0);
	assert_int_equal(v.n, ok);
	assert_int_equal(v.bad, 0);
	assert_int_equal(v.seen_failed, 0);

	/* A batch larger than the largest map fails as a whole. */
	for (i = 0; i < 20; i++) {
		snprintf(uid, sizeof(uid), "BIG%02u", i);
		assert_int_equal(store_batch_sa(s, uid, "a-f-G", FUTURE_MS,
		    NOW_MS, buf, sizeof(buf)), 0);
	}
	assert_int_equal(store_commit(s), -1);
	assert_int_equal(count_sa(s, NOW_MS), ok);

	/*
	 * Still usable: make room, write again.  LMDB reuses the pages a
	 * transaction freed from the second transaction after it on.
	 */
	assert_int_equal(store_sa_purge(s, FUTURE_MS + 1, 0), (long)ok);
	put_sa(s, "after", FUTURE_MS, "<event/>");
	assert_int_equal(store_commit(s), 0);
	sa_fill(buf, 8 << 10, 7);
	assert_int_equal(store_batch_sa(s, "U7", "a-f-G", FUTURE_MS, NOW_MS,
	    buf, 8 << 10), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);

	/* Reopened with the small size: LMDB takes the file's size. */
	s = open_ok(tmpdir, 64 << 10, 0);
	assert_int_equal(count_sa(s, NOW_MS), 2);
	memset(&v, 0, sizeof(v));
	v.failed = ok;
	assert_int_equal(store_foreach_sa(s, NOW_MS, "after", verify_sa, &v),
	    0);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.bad, 0);
	store_close(s);
}

/*
 * The supervisor's immediate writes grow a full map as a commit does.  A dead
 * worker's cleanup that failed would leave its connection ids to the
 * respawned worker and its uids unannounced.
 */
static void
test_cull_map_full(void **state)
{
	struct store		*s;
	struct store_stats	 st;
	struct departed_seq	 ds;
	char			 uid[32];
	uint64_t		 grows;
	unsigned		 i;

	s = open_ok(tmpdir, 64 << 10, 0);
	/* One connection a commit, until one page of the map is left. */
	for (i = 0; i < 2000; i++) {
		snprintf(uid, sizeof(uid), "D%u", i);
		put_client(s, 1, i, uid);
		assert_int_equal(store_commit(s), 0);
		store_get_stats(s, &st);
		if (st.map_used + 4096 >= st.mapsize)
			break;
	}
	assert_true(i < 2000);
	grows = st.map_grows;
	/* Deleting copies pages too: the map is full on the first run. */
	memset(&ds, 0, sizeof(ds));
	ds.in_order = true;
	ds.type = "";
	assert_int_equal(store_del_worker(s, 1, count_departed, &ds),
	    (long)i + 1);
	/* The run after the growth reported each uid once. */
	assert_int_equal(ds.n, i + 1);
	assert_true(ds.in_order);
	store_get_stats(s, &st);
	assert_int_equal(st.map_grows, grows + 1);
	assert_int_equal(st.commit_failures, 0);
	assert_int_equal(count_clients(s), 0);
	store_close(s);
}

/* Another process grows the map: this one adopts the size on its next use. */
static void
test_map_resized(void **state)
{
	struct store		*s, *cs;
	struct store_stats	 st;
	static unsigned char	 buf[8 << 10];
	char			 err[256], uid[16];
	pid_t			 pid;
	unsigned		 i;

	s = open_ok(tmpdir, 64 << 10, 0);
	put_sa(s, "P", FUTURE_MS, "<event/>");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(count_sa(s, NOW_MS), 1);
	if ((pid = fork()) == 0) {
		cs = store_open(tmpdir, 64 << 10, 0, 0, err, sizeof(err));
		child_check(cs != NULL, 12);
		for (i = 0; i < 40; i++) {
			snprintf(uid, sizeof(uid), "U%u", i);
			sa_fill(buf, sizeof(buf), i);
			child_check(store_batch_sa(cs, uid, "a-f-G", FUTURE_MS,
			    NOW_MS, buf, sizeof(buf)) == 0, 13);
			child_check(store_commit(cs) == 0, 14);
		}
		store_get_stats(cs, &st);
		child_check(st.mapsize >= (512 << 10), 15);
		store_close(cs);
		_exit(0);
	}
	assert_true(pid > 0);
	wait_child(pid, 0);
	/* Both the read and the write path meet MDB_MAP_RESIZED. */
	assert_int_equal(count_sa(s, NOW_MS), 41);
	store_get_stats(s, &st);
	assert_true(st.mapsize >= (512 << 10));
	store_close(s);

	s = open_ok(tmpdir, 64 << 10, 0);
	if ((pid = fork()) == 0) {
		cs = store_open(tmpdir, 0, 0, 0, err, sizeof(err));
		child_check(cs != NULL, 12);
		for (i = 40; i < 140; i++) {
			snprintf(uid, sizeof(uid), "U%u", i);
			sa_fill(buf, sizeof(buf), i);
			child_check(store_batch_sa(cs, uid, "a-f-G", FUTURE_MS,
			    NOW_MS, buf, sizeof(buf)) == 0, 13);
		}
		child_check(store_commit(cs) == 0, 14);
		store_close(cs);
		_exit(0);
	}
	assert_true(pid > 0);
	wait_child(pid, 0);
	put_sa(s, "P", FUTURE_MS, "<event v='2'/>");
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(count_sa(s, NOW_MS), 141);
	store_get_stats(s, &st);
	assert_int_equal(st.map_grows, 0);
	assert_int_equal(st.commit_failures, 0);
	store_close(s);
}

static void
marker_write(const char *boot, const char *st)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/store.boot", tmpdir);
	if (boot == NULL) {
		assert_int_equal(unlink(path), 0);
		return;
	}
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "takd-store 1 %s %s\n", boot, st);
	fclose(f);
}

static void
marker_is(const char *st)
{
	char	 path[PATH_MAX], buf[200], boot[64], state[8];
	size_t	 n;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/store.boot", tmpdir);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* One fixed-size record, rewritten in place. */
	assert_int_equal(n, 128);
	assert_int_equal(buf[127], '\n');
	assert_int_equal(sscanf(buf, "takd-store 1 %63s %7s", boot, state), 2);
	assert_string_equal(state, st);
}

static ino_t
marker_ino(void)
{
	char		 path[PATH_MAX];
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/store.boot", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	return (st.st_ino);
}

/* Open at start and report whether the SA written before survived. */
static int
start_keeps(void)
{
	struct store	*s;
	size_t		 n;

	s = open_ok(tmpdir, 0, STORE_OPEN_START);
	marker_is("open");
	n = count_sa(s, NOW_MS);
	put_sa(s, "A", FUTURE_MS, "<event/>");
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	marker_is("closed");
	return (n == 1);
}

static void
test_crash_marker(void **state)
{
	char	 boot[64] = "";
	ino_t	 ino;
	FILE	*f;

	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f != NULL) {
		if (fgets(boot, sizeof(boot), f) == NULL)
			boot[0] = '\0';
		fclose(f);
	}
	boot[strcspn(boot, "\n")] = '\0';

	assert_false(start_keeps());		/* first start: empty */
	ino = marker_ino();
	assert_true(start_keeps());		/* clean close */
	/* Rewritten in place: a full disk cannot stop it. */
	assert_int_equal(marker_ino(), ino);
	marker_write("00000000-0000-0000-0000-000000000000", "closed");
	assert_true(start_keeps());		/* clean, then rebooted */
	marker_write("00000000-0000-0000-0000-000000000000", "open");
	assert_false(start_keeps());		/* crash, then reboot */
	if (boot[0] != '\0') {
		marker_write(boot, "open");
		assert_true(start_keeps());	/* process crash */
	}
	marker_write(NULL, NULL);
	assert_false(start_keeps());		/* no marker */
	marker_write("garbage", "");
	assert_false(start_keeps());
}

/*
 * The marker that makes the state trustworthy after a reboot cannot be
 * written: the start fails and says why.  A file size limit makes the write
 * come up short, as a full disk does; the reason is the error of the retry
 * (EFBIG here, ENOSPC on a full disk), not whatever errno held before.
 */
static void
test_crash_marker_write_fails(void **state)
{
	struct rlimit	 rl = { 8, 8 };
	char		 err[512] = "", path[PATH_MAX];
	pid_t		 pid;

	if ((pid = fork()) == 0) {
		signal(SIGXFSZ, SIG_IGN);
		child_check(setrlimit(RLIMIT_FSIZE, &rl) == 0, 10);
		errno = 0;
		child_check(store_open(tmpdir, 0, 0, STORE_OPEN_START, err,
		    sizeof(err)) == NULL, 11);
		child_check(strstr(err, "store.boot") != NULL, 12);
		child_check(strstr(err, strerror(EFBIG)) != NULL, 13);
		_exit(0);
	}
	assert_true(pid > 0);
	wait_child(pid, 0);
	/* Nothing half-written is left behind. */
	snprintf(path, sizeof(path), "%s/store.boot.tmp", tmpdir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/store.boot", tmpdir);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_batch_cap(void **state)
{
	struct store		*s;
	struct store_stats	 st;
	unsigned char		*big;
	char			 uid[16];
	unsigned		 i;

	big = calloc(1, STORE_SA_MAX);
	assert_non_null(big);
	s = open_ok(tmpdir, 0, 0);
	/* 32 MiB of batch: a 32nd MiB-sized SA does not fit beside keys. */
	for (i = 0; i < 31; i++) {
		snprintf(uid, sizeof(uid), "B%u", i);
		assert_int_equal(store_batch_sa(s, uid, "t", FUTURE_MS, NOW_MS,
		    big, STORE_SA_MAX), 0);
	}
	assert_int_equal(store_batch_sa(s, "B31", "t", FUTURE_MS, NOW_MS, big,
	    STORE_SA_MAX), -1);
	assert_int_equal(store_batch_touch(s, 1, 1), 0);
	assert_int_equal(store_commit(s), 0);
	store_get_stats(s, &st);
	assert_int_equal(st.ops_dropped, 1);
	assert_int_equal(count_sa(s, NOW_MS), 31);
	store_close(s);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_index_and_delete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_del_worker, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_del_worker_departed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sa_groups, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sa_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_callsign_index, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reset_clients, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nested_and_misuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_v2_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rdonly_without_channels,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_readers_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reader_check, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cull_map_full, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_resized, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_marker, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_marker_write_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_cap, setup,
		    teardown),
	};

	log_init(LOG_DEST_STDERR, NULL, LOG_WARNING);
	log_procinit("test_store");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
