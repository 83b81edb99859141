/*
 * Unit tests for takd-usersd's decision (usersd/change.c) on requests as
 * they arrive on its channel (ipc/users_msg.c encoded, then decoded):
 * a wrong admin password, an admin without a password, a user who is not
 * an admin, an admin as the target, bad names and groups, a user who
 * exists or does not: refused with the right status and the set
 * unchanged; add, passwd, groups and delete applied, the new password
 * hashed (it verifies, the old one does not), the role always "user".
 * And the sandbox (usersd/sandbox.c): once in it, a process writes,
 * renames and removes beneath its directory only, whatever it owns.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/users_msg.h"
#include "shared/password.h"
#include "shared/users.h"
#include "tests/unit/unit.h"
#include "usersd/change.h"
#include "usersd/sandbox.h"

static char	 hash_alice[USERS_HASH_MAX];
static char	 hash_bob[USERS_HASH_MAX];

static struct users *
fixture(void)
{
	struct users		*us;
	struct users_user	 u;
	struct users_group	 g[2];
	char			 err[256];

	if (hash_alice[0] == '\0') {
		assert_int_equal(password_hash("pw-alice", hash_alice,
		    sizeof(hash_alice), err, sizeof(err)), 0);
		assert_int_equal(password_hash("pw-bob", hash_bob,
		    sizeof(hash_bob), err, sizeof(err)), 0);
	}
	assert_non_null(us = users_new());
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "alice");
	snprintf(u.hash, sizeof(u.hash), "%s", hash_alice);
	u.role = USERS_ROLE_ADMIN;
	assert_int_equal(users_put(us, &u, err, sizeof(err)), 0);
	/* An admin by certificate only: no password to type again. */
	snprintf(u.name, sizeof(u.name), "carol");
	snprintf(u.hash, sizeof(u.hash), "!");
	assert_int_equal(users_put(us, &u, err, sizeof(err)), 0);
	memset(g, 0, sizeof(g));
	snprintf(g[0].name, sizeof(g[0].name), "Blue");
	g[0].halves = USERS_IN | USERS_OUT;
	snprintf(g[1].name, sizeof(g[1].name), "HQ");
	g[1].halves = USERS_OUT;
	snprintf(u.name, sizeof(u.name), "bob");
	snprintf(u.hash, sizeof(u.hash), "%s", hash_bob);
	u.role = USERS_ROLE_USER;
	u.groups = g;
	u.n_groups = 2;
	assert_int_equal(users_put(us, &u, err, sizeof(err)), 0);
	return (us);
}

/* r through the wire and usersd_change(); its status and message. */
static uint32_t
ask(struct users *us, const struct users_req *r, char *msg, size_t len)
{
	struct ipc_buf		*b;
	struct ipc_msg		 m;
	struct users_req	 got;
	uint32_t		 st;

	assert_non_null(b = malloc(sizeof(*b)));
	ipc_buf_init(b);
	assert_int_equal(users_req_encode(r, b), 0);
	memset(&m, 0, sizeof(m));
	m.hdr.type = IPC_MSG_USER_EDIT;
	m.payload = b->data;
	m.len = b->len;
	m.fd = -1;
	assert_int_equal(users_req_decode(&m, &got), 0);
	st = usersd_change(us, &got, msg, len);
	users_req_clear(&got);
	free(b);
	return (st);
}

static void
req_init(struct users_req *r, uint32_t op, const char *admin,
    const char *admin_pw, const char *user)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	snprintf(r->admin, sizeof(r->admin), "%s", admin);
	snprintf(r->admin_pw, sizeof(r->admin_pw), "%s", admin_pw);
	snprintf(r->user, sizeof(r->user), "%s", user);
}

/* Refused with st, msg containing want, and the set as it was. */
static void
refused(const struct users_req *r, uint32_t st, const char *want)
{
	struct users	*us = fixture();
	char		*before, *after, msg[USERS_MSG_TEXT_MAX];
	size_t		 n1, n2;

	assert_non_null(before = users_format(us, &n1));
	assert_int_equal(ask(us, r, msg, sizeof(msg)), st);
	assert_contains(msg, want);
	assert_non_null(after = users_format(us, &n2));
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);
	users_free(us);
}

