/*
 * Unit tests for the workers' listeners (supervisor/listen.c): every address
 * is a SO_REUSEPORT group of one socket per worker slot on one port (port 0
 * included), each slot gets its own socket, a second takd cannot join the
 * group of a running one, a slot that gave up has its socket closed and the
 * others take its connections, and the kernel spreads connections over the
 * sockets of a group.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/listen.h"
#include "tests/unit/unit.h"

#define LT_SLOTS	3

static struct config	 cfg;

static void
lt_sup(struct sup *sup, const char *port)
{
	memset(sup, 0, sizeof(*sup));
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.tls_listen[0].host, sizeof(cfg.tls_listen[0].host),
	    "127.0.0.1");
	snprintf(cfg.tls_listen[0].port, sizeof(cfg.tls_listen[0].port),
	    "%s", port);
	cfg.tls_listen[0].line = 1;
	cfg.n_tls_listen = 1;
	sup->cfg = &cfg;
	sup->epfd = -1;
}

static unsigned
lt_port(int fd)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	return (ntohs(sin.sin_port));
}

static int
lt_connect(unsigned port)
{
	struct sockaddr_in	 sin;
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return (fd);
}

/* Which of the slots' sockets the connection went to: accept it there. */
static int
lt_accept_any(const struct listener *l)
{
	struct pollfd	 pfd[LT_SLOTS];
	unsigned	 i, n = 0;
	int		 fd;

	for (i = 0; i < l->n_slot_fds; i++) {
		pfd[n].fd = l->slot_fds[i];
		pfd[n].events = POLLIN;
		n++;
	}
	assert_true(poll(pfd, n, 5000) > 0);
	for (i = 0; i < n; i++) {
		if (!(pfd[i].revents & POLLIN))
			continue;
		fd = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
		assert_true(fd >= 0);
		close(fd);
		return ((int)i);
	}
	fail_msg("no socket had the connection");
	return (-1);
}

/* Port 0: one port for all; a socket per slot, each its own slot's. */
static void
slots_share_a_port(void **state)
{
	struct sup	 sup;
	char		 err[256];
	int		 fds[4], on;
	socklen_t	 sl;
	unsigned	 i, j;

	(void)state;
	lt_sup(&sup, "0");
	assert_int_equal(listen_open_all(&sup, LT_SLOTS, err, sizeof(err)), 0);
	assert_int_equal(sup.n_listeners, 1);
	assert_int_equal(sup.listeners[0].n_slot_fds, LT_SLOTS);
	assert_int_equal(sup.listeners[0].fd, sup.listeners[0].slot_fds[0]);
	assert_true(sup.listeners[0].port != 0);
	for (i = 0; i < LT_SLOTS; i++) {
		assert_int_equal(listen_tls_fds(&sup, i, fds, 4), 1);
		assert_int_equal(fds[0], sup.listeners[0].slot_fds[i]);
		assert_int_equal(lt_port(fds[0]), sup.listeners[0].port);
		on = 0;
		sl = sizeof(on);
		assert_int_equal(getsockopt(fds[0], SOL_SOCKET, SO_REUSEPORT,
		    &on, &sl), 0);
		assert_int_equal(on, 1);
		for (j = 0; j < i; j++)
			assert_int_not_equal(sup.listeners[0].slot_fds[j],
			    fds[0]);
	}
	assert_int_equal(listen_tls_fds(&sup, LT_SLOTS, fds, 4), 0);
	assert_int_equal(listen_tcp_fds(&sup, 0, fds, 4), 0);
	listen_close_all(&sup);
	assert_null(sup.listeners[0].slot_fds);
	assert_int_equal(sup.listeners[0].fd, -1);
}

/* A second takd on the port of a running one fails instead of joining. */
static void
address_in_use(void **state)
{
	struct sup	 a, b;
	char		 err[256], port[8];

	(void)state;
	lt_sup(&a, "0");
	assert_int_equal(listen_open_all(&a, LT_SLOTS, err, sizeof(err)), 0);
	snprintf(port, sizeof(port), "%u", a.listeners[0].port);
	lt_sup(&b, port);
	assert_int_equal(listen_open_all(&b, LT_SLOTS, err, sizeof(err)), -1);
	assert_contains(err, "Address already in use");
	assert_int_equal(b.n_listeners, 0);
	listen_close_all(&a);
	/* Free again: the same port binds. */
	lt_sup(&b, port);
	assert_int_equal(listen_open_all(&b, LT_SLOTS, err, sizeof(err)), 0);
	assert_int_equal(b.listeners[0].port, (unsigned)atoi(port));
	listen_close_all(&b);
}

/*
 * The kernel spreads connections over the group; once a slot's socket is
 * closed (it gave up), the others take every connection.
 */
static void
spread_and_close_slot(void **state)
{
	struct sup	 sup;
	char		 err[256];
	unsigned	 got[LT_SLOTS] = { 0 }, i, n = 300;
	int		 fd, fds[4];

	(void)state;
	lt_sup(&sup, "0");
	assert_int_equal(listen_open_all(&sup, LT_SLOTS, err, sizeof(err)), 0);
	for (i = 0; i < n; i++) {
		fd = lt_connect(sup.listeners[0].port);
		got[lt_accept_any(&sup.listeners[0])]++;
		close(fd);
	}
	/* 1/3 each, give or take the chance of the hash. */
	for (i = 0; i < LT_SLOTS; i++)
		if (got[i] < n / 6 || got[i] > n / 2)
			fail_msg("slot %u got %u of %u connections", i, got[i],
			    n);
	listen_close_slot(&sup, 0);
	assert_int_equal(sup.listeners[0].slot_fds[0], -1);
	assert_int_equal(sup.listeners[0].fd, sup.listeners[0].slot_fds[1]);
	assert_int_equal(listen_tls_fds(&sup, 0, fds, 4), 0);
	assert_int_equal(listen_tls_fds(&sup, 1, fds, 4), 1);
	for (i = 0; i < 50; i++) {
		fd = lt_connect(sup.listeners[0].port);
		assert_int_not_equal(lt_accept_any(&sup.listeners[0]), 0);
		close(fd);
	}
	listen_close_slot(&sup, 1);
	listen_close_slot(&sup, 2);
	assert_int_equal(sup.listeners[0].fd, -1);
	listen_close_all(&sup);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slots_share_a_port),
		cmocka_unit_test(address_in_use),
		cmocka_unit_test(spread_and_close_slot),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
