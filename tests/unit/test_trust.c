/*
 * Unit tests for shared/trust.c (the walk from / that decides whether root
 * may trust a directory) and fileio_open() (no link followed, no FIFO
 * waited on).  Everything lives in a mkdtemp directory under /tmp, a
 * sticky directory of root's.  The owner checks need root (to chown to a
 * stranger's uid); without it those parts are skipped.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "shared/fileio.h"
#include "shared/trust.h"

#define STRANGER	4242	/* a uid nobody trusts */

static char	 tmp[64];

static int
group_setup(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/takd-test-trust.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return (-1);
	/* Made by whoever runs us: the owner trusted besides root. */
	trust_set_owner(geteuid());
	return (0);
}

static int
group_teardown(void **state)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return (system(cmd) == 0 ? 0 : -1);
}

static const char *
at(const char *name)
{
	static char	 buf[4][PATH_MAX];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmp, name);
	return (buf[i]);
}

/* trust_dir_open() of path: the descriptor, or -1 with err filled. */
static int
walk(const char *path, int flags, mode_t mode, char *err, size_t errlen)
{
	err[0] = '\0';
	return (trust_dir_open(path, flags, mode, err, errlen));
}

/* Missing directories are made (the last one with its exact mode). */
static void
test_trust_create(void **state)
{
	struct stat	 st;
	char		 err[1024];
	int		 fd;

	fd = walk(at("c/d/e"), TRUST_CREATE, 0750, err, sizeof(err));
	if (fd == -1)
		fail_msg("%s", err);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	close(fd);
	assert_int_equal(stat(at("c/d"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* Without TRUST_CREATE a missing directory is an error. */
	assert_int_equal(walk(at("c/none"), 0, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_contains(err, "no such directory");
}

/* Writable by others, or by a group not root's: refused, naming it. */
static void
test_trust_writable(void **state)
{
	char	 err[1024];
	int	 fd;

	assert_int_equal(mkdir(at("w"), 0755), 0);
	assert_int_equal(mkdir(at("w/in"), 0755), 0);
	assert_int_equal(chmod(at("w"), 0777), 0);
	assert_int_equal(walk(at("w/in"), 0, 0, err, sizeof(err)), -1);
	assert_contains(err, at("w"));
	assert_contains(err, "is writable by others (mode 0777)");
	assert_contains(err, "chmod go-w");
	/* Sticky: nobody can rename what is not theirs.  Root's only. */
	assert_int_equal(chmod(at("w"), 01777), 0);
	if (geteuid() == 0) {
		assert_true((fd = walk(at("w/in"), 0, 0, err,
		    sizeof(err))) >= 0);
		close(fd);
	}
	/* A group may write when it is root's, not another's. */
	assert_int_equal(chmod(at("w"), 0775), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(at("w"), 0, 0), 0);
		assert_true((fd = walk(at("w/in"), 0, 0, err,
		    sizeof(err))) >= 0);
		close(fd);
		assert_int_equal(chown(at("w"), 0, STRANGER), 0);
	}
	assert_int_equal(walk(at("w/in"), 0, 0, err, sizeof(err)), -1);
	assert_contains(err, "is writable by its group (mode 0775)");
}

/* Owned by a stranger: refused; by the trusted owner: accepted. */
static void
test_trust_owner(void **state)
{
	char	 err[1024];
	int	 fd;

	if (geteuid() != 0)
		skip();
	assert_int_equal(mkdir(at("o"), 0755), 0);
	assert_int_equal(chown(at("o"), STRANGER, STRANGER), 0);
	assert_int_equal(walk(at("o"), 0, 0, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	assert_contains(err, "is owned by uid 4242");
	assert_contains(err, "it must be root's");
	assert_contains(err, "chown root:root");
	/* A developer's takd trusts its own user too, and only it. */
	trust_set_owner(STRANGER);
	assert_true((fd = walk(at("o"), 0, 0, err, sizeof(err))) >= 0);
	close(fd);
	trust_set_owner(0);
	assert_int_equal(walk(at("o"), 0, 0, err, sizeof(err)), -1);
	trust_set_owner(geteuid());
}

/*
 * A link is followed when it lies in a directory that passed and is root's;
 * its target is walked like the rest.  One of a stranger's in a sticky
 * directory is not.  Loops end.
 */
static void
test_trust_links(void **state)
{
	struct stat	 a, b;
	char		 err[1024];
	int		 fd;

	assert_int_equal(mkdir(at("l"), 0755), 0);
	assert_int_equal(mkdir(at("l/real"), 0755), 0);
	assert_int_equal(symlink("real", at("l/rel")), 0);
	assert_int_equal(symlink(at("l/real"), at("l/abs")), 0);
	assert_int_equal(symlink("../l/./rel", at("l/up")), 0);
	assert_int_equal(stat(at("l/real"), &a), 0);
	assert_true((fd = walk(at("l/rel"), 0, 0, err, sizeof(err))) >= 0);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	close(fd);
	assert_true((fd = walk(at("l/abs"), 0, 0, err, sizeof(err))) >= 0);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	close(fd);
	assert_true((fd = walk(at("l/up"), 0, 0, err, sizeof(err))) >= 0);
	assert_int_equal(fstat(fd, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	close(fd);
	/* A target that does not pass fails the walk. */
	assert_int_equal(chmod(at("l/real"), 0757), 0);
	assert_int_equal(walk(at("l/rel"), 0, 0, err, sizeof(err)), -1);
	assert_contains(err, "is writable by others");
	assert_int_equal(chmod(at("l/real"), 0755), 0);
	/* Loops. */
	assert_int_equal(symlink("loop2", at("l/loop1")), 0);
	assert_int_equal(symlink("loop1", at("l/loop2")), 0);
	assert_int_equal(walk(at("l/loop1"), 0, 0, err, sizeof(err)), -1);
	assert_contains(err, "too many symbolic links");
	/* A file is not a directory. */
	close(open(at("l/file"), O_CREAT | O_WRONLY, 0644));
	assert_int_equal(walk(at("l/file"), 0, 0, err, sizeof(err)), -1);
	assert_contains(err, "not a directory");
	if (geteuid() != 0)
		return;
	/* A stranger's link in a sticky directory (/tmp, say). */
	assert_int_equal(chmod(at("l"), 01777), 0);
	assert_int_equal(lchown(at("l/rel"), STRANGER, STRANGER), 0);
	assert_int_equal(walk(at("l/rel"), 0, 0, err, sizeof(err)), -1);
	assert_contains(err, "rel is owned by uid 4242");
	assert_int_equal(chmod(at("l"), 0755), 0);
}

/* fileio_open(): a regular file, or a clear refusal at once. */
static void
test_trust_file_open(void **state)
{
	struct stat	 st;
	char		 err[1024];
	int		 fd;

	assert_int_equal(mkdir(at("f"), 0755), 0);
	close(open(at("f/ok"), O_CREAT | O_WRONLY, 0644));
	assert_true((fd = fileio_open(AT_FDCWD, at("f/ok"), "ok", &st, err,
	    sizeof(err))) >= 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);
	/* Opening a FIFO without O_NONBLOCK would hang here. */
	assert_int_equal(mkfifo(at("f/fifo"), 0644), 0);
	assert_int_equal(fileio_open(AT_FDCWD, at("f/fifo"), "fifo", &st,
	    err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_contains(err, "fifo: not a regular file (a FIFO)");
	assert_int_equal(symlink("ok", at("f/link")), 0);
	assert_int_equal(fileio_open(AT_FDCWD, at("f/link"), "link", &st,
	    err, sizeof(err)), -1);
	assert_int_equal(errno, ELOOP);
	assert_contains(err, "link: is a symbolic link");
	assert_int_equal(fileio_open(AT_FDCWD, at("f"), "f", &st, err,
	    sizeof(err)), -1);
	assert_contains(err, "f: not a regular file (a directory)");
	assert_int_equal(fileio_open(AT_FDCWD, at("f/none"), "none", &st,
	    err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trust_create),
		cmocka_unit_test(test_trust_writable),
		cmocka_unit_test(test_trust_owner),
		cmocka_unit_test(test_trust_links),
		cmocka_unit_test(test_trust_file_open),
	};

	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