static void
test_refusals(void **state)
{
	struct users_req	 r;

	(void)state;
	/* The admin's password is checked here, whatever the api says. */
	req_init(&r, USERS_OP_ADD, "alice", "wrong", "dave");
	snprintf(r.password, sizeof(r.password), "pw-dave");
	refused(&r, USERS_ST_DENIED, "admin password is wrong");
	req_init(&r, USERS_OP_DEL, "alice", "", "bob");
	refused(&r, USERS_ST_DENIED, "admin password is wrong");
	/* An admin without a password, a user who is no admin, nobody. */
	req_init(&r, USERS_OP_DEL, "carol", "!", "bob");
	refused(&r, USERS_ST_DENIED, "admin password is wrong");
	req_init(&r, USERS_OP_DEL, "bob", "pw-bob", "bob");
	refused(&r, USERS_ST_DENIED, "not an admin");
	req_init(&r, USERS_OP_DEL, "zed", "pw-alice", "bob");
	refused(&r, USERS_ST_DENIED, "admin password is wrong");
	req_init(&r, USERS_OP_DEL, "a:b", "pw-alice", "bob");
	refused(&r, USERS_ST_DENIED, "admin password is wrong");
	/* No admin is touched: delete, password, groups. */
	req_init(&r, USERS_OP_DEL, "alice", "pw-alice", "carol");
	refused(&r, USERS_ST_DENIED, "is an admin");
	req_init(&r, USERS_OP_PASSWD, "alice", "pw-alice", "alice");
	snprintf(r.password, sizeof(r.password), "new");
	refused(&r, USERS_ST_DENIED, "is an admin");
	req_init(&r, USERS_OP_GROUPS, "alice", "pw-alice", "carol");
	snprintf(r.groups, sizeof(r.groups), "Blue");
	refused(&r, USERS_ST_DENIED, "is an admin");
	/* Names and groups as the users file takes them. */
	req_init(&r, USERS_OP_ADD, "alice", "pw-alice", "da:ve");
	snprintf(r.password, sizeof(r.password), "pw-dave");
	refused(&r, USERS_ST_BAD, "not a user name");
	req_init(&r, USERS_OP_ADD, "alice", "pw-alice", "#dave");
	snprintf(r.password, sizeof(r.password), "pw-dave");
	refused(&r, USERS_ST_BAD, "not a user name");
	req_init(&r, USERS_OP_ADD, "alice", "pw-alice", "dave");
	snprintf(r.password, sizeof(r.password), "pw-dave");
	snprintf(r.groups, sizeof(r.groups), "Blue,,Red");
	refused(&r, USERS_ST_BAD, "groups");
	snprintf(r.groups, sizeof(r.groups), "Blue");
	snprintf(r.out, sizeof(r.out), "#x");
	refused(&r, USERS_ST_BAD, "out");
	/* The same group twice: users_put says so. */
	snprintf(r.out, sizeof(r.out), "Blue");
	refused(&r, USERS_ST_BAD, "Blue");
	r.out[0] = '\0';
	r.password[0] = '\0';
	refused(&r, USERS_ST_BAD, "password");
	/* Exists; does not. */
	req_init(&r, USERS_OP_ADD, "alice", "pw-alice", "bob");
	snprintf(r.password, sizeof(r.password), "x");
	refused(&r, USERS_ST_EXISTS, "exists");
	req_init(&r, USERS_OP_PASSWD, "alice", "pw-alice", "dave");
	snprintf(r.password, sizeof(r.password), "x");
	refused(&r, USERS_ST_NOT_FOUND, "no user");
}

static void
test_changes(void **state)
{
	struct users		*us = fixture();
	const struct users_user	*u;
	struct users_req	 r;
	char			 msg[USERS_MSG_TEXT_MAX];

	(void)state;
	req_init(&r, USERS_OP_ADD, "alice", "pw-alice", "dave");
	snprintf(r.password, sizeof(r.password), "pw-dave");
	snprintf(r.groups, sizeof(r.groups), "Blue,Red");
	snprintf(r.in, sizeof(r.in), "HQ");
	assert_int_equal(ask(us, &r, msg, sizeof(msg)), USERS_ST_OK);
	assert_contains(msg, "added");
	assert_non_null(u = users_find(us, "dave"));
	assert_int_equal(u->role, USERS_ROLE_USER);
	assert_true(strncmp(u->hash, PASSWORD_PREFIX, 3) == 0);
	assert_true(password_verify("pw-dave", u->hash));
	assert_int_equal(u->n_groups, 3);
	assert_string_equal(u->groups[2].name, "HQ");
	assert_int_equal(u->groups[2].halves, USERS_IN);

	req_init(&r, USERS_OP_PASSWD, "alice", "pw-alice", "dave");
	snprintf(r.password, sizeof(r.password), "pw-dave-2");
	assert_int_equal(ask(us, &r, msg, sizeof(msg)), USERS_ST_OK);
	assert_non_null(u = users_find(us, "dave"));
	assert_true(password_verify("pw-dave-2", u->hash));
	assert_false(password_verify("pw-dave", u->hash));
	assert_int_equal(u->n_groups, 3);	/* groups kept */

	req_init(&r, USERS_OP_GROUPS, "alice", "pw-alice", "dave");
	snprintf(r.out, sizeof(r.out), "Cyan");
	assert_int_equal(ask(us, &r, msg, sizeof(msg)), USERS_ST_OK);
	assert_non_null(u = users_find(us, "dave"));
	assert_int_equal(u->n_groups, 1);
	assert_string_equal(u->groups[0].name, "Cyan");
	assert_int_equal(u->groups[0].halves, USERS_OUT);
	assert_true(password_verify("pw-dave-2", u->hash));

	req_init(&r, USERS_OP_DEL, "alice", "pw-alice", "dave");
	assert_int_equal(ask(us, &r, msg, sizeof(msg)), USERS_ST_OK);
	assert_null(users_find(us, "dave"));
	assert_non_null(users_find(us, "bob"));
	users_free(us);
}

