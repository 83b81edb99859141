/*
 * Unit tests for the metrics: the Prometheus exposition of a snapshot
 * (metrics_format, pure), checked line by line against the text format
 * 0.0.4 rules takd follows; the event classes of worker/route.c (by type
 * and by the bytes of an event another worker parsed); and the per-class
 * counts of written output queue entries (outq_consume_count).
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/metrics.h"
#include "worker/outq.h"
#include "worker/route.h"

static struct metrics_worker	 workers[3];

static void
snap_init(struct metrics_snap *s)
{
	memset(s, 0, sizeof(*s));
	memset(workers, 0, sizeof(workers));
	s->version = "9.8.7";
	s->now = 1800000000;
	s->started = 1799990000;
	s->crl_on = true;
	s->crl_generation = 4;
	s->crl_entries = 17;
	s->crl_last_update = 1799000000;
	s->crl_next_update = 1800000100;
	s->crl_loaded_at = 1799990001;
	s->store_open = true;
	s->store.commits = 12;
	s->store.commit_failures = 1;
	s->store.map_grows = 2;
	s->store.mapsize = (size_t)1 << 30;
	s->store.map_max = (size_t)4 << 30;
	s->store.map_used = 81920;
	s->n_workers = 3;
	s->workers = workers;
	workers[0].id = 0;
	workers[0].up = true;
	workers[0].restarts = 2;
	workers[0].st.sessions = 7;
	workers[0].st.open_fds = 31;
	workers[0].st.handshakes_ok = 40;
	workers[0].st.hs_fail[IPC_HS_UNKNOWN_CA] = 3;
	workers[0].st.hs_fail[IPC_HS_TIMEOUT] = 5;
	workers[0].st.ev_in[IPC_EV_CHAT] = 11;
	workers[0].st.ev_in[IPC_EV_UNPARSED] = 1;
	workers[0].st.ev_out[IPC_EV_SA] = UINT64_MAX;
	workers[0].st.drop_rate = 9;
	workers[0].st.rejected_emfile = 6;
	workers[0].st.outq_high_water = 65536;
	workers[0].st.store_commits = 345;
	workers[0].st.store_commit_failures = 3;
	workers[0].st.store_ops_dropped = 70;
	workers[0].st.store_map_grows = 1;
	workers[0].st.store_map_size = (uint64_t)512 << 20;
	workers[1].id = 1;
	workers[1].up = false;		/* silent: no samples but up */
	workers[1].restarts = 1;
	workers[1].st.sessions = 99;
	workers[2].id = 2;
	workers[2].up = true;
	workers[2].st.sessions = 1;
	workers[2].st.bytes_in = 1234567890123ULL;
}

/* The line of text that is exactly line, or NULL. */
static const char *
find_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return (p);
		p += n;
	}
	return (NULL);
}

