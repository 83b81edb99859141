/*
 * takload (see takload.c): what its files share.  The options, the report
 * each generator process writes into memory shared with the coordinator,
 * latency histograms and takd's figures read from /proc.
 */
#ifndef TAKLOAD_H
#define TAKLOAD_H

#include <sys/types.h>

#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_EXIT_OK		0
#define TL_EXIT_FAIL		1	/* the run went wrong */
#define TL_EXIT_USAGE		2

#define TL_MAX_PROCS		64
#define TL_MAX_CLIENTS		1000000
#define TL_HIST_N		1920	/* see hist_bucket() */
#define TL_MAX_NODES		8	/* --connect and --takd-pid, each */
#define TL_MAX_PIDS		8	/* --pid NAME=PID */

enum tl_mode {
	MODE_HANDSHAKE,
	MODE_HOLD,
	MODE_FANOUT,
};

struct opts {
	enum tl_mode	 mode;
	/*
	 * --connect, once per node of a cluster: client i connects to
	 * node i % nnodes, and a delivery crosses nodes when its sender's
	 * node is not its receiver's.
	 */
	char		*host[TL_MAX_NODES];
	char		*port[TL_MAX_NODES];
	unsigned	 nnodes;
	const char	*ca;
	const char	*cert;
	const char	*key;
	const char	*cert_dir;
	const char	*pass;
	const char	*pidfile;
	const char	*uid_prefix;
	const char	*ready_file;	/* written once every session is up */
	pid_t		 takd_pid[TL_MAX_NODES];	/* node k's supervisor */
	unsigned	 ntakd;
	/* --pid NAME=PID: other processes whose CPU the window reports. */
	const char	*pid_name[TL_MAX_PIDS];
	pid_t		 pid[TL_MAX_PIDS];
	unsigned	 npid;
	unsigned	 clients;
	unsigned	 procs;
	unsigned	 concurrency;
	double		 rate;		/* connections/s (ramp), 0: max */
	double		 duration;
	double		 sa_rate;	/* SA events/s per client */
	unsigned	 rounds;	/* fanout: SA events per client */
	unsigned	 teams;		/* fanout: 0, or teams (gen.c tl_team()) */
	unsigned	 hq;		/* fanout: clients in every team */
	double		 drain;
	double		 settle;
	unsigned	 v1_pct;	/* fanout: clients on TAK protocol v1 */
	unsigned	 chat_pct;	/* fanout: XML events sent as chat */
	bool		 resume;
	bool		 register_sa;	/* hold: one SA per client once up */
	bool		 quiet;
};

/* A histogram of µs values: exact below 64, then 32 buckets per octave. */
struct hist {
	uint64_t	 n;
	uint64_t	 max;
	uint64_t	 sum;
	uint64_t	 b[TL_HIST_N];
};

/*
 * What one process reports, in memory shared with the parent.  Counters
 * are published with relaxed atomic stores once per loop turn; the
 * histograms and strings once, before "exited".
 */
struct tl_report {
	int		 ready;		/* ramp (or resume warm-up) over */
	int		 done;		/* its part of the scenario is over */
	int		 exited;	/* report complete */
	uint64_t	 established;
	uint64_t	 failed;
	uint64_t	 closed_early;	/* open sessions the server closed */
	uint64_t	 handshakes;	/* in the measured window */
	uint64_t	 resumed;
	uint64_t	 no_ticket;
	uint64_t	 sent;
	uint64_t	 send_skipped;
	uint64_t	 delivered;
	uint64_t	 delivered_node[TL_MAX_NODES];	/* by receiver's node */
	uint64_t	 delivered_x;	/* sender on another node */
	uint64_t	 delivered_chat;	/* --chat: chat lines among them */
	uint64_t	 replayed;
	uint64_t	 other;
	uint64_t	 dup;
	uint64_t	 foreign;	/* --teams: from a team not the receiver's */
	uint64_t	 expected;	/* --teams: deliveries the sends call for */
	uint64_t	 excluded;	/* --teams: receivers the sends leave out */
	uint64_t	 v1;		/* clients switched to v1 */
	uint64_t	 bytes_rx;
	int64_t		 done_us;	/* monotonic: its last handshake */
	int64_t		 last_rx_us;	/* monotonic: its last delivery */
	double		 cpu_go;	/* own CPU seconds at go */
	double		 cpu_end;	/* and at the end */
	char		 first_error[160];
	char		 version[16];
	char		 cipher[64];
	char		 group[32];
	struct hist	 lat;
	struct hist	 lat_x;		/* deliveries that crossed nodes */
	struct hist	 lat_sa;	/* by class: SA positions */
	struct hist	 lat_chat;	/* and chat lines (--chat) */
	struct hist	 hs;
};

