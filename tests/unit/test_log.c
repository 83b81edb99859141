/*
 * Unit tests for shared/log.c: the syslog destination that [server] log =
 * syslog selects, and the rate-limited log_limited().  The socket and the
 * log file live in a mkdtemp directory.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
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

#include "shared/log.h"

static char	 tmpdir[64];

static int
group_setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/takd-test-log.XXXXXX");
	return (mkdtemp(tmpdir) == NULL ? -1 : 0);
}

static int
group_teardown(void **state)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/log", tmpdir);
	(void)unlink(path);
	return (rmdir(tmpdir));
}

/*
 * [server] log = syslog: takd speaks to the syslog socket itself (see
 * shared/log.h).  A datagram socket in the temp dir plays syslogd: one that
 * falls behind, restarts, and is away for a while.
 */
static int
syslogd_new(const char *path)
{
	struct sockaddr_un	 sun;
	int			 s;

	(void)unlink(path);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return (s);
}

/* The next waiting datagram into buf, or 0 when none waits. */
static int
syslogd_recv(int s, char *buf, size_t len)
{
	ssize_t	 n;

	n = recv(s, buf, len - 1, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return (0);
	assert_true(n > 0);
	buf[n] = '\0';
	return (1);
}

/* The count of a "N log lines lost" notice. */
static unsigned long
lost_count(const char *line)
{
	const char	*p;

	assert_contains(line, " log lines lost (syslog busy or unreachable)");
	assert_contains(line, "<28>");		/* daemon.warning */
	p = strstr(line, "test_log: ");
	assert_non_null(p);
	return (strtoul(p + strlen("test_log: "), NULL, 10));
}

/*
 * Log a line every 100 ms until syslogd s gets one: the notice of the lost
 * lines, then the probe.  Returns how many probes it took.
 */
static unsigned long
syslogd_probe(int s, char *buf, size_t len, unsigned long lost)
{
	char		 want[32];
	unsigned long	 probes;

	for (probes = 1; probes <= 40; probes++) {
		log_warnx("probe %lu", probes);
		if (syslogd_recv(s, buf, len) == 1)
			break;
		usleep(100 * 1000);
	}
	assert_true(probes > 1 && probes <= 40);
	assert_int_equal(lost_count(buf), lost + probes - 1);
	assert_int_equal(syslogd_recv(s, buf, len), 1);
	snprintf(want, sizeof(want), "probe %lu", probes);
	assert_contains(buf, want);
	assert_int_equal(syslogd_recv(s, buf, len), 0);
	return (probes);
}

static void
test_log_syslog(void **state)
{
	char		 path[PATH_MAX], buf[4096];
	unsigned long	 sent, got;
	int		 s, fds;

	fds = unit_count_fds();
	assert_true((size_t)snprintf(path, sizeof(path), "%s/log", tmpdir) <
	    sizeof(((struct sockaddr_un *)NULL)->sun_path));
	s = syslogd_new(path);
	log_syslog_path(path);
	assert_int_equal(log_init(LOG_DEST_SYSLOG, NULL, LOG_INFO), 0);
	log_procinit("test_log");
	assert_true(log_get_fd() >= 0);

	log_info("hello %d", 1);
	log_debug("below the level");
	assert_int_equal(syslogd_recv(s, buf, sizeof(buf)), 1);
	assert_contains(buf, "<30>");		/* daemon.info */
	assert_contains(buf, "]: test_log: hello 1");
	assert_int_equal(syslogd_recv(s, buf, sizeof(buf)), 0);

	/* syslogd falls behind: its queue fills, the lines are counted. */
	for (sent = 0; sent < 2000; sent++)
		log_warnx("flood %lu", sent);
	for (got = 0; syslogd_recv(s, buf, sizeof(buf)) == 1; got++)
		;
	assert_true(got > 0 && got < sent);
	log_warnx("after the flood");
	assert_int_equal(syslogd_recv(s, buf, sizeof(buf)), 1);
	assert_int_equal(lost_count(buf), sent - got);
	assert_int_equal(syslogd_recv(s, buf, sizeof(buf)), 1);
	assert_contains(buf, "after the flood");
	assert_int_equal(syslogd_recv(s, buf, sizeof(buf)), 0);

	/* A restart: the next line goes to the new socket, nothing lost. */
	close(s);
	s = syslogd_new(path);
	log_warnx("after a restart");
	assert_int_equal(syslogd_recv(s, buf, sizeof(buf)), 1);
	assert_contains(buf, "after a restart");
	assert_int_equal(syslogd_recv(s, buf, sizeof(buf)), 0);

	/*
	 * Away for a while: lines are lost, and the connection is tried again
	 * a second later, not at every line; then the count comes first.
	 */
	close(s);
	(void)unlink(path);
	log_warnx("lost 1");
	log_warnx("lost 2");
	assert_int_equal(log_get_fd(), -1);
	s = syslogd_new(path);
	syslogd_probe(s, buf, sizeof(buf), 2);

	/*
	 * One that takes the connection but no line (EPIPE): after the one
	 * reconnect, the next waits a second too, rather than costing two
	 * connects a line; a syslogd back at once gets nothing before that.
	 */
	assert_int_equal(shutdown(s, SHUT_RD), 0);
	log_warnx("refused");
	close(s);
	s = syslogd_new(path);
	log_warnx("too soon");
	assert_int_equal(syslogd_recv(s, buf, sizeof(buf)), 0);
	syslogd_probe(s, buf, sizeof(buf), 2);

	assert_int_equal(log_init(LOG_DEST_STDERR, NULL, LOG_INFO), 0);
	log_syslog_path(NULL);
	close(s);
	assert_int_equal(unit_count_fds(), fds);
}

/*
 * log_limited(): burst lines a window, then one that says how many were
 * suppressed; a line below the log level is neither written nor counted.
 */
static void
test_log_limited(void **state)
{
	struct log_ratelimit	 rl = { .burst = 2 };
	char			 path[PATH_MAX], buf[4096];
	FILE			*fp;
	size_t			 n;
	int			 i;

	snprintf(path, sizeof(path), "%s/limited", tmpdir);
	assert_int_equal(log_init(LOG_DEST_FILE, path, LOG_WARNING), 0);
	for (i = 0; i < 5; i++)
		log_limited(&rl, LOG_WARNING, "line %d", i);
	log_limited(&rl, LOG_INFO, "below the level");
	/* The window is over. */
	rl.window_start--;
	log_limited(&rl, LOG_WARNING, "next");
	log_limited(&rl, LOG_WARNING, "again");
	assert_int_equal(log_init(LOG_DEST_STDERR, NULL, LOG_INFO), 0);

	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_contains(buf, "warning: line 0\n");
	assert_contains(buf, "warning: line 1\n");
	assert_null(strstr(buf, "line 2"));
	assert_null(strstr(buf, "below"));
	assert_contains(buf, "warning: next (3 similar lines suppressed)\n");
	assert_contains(buf, "warning: again\n");
	assert_int_equal(unlink(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_syslog),
		cmocka_unit_test(test_log_limited),
	};

	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