static void
assert_line(const char *text, const char *line)
{
	if (find_line(text, line) == NULL)
		fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
assert_no_line(const char *text, const char *line)
{
	if (find_line(text, line) != NULL)
		fail_msg("unexpected line \"%s\"", line);
}

/*
 * The rules of the format as takd writes it: HELP, then TYPE (counter or
 * gauge) once per family, then that family's samples, well formed, no
 * series twice, counters named _total, every line ending in '\n'.
 */
static void
check_exposition(const char *text)
{
	regex_t		 sample, help, type;
	char		 line[512], cur[128] = "", name[128];
	static char	 seen[128][128], series[1024][160];
	size_t		 nseen = 0, nseries = 0, i, len;
	const char	*p = text, *nl;
	bool		 counter = false;

	/* A label value: '"', '\\' and a newline only escaped. */
	assert_int_equal(regcomp(&sample, "^takd_[a-z0-9_]+"
	    "(\\{[a-z_]+=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
	    "(,[a-z_]+=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*\\})? "
	    "-?[0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&help, "^# HELP takd_[a-z0-9_]+ [^ ].*$",
	    REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&type, "^# TYPE takd_[a-z0-9_]+ "
	    "(counter|gauge)$", REG_EXTENDED | REG_NOSUB), 0);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		len = (size_t)(nl - p);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "# HELP ", 7) == 0) {
			if (regexec(&help, line, 0, NULL, 0) != 0)
				fail_msg("bad HELP: %s", line);
			sscanf(line + 7, "%127s", name);
			for (i = 0; i < nseen; i++)
				if (strcmp(seen[i], name) == 0)
					fail_msg("family twice: %s", name);
			assert_true(nseen < 128);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			cur[0] = '\0';
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			if (regexec(&type, line, 0, NULL, 0) != 0)
				fail_msg("bad TYPE: %s", line);
			sscanf(line + 7, "%127s", cur);
			assert_string_equal(cur, seen[nseen - 1]);
			counter = strstr(line, " counter") != NULL;
			if (counter && (strlen(cur) < 6 ||
			    strcmp(cur + strlen(cur) - 6, "_total") != 0))
				fail_msg("counter without _total: %s", cur);
			continue;
		}
		if (regexec(&sample, line, 0, NULL, 0) != 0)
			fail_msg("bad sample: %s", line);
		len = strcspn(line, "{ ");
		if (cur[0] == '\0' || strlen(cur) != len ||
		    strncmp(line, cur, len) != 0)
			fail_msg("sample outside its family %s: %s", cur, line);
		*strrchr(line, ' ') = '\0';
		for (i = 0; i < nseries; i++)
			if (strcmp(series[i], line) == 0)
				fail_msg("series twice: %s", line);
		assert_true(nseries < 1024);
		assert_true(strlen(line) < sizeof(series[0]));
		memcpy(series[nseries++], line, strlen(line) + 1);
	}
	regfree(&sample);
	regfree(&help);
	regfree(&type);
}