struct tl_shm {
	int		 go;
	int		 stop;
	int64_t		 t_go_us;
	struct tl_report r[TL_MAX_PROCS];
};

/* takd's processes at one moment: the supervisor and its children. */
struct takd_sample {
	unsigned	 npids;
	double		 cpu_stat;	/* utime+stime, clock ticks */
	double		 cpu_sched;	/* schedstat: ns, -1 if unreadable */
	double		 rss;		/* bytes */
	double		 pss;		/* bytes, -1 if unreadable */
	double		 syscw;		/* write system calls (/proc/PID/io) */
};

/* measure.c */
void	 tl_fail(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 tl_say(const struct opts *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int64_t	 mono_us(void);
/* Wall-clock ms, and one as CoT writes times (2026-11-23T08:00:00.000Z). */
int64_t	 tl_wall_ms(void);
void	 tl_iso(char *, size_t, int64_t ms);
double	 self_cpu_s(void);
void	 hist_add(struct hist *, uint64_t);
void	 hist_merge(struct hist *, const struct hist *);
uint64_t hist_pct(const struct hist *, double);
/* The supervisor of node k (--takd-pid, --takd-pidfile), 0 if none. */
pid_t	 takd_find(const struct opts *, unsigned k);
int	 takd_sample(pid_t, struct takd_sample *);
double	 takd_cpu_delta(const struct takd_sample *,
	    const struct takd_sample *);
double	 tl_proc_cpu_s(pid_t);

/* v1.c: a v1 client's SA, encoded once, patched per send. */
#define TL_V1_MARK	"<takload s=\""
/* The marker with fixed-width numbers: s, q, t (µs). */
#define TL_V1_MARK_FMT	"<takload s=\"%07u\" q=\"%010u\" t=\"%020" PRId64 "\"/>"
#define TL_V1_MARK_LEN	62
struct tl_v1 {
	uint8_t		*frame;		/* 0xBF, length, TakMessage */
	size_t		 len;
	size_t		 time_off[3];	/* sendTime, startTime, staleTime */
	size_t		 lat_off;
	size_t		 lon_off;
	size_t		 mark_off;	/* TL_V1_MARK_FMT's text */
};
/* The request of version 1 (t-x-takp-q), in XML. */
extern const char tl_v1_request[];
/*
 * The frame of xml, an SA whose time is in 2004 .. 2039 and whose detail
 * holds TL_V1_MARK_FMT's marker; -1 with err.
 */
int	 tl_v1_template(struct tl_v1 *, const char *xml, size_t len,
	    char *err, size_t errlen);
void	 tl_v1_free(struct tl_v1 *);
/* A copy of the template into out with these values; its length. */
size_t	 tl_v1_fill(const struct tl_v1 *, uint8_t *out, size_t cap,
	    int64_t ms, int64_t stale_ms, double lat, double lon, unsigned s,
	    unsigned q, int64_t t_us);
/*
 * A v1 frame at p[0..n): 1 with its header and payload lengths, 0 when
 * it is not complete, -1 when p holds no frame.
 */
int	 tl_v1_cut(const uint8_t *p, size_t n, size_t *hlen, size_t *plen);

/* gen.c */
void	 tl_tls_init(const struct opts *);
/* ai: the address of each node (o->nnodes). */
void	 tl_proc_main(const struct opts *, struct tl_shm *, unsigned,
	    struct addrinfo **ai) __attribute__((noreturn));

#endif /* TAKLOAD_H */
