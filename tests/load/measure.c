/*
 * takload (see takload.c): messages, clocks, latency histograms, and what
 * takd costs as /proc shows it: CPU time, RSS and PSS, write calls, summed
 * over the supervisor and its children.
 */
#include <sys/resource.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/load/takload.h"

#define TL_MAX_TAKD		260	/* supervisor, 256 workers, slack */

void
tl_fail(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "takload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(TL_EXIT_FAIL);
}

void
tl_say(const struct opts *o, const char *fmt, ...)
{
	va_list	 ap;

	if (o->quiet)
		return;
	fprintf(stderr, "takload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int64_t
tl_wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
tl_iso(char *buf, size_t len, int64_t ms)
{
	struct tm	 tm;
	time_t		 sec = (time_t)(ms / 1000);

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int64_t
mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

double
self_cpu_s(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* --- histograms ---------------------------------------------------------- */

static unsigned
hist_bucket(uint64_t v)
{
	unsigned	 msb, shift;

	if (v < 64)
		return ((unsigned)v);
	msb = 63 - (unsigned)__builtin_clzll(v);
	shift = msb - 5;		/* keeps the top 6 bits: 32..63 */
	return (64 + (shift - 1) * 32 + (unsigned)((v >> shift) - 32));
}

/* The largest value bucket b holds. */
static uint64_t
hist_upper(unsigned b)
{
	unsigned	 shift;

	if (b < 64)
		return (b);
	shift = (b - 64) / 32 + 1;
	return ((((uint64_t)(b - 64) % 32 + 33) << shift) - 1);
}

void
hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_bucket(v)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned	 i;

	for (i = 0; i < TL_HIST_N; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* The p-th percentile (0 < p <= 1), within the bucket's 3 %. */
uint64_t
hist_pct(const struct hist *h, double p)
{
	uint64_t	 want, seen = 0;
	unsigned	 i;

	if (h->n == 0)
		return (0);
	want = (uint64_t)(p * (double)h->n + 0.999999);
	if (want == 0)
		want = 1;
	for (i = 0; i < TL_HIST_N; i++) {
		seen += h->b[i];
		if (seen >= want)
			return (hist_upper(i) < h->max ? hist_upper(i) :
			    h->max);
	}
	return (h->max);
}

/* --- takd's processes ---------------------------------------------------- */

static int
read_file(const char *path, char *buf, size_t len)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return (-1);
	buf[n] = '\0';
	return (0);
}

/* The supervisor and its children, from /proc (or a scan for the ppid). */
static unsigned
takd_pids(pid_t sup, pid_t *out, unsigned max)
{
	char		 path[PATH_MAX], buf[4096], *p, *end;
	DIR		*d;
	struct dirent	*de;
	unsigned	 n = 0;
	long		 v;
	bool		 found = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)sup);
	if (read_file(path, buf, sizeof(buf)) == -1)
		return (0);
	out[n++] = sup;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)sup);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL && n < max) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			snprintf(path, sizeof(path),
			    "/proc/%d/task/%s/children", (int)sup, de->d_name);
			if (read_file(path, buf, sizeof(buf)) == -1)
				continue;
			found = true;
			for (p = buf; n < max; p = end) {
				v = strtol(p, &end, 10);
				if (end == p)
					break;
				out[n++] = (pid_t)v;
			}
		}
		closedir(d);
	}
	if (found || (d = opendir("/proc")) == NULL)
		return (n);
	while ((de = readdir(d)) != NULL && n < max) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (read_file(path, buf, sizeof(buf)) == -1 ||
		    (p = strrchr(buf, ')')) == NULL)
			continue;
		/* ") S PPID ..." */
		if (strtol(p + 4, NULL, 10) == sup)
			out[n++] = (pid_t)strtol(de->d_name, NULL, 10);
	}
	closedir(d);
	return (n);
}

/* utime + stime of /proc/PID/stat, in clock ticks; -1 when gone. */
static double
proc_stat_ticks(pid_t pid)
{
	char		 path[64], buf[4096], *p, *end;
	unsigned long	 v[13];
	unsigned	 i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) == -1 ||
	    (p = strrchr(buf, ')')) == NULL)
		return (-1);
	/* ") S PPID ...": fields 4 (ppid) to 15 (stime) after the state. */
	p += 4;
	for (i = 0; i < 12; i++) {
		v[i] = strtoul(p, &end, 10);
		if (end == p)
			return (-1);
		p = end;
	}
	return ((double)v[10] + (double)v[11]);
}