static void
test_format(void **state)
{
	struct metrics_snap	 s;
	struct metrics_buf	 b;

	snap_init(&s);
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	assert_int_equal(b.err, 0);
	assert_non_null(b.buf);
	check_exposition(b.buf);

	assert_line(b.buf, "takd_info{version=\"9.8.7\"} 1");
	assert_line(b.buf, "# TYPE takd_sessions gauge");
	assert_line(b.buf, "takd_sessions{worker=\"0\"} 7");
	assert_line(b.buf, "takd_sessions{worker=\"2\"} 1");
	assert_line(b.buf, "takd_open_fds{worker=\"0\"} 31");
	assert_line(b.buf, "takd_handshakes_ok_total{worker=\"0\"} 40");
	assert_line(b.buf, "takd_handshake_failures_total{worker=\"0\","
	    "reason=\"unknown_ca\"} 3");
	assert_line(b.buf, "takd_handshake_failures_total{worker=\"0\","
	    "reason=\"timeout\"} 5");
	assert_line(b.buf, "takd_handshake_failures_total{worker=\"2\","
	    "reason=\"no_certificate\"} 0");
	assert_line(b.buf, "takd_events_in_total{worker=\"0\",class=\"chat\"} "
	    "11");
	assert_line(b.buf, "takd_events_in_total{worker=\"0\","
	    "class=\"unparsed\"} 1");
	assert_line(b.buf, "takd_events_out_total{worker=\"0\",class=\"sa\"} "
	    "18446744073709551615");
	assert_no_line(b.buf, "takd_events_out_total{worker=\"0\","
	    "class=\"unparsed\"} 0");
	assert_line(b.buf, "takd_events_dropped_total{worker=\"0\","
	    "reason=\"rate_limited\"} 9");
	assert_line(b.buf, "takd_connections_rejected_total{worker=\"0\","
	    "reason=\"no_descriptors\"} 6");
	assert_line(b.buf, "takd_bytes_in_total{worker=\"2\"} 1234567890123");
	assert_line(b.buf, "takd_outq_high_water_bytes{worker=\"0\"} 65536");
	assert_line(b.buf, "# TYPE takd_outq_high_water_bytes gauge");

	/* The state store: the workers', the file's, the supervisor's. */
	assert_line(b.buf, "takd_store_commits_total{worker=\"0\"} 345");
	assert_line(b.buf, "takd_store_commit_failures_total{worker=\"0\"} 3");
	assert_line(b.buf, "takd_store_commit_failures_total{worker=\"2\"} 0");
	assert_line(b.buf, "takd_store_ops_dropped_total{worker=\"0\"} 70");
	assert_line(b.buf, "takd_store_map_grows_total{worker=\"0\"} 1");
	assert_line(b.buf, "takd_store_map_size_bytes{worker=\"0\"} 536870912");
	assert_line(b.buf, "# TYPE takd_store_map_size_bytes gauge");
	assert_line(b.buf, "# TYPE takd_store_ops_dropped_total counter");
	assert_line(b.buf, "takd_store_used_bytes 81920");
	assert_line(b.buf, "takd_store_map_max_bytes 4294967296");
	assert_line(b.buf, "takd_supervisor_store_commits_total 12");
	assert_line(b.buf, "takd_supervisor_store_commit_failures_total 1");
	assert_null(strstr(b.buf, "takd_supervisor_store_map_grows"));
	assert_line(b.buf, "takd_supervisor_store_map_size_bytes 1073741824");

	/* A silent worker: up 0 and its restarts, nothing else. */
	assert_line(b.buf, "takd_worker_up{worker=\"0\"} 1");
	assert_line(b.buf, "takd_worker_up{worker=\"1\"} 0");
	assert_line(b.buf, "takd_worker_restarts_total{worker=\"0\"} 2");
	assert_line(b.buf, "takd_worker_restarts_total{worker=\"1\"} 1");
	assert_no_line(b.buf, "takd_sessions{worker=\"1\"} 99");
	assert_null(strstr(b.buf, "worker=\"1\","));

	/* The CRL. */
	assert_line(b.buf, "takd_crl_generation 4");
	assert_line(b.buf, "takd_crl_entries 17");
	assert_line(b.buf, "takd_crl_stale 0");
	assert_line(b.buf, "takd_crl_seconds_to_next_update 100");
	assert_line(b.buf, "takd_crl_next_update_timestamp_seconds 1800000100");
	assert_line(b.buf, "takd_crl_last_update_timestamp_seconds 1799000000");
	assert_line(b.buf, "takd_crl_loaded_timestamp_seconds 1799990001");
	assert_line(b.buf, "takd_crl_last_error_timestamp_seconds 0");
	assert_line(b.buf, "takd_start_time_seconds 1799990000");
	metrics_buf_free(&b);
}

/*
 * takd_group_sessions: each group's sessions summed over the workers that
 * answered, by name, the label value escaped.
 */
