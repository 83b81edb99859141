/*
 * takplace: steer the new connections of a running takd to one worker, for
 * the integration tests (tests/integ/lib.sh cot_steer).
 *
 * takd's listeners are SO_REUSEPORT groups of one socket per worker slot,
 * bound in slot order (supervisor/listen.c); the kernel picks the socket of
 * a new connection by a hash of its addresses and ports, which a test cannot
 * predict.  takplace takes a duplicate of each of takd's listening sockets
 * from the supervisor (pidfd_getfd(2), root) and attaches to its group a
 * classic BPF program that returns the slot: every new connection goes to
 * that socket, i.e. to that worker, until --off detaches it and the hash
 * rules again.  takd itself is not touched: nothing stops, nothing is
 * accepted, no counter moves.
 *
 *   takplace --pid SUPERVISOR_PID --slot N    steer to slot N
 *   takplace --pid SUPERVISOR_PID --off       back to the kernel's hash
 *   takplace --pid SUPERVISOR_PID --list      the listening sockets: one
 *                                             line "PORT INODE" each
 *
 * Exit status: 0 done (at least one group), 1 no SO_REUSEPORT listening
 * socket found or the kernel refused, 2 usage.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/filter.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF	51
#endif
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF		68
#endif

enum tp_op { TP_STEER, TP_OFF, TP_LIST };

static void
usage(void)
{
	fprintf(stderr, "usage: takplace --pid PID (--slot N | --off | "
	    "--list)\n");
	exit(2);
}

static int
tp_port(int fd, unsigned *port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return (0);
	if (ss.ss_family == AF_INET)
		*port = ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	else
		return (0);
	return (1);
}

/* A TCP listening socket with SO_REUSEPORT: one of takd's workers' groups. */
static int
tp_is_group(int fd)
{
	int		 v = 0, type = 0;
	socklen_t	 l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == -1 || !v)
		return (0);
	l = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) == -1 ||
	    type != SOCK_STREAM)
		return (0);
	v = 0;
	l = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, &l) == -1 || !v)
		return (0);
	return (1);
}

static int
tp_apply(int fd, enum tp_op op, unsigned slot)
{
	struct sock_filter	 code[] = {
		BPF_STMT(BPF_RET | BPF_K, slot)	/* the index in the group */
	};
	struct sock_fprog	 prog = { 1, code };
	int			 dummy = 0;

	if (op == TP_STEER)
		return (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF,
		    &prog, sizeof(prog)));
	if (setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &dummy,
	    sizeof(dummy)) == -1 && errno != ENOENT)
		return (-1);
	return (0);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "pid",	required_argument, NULL, 'p' },
		{ "slot",	required_argument, NULL, 's' },
		{ "off",	no_argument,	   NULL, 'o' },
		{ "list",	no_argument,	   NULL, 'l' },
		{ NULL,		0,		   NULL, 0 }
	};
	enum tp_op	 op = TP_LIST;
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		 path[64], *end;
	unsigned	 slot = 0, port, done = 0;
	long		 pid = 0, v;
	int		 ch, pidfd, fd, tfd, have_op = 0, rc = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			pid = strtol(optarg, &end, 10);
			if (*end != '\0' || pid <= 0)
				usage();
			break;
		case 's':
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 0 || v > 65535)
				usage();
			slot = (unsigned)v;
			op = TP_STEER;
			have_op++;
			break;
		case 'o':
			op = TP_OFF;
			have_op++;
			break;
		case 'l':
			op = TP_LIST;
			have_op++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || pid == 0 || have_op != 1)
		usage();
	if ((pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) == -1) {
		fprintf(stderr, "takplace: pidfd_open %ld: %s\n", pid,
		    strerror(errno));
		return (1);
	}
	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "takplace: %s: %s\n", path, strerror(errno));
		return (1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		tfd = atoi(de->d_name);
		if ((fd = (int)syscall(SYS_pidfd_getfd, pidfd, tfd, 0)) == -1)
			continue;	/* closed meanwhile, or not ours */
		if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode) ||
		    !tp_is_group(fd) || !tp_port(fd, &port)) {
			close(fd);
			continue;
		}
		if (op == TP_LIST)
			printf("%u %lu\n", port, (unsigned long)st.st_ino);
		else if (tp_apply(fd, op, slot) == -1) {
			fprintf(stderr, "takplace: pid %ld fd %d (port %u): "
			    "%s\n", pid, tfd, port, strerror(errno));
			rc = 1;
		}
		done++;
		close(fd);
	}
	closedir(d);
	close(pidfd);
	if (done == 0) {
		fprintf(stderr, "takplace: pid %ld has no SO_REUSEPORT "
		    "listening socket\n", pid);
		return (1);
	}
	return (rc);
}