/* Frames the helper must refuse as malformed: it then exits. */
static void
test_decode(void **state)
{
	struct users_req	 r, got;
	struct ipc_buf		*b;
	struct ipc_msg		 m;

	(void)state;
	assert_non_null(b = malloc(sizeof(*b)));
	req_init(&r, USERS_OP_MAX, "alice", "pw-alice", "bob");
	ipc_buf_init(b);
	assert_int_equal(users_req_encode(&r, b), 0);
	memset(&m, 0, sizeof(m));
	m.payload = b->data;
	m.len = b->len;
	m.fd = -1;
	assert_int_equal(users_req_decode(&m, &got), -1);
	r.op = USERS_OP_DEL;
	ipc_buf_init(b);
	assert_int_equal(users_req_encode(&r, b), 0);
	m.len = b->len - 1;		/* cut */
	assert_int_equal(users_req_decode(&m, &got), -1);
	m.len = b->len;
	assert_int_equal(users_req_decode(&m, &got), 0);
	b->data[b->len] = 0;		/* one byte too many */
	m.len = b->len + 1;
	assert_int_equal(users_req_decode(&m, &got), -1);
	assert_int_equal(users_status_http(USERS_ST_EXISTS), 409);
	assert_int_equal(users_status_http(USERS_ST_DENIED), 403);
	assert_int_equal(users_status_http(USERS_ST_UNAVAILABLE), 503);
	free(b);
}

/*
 * What a helper taken over would try first: a file of its own uid outside
 * its directory (for root: /etc/passwd).  Checked in a child, the sandbox
 * being for good.  Exit codes: 0 all held, 77 no Landlock, else the step.
 */
static int
sandbox_child(const char *in, const char *out)
{
	char	 err[256], p[512], q[512];
	int	 fd, rc;

	if ((rc = usersd_sandbox(in, err, sizeof(err))) == 1)
		return (77);
	if (rc == -1)
		return (10);
	snprintf(p, sizeof(p), "%s/users.tmp", in);
	snprintf(q, sizeof(q), "%s/users", in);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0640)) == -1)
		return (11);
	if (write(fd, "x\n", 2) != 2 || fsync(fd) == -1 || close(fd) == -1)
		return (12);
	if (rename(p, q) == -1)
		return (13);
	snprintf(p, sizeof(p), "%s/victim", out);
	if (open(p, O_WRONLY | O_APPEND) != -1 || errno != EACCES)
		return (14);
	snprintf(p, sizeof(p), "%s/new", out);
	if (open(p, O_WRONLY | O_CREAT, 0600) != -1 || errno != EACCES)
		return (15);
	snprintf(p, sizeof(p), "%s/victim", out);
	if (unlink(p) != -1 || errno != EACCES)
		return (16);
	/* Moving its file out, or another in, is refused too. */
	snprintf(p, sizeof(p), "%s/moved", out);
	if (rename(q, p) != -1)
		return (17);
	return (0);
}

static void
test_sandbox(void **state)
{
	char	 in[256], out[256], p[512];
	pid_t	 pid;
	int	 st, fd, nfds = unit_count_fds();

	(void)state;
	assert_int_equal(unit_tmpdir_make(in, sizeof(in), "usersd-in"), 0);
	assert_int_equal(unit_tmpdir_make(out, sizeof(out), "usersd-out"), 0);
	snprintf(p, sizeof(p), "%s/victim", out);
	assert_int_not_equal(fd = open(p, O_WRONLY | O_CREAT, 0600), -1);
	close(fd);
	if ((pid = fork()) == 0)
		_exit(sandbox_child(in, out));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("no Landlock in this kernel: sandbox not tried\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
	/* Outside, nothing moved; inside, the new file is there. */
	snprintf(p, sizeof(p), "%s/victim", out);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/users", in);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(unit_tmpdir_remove(in, nfds), 0);
	assert_int_equal(unit_tmpdir_remove(out, nfds), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_sandbox),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