static void
test_format_groups(void **state)
{
	struct grouplist_count	 g0[2], g1[1], g2[2];
	struct metrics_snap	 s;
	struct metrics_buf	 b;

	snap_init(&s);
	memset(g0, 0, sizeof(g0));
	memset(g1, 0, sizeof(g1));
	memset(g2, 0, sizeof(g2));
	snprintf(g0[0].name, sizeof(g0[0].name), "Blue");
	g0[0].sessions = 2;
	snprintf(g0[1].name, sizeof(g0[1].name), "Team \"A\"\\x");
	g0[1].sessions = 1;
	snprintf(g1[0].name, sizeof(g1[0].name), "Blue");
	g1[0].sessions = 99;	/* a silent worker's: not counted */
	snprintf(g2[0].name, sizeof(g2[0].name), "Red");
	g2[0].sessions = 1;
	snprintf(g2[1].name, sizeof(g2[1].name), "Blue");
	g2[1].sessions = 3;
	workers[0].groups = g0;
	workers[0].n_groups = 2;
	workers[1].groups = g1;
	workers[1].n_groups = 1;
	workers[2].groups = g2;
	workers[2].n_groups = 2;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	assert_int_equal(b.err, 0);
	check_exposition(b.buf);
	assert_line(b.buf, "# TYPE takd_group_sessions gauge");
	assert_line(b.buf, "takd_group_sessions{group=\"Blue\"} 5");
	assert_line(b.buf, "takd_group_sessions{group=\"Red\"} 1");
	assert_line(b.buf, "takd_group_sessions{group=\"Team \\\"A\\\"\\\\x\"} "
	    "1");
	assert_null(strstr(b.buf, "} 104\n"));
	/* The withheld deliveries, by kind. */
	assert_line(b.buf, "# TYPE takd_deliveries_withheld_total counter");
	assert_line(b.buf, "takd_deliveries_withheld_total{worker=\"0\","
	    "reason=\"directed\"} 0");
	metrics_buf_free(&b);

	/* No group anywhere: no family. */
	workers[0].n_groups = workers[2].n_groups = 0;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	assert_null(strstr(b.buf, "group_sessions"));
	metrics_buf_free(&b);
}

/* Past nextUpdate: stale and a negative countdown; no nextUpdate: none. */
static void
test_format_crl(void **state)
{
	struct metrics_snap	 s;
	struct metrics_buf	 b;

	snap_init(&s);
	s.crl_next_update = s.now - 7200;
	s.crl_stale = true;
	s.crl_last_error_at = 1799999999;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	check_exposition(b.buf);
	assert_line(b.buf, "takd_crl_stale 1");
	assert_line(b.buf, "takd_crl_seconds_to_next_update -7200");
	assert_line(b.buf, "takd_crl_last_error_timestamp_seconds 1799999999");
	metrics_buf_free(&b);

	snap_init(&s);
	s.crl_next_update = 0;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	check_exposition(b.buf);
	assert_null(strstr(b.buf, "takd_crl_seconds_to_next_update"));
	assert_null(strstr(b.buf, "takd_crl_next_update_timestamp_seconds"));
	metrics_buf_free(&b);

	/* crl_check = off: generation 0, no CRL dates. */
	snap_init(&s);
	s.crl_on = false;
	s.crl_generation = 0;
	s.crl_entries = 0;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	check_exposition(b.buf);
	assert_line(b.buf, "takd_crl_generation 0");
	assert_null(strstr(b.buf, "takd_crl_last_update_timestamp_seconds"));
	assert_null(strstr(b.buf, "takd_crl_seconds_to_next_update"));
	metrics_buf_free(&b);
}

/* Without the supervisor's store (closed): none of its samples. */
static void
test_format_no_store(void **state)
{
	struct metrics_snap	 s;
	struct metrics_buf	 b;

	snap_init(&s);
	s.store_open = false;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	check_exposition(b.buf);
	assert_null(strstr(b.buf, "takd_store_used_bytes"));
	assert_null(strstr(b.buf, "takd_supervisor_store"));
	assert_line(b.buf, "takd_store_commits_total{worker=\"0\"} 345");
	metrics_buf_free(&b);
}

/* No worker answered: no family without samples. */
static void
test_format_none_up(void **state)
{
	struct metrics_snap	 s;
	struct metrics_buf	 b;

	snap_init(&s);
	workers[0].up = workers[2].up = false;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	check_exposition(b.buf);
	assert_line(b.buf, "takd_worker_up{worker=\"2\"} 0");
	assert_null(strstr(b.buf, "takd_sessions"));
	assert_null(strstr(b.buf, "# TYPE takd_events_in_total"));
	assert_null(strstr(b.buf, "takd_store_commits_total"));
	/* The file and the supervisor's writes are not a worker's. */
	assert_line(b.buf, "takd_store_used_bytes 81920");
	metrics_buf_free(&b);
}

