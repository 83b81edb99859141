/*
 * Unit tests for shared/pkgstore*.c, the data package store: commit and
 * read back, dedup (nothing new on disk, groups joined, charged once),
 * quotas (total, per user, checked at commit), delete, gc (orphan file,
 * orphan record, stale temp, foreign entries), links planted in the store
 * refused, bad names and hashes refused, durability across a reopen, the
 * walk order, visibility, and a full disk (a small tmpfs) leaving nothing.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "tests/unit/unit.h"

#include "shared/log.h"
#include "shared/pkgstore.h"

static char	 tmpdir[64];	/* /tmp/takd-pkgstore-XXXXXX */
static char	 pkgdir[128];	/* tmpdir/packages */
static int	 nfds;

static int
setup(void **state)
{
	if (unit_tmpdir_make(tmpdir, sizeof(tmpdir), "pkgstore") == -1)
		return (-1);
	snprintf(pkgdir, sizeof(pkgdir), "%s/packages", tmpdir);
	nfds = unit_count_fds();
	return (0);
}

static int
teardown(void **state)
{
	return (unit_tmpdir_remove(tmpdir, nfds));
}

static struct pkgstore *
open_ok(unsigned flags)
{
	struct pkgstore	*s;
	char		 err[512];

	if ((s = pkgstore_open(pkgdir, flags, err, sizeof(err))) == NULL)
		fail_msg("pkgstore_open %s: %s", pkgdir, err);
	return (s);
}

static void
sha256_hex(const void *buf, size_t len, char hex[PKG_HASH_HEX])
{
	unsigned char	 md[32];
	unsigned int	 mdlen = 0;
	size_t		 i;

	assert_int_equal(EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL),
	    1);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Fill meta for content, as the api would. */
static void
meta_fill(struct pkg_meta *m, const char *content, const char *name,
    const char *user, const char *groups)
{
	memset(m, 0, sizeof(*m));
	sha256_hex(content, strlen(content), m->hash);
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->mime, sizeof(m->mime), "application/zip");
	snprintf(m->keywords, sizeof(m->keywords), "missionpackage");
	snprintf(m->creator_uid, sizeof(m->creator_uid), "ANDROID-%s", user);
	snprintf(m->user, sizeof(m->user), "%s", user);
	snprintf(m->groups, sizeof(m->groups), "%s", groups);
	m->size = strlen(content);
}

/* A temp file holding content: its path in path. */
static void
tmp_write(struct pkgstore *s, const char *content, char *path, size_t len)
{
	int	 fd;

	fd = pkgstore_tmp_create(s, path, len);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	close(fd);
}

static int
commit(struct pkgstore *s, const char *content, const struct pkg_meta *m,
    bool *existed)
{
	char		 path[PATH_MAX];
	struct stat	 st;
	int		 rc;

	tmp_write(s, content, path, sizeof(path));
	rc = pkgstore_commit(s, path, m, existed);
	/* Whatever happened, the temp file is gone. */
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
	return (rc);
}

static void
obj_path(const char *hash, char *path, size_t len)
{
	snprintf(path, len, "%s/objects/%.2s/%s", pkgdir, hash, hash);
}

/* Entries in the directory dir/sub, . and .. aside. */
static int
count_dir(const char *dir, const char *sub)
{
	char	 path[PATH_MAX];
	int	 fd, n = 0;
	DIR	*d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY)) == -1 ||
	    (d = fdopendir(fd)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return (n);
}

