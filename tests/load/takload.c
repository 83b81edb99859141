/*
 * takload: the load generator of `make bench` (see docs/performance.md).
 *
 * It opens many mutual-TLS sessions to takd from one epoll loop per process
 * (--procs N forks N of them; the parent only coordinates and measures) and
 * runs one of three scenarios:
 *
 *   handshake  C connections at a time, each connect, handshake, wait for
 *              the server's session ticket (in TLS 1.3 the server verifies
 *              the client certificate after the client is done; the ticket
 *              is its "accepted"), close_notify, close; for --duration s.
 *              --resume: each of the C slots first makes one full
 *              handshake (not measured), then always offers the ticket its
 *              previous connection got (tickets are single use).
 *   hold       N sessions opened at --rate per second and held idle for
 *              --duration s, or until SIGUSR1: takd's RSS before, with
 *              them, per session.  --register: each sends one SA once
 *              up, so that takd's registry lists it with a uid and a
 *              callsign (the api scenario of `make bench` asks for them
 *              with GET /Marti/api/clientEndPoints while they are held).
 *   fanout     N sessions opened at --rate; once all are up, each sends
 *              --sa-rate SA events a second for --duration s (phases spread
 *              over the period), and reads everything it gets.  takd
 *              broadcasts every event to all other sessions, so each event
 *              is expected N-1 times.  Each carries <takload s= q= t=/>:
 *              sender, sequence and CLOCK_MONOTONIC send time in µs, so the
 *              receiver measures latency and spots duplicates and order.
 *              --teams T [--hq H]: the last H clients are HQ, the others
 *              in T teams (client i in team i % T); takd is set up so
 *              that a team member's events reach its team mates and HQ,
 *              HQ's everybody (docs/performance.md, "Fan-out with
 *              groups"), and an event of another team counts as foreign.
 *              --v1 PCT: that share of the clients answer takd's TAK
 *              protocol offer and send and read v1 frames; the others
 *              stay on XML (a mixed fleet).
 *              --chat PCT: that share of the XML events are GeoChat lines
 *              (b-t-f) instead of SA, with the same marker; latency is
 *              also reported by class ("lat_sa_*", "lat_chat_*").
 *
 * Several nodes of a cluster (docs/cluster.md): --connect once per node;
 * client i connects to node i % nodes, so that everyone sees everyone
 * across nodes; a delivery whose sender is on another node than its
 * receiver is also counted in "deliveries_x" with its own latency
 * ("lat_x_*"); --takd-pid once per node (same order) gives each node's
 * CPU against the deliveries to its own clients ("nodeK_*"); --pid
 * NAME=PID reports another process's CPU in the window ("cpu_s_NAME":
 * nats-server, a cluster process).
 *
 * Sessions start sending only after every session is up, so that nothing
 * is replayed at connect (takd queues the latest SA of every other client to
 * a new session); an SA from before the sending phase (a state dir reused
 * from another run) is counted as "replayed", not as a delivery.
 *
 * --ready-file FILE: the coordinator writes the number of sessions up
 * into FILE once the ramp (and --settle) is over, for a script that has
 * something to do while they are held.
 *
 * The parent reads takd's CPU time (utime+stime of /proc/PID/stat, and the
 * ns-precise sum of /proc/PID/task/ * /schedstat), RSS, PSS and write calls
 * of the supervisor and its children at the start and the end of the
 * measured window, and prints one JSON line on stdout; progress goes to
 * stderr.
 *
 * Files: takload.c options, the coordinator and the report; gen.c one
 * generator process; measure.c clocks, histograms and /proc.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cot/cot_parse.h"
#include "tests/common/tlsclient.h"
#include "tests/load/takload.h"

#define TL_START_DELAY_US	50000	/* go: all processes start together */
#define TL_READY_TIMEOUT_S	300	/* ramp of a hold/fanout run */

static const char *const tl_mode_names[] = { "handshake", "hold", "fanout" };

static volatile sig_atomic_t tl_interrupted;
static volatile sig_atomic_t tl_hold_over;	/* SIGUSR1 */

/* --- the coordinator (parent) -------------------------------------------- */

static void
tl_on_signal(int sig)
{
	(void)sig;
	tl_interrupted = 1;
}

/* SIGUSR1: a hold is over (a script is done with the sessions). */
static void
tl_on_usr1(int sig)
{
	(void)sig;
	tl_hold_over = 1;
}