/*
 * The api process: its own families (takd_api_*, no worker label), the
 * rows it shares with the workers under its own names, and none of its
 * rows among the workers' families (they would add up wrong).
 */
static void
test_format_api(void **state)
{
	struct metrics_snap	 s;
	struct metrics_buf	 b;

	snap_init(&s);
	workers[0].st.api_req_marti = 1000;	/* a worker's is never shown */
	s.api_run = true;
	s.api.up = true;
	s.api.restarts = 3;
	s.api.st.accepted = 12;
	s.api.st.handshakes_ok = 9;
	s.api.st.hs_fail[IPC_HS_NO_CERT] = 2;
	s.api.st.revoked_closed = 1;
	s.api.st.api_req_marti = 7;
	s.api.st.api_req_metrics = 4;
	s.api.st.api_plain_on_tls = 5;
	s.api.st.api_conns = 2;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	assert_int_equal(b.err, 0);
	check_exposition(b.buf);
	assert_line(b.buf, "takd_api_up 1");
	assert_line(b.buf, "takd_api_restarts_total 3");
	assert_line(b.buf, "takd_api_connections_accepted_total 12");
	assert_line(b.buf, "takd_api_handshakes_ok_total 9");
	assert_line(b.buf, "takd_api_handshake_failures_total"
	    "{reason=\"no_certificate\"} 2");
	assert_line(b.buf, "takd_api_revoked_closed_total 1");
	assert_line(b.buf, "takd_api_requests_total{listener=\"marti\"} 7");
	assert_line(b.buf, "takd_api_requests_total{listener=\"metrics\"} 4");
	assert_line(b.buf, "takd_api_refused_total"
	    "{reason=\"plain_http_on_tls\"} 5");
	assert_line(b.buf, "takd_api_connections 2");
	assert_null(strstr(b.buf, "worker=\"0\",listener="));
	assert_null(strstr(b.buf, "takd_api_requests_total{worker"));
	/* The workers' families hold the workers' numbers only. */
	assert_line(b.buf, "takd_handshakes_ok_total{worker=\"0\"} 40");
	metrics_buf_free(&b);
	/* Silent: up 0 and nothing else of it. */
	s.api.up = false;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	check_exposition(b.buf);
	assert_line(b.buf, "takd_api_up 0");
	assert_null(strstr(b.buf, "takd_api_requests_total"));
	metrics_buf_free(&b);
	/* Not running: not a line of it. */
	s.api_run = false;
	memset(&b, 0, sizeof(b));
	metrics_format(&s, &b);
	assert_null(strstr(b.buf, "takd_api_"));
	metrics_buf_free(&b);
}

static void
test_names(void **state)
{
	int	 i, j;

	for (i = 0; i < IPC_HS_FAIL_MAX; i++) {
		assert_string_not_equal(metrics_hs_fail_name(i), "?");
		for (j = 0; j < i; j++)
			assert_string_not_equal(metrics_hs_fail_name(i),
			    metrics_hs_fail_name(j));
	}
	for (i = 0; i < IPC_EV_CLASS_MAX; i++) {
		assert_string_not_equal(metrics_ev_class_name(i), "?");
		for (j = 0; j < i; j++)
			assert_string_not_equal(metrics_ev_class_name(i),
			    metrics_ev_class_name(j));
	}
	assert_string_equal(metrics_hs_fail_name(IPC_HS_FAIL_MAX), "?");
	assert_string_equal(metrics_ev_class_name(-1), "?");
}