/* Sum of every thread's time on CPU (ns) from schedstat; -1 if none. */
static double
proc_sched_ns(pid_t pid)
{
	char		 path[PATH_MAX], buf[256];
	DIR		*d;
	struct dirent	*de;
	double		 sum = 0;
	bool		 any = false;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat",
		    (int)pid, de->d_name);
		if (read_file(path, buf, sizeof(buf)) == -1)
			continue;
		sum += strtod(buf, NULL);
		any = true;
	}
	closedir(d);
	return (any ? sum : -1);
}

static double
proc_rss(pid_t pid)
{
	char	 path[64], buf[256];
	long	 size, res;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if (read_file(path, buf, sizeof(buf)) == -1 ||
	    sscanf(buf, "%ld %ld", &size, &res) != 2)
		return (0);
	return ((double)res * (double)sysconf(_SC_PAGESIZE));
}

/*
 * The number after KEY in /proc/PID/NAME (smaps_rollup's "\nPss:", in kB;
 * io's "syscw:", write system calls: how well takd coalesces its output);
 * -1 if unreadable.
 */
static double
proc_key(pid_t pid, const char *name, const char *key)
{
	char	 path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	if (read_file(path, buf, sizeof(buf)) == -1 ||
	    (p = strstr(buf, key)) == NULL)
		return (-1);
	return (strtod(p + strlen(key), NULL));
}

pid_t
takd_find(const struct opts *o, unsigned k)
{
	char	 buf[64];
	long	 v;

	if (k < o->ntakd)
		return (o->takd_pid[k]);
	if (k > 0 || o->pidfile == NULL)
		return (0);
	if (read_file(o->pidfile, buf, sizeof(buf)) == -1)
		tl_fail("%s: %s", o->pidfile, strerror(errno));
	if ((v = strtol(buf, NULL, 10)) <= 0)
		tl_fail("%s: no pid in it", o->pidfile);
	return ((pid_t)v);
}

int
takd_sample(pid_t sup, struct takd_sample *s)
{
	pid_t		 pids[TL_MAX_TAKD];
	double		 t, ns, pss, w;
	unsigned	 i;
	bool		 sched = true, pss_ok = true;

	memset(s, 0, sizeof(*s));
	if (sup <= 0 || (s->npids = takd_pids(sup, pids, TL_MAX_TAKD)) == 0)
		return (-1);
	for (i = 0; i < s->npids; i++) {
		if ((t = proc_stat_ticks(pids[i])) >= 0)
			s->cpu_stat += t;
		if ((ns = proc_sched_ns(pids[i])) >= 0)
			s->cpu_sched += ns;
		else
			sched = false;
		s->rss += proc_rss(pids[i]);
		if ((w = proc_key(pids[i], "io", "syscw:")) >= 0)
			s->syscw += w;
		if ((pss = proc_key(pids[i], "smaps_rollup", "\nPss:")) >= 0)
			s->pss += pss * 1024;
		else
			pss_ok = false;
	}
	if (!sched)
		s->cpu_sched = -1;
	if (!pss_ok)
		s->pss = -1;
	return (0);
}

/*
 * One process's CPU seconds so far (schedstat, ns-precise; utime+stime
 * where it is unreadable); -1 when the process is gone.
 */
double
tl_proc_cpu_s(pid_t pid)
{
	double	 v;

	if ((v = proc_sched_ns(pid)) >= 0)
		return (v / 1e9);
	if ((v = proc_stat_ticks(pid)) >= 0)
		return (v / (double)sysconf(_SC_CLK_TCK));
	return (-1);
}

/* takd's CPU seconds from a to b. */
double
takd_cpu_delta(const struct takd_sample *a, const struct takd_sample *b)
{
	if (a->cpu_sched >= 0 && b->cpu_sched >= 0)
		return ((b->cpu_sched - a->cpu_sched) / 1e9);
	return ((b->cpu_stat - a->cpu_stat) / (double)sysconf(_SC_CLK_TCK));
}