/* --ready-file: the sessions up, written whole or not at all. */
static void
tl_write_ready(const char *path, uint64_t up)
{
	char	 tmp[PATH_MAX];
	FILE	*f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		tl_fail("--ready-file: path too long");
	if ((f = fopen(tmp, "w")) == NULL)
		tl_fail("%s: %s", tmp, strerror(errno));
	fprintf(f, "%" PRIu64 "\n", up);
	if (fclose(f) == EOF || rename(tmp, path) == -1)
		tl_fail("%s: %s", path, strerror(errno));
}

static uint64_t
sum_u64(const struct tl_shm *shm, unsigned procs, size_t off)
{
	uint64_t	 s = 0;
	unsigned	 i;

	for (i = 0; i < procs; i++)
		s += __atomic_load_n((const uint64_t *)(const void *)
		    ((const char *)&shm->r[i] + off), __ATOMIC_RELAXED);
	return (s);
}

#define SUM(f)	sum_u64(shm, o->procs, offsetof(struct tl_report, f))

/* The deliveries the events sent so far call for, open sessions given. */
static uint64_t
tl_expected(const struct opts *o, const struct tl_shm *shm, uint64_t open)
{
	if (o->teams > 0)
		return (SUM(expected));
	return (open > 1 ? SUM(sent) * (open - 1) : 0);
}

static bool
all_flag(const struct tl_shm *shm, unsigned procs, size_t off)
{
	unsigned	 i;

	for (i = 0; i < procs; i++)
		if (!__atomic_load_n((const int *)(const void *)
		    ((const char *)&shm->r[i] + off), __ATOMIC_ACQUIRE))
			return (false);
	return (true);
}

static void
tl_sleep_us(int64_t us)
{
	struct timespec	 ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR &&
	    !tl_interrupted)
		;
}