static void
test_buf(void **state)
{
	struct metrics_buf	 b;
	int			 i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < 2000; i++)
		metrics_buf_printf(&b, "line %d\n", i);
	metrics_buf_append(&b, "end", 3);
	assert_int_equal(b.err, 0);
	assert_true(b.cap > b.len);
	assert_int_equal(b.buf[b.len], '\0');
	assert_non_null(strstr(b.buf, "\nline 1999\nend"));
	assert_memory_equal(b.buf, "line 0\nline 1\n", 14);
	metrics_buf_free(&b);
	assert_null(b.buf);
	assert_int_equal(b.len, 0);
}

static void
test_route_class(void **state)
{
	static const struct {
		const char	*type;
		int		 cls;
	} types[] = {
		{ "a-f-G-U-C", IPC_EV_SA },
		{ "a-h-G", IPC_EV_SA },
		{ "a", IPC_EV_OTHER },
		{ "ab-c", IPC_EV_OTHER },
		{ "b-t-f", IPC_EV_CHAT },
		{ "b-t-f-d", IPC_EV_CHAT },
		{ "b-t-f-r", IPC_EV_CHAT },
		{ "b-t-fx", IPC_EV_OTHER },
		{ "b-t", IPC_EV_OTHER },
		{ "t-x-c-t", IPC_EV_PING },
		{ "t-x-c-t-r", IPC_EV_PING },
		{ "t-x-c-tr", IPC_EV_OTHER },
		{ "t-x-d-d", IPC_EV_OTHER },
		{ "", IPC_EV_OTHER },
	};
	size_t	 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((int)route_class(types[i].type) != types[i].cls)
			fail_msg("type \"%s\": class %d, expected %d",
			    types[i].type, route_class(types[i].type),
			    types[i].cls);
}

/* Written entries are counted by class, partly written ones not yet. */
static void
test_outq_classes(void **state)
{
	struct outq	 q;
	struct evbuf	*a, *b, *c;
	uint64_t	 n[OUTQ_CLASSES];
	uint8_t		 buf[64];

	a = evbuf_new("0123456789", 10);
	b = evbuf_new("abcdefghij", 10);
	c = evbuf_new("ABCDEFGHIJ", 10);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	outq_init(&q, 0);
	assert_int_equal(outq_push(&q, a, OUTQ_F_SA | OUTQ_F_CLASS(IPC_EV_SA),
	    1, NULL), OUTQ_OK);
	assert_int_equal(outq_push(&q, b, OUTQ_F_CLASS(IPC_EV_CHAT), 0, NULL),
	    OUTQ_OK);
	assert_int_equal(outq_push(&q, c, OUTQ_F_CLASS(IPC_EV_PING), 0, NULL),
	    OUTQ_OK);
	memset(n, 0, sizeof(n));
	assert_int_equal(outq_peek(&q, buf, sizeof(buf)), 30);
	assert_int_equal(outq_consume_count(&q, 15, n, IPC_EV_CLASS_MAX), 1);
	assert_int_equal(n[IPC_EV_SA], 1);
	assert_int_equal(n[IPC_EV_CHAT], 0);
	assert_int_equal(outq_consume_count(&q, 15, n, IPC_EV_CLASS_MAX), 2);
	assert_int_equal(n[IPC_EV_SA], 1);
	assert_int_equal(n[IPC_EV_CHAT], 1);
	assert_int_equal(n[IPC_EV_PING], 1);
	assert_int_equal(n[IPC_EV_OTHER], 0);
	assert_int_equal(outq_bytes(&q), 0);
	/* The class bits do not make an entry an SA. */
	assert_int_equal(outq_push(&q, b, OUTQ_F_CLASS(IPC_EV_SA), 1, NULL),
	    OUTQ_OK);
	assert_int_equal(outq_free(&q), 1);
	evbuf_unref(a);
	evbuf_unref(b);
	evbuf_unref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_groups),
		cmocka_unit_test(test_format_crl),
		cmocka_unit_test(test_format_no_store),
		cmocka_unit_test(test_format_none_up),
		cmocka_unit_test(test_format_api),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_route_class),
		cmocka_unit_test(test_outq_classes),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