/* Objects on disk, all subdirectories. */
static int
count_objects(void)
{
	char		 path[PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	snprintf(path, sizeof(path), "%s/objects", pkgdir);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n += count_dir(path, de->d_name);
	closedir(d);
	return (n);
}

static void
read_fd(int fd, char *buf, size_t len)
{
	ssize_t	 n;

	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static void
test_commit_get(void **state)
{
	struct pkgstore	*s = open_ok(0);
	struct pkg_meta	 m, g;
	struct stat	 st;
	const char	*body = "PK\003\004 a mission package";
	char		 path[PATH_MAX], buf[128];
	uint64_t	 bytes, count, size;
	bool		 existed = true;
	int		 fd;

	/* The layout: 0700 directories. */
	assert_int_equal(stat(pkgdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	meta_fill(&m, body, "route.zip", "alice", "Blue");
	assert_int_equal(commit(s, body, &m, &existed), 0);
	assert_false(existed);
	assert_int_equal(pkgstore_get(s, m.hash, &g), 0);
	assert_string_equal(g.hash, m.hash);
	assert_string_equal(g.name, "route.zip");
	assert_string_equal(g.mime, "application/zip");
	assert_string_equal(g.keywords, "missionpackage");
	assert_string_equal(g.creator_uid, "ANDROID-alice");
	assert_string_equal(g.user, "alice");
	assert_string_equal(g.groups, "Blue");
	assert_int_equal(g.size, strlen(body));
	assert_true(g.submitted_ms > 1700000000000LL);
	assert_false(g.public);

	obj_path(m.hash, path, sizeof(path));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_dir(pkgdir, "tmp"), 0);

	fd = pkgstore_content_open(s, m.hash, &size);
	assert_true(fd >= 0);
	assert_int_equal(size, strlen(body));
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, body);

	pkgstore_usage(s, &bytes, &count);
	assert_int_equal(bytes, strlen(body));
	assert_int_equal(count, 1);
	assert_int_equal(pkgstore_user_usage(s, "alice"), strlen(body));

	/* Upper case is the same hash. */
	for (size_t i = 0; m.hash[i] != '\0'; i++)
		if (m.hash[i] >= 'a' && m.hash[i] <= 'f')
			m.hash[i] = (char)(m.hash[i] - 'a' + 'A');
	assert_int_equal(pkgstore_get(s, m.hash, &g), 0);
	assert_int_equal(pkgstore_set_public(s, m.hash, true), 0);
	assert_int_equal(pkgstore_get(s, g.hash, &g), 0);
	assert_true(g.public);
	pkgstore_close(s);
}

static void
test_dedup(void **state)
{
	struct pkgstore	*s = open_ok(0);
	struct pkg_meta	 a, b, c, g;
	const char	*body = "the same bytes twice";
	uint64_t	 bytes, count;
	bool		 existed = false;

	meta_fill(&a, body, "first.zip", "alice", "Blue");
	meta_fill(&b, body, "second.zip", "bob", "Red,Blue");
	meta_fill(&c, body, "third.zip", "carol", "");
	assert_int_equal(commit(s, body, &a, &existed), 0);
	assert_false(existed);
	assert_int_equal(commit(s, body, &b, &existed), 0);
	assert_true(existed);
	assert_int_equal(commit(s, body, &c, &existed), 0);
	assert_true(existed);

	/* One file, one record, charged once, to the first uploader. */
	assert_int_equal(count_objects(), 1);
	assert_int_equal(count_dir(pkgdir, "tmp"), 0);
	pkgstore_usage(s, &bytes, &count);
	assert_int_equal(bytes, strlen(body));
	assert_int_equal(count, 1);
	assert_int_equal(pkgstore_user_usage(s, "alice"), strlen(body));
	assert_int_equal(pkgstore_user_usage(s, "bob"), 0);
	assert_int_equal(pkgstore_get(s, a.hash, &g), 0);
	assert_string_equal(g.name, "first.zip");
	assert_string_equal(g.user, "alice");
	/* The groups are the union, each once. */
	assert_string_equal(g.groups, "Blue,Red");
	assert_true(pkgstore_visible(&g, "Red", false));
	pkgstore_close(s);
}

static void
test_quota_total(void **state)
{
	struct pkgstore	*s = open_ok(0);
	struct pkg_meta	 m, g;
	char		 big[61], more[51], path[PATH_MAX];
	uint64_t	 bytes, count;
	bool		 existed;

	memset(big, 'a', 60);
	big[60] = '\0';
	memset(more, 'b', 50);
	more[50] = '\0';
	pkgstore_set_limits(s, 100, 0);
	meta_fill(&m, big, "big.bin", "alice", "Blue");
	assert_int_equal(pkgstore_room(s, "alice", 60), 0);
	assert_int_equal(commit(s, big, &m, &existed), 0);
	assert_int_equal(pkgstore_room(s, "bob", 50), PKG_ERR_QUOTA);
	assert_int_equal(pkgstore_room(s, "bob", 40), 0);
	/* The check that counts is the one at commit, not room's hint. */
	meta_fill(&m, more, "more.bin", "bob", "Red");
	assert_int_equal(commit(s, more, &m, &existed), PKG_ERR_QUOTA);
	assert_int_equal(pkgstore_get(s, m.hash, &g), PKG_ERR_NOTFOUND);
	obj_path(m.hash, path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_objects(), 1);
	pkgstore_usage(s, &bytes, &count);
	assert_int_equal(bytes, 60);
	assert_int_equal(count, 1);
	/* The same bytes again cost nothing: still accepted. */
	meta_fill(&m, big, "big-again.bin", "bob", "Red");
	assert_int_equal(commit(s, big, &m, &existed), 0);
	assert_true(existed);
	/* Room once deleted. */
	assert_int_equal(pkgstore_delete(s, m.hash), 0);
	meta_fill(&m, more, "more.bin", "bob", "Red");
	assert_int_equal(commit(s, more, &m, &existed), 0);
	pkgstore_close(s);
}

static void
test_quota_user(void **state)
{
	struct pkgstore	*s = open_ok(0);
	struct pkg_meta	 m;
	char		 a[61], b[51];
	bool		 existed;

	memset(a, 'a', 60);
	a[60] = '\0';
	memset(b, 'b', 50);
	b[50] = '\0';
	pkgstore_set_limits(s, 0, 100);
	meta_fill(&m, a, "a.bin", "alice", "Blue");
	assert_int_equal(commit(s, a, &m, &existed), 0);
	assert_int_equal(pkgstore_room(s, "alice", 50), PKG_ERR_USER_QUOTA);
	meta_fill(&m, b, "b.bin", "alice", "Blue");
	assert_int_equal(commit(s, b, &m, &existed), PKG_ERR_USER_QUOTA);
	assert_int_equal(count_objects(), 1);
	assert_int_equal(pkgstore_user_usage(s, "alice"), 60);
	/* Another user has room of its own; "" is charged to nobody. */
	meta_fill(&m, b, "b.bin", "bob", "Blue");
	assert_int_equal(commit(s, b, &m, &existed), 0);
	assert_int_equal(pkgstore_user_usage(s, "bob"), 50);
	/* A single file over the user quota. */
	pkgstore_set_limits(s, 0, 10);
	meta_fill(&m, "0123456789abc", "c.bin", "carol", "Blue");
	assert_int_equal(commit(s, "0123456789abc", &m, &existed),
	    PKG_ERR_USER_QUOTA);
	meta_fill(&m, "0123456789abc", "c.bin", "", "Blue");
	assert_int_equal(commit(s, "0123456789abc", &m, &existed), 0);
	pkgstore_close(s);
}

static void
test_delete(void **state)
{
	struct pkgstore	*s = open_ok(0);
	struct pkg_meta	 m, g;
	char		 path[PATH_MAX];
	uint64_t	 bytes, count;
	bool		 existed;
	int		 fd;

	meta_fill(&m, "to be deleted", "x.txt", "alice", "Blue");
	assert_int_equal(commit(s, "to be deleted", &m, &existed), 0);
	fd = pkgstore_content_open(s, m.hash, NULL);
	assert_true(fd >= 0);
	assert_int_equal(pkgstore_delete(s, m.hash), 0);
	close(fd);
	assert_int_equal(pkgstore_get(s, m.hash, &g), PKG_ERR_NOTFOUND);
	assert_int_equal(pkgstore_content_open(s, m.hash, NULL),
	    PKG_ERR_NOTFOUND);
	obj_path(m.hash, path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_dir(pkgdir, "tmp"), 0);
	pkgstore_usage(s, &bytes, &count);
	assert_int_equal(bytes, 0);
	assert_int_equal(count, 0);
	assert_int_equal(pkgstore_user_usage(s, "alice"), 0);
	assert_int_equal(pkgstore_delete(s, m.hash), PKG_ERR_NOTFOUND);
	assert_int_equal(pkgstore_set_public(s, m.hash, true),
	    PKG_ERR_NOTFOUND);
	/* Stored again after a delete: a new record, a new file. */
	assert_int_equal(commit(s, "to be deleted", &m, &existed), 0);
	assert_false(existed);
	assert_int_equal(access(path, F_OK), 0);
	pkgstore_close(s);
}

static void
test_gc(void **state)
{
	struct pkgstore			*s = open_ok(0);
	struct pkgstore_gc_report	 rep;
	struct pkg_meta			 keep, lost, g;
	struct timespec			 old[2];
	char				 path[PATH_MAX], orphan[PKG_HASH_HEX];
	char				 stale[PATH_MAX], fresh[PATH_MAX];
	uint64_t			 bytes, count;
	bool				 existed;
	int				 fd;

	meta_fill(&keep, "kept", "kept.txt", "alice", "Blue");
	assert_int_equal(commit(s, "kept", &keep, &existed), 0);
	meta_fill(&lost, "its file is lost", "lost.txt", "bob", "Blue");
	assert_int_equal(commit(s, "its file is lost", &lost, &existed), 0);
	obj_path(lost.hash, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	/* An orphan file: in objects/, no record (a crash before commit). */
	sha256_hex("orphan", 6, orphan);
	snprintf(path, sizeof(path), "%s/objects/%.2s", pkgdir, orphan);
	(void)mkdir(path, 0700);
	obj_path(orphan, path, sizeof(path));
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, "orphan", 6), 6);
	close(fd);
	/* Junk of no shape of ours. */
	snprintf(path, sizeof(path), "%s/objects/junk", pkgdir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	/* A stale temp file and a fresh one (an upload in progress). */
	assert_true((fd = pkgstore_tmp_create(s, stale, sizeof(stale))) >= 0);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - PKGSTORE_TMP_STALE_S -
	    60;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	assert_int_equal(futimens(fd, old), 0);
	close(fd);
	assert_true((fd = pkgstore_tmp_create(s, fresh, sizeof(fresh))) >= 0);
	close(fd);
	pkgstore_usage(s, &bytes, &count);
	assert_int_equal(count, 2);

	assert_int_equal(pkgstore_gc(s, &rep), 0);
	assert_int_equal(rep.orphan_files, 1);
	assert_int_equal(rep.orphan_bytes, 6);
	assert_int_equal(rep.orphan_records, 1);
	assert_int_equal(rep.stale_tmp, 1);
	assert_int_equal(rep.foreign, 1);
	obj_path(orphan, path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	assert_int_equal(pkgstore_get(s, lost.hash, &g), PKG_ERR_NOTFOUND);
	assert_int_equal(pkgstore_get(s, keep.hash, &g), 0);
	obj_path(keep.hash, path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	/* The lost record's charge is given back. */
	pkgstore_usage(s, &bytes, &count);
	assert_int_equal(bytes, 4);
	assert_int_equal(count, 1);
	assert_int_equal(pkgstore_user_usage(s, "bob"), 0);
	/* Nothing left to do; then the api's start empties tmp/. */
	assert_int_equal(pkgstore_gc(s, &rep), 0);
	assert_int_equal(rep.orphan_files + rep.orphan_records +
	    rep.stale_tmp + rep.foreign, 0);
	assert_int_equal(pkgstore_tmp_clean(s), 1);
	assert_int_equal(count_dir(pkgdir, "tmp"), 0);
	pkgstore_close(s);
}

static void
test_symlinks(void **state)
{
	struct pkgstore			*s = open_ok(0);
	struct pkgstore_gc_report	 rep;
	struct pkg_meta			 m, g;
	struct stat			 st;
	char				 secret[PATH_MAX], path[PATH_MAX];
	char				 sub[256], link[256], err[256];
	bool				 existed;
	int				 fd;

	snprintf(secret, sizeof(secret), "%s/secret", tmpdir);
	assert_true((fd = open(secret, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, "SECRET", 6), 6);
	close(fd);

	/* A file of the store replaced by a link: never followed. */
	meta_fill(&m, "SECRET", "s.txt", "alice", "Blue");
	assert_int_equal(commit(s, "SECRET", &m, &existed), 0);
	obj_path(m.hash, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(secret, path), 0);
	assert_true(pkgstore_content_open(s, m.hash, NULL) < 0);

	/* Its subdirectory a link to a directory holding the hash. */
	assert_int_equal(unlink(path), 0);
	snprintf(sub, sizeof(sub), "%s/objects/%.2s", pkgdir, m.hash);
	assert_int_equal(rmdir(sub), 0);
	snprintf(link, sizeof(link), "%s/elsewhere", tmpdir);
	assert_int_equal(mkdir(link, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", link, m.hash);
	assert_int_equal(symlink(secret, path), 0);
	assert_int_equal(symlink(link, sub), 0);
	assert_true(pkgstore_content_open(s, m.hash, NULL) < 0);
	/* gc removes the link (not what it points at) and the record. */
	assert_int_equal(pkgstore_gc(s, &rep), 0);
	assert_int_equal(rep.foreign, 1);
	assert_int_equal(rep.orphan_records, 1);
	assert_int_equal(lstat(sub, &st), -1);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(stat(secret, &st), 0);
	assert_int_equal(pkgstore_get(s, m.hash, &g), PKG_ERR_NOTFOUND);

	/* A temp "file" that is a link: commit refuses, the target stays. */
	snprintf(path, sizeof(path), "%s/tmp/up.0123456789abcdef01234567",
	    pkgdir);
	assert_int_equal(symlink(secret, path), 0);
	assert_int_equal(pkgstore_commit(s, path, &m, &existed),
	    PKG_ERR_INVAL);
	assert_int_equal(lstat(path, &st), -1);
	assert_int_equal(stat(secret, &st), 0);
	assert_int_equal(pkgstore_get(s, m.hash, &g), PKG_ERR_NOTFOUND);
	pkgstore_close(s);

	/* The store itself a link: refused. */
	snprintf(path, sizeof(path), "%s/linked", tmpdir);
	assert_int_equal(symlink(pkgdir, path), 0);
	assert_null(pkgstore_open(path, 0, err, sizeof(err)));
	assert_contains(err, "links are not followed");
}

static void
test_bad_input(void **state)
{
	struct pkgstore	*s;
	struct pkg_meta	 m, g;
	struct stat	 st;
	char		 path[PATH_MAX], err[256], name[300];
	const char	*hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
			    "a495991b7852b855";
	bool		 existed;
	int		 fd;

	assert_true(pkgstore_hash_ok(hash));
	assert_false(pkgstore_hash_ok(NULL));
	assert_false(pkgstore_hash_ok(""));
	assert_false(pkgstore_hash_ok("e3b0c442"));
	snprintf(path, sizeof(path), "%s0", hash);
	assert_false(pkgstore_hash_ok(path));
	snprintf(path, sizeof(path), "../../%.58s", hash);
	assert_false(pkgstore_hash_ok(path));
	snprintf(path, sizeof(path), "%.63sg", hash);
	assert_false(pkgstore_hash_ok(path));

	assert_true(pkgstore_name_ok("route.zip"));
	assert_true(pkgstore_name_ok("carte d'\xc3\xa9t\xc3\xa9.kmz"));
	assert_true(pkgstore_name_ok("..zip"));
	assert_false(pkgstore_name_ok(NULL));
	assert_false(pkgstore_name_ok(""));
	assert_false(pkgstore_name_ok("."));
	assert_false(pkgstore_name_ok(".."));
	assert_false(pkgstore_name_ok("../../etc/passwd"));
	assert_false(pkgstore_name_ok("/etc/passwd"));
	assert_false(pkgstore_name_ok("..\\..\\boot.ini"));
	assert_false(pkgstore_name_ok("a\nb"));
	assert_false(pkgstore_name_ok("a\x7f"));
	assert_false(pkgstore_name_ok("\xc2\x85"));	/* C1 NEL */
	assert_false(pkgstore_name_ok("\xc0\xaf"));	/* overlong '/' */
	assert_false(pkgstore_name_ok("\xff.zip"));
	memset(name, 'n', 255);
	name[255] = '\0';
	assert_true(pkgstore_name_ok(name));
	name[255] = 'n';
	name[256] = '\0';
	assert_false(pkgstore_name_ok(name));

	s = open_ok(0);
	/* A path-like name: refused, nothing stored, nothing outside. */
	meta_fill(&m, "payload", "../../etc/passwd", "alice", "Blue");
	assert_int_equal(commit(s, "payload", &m, &existed), PKG_ERR_INVAL);
	assert_int_equal(pkgstore_get(s, m.hash, &g), PKG_ERR_NOTFOUND);
	assert_int_equal(count_objects(), 0);
	snprintf(path, sizeof(path), "%s/etc", tmpdir);
	assert_int_equal(lstat(path, &st), -1);
	/* Every other field. */
	meta_fill(&m, "payload", "ok.zip", "al:ice", "Blue");
	assert_false(pkgstore_meta_ok(&m, err, sizeof(err)));
	assert_contains(err, "user");
	meta_fill(&m, "payload", "ok.zip", "alice", "Blue,,Red");
	assert_false(pkgstore_meta_ok(&m, err, sizeof(err)));
	assert_contains(err, "groups");
	meta_fill(&m, "payload", "ok.zip", "alice", "Blue");
	snprintf(m.mime, sizeof(m.mime), "text/plain\r\nX-Evil: 1");
	assert_false(pkgstore_meta_ok(&m, err, sizeof(err)));
	meta_fill(&m, "payload", "ok.zip", "alice", "Blue");
	snprintf(m.keywords, sizeof(m.keywords), "a\033[2Jb");
	assert_false(pkgstore_meta_ok(&m, err, sizeof(err)));
	meta_fill(&m, "payload", "ok.zip", "alice", "Blue");
	memset(m.creator_uid, 'u', sizeof(m.creator_uid));	/* no NUL */
	assert_false(pkgstore_meta_ok(&m, err, sizeof(err)));
	meta_fill(&m, "payload", "ok.zip", "alice", "Blue");
	m.hash[10] = 'z';
	assert_false(pkgstore_meta_ok(&m, err, sizeof(err)));
	assert_int_equal(pkgstore_get(s, m.hash, &g), PKG_ERR_INVAL);
	assert_int_equal(pkgstore_delete(s, "../../etc/passwd"),
	    PKG_ERR_INVAL);

	/* The size announced must be the file's. */
	meta_fill(&m, "payload", "ok.zip", "alice", "Blue");
	m.size = 3;
	assert_int_equal(commit(s, "payload", &m, &existed), PKG_ERR_INVAL);
	assert_int_equal(count_objects(), 0);

	/* A path outside tmp/: refused and left alone. */
	snprintf(path, sizeof(path), "%s/victim", tmpdir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, "payload", 7), 7);
	close(fd);
	meta_fill(&m, "payload", "ok.zip", "alice", "Blue");
	assert_int_equal(pkgstore_commit(s, path, &m, &existed),
	    PKG_ERR_INVAL);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/tmp/../victim", pkgdir);
	assert_int_equal(pkgstore_commit(s, path, &m, &existed),
	    PKG_ERR_INVAL);
	assert_int_equal(pkgstore_tmp_remove(s, path), -1);
	snprintf(path, sizeof(path), "%s/victim", tmpdir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(count_objects(), 0);
	pkgstore_close(s);

	/* Relative or absent directories. */
	assert_null(pkgstore_open("relative/packages", 0, err, sizeof(err)));
}

/* Writes are durable: all there after a close and a reopen. */
static void
test_reopen(void **state)
{
	struct pkgstore	*s;
	struct pkg_meta	 m[3], g;
	static const char *const body[3] = { "one", "two", "three" };
	char		 err[256], buf[16];
	uint64_t	 bytes, count;
	bool		 existed;
	int		 i, fd;

	/* Nothing is created by a store that must exist. */
	assert_null(pkgstore_open(pkgdir, PKGSTORE_RDONLY, err, sizeof(err)));
	assert_null(pkgstore_open(pkgdir, PKGSTORE_NOCREATE, err,
	    sizeof(err)));
	assert_int_equal(access(pkgdir, F_OK), -1);

	s = open_ok(0);
	for (i = 0; i < 3; i++) {
		meta_fill(&m[i], body[i], body[i], "alice", "Blue");
		assert_int_equal(commit(s, body[i], &m[i], &existed), 0);
	}
	assert_int_equal(pkgstore_set_public(s, m[1].hash, true), 0);
	assert_int_equal(pkgstore_delete(s, m[2].hash), 0);
	pkgstore_close(s);

	s = open_ok(PKGSTORE_RDONLY);
	assert_int_equal(pkgstore_get(s, m[0].hash, &g), 0);
	assert_string_equal(g.name, "one");
	assert_false(g.public);
	assert_int_equal(pkgstore_get(s, m[1].hash, &g), 0);
	assert_true(g.public);
	assert_int_equal(pkgstore_get(s, m[2].hash, &g), PKG_ERR_NOTFOUND);
	fd = pkgstore_content_open(s, m[1].hash, NULL);
	assert_true(fd >= 0);
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, "two");
	pkgstore_usage(s, &bytes, &count);
	assert_int_equal(bytes, 6);
	assert_int_equal(count, 2);
	assert_int_equal(pkgstore_user_usage(s, "alice"), 6);
	/* Read-only: no writes. */
	assert_int_equal(pkgstore_set_public(s, m[0].hash, true), -1);
	assert_int_equal(pkgstore_delete(s, m[0].hash), -1);
	assert_int_equal(pkgstore_gc(s, NULL), -1);
	pkgstore_close(s);
}

struct walk {
	char		 names[8][16];
	int		 n;
	struct pkgstore	*s;
};

static int
walk_cb(const struct pkg_meta *m, void *arg)
{
	struct walk	*w = arg;

	snprintf(w->names[w->n++], sizeof(w->names[0]), "%.15s", m->name);
	/* The callback may write: no transaction is open. */
	assert_int_equal(pkgstore_delete(w->s, m->hash), 0);
	return (w->n == 3 ? 1 : 0);
}

static void
test_foreach(void **state)
{
	struct pkgstore	*s = open_ok(0);
	struct pkg_meta	 m;
	struct walk	 w;
	static const char *const body[4] = { "c", "a", "d", "b" };
	static const int64_t ms[4] = { 3000, 1000, 4000, 2000 };
	uint64_t	 count;
	bool		 existed;
	int		 i;

	for (i = 0; i < 4; i++) {
		meta_fill(&m, body[i], body[i], "alice", "Blue");
		m.submitted_ms = ms[i];
		assert_int_equal(commit(s, body[i], &m, &existed), 0);
	}
	memset(&w, 0, sizeof(w));
	w.s = s;
	assert_int_equal(pkgstore_foreach(s, walk_cb, &w), 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.names[0], "a");
	assert_string_equal(w.names[1], "b");
	assert_string_equal(w.names[2], "c");
	pkgstore_usage(s, NULL, &count);
	assert_int_equal(count, 1);
	pkgstore_close(s);
}

static void
test_visible(void **state)
{
	struct pkg_meta	 m;

	meta_fill(&m, "x", "x", "alice", "Blue,HQ");
	assert_true(pkgstore_visible(&m, "HQ", false));
	assert_true(pkgstore_visible(&m, "Red,Blue", false));
	assert_false(pkgstore_visible(&m, "Red", false));
	assert_false(pkgstore_visible(&m, "Blu", false));
	assert_false(pkgstore_visible(&m, "Blue2", false));
	assert_false(pkgstore_visible(&m, "", false));
	assert_false(pkgstore_visible(&m, NULL, false));
	assert_true(pkgstore_visible(&m, NULL, true));
	m.public = true;
	assert_true(pkgstore_visible(&m, "", false));
	meta_fill(&m, "x", "x", "alice", "");
	assert_false(pkgstore_visible(&m, "Blue", false));
}

/*
 * A full disk: the store on a 1 MiB tmpfs (a mount namespace of our own,
 * so nothing outlives the test), filled up, then a commit: it fails with
 * PKG_ERR_NOSPACE and leaves no file and no record; once there is room
 * again the same upload succeeds.
 */
static void
test_full_disk(void **state)
{
	struct pkgstore	*s;
	struct pkg_meta	 m, g;
	char		 path[PATH_MAX], fill[PATH_MAX], chunk[4096];
	char		 body[2048];
	bool		 existed;
	int		 fd, rc;

	if (geteuid() != 0 || unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", tmpdir, "tmpfs", 0, "size=1m,mode=0700") == -1) {
		fprintf(stderr, "test_full_disk: no tmpfs mount (%s): "
		    "skipped\n", strerror(errno));
		skip();
	}
	s = open_ok(0);
	memset(body, 'z', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	meta_fill(&m, body, "full.bin", "alice", "Blue");
	tmp_write(s, body, path, sizeof(path));
	/* Every byte left goes to a filler file. */
	snprintf(fill, sizeof(fill), "%s/filler", tmpdir);
	assert_true((fd = open(fill, O_WRONLY | O_CREAT, 0600)) >= 0);
	memset(chunk, 'f', sizeof(chunk));
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	close(fd);
	rc = pkgstore_commit(s, path, &m, &existed);
	assert_int_equal(rc, PKG_ERR_NOSPACE);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_objects(), 0);
	assert_int_equal(pkgstore_get(s, m.hash, &g), PKG_ERR_NOTFOUND);
	/* Room again: the store still works. */
	assert_int_equal(unlink(fill), 0);
	assert_int_equal(commit(s, body, &m, &existed), 0);
	assert_int_equal(pkgstore_get(s, m.hash, &g), 0);
	pkgstore_close(s);
	pkgstore_close(open_ok(0));
	assert_int_equal(umount2(tmpdir, MNT_DETACH), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_get, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quota_total, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_quota_user, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_visible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup,
		    teardown),
	};

	log_init(LOG_DEST_STDERR, NULL, LOG_WARNING);
	log_procinit("test_pkgstore");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