/* A child that died without its report ends the run. */
static void
tl_check_children(const struct tl_shm *shm, const pid_t *kids,
    unsigned procs)
{
	unsigned	 i;
	int		 st;

	for (i = 0; i < procs; i++) {
		if (kids[i] <= 0 || waitpid(kids[i], &st, WNOHANG) != kids[i])
			continue;
		if (!__atomic_load_n(&shm->r[i].exited, __ATOMIC_ACQUIRE))
			tl_fail("generator process %u died (%s %d)", i,
			    WIFSIGNALED(st) ? "signal" : "status",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
}

static double
mib(double bytes)
{
	return (bytes / (1024.0 * 1024.0));
}

struct tl_run {
	struct takd_sample base;	/* before the first connection */
	struct takd_sample s0;		/* at go */
	struct takd_sample s1;		/* at the end of the window */
	/* The same per node (--takd-pid, once per node); the above sum them. */
	struct takd_sample nbase[TL_MAX_NODES];
	struct takd_sample n0[TL_MAX_NODES];
	struct takd_sample n1[TL_MAX_NODES];
	pid_t		 sup[TL_MAX_NODES];
	unsigned	 nsup;
	double		 pcpu0[TL_MAX_PIDS];	/* --pid: CPU s at go */
	double		 pcpu1[TL_MAX_PIDS];	/* and at the end */
	bool		 have_takd;
	int64_t		 t_go;
	int64_t		 t_end;
	double		 ramp_s;	/* first connect to all ready */
	unsigned	 n_open;
	bool		 interrupted;
	bool		 ready_timeout;
	bool		 drain_timeout;
};

/*
 * Every node's takd at one moment, into per[] and their sum into *sum;
 * -1 when one is gone.
 */
static int
tl_sample_all(const struct tl_run *r, struct takd_sample *per,
    struct takd_sample *sum)
{
	unsigned	 k;

	memset(sum, 0, sizeof(*sum));
	for (k = 0; k < r->nsup; k++) {
		if (takd_sample(r->sup[k], &per[k]) == -1)
			return (-1);
		sum->npids += per[k].npids;
		sum->cpu_stat += per[k].cpu_stat;
		if (per[k].cpu_sched < 0 || sum->cpu_sched < 0)
			sum->cpu_sched = -1;
		else
			sum->cpu_sched += per[k].cpu_sched;
		sum->rss += per[k].rss;
		if (per[k].pss < 0 || sum->pss < 0)
			sum->pss = -1;
		else
			sum->pss += per[k].pss;
		sum->syscw += per[k].syscw;
	}
	return (0);
}

/* --pid's processes: their CPU seconds so far (-1: gone). */
static void
tl_sample_pids(const struct opts *o, double *cpu)
{
	unsigned	 i;

	for (i = 0; i < o->npid; i++)
		cpu[i] = tl_proc_cpu_s(o->pid[i]);
}

/*
 * Several nodes: each node's CPU against the deliveries to its own
 * clients, what crossed nodes and its latency, --pid's CPU.
 */
static void
tl_print_nodes(const struct opts *o, const struct tl_shm *shm,
    const struct tl_run *r, const struct hist *lat_x)
{
	uint64_t	 d;
	double		 cpu;
	unsigned	 k;

	printf("\"nodes\":%u,\"deliveries_x\":%" PRIu64 ",\"lat_x_p50_ms\":"
	    "%.3f,\"lat_x_p90_ms\":%.3f,\"lat_x_p99_ms\":%.3f,"
	    "\"lat_x_max_ms\":%.3f,", o->nnodes,
	    sum_u64(shm, o->procs, offsetof(struct tl_report, delivered_x)),
	    hist_pct(lat_x, 0.5) / 1e3, hist_pct(lat_x, 0.9) / 1e3,
	    hist_pct(lat_x, 0.99) / 1e3, lat_x->max / 1e3);
	for (k = 0; k < o->nnodes && k < TL_MAX_NODES; k++) {
		d = sum_u64(shm, o->procs, offsetof(struct tl_report,
		    delivered_node) + k * sizeof(uint64_t));
		printf("\"node%u_deliveries\":%" PRIu64 ",", k, d);
		if (!r->have_takd || k >= r->nsup)
			continue;
		cpu = takd_cpu_delta(&r->n0[k], &r->n1[k]);
		printf("\"node%u_cpu_s\":%.4f,\"node%u_cpu_us_per_delivery\":"
		    "%.3f,\"node%u_rss_mib\":%.1f,", k, cpu, k,
		    d > 0 ? cpu * 1e6 / (double)d : 0, k,
		    r->n1[k].rss / (1024.0 * 1024.0));
	}
	for (k = 0; k < o->npid; k++)
		printf("\"cpu_s_%s\":%.4f,", o->pid_name[k],
		    r->pcpu0[k] >= 0 && r->pcpu1[k] >= 0 ?
		    r->pcpu1[k] - r->pcpu0[k] : -1.0);
}

static void
tl_print(const struct opts *o, const struct tl_shm *shm,
    const struct tl_run *r)
{
	struct hist	*lat, *lat_x, *hs, *lsa, *lchat;
	const struct tl_report *first = NULL;
	double		 win, cpu = -1, gen = 0, peak;
	uint64_t	 sent, deliv, expected, hsk;
	unsigned	 i;

	if ((lat = calloc(1, sizeof(*lat))) == NULL ||
	    (lat_x = calloc(1, sizeof(*lat_x))) == NULL ||
	    (hs = calloc(1, sizeof(*hs))) == NULL ||
	    (lsa = calloc(1, sizeof(*lsa))) == NULL ||
	    (lchat = calloc(1, sizeof(*lchat))) == NULL)
		tl_fail("out of memory");
	for (i = 0; i < o->procs; i++) {
		hist_merge(lat, &shm->r[i].lat);
		hist_merge(lsa, &shm->r[i].lat_sa);
		hist_merge(lchat, &shm->r[i].lat_chat);
		hist_merge(lat_x, &shm->r[i].lat_x);
		hist_merge(hs, &shm->r[i].hs);
		gen += shm->r[i].cpu_end - shm->r[i].cpu_go;
		if (first == NULL && shm->r[i].first_error[0] != '\0')
			first = &shm->r[i];
	}
	win = (double)(r->t_end - r->t_go) / 1e6;
	if (r->have_takd)
		cpu = takd_cpu_delta(&r->s0, &r->s1);
	sent = SUM(sent);
	deliv = SUM(delivered);
	expected = tl_expected(o, shm, r->n_open);
	hsk = o->mode == MODE_HANDSHAKE ? SUM(handshakes) : SUM(established);
	printf("{\"mode\":\"%s\",\"clients\":%u,\"procs\":%u,"
	    "\"concurrency\":%u,\"resume\":%s,\"rate\":%.0f,"
	    "\"duration_s\":%.1f,\"sa_rate\":%.2f,\"window_s\":%.3f,"
	    "\"ramp_s\":%.2f,",
	    tl_mode_names[o->mode], o->mode == MODE_HANDSHAKE ? 0 : o->clients,
	    o->procs, o->mode == MODE_HANDSHAKE ? o->concurrency : 0,
	    o->resume ? "true" : "false", o->rate, o->duration,
	    o->mode == MODE_FANOUT ? o->sa_rate : 0, win, r->ramp_s);
	printf("\"v1_pct\":%u,\"v1_clients\":%" PRIu64 ",",
	    o->mode == MODE_FANOUT ? o->v1_pct : 0, SUM(v1));
	printf("\"tls_version\":\"%s\",\"cipher\":\"%s\",\"group\":\"%s\",",
	    shm->r[0].version, shm->r[0].cipher, shm->r[0].group);
	printf("\"sessions_established\":%" PRIu64 ",\"sessions_failed\":%"
	    PRIu64 ",\"sessions_closed_early\":%" PRIu64 ","
	    "\"sessions_open\":%u,\"no_ticket\":%" PRIu64 ",",
	    SUM(established), SUM(failed), SUM(closed_early), r->n_open,
	    SUM(no_ticket));
	printf("\"handshakes\":%" PRIu64 ",\"handshakes_resumed\":%" PRIu64
	    ",\"handshakes_per_s\":%.1f,\"hs_p50_ms\":%.3f,\"hs_p99_ms\":%.3f,",
	    hsk, SUM(resumed), o->mode == MODE_HANDSHAKE && win > 0 ?
	    (double)hsk / win : 0, hist_pct(hs, 0.5) / 1e3,
	    hist_pct(hs, 0.99) / 1e3);
	printf("\"events_sent\":%" PRIu64 ",\"send_skipped\":%" PRIu64 ","
	    "\"deliveries\":%" PRIu64 ",\"deliveries_expected\":%" PRIu64 ","
	    "\"deliveries_missing\":%" PRId64 ",\"deliveries_dup\":%" PRIu64
	    ",\"replayed\":%" PRIu64 ",\"other_events\":%" PRIu64 ","
	    "\"bytes_rx\":%" PRIu64 ",\"deliveries_per_s\":%.1f,",
	    sent, SUM(send_skipped), deliv, expected,
	    (int64_t)expected - (int64_t)deliv, SUM(dup), SUM(replayed),
	    SUM(other), SUM(bytes_rx), win > 0 ? (double)deliv / win : 0);
	printf("\"teams\":%u,\"hq\":%u,\"deliveries_foreign\":%" PRIu64 ","
	    "\"deliveries_excluded\":%" PRIu64 ",", o->teams, o->hq,
	    SUM(foreign), SUM(excluded));
	printf("\"lat_p50_ms\":%.3f,\"lat_p90_ms\":%.3f,\"lat_p99_ms\":%.3f,"
	    "\"lat_max_ms\":%.3f,\"lat_mean_ms\":%.3f,",
	    hist_pct(lat, 0.5) / 1e3, hist_pct(lat, 0.9) / 1e3,
	    hist_pct(lat, 0.99) / 1e3, lat->max / 1e3,
	    lat->n ? (double)lat->sum / (double)lat->n / 1e3 : 0);
	/* By class (issue 21): positions may wait, chat lines may not. */
	printf("\"chat_pct\":%u,\"deliveries_chat\":%" PRIu64 ","
	    "\"lat_sa_p50_ms\":%.3f,\"lat_sa_p99_ms\":%.3f,"
	    "\"lat_sa_max_ms\":%.3f,\"lat_chat_p50_ms\":%.3f,"
	    "\"lat_chat_p99_ms\":%.3f,\"lat_chat_max_ms\":%.3f,",
	    o->chat_pct, SUM(delivered_chat), hist_pct(lsa, 0.5) / 1e3,
	    hist_pct(lsa, 0.99) / 1e3, lsa->max / 1e3,
	    hist_pct(lchat, 0.5) / 1e3, hist_pct(lchat, 0.99) / 1e3,
	    lchat->max / 1e3);
	if (r->have_takd) {
		peak = r->s0.rss > r->s1.rss ? r->s0.rss : r->s1.rss;
		printf("\"takd_pids\":%u,\"takd_cpu_s\":%.4f,"
		    "\"takd_cpu_stat_s\":%.2f,\"takd_rss_base_mib\":%.1f,"
		    "\"takd_rss_mib\":%.1f,\"takd_rss_end_mib\":%.1f,"
		    "\"takd_pss_mib\":%.1f,",
		    r->s1.npids, cpu, (r->s1.cpu_stat - r->s0.cpu_stat) /
		    (double)sysconf(_SC_CLK_TCK), mib(r->base.rss),
		    mib(r->s0.rss), mib(r->s1.rss),
		    r->s1.pss >= 0 ? mib(r->s1.pss) : -1.0);
		printf("\"takd_write_calls\":%.0f,"
		    "\"writes_per_delivery\":%.3f,",
		    r->s1.syscw - r->s0.syscw, deliv > 0 ?
		    (r->s1.syscw - r->s0.syscw) / (double)deliv : 0);
		printf("\"rss_per_session_kib\":%.2f,"
		    "\"cpu_us_per_delivery\":%.3f,"
		    "\"cpu_us_per_handshake\":%.1f,\"takd_cpu_util\":%.3f,"
		    "\"ramp_cpu_us_per_session\":%.1f,",
		    o->mode == MODE_HOLD && r->n_open > 0 ?
		    (peak - r->base.rss) / 1024.0 / r->n_open : 0,
		    deliv > 0 ? cpu * 1e6 / (double)deliv : 0,
		    o->mode == MODE_HANDSHAKE && hsk > 0 ?
		    cpu * 1e6 / (double)hsk : 0, win > 0 ? cpu / win : 0,
		    o->mode != MODE_HANDSHAKE && hsk > 0 ?
		    takd_cpu_delta(&r->base, &r->s0) * 1e6 / (double)hsk : 0);
	}
	if (o->nnodes > 1 || o->npid > 0)
		tl_print_nodes(o, shm, r, lat_x);
	printf("\"gen_cpu_s\":%.4f,\"gen_cpu_util\":%.3f,"
	    "\"interrupted\":%s,\"ramp_timeout\":%s,\"drain_timeout\":%s,"
	    "\"first_error\":\"", gen, win > 0 ? gen / win : 0,
	    r->interrupted ? "true" : "false",
	    r->ready_timeout ? "true" : "false",
	    r->drain_timeout ? "true" : "false");
	for (const char *p = first ? first->first_error : ""; *p; p++)
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p >= 0x20)
			putchar(*p);
	printf("\"}\n");
	fflush(stdout);
	free(lat);
	free(lat_x);
	free(hs);
	free(lsa);
	free(lchat);
}

/* True when the fan-out window is over: all sent and all delivered. */
static bool
tl_fanout_over(const struct opts *o, const struct tl_shm *shm,
    struct tl_run *r, int64_t sends_end)
{
	if (!all_flag(shm, o->procs, offsetof(struct tl_report, done)))
		return (false);
	if (SUM(delivered) >= tl_expected(o, shm, SUM(established) -
	    SUM(closed_early)))
		return (true);
	if (mono_us() >= sends_end + (int64_t)(o->drain * 1e6)) {
		r->drain_timeout = true;
		return (true);
	}
	return (false);
}

static int
tl_coordinate(const struct opts *o, struct addrinfo **ai)
{
	struct tl_shm	*shm;
	struct tl_run	 r;
	pid_t		 kids[TL_MAX_PROCS];
	int64_t		 t0, t, last, last_say = 0, sends_end = 0;
	unsigned	 i;
	int		 st;

	memset(&r, 0, sizeof(r));
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		tl_fail("mmap: %s", strerror(errno));
	memset(shm, 0, sizeof(*shm));
	while (r.nsup < TL_MAX_NODES && (r.sup[r.nsup] = takd_find(o,
	    r.nsup)) > 0)
		r.nsup++;
	r.have_takd = r.nsup > 0;
	if (r.have_takd && tl_sample_all(&r, r.nbase, &r.base) == -1)
		tl_fail("a takd pid given is no such process");
	fflush(NULL);
	for (i = 0; i < o->procs; i++) {
		if ((kids[i] = fork()) == -1)
			tl_fail("fork: %s", strerror(errno));
		if (kids[i] == 0) {
			signal(SIGINT, SIG_IGN);
			signal(SIGUSR1, SIG_IGN);
			signal(SIGTERM, SIG_DFL);
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
			tl_proc_main(o, shm, i, ai);
		}
	}
	/* Ramp (or warm-up) until every process is ready. */
	t0 = mono_us();
	while (!all_flag(shm, o->procs, offsetof(struct tl_report, ready))) {
		tl_check_children(shm, kids, o->procs);
		if (tl_interrupted)
			break;
		if (mono_us() - t0 > (int64_t)TL_READY_TIMEOUT_S * 1000000) {
			r.ready_timeout = true;
			break;
		}
		if (mono_us() - last_say >= 1000000 &&
		    o->mode != MODE_HANDSHAKE) {
			last_say = mono_us();
			tl_say(o, "ramp: %" PRIu64 " of %u up, %" PRIu64
			    " failed", SUM(established), o->clients,
			    SUM(failed));
		}
		tl_sleep_us(5000);
	}
	r.ramp_s = (double)(mono_us() - t0) / 1e6;
	if (o->mode != MODE_HANDSHAKE) {
		tl_say(o, "%" PRIu64 " sessions up (%" PRIu64 " failed) in %.1f"
		    " s", SUM(established), SUM(failed), r.ramp_s);
		tl_sleep_us((int64_t)(o->settle * 1e6));
	}
	if (r.have_takd && tl_sample_all(&r, r.n0, &r.s0) == -1)
		tl_fail("a takd is gone");
	tl_sample_pids(o, r.pcpu0);
	r.n_open = (unsigned)(SUM(established) - SUM(closed_early));
	if (o->ready_file != NULL && !r.ready_timeout && !tl_interrupted)
		tl_write_ready(o->ready_file, r.n_open);
	shm->t_go_us = r.t_go = mono_us() + TL_START_DELAY_US;
	__atomic_store_n(&shm->go, 1, __ATOMIC_RELEASE);
	sends_end = r.t_go + (int64_t)(o->duration * 1e6);
	last_say = mono_us();
	for (;;) {
		tl_check_children(shm, kids, o->procs);
		if (tl_interrupted || r.ready_timeout) {
			r.interrupted = tl_interrupted;
			break;
		}
		if (o->mode == MODE_FANOUT) {
			if (tl_fanout_over(o, shm, &r, sends_end))
				break;
		} else if (all_flag(shm, o->procs,
		    offsetof(struct tl_report, done)))
			break;
		else if (o->mode == MODE_HOLD && tl_hold_over)
			break;
		if (mono_us() - last_say >= 2000000) {
			last_say = mono_us();
			if (o->mode == MODE_FANOUT)
				tl_say(o, "%" PRIu64 " sent, %" PRIu64
				    " delivered", SUM(sent), SUM(delivered));
			else if (o->mode == MODE_HANDSHAKE)
				tl_say(o, "%" PRIu64 " handshakes, %" PRIu64
				    " failed", SUM(handshakes), SUM(failed));
		}
		tl_sleep_us(2000);
	}
	r.t_end = mono_us();
	if (r.have_takd && tl_sample_all(&r, r.n1, &r.s1) == -1)
		tl_fail("a takd is gone");
	tl_sample_pids(o, r.pcpu1);
	/* The window's end: the last handshake or delivery, not our poll. */
	for (i = 0, last = 0; i < o->procs && o->mode != MODE_HOLD; i++) {
		t = o->mode == MODE_FANOUT ? shm->r[i].last_rx_us :
		    shm->r[i].done_us;
		if (t > last)
			last = t;
	}
	if (last > 0)
		r.t_end = last;
	__atomic_store_n(&shm->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < o->procs; i++)
		while (waitpid(kids[i], &st, 0) == -1 && errno == EINTR)
			;
	tl_print(o, shm, &r);
	return (r.interrupted || r.ready_timeout ? TL_EXIT_FAIL : TL_EXIT_OK);
}

#undef SUM

/* --- main ---------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
"usage: takload --connect HOST:PORT [--connect HOST:PORT...]\n"
"               --mode handshake|hold|fanout\n"
"               (--cert FILE --key FILE | --cert-dir DIR) [--pass P]\n"
"               [--ca FILE] [--clients N] [--rate CONN/S] [--procs N]\n"
"               [--duration S] [--concurrency C] [--resume]\n"
"               [--sa-rate N/S] [--drain S] [--settle S]\n"
"               [--teams T [--hq H]] [--v1 PCT] [--chat PCT]\n"
"               [--takd-pid PID... | --takd-pidfile FILE] [--pid NAME=PID...]\n"
"               [--uid-prefix P] [--register] [--ready-file FILE]\n"
"               [--quiet]\n");
	exit(TL_EXIT_USAGE);
}

static double
opt_num(const char *name, const char *v, double min, double max)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || d < min || d > max) {
		fprintf(stderr, "takload: --%s: expected a number from %g to "
		    "%g, got \"%s\"\n", name, min, max, v);
		exit(TL_EXIT_USAGE);
	}
	return (d);
}

/* Room for every session of a process, and some. */
static void
tl_nofile(const struct opts *o)
{
	struct rlimit	 rl;
	unsigned	 per = (o->mode == MODE_HANDSHAKE ? o->concurrency :
			    o->clients) / o->procs + 1;
	rlim_t		 need = (rlim_t)per + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		tl_fail("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;	/* root may raise the hard limit */
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		tl_fail("cannot raise RLIMIT_NOFILE to %lu: %s (use --procs or "
		    "ulimit -n)", (unsigned long)need, strerror(errno));
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "connect",	required_argument, NULL, 'c' },
		{ "mode",	required_argument, NULL, 'm' },
		{ "cert",	required_argument, NULL, 'C' },
		{ "key",	required_argument, NULL, 'K' },
		{ "cert-dir",	required_argument, NULL, 'D' },
		{ "pass",	required_argument, NULL, 'P' },
		{ "ca",		required_argument, NULL, 'A' },
		{ "clients",	required_argument, NULL, 'n' },
		{ "rate",	required_argument, NULL, 'r' },
		{ "procs",	required_argument, NULL, 'j' },
		{ "duration",	required_argument, NULL, 'd' },
		{ "concurrency", required_argument, NULL, 'k' },
		{ "resume",	no_argument,	   NULL, 'R' },
		{ "sa-rate",	required_argument, NULL, 's' },
		{ "drain",	required_argument, NULL, 'w' },
		{ "settle",	required_argument, NULL, 'S' },
		{ "takd-pid",	required_argument, NULL, 'p' },
		{ "takd-pidfile", required_argument, NULL, 'F' },
		{ "pid",	required_argument, NULL, 'I' },
		{ "uid-prefix",	required_argument, NULL, 'u' },
		{ "teams",	required_argument, NULL, 't' },
		{ "hq",		required_argument, NULL, 'H' },
		{ "quiet",	no_argument,	   NULL, 'q' },
		{ "v1",		required_argument, NULL, 'V' },
		{ "chat",	required_argument, NULL, 'h' },
		{ "register",	no_argument,	   NULL, 'G' },
		{ "ready-file",	required_argument, NULL, 'Y' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct opts	 o;
	struct addrinfo	 hints, *ai[TL_MAX_NODES];
	const char	*mode = NULL;
	char		*eq;
	unsigned	 k;
	int		 ch, rc;

	memset(&o, 0, sizeof(o));
	o.clients = 100;
	o.procs = 1;
	o.concurrency = 16;
	o.duration = 10;
	o.sa_rate = 1;
	o.drain = 10;
	o.settle = 1;
	o.uid_prefix = "takload";
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (o.nnodes == TL_MAX_NODES ||
			    tlsclient_hostport(optarg, &o.host[o.nnodes],
			    &o.port[o.nnodes]) == -1)
				usage();
			o.nnodes++;
			break;
		case 'm': mode = optarg; break;
		case 'C': o.cert = optarg; break;
		case 'K': o.key = optarg; break;
		case 'D': o.cert_dir = optarg; break;
		case 'P': o.pass = optarg; break;
		case 'A': o.ca = optarg; break;
		case 'n': o.clients = (unsigned)opt_num("clients", optarg, 1,
		    TL_MAX_CLIENTS); break;
		case 'r': o.rate = opt_num("rate", optarg, 0, 1e7); break;
		case 'j': o.procs = (unsigned)opt_num("procs", optarg, 1,
		    TL_MAX_PROCS); break;
		case 'd': o.duration = opt_num("duration", optarg, 0.1,
		    86400); break;
		case 'k': o.concurrency = (unsigned)opt_num("concurrency",
		    optarg, 1, 100000); break;
		case 'R': o.resume = true; break;
		case 's': o.sa_rate = opt_num("sa-rate", optarg, 0.01, 1000);
		    break;
		case 'w': o.drain = opt_num("drain", optarg, 0, 3600); break;
		case 'S': o.settle = opt_num("settle", optarg, 0, 3600); break;
		case 'p':
			if (o.ntakd == TL_MAX_NODES)
				usage();
			o.takd_pid[o.ntakd++] = (pid_t)opt_num("takd-pid",
			    optarg, 1, INT_MAX);
			break;
		case 'I':
			/* NAME=PID; NAME goes into a JSON key: [a-z0-9_]. */
			if (o.npid == TL_MAX_PIDS ||
			    (eq = strchr(optarg, '=')) == NULL ||
			    eq == optarg || strspn(optarg,
			    "abcdefghijklmnopqrstuvwxyz0123456789_") !=
			    (size_t)(eq - optarg))
				usage();
			*eq = '\0';
			o.pid_name[o.npid] = optarg;
			o.pid[o.npid++] = (pid_t)opt_num("pid", eq + 1, 1,
			    INT_MAX);
			break;
		case 'F': o.pidfile = optarg; break;
		case 'u': o.uid_prefix = optarg; break;
		case 't': o.teams = (unsigned)opt_num("teams", optarg, 1,
		    TL_MAX_CLIENTS); break;
		case 'H': o.hq = (unsigned)opt_num("hq", optarg, 0,
		    TL_MAX_CLIENTS); break;
		case 'q': o.quiet = true; break;
		case 'G': o.register_sa = true; break;
		case 'Y': o.ready_file = optarg; break;
		case 'h': o.chat_pct = (unsigned)opt_num("chat", optarg, 0,
		    100);
			break;
		case 'V': o.v1_pct = (unsigned)opt_num("v1", optarg, 0, 100);
		    break;
		default: usage();
		}
	}
	if (optind != argc || o.nnodes == 0 || mode == NULL ||
	    (o.ntakd > 0 && o.pidfile != NULL))
		usage();
	if (strcmp(mode, "handshake") == 0)
		o.mode = MODE_HANDSHAKE;
	else if (strcmp(mode, "hold") == 0)
		o.mode = MODE_HOLD;
	else if (strcmp(mode, "fanout") == 0)
		o.mode = MODE_FANOUT;
	else
		usage();
	if ((o.cert != NULL) == (o.cert_dir != NULL) ||
	    (o.cert != NULL) != (o.key != NULL)) {
		fprintf(stderr, "takload: give --cert and --key, or "
		    "--cert-dir\n");
		exit(TL_EXIT_USAGE);
	}
	if ((o.teams > 0 || o.hq > 0) && (o.mode != MODE_FANOUT ||
	    o.teams == 0 || o.hq >= o.clients || o.teams > o.clients - o.hq)) {
		fprintf(stderr, "takload: --teams T [--hq H] needs --mode "
		    "fanout and at least T clients besides the H of HQ\n");
		exit(TL_EXIT_USAGE);
	}
	if (o.mode == MODE_HANDSHAKE && o.concurrency < o.procs)
		o.concurrency = o.procs;
	if (o.mode != MODE_HANDSHAKE && o.clients < o.procs)
		o.procs = o.clients;
	if (strlen(o.uid_prefix) > 64 || (o.register_sa &&
	    o.mode != MODE_HOLD))
		usage();
	/* No round at all would leave the fan-out window without an end. */
	o.rounds = (unsigned)(o.duration * o.sa_rate + 0.5);
	if (o.mode == MODE_FANOUT && o.rounds == 0) {
		fprintf(stderr, "takload: --duration %g at --sa-rate %g sends "
		    "no event\n", o.duration, o.sa_rate);
		exit(TL_EXIT_USAGE);
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, tl_on_signal);
	signal(SIGTERM, tl_on_signal);
	signal(SIGUSR1, tl_on_usr1);
	tl_nofile(&o);
	/* The v1 clients encode their SA with takd's codec (libxml2). */
	cot_parse_init();
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	for (k = 0; k < o.nnodes; k++)
		if ((rc = getaddrinfo(o.host[k], o.port[k], &hints, &ai[k])) !=
		    0)
			tl_fail("%s:%s: %s", o.host[k], o.port[k],
			    gai_strerror(rc));
	tl_tls_init(&o);
	tl_say(&o, "%s: %s:%s%s, %u %s, %u process(es)%s", mode, o.host[0],
	    o.port[0], o.nnodes > 1 ? " and other nodes" : "", o.mode == MODE_HANDSHAKE ? o.concurrency : o.clients,
	    o.mode == MODE_HANDSHAKE ? "at a time" : "clients", o.procs,
	    o.cert_dir ? ", a certificate per client" : "");
	if (o.teams > 0)
		tl_say(&o, "%u teams (client i in team i %% %u), %u HQ "
		    "client(s) in every team", o.teams, o.teams, o.hq);
	rc = tl_coordinate(&o, ai);
	for (k = 0; k < o.nnodes; k++)
		freeaddrinfo(ai[k]);
	return (rc);
}
