/*
 * The users file in the supervisor: see userfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/trust.h"
#include "shared/users.h"
#include "supervisor/api_proc.h"
#include "supervisor/privdrop.h"
#include "supervisor/userfile.h"

static void	 userfile_errf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* A message cut to the buffer: [auth] users may be a long path. */
static void
userfile_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * The file's directory, walked from / and kept; -1 with errno ENOENT when
 * it does not exist (yet: takctl user add makes the file, not takd).
 */
static int
userfile_open_dir(struct sup *sup, char *err, size_t errlen)
{
	char	 dir[PATH_MAX], base[PATH_MAX], why[512];

	if (sup->users.dirfd >= 0)
		return (0);
	if (trust_split(sup->cfg->users, dir, base) == -1 ||
	    snprintf(sup->users.name, sizeof(sup->users.name), "%s", base) >=
	    (int)sizeof(sup->users.name)) {
		userfile_errf(err, errlen, "%s: not a file name",
		    sup->cfg->users);
		errno = EINVAL;
		return (-1);
	}
	if ((sup->users.dirfd = trust_dir_open(dir, 0, 0, why,
	    sizeof(why))) == -1) {
		userfile_errf(err, errlen, "%s: its directory: %s",
		    sup->cfg->users, why);
		return (-1);
	}
	return (0);
}

/*
 * Read the file: a checked set without hashes in *out and, when the api
 * process needs them, the set with its hashes in a sealed memfd *api_fd
 * (else -1); or -1 with err.
 */
static int
userfile_read(struct sup *sup, struct users **out, bool *missing,
    int *api_fd, char *err, size_t errlen)
{
	char	 why[256];
	int	 rc;

	*api_fd = -1;
	if (userfile_open_dir(sup, err, errlen) == -1) {
		if (errno != ENOENT)
			return (-1);
		/* No directory, no file: nobody has been added yet. */
		if ((*out = users_new()) == NULL) {
			snprintf(err, errlen, "out of memory");
			return (-1);
		}
		*missing = true;
		return (0);
	}
	rc = users_read(sup->users.dirfd, sup->users.name, sup->cfg->users,
	    out, err, errlen);
	if (rc == -1 && errno == EACCES)
		snprintf(err + strlen(err), errlen - strlen(err), " (the service "
		    "user must be able to search the file's directory: chmod "
		    "o+x it)");
	if (rc == -1)
		return (-1);
	*missing = rc == 1;
	if (sup->users.hashes && (*api_fd = users_memfd(*out, why,
	    sizeof(why))) == -1) {
		snprintf(err, errlen, "%s", why);
		users_free(*out);
		*out = NULL;
		return (-1);
	}
	users_strip(*out);
	return (0);
}

static void
userfile_log_loaded(const struct sup *sup)
{
	if (sup->users.missing)
		log_info("users file %s: none; every session gets its groups "
		    "from its listener, its certificate's O/OU ([auth] "
		    "ou_groups) or __ANON__", sup->cfg->users);
	else
		log_info("users file %s: generation %u in force, %zu users, "
		    "%zu groups", sup->cfg->users, sup->users.generation,
		    users_count(sup->users.set),
		    users_group_count(sup->users.set));
}

/*
 * Whether the service user (ids) may look up names in the directory dirfd:
 * takd re-reads the file there after dropping root.  Its one group is gid.
 */
static bool
userfile_dir_searchable(int dirfd, const struct privdrop_ids *ids,
    struct stat *st)
{
	if (fstat(dirfd, st) == -1)
		return (true);	/* the read below says what is wrong */
	if (st->st_uid == ids->uid)
		return ((st->st_mode & S_IXUSR) != 0);
	if (st->st_gid == ids->gid)
		return ((st->st_mode & S_IXGRP) != 0);
	return ((st->st_mode & S_IXOTH) != 0);
}

/*
 * Started as root: a file takd could not read again at a reload is refused
 * now, rather than at the first reload; with no file yet, a warning.
 */
static int
userfile_check_dir(struct sup *sup, const struct privdrop_ids *ids,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		 dir[PATH_MAX], base[PATH_MAX], msg[2 * PATH_MAX + 256];

	if (ids == NULL || sup->users.dirfd < 0 ||
	    userfile_dir_searchable(sup->users.dirfd, ids, &st))
		return (0);
	(void)trust_split(sup->cfg->users, dir, base);
	snprintf(msg, sizeof(msg), "its directory %s (mode %04o, group %u) "
	    "is not searchable by the service user, who reads the file again "
	    "at every reload: chmod o+x %s (or give it the service user's "
	    "group with g+x)", dir, (unsigned)(st.st_mode & 07777),
	    (unsigned)st.st_gid, dir);
	if (!sup->users.missing) {
		snprintf(err, errlen, "[auth] users %s: %s", sup->cfg->users,
		    msg);
		return (-1);
	}
	log_warnx("[auth] users %s: no file yet, and %s", sup->cfg->users,
	    msg);
	return (0);
}

int
userfile_init(struct sup *sup, const struct privdrop_ids *ids, char *err,
    size_t errlen)
{
	char	 why[512];

	sup->users.dirfd = -1;
	sup->users.api_fd = -1;
	/* HTTP Basic on 8446, the console's login form on 8443. */
	sup->users.hashes = api_proc_enrolls(sup->cfg) ||
	    api_proc_console_login(sup->cfg);
	if (userfile_read(sup, &sup->users.set, &sup->users.missing,
	    &sup->users.api_fd, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "[auth] users: %s", why);
		return (-1);
	}
	if (userfile_check_dir(sup, ids, err, errlen) == -1)
		return (-1);
	sup->users.generation = 1;
	sup->users.loaded_at = time(NULL);
	userfile_log_loaded(sup);
	return (0);
}

int
userfile_reload(struct sup *sup, char *err, size_t errlen)
{
	struct users	*set = NULL;
	bool		 missing = false;
	char		 why[512];
	int		 api_fd = -1;

	if (userfile_read(sup, &set, &missing, &api_fd, why,
	    sizeof(why)) == 0 && missing && !sup->users.missing) {
		/*
		 * A file removed by mistake would put every user in __ANON__ at
		 * the next connect, which may see more than its groups did.
		 */
		users_free(set);
		if (api_fd != -1)
			close(api_fd);
		snprintf(why, sizeof(why), "%.400s: no longer there (to take every "
		    "user away, leave a file without users)", sup->cfg->users);
		set = NULL;
	}
	if (set == NULL) {
		snprintf(err, errlen, "users file refused, generation %u "
		    "stays in force: %s", sup->users.generation, why);
		log_warnx("%s", err);
		snprintf(sup->users.last_error, sizeof(sup->users.last_error),
		    "%s", why);
		sup->users.last_error_at = time(NULL);
		return (-1);
	}
	users_free(sup->users.set);
	sup->users.set = set;
	if (sup->users.api_fd != -1)
		close(sup->users.api_fd);
	sup->users.api_fd = api_fd;
	sup->users.missing = missing;
	sup->users.generation++;
	sup->users.loaded_at = time(NULL);
	sup->users.last_error[0] = '\0';
	sup->users.last_error_at = 0;
	userfile_log_loaded(sup);
	return (0);
}

int
userfile_memfd(struct sup *sup)
{
	char	 err[256];
	int	 fd;

	if ((fd = users_memfd(sup->users.set, err, sizeof(err))) == -1)
		log_warnx("users generation %u: %s", sup->users.generation,
		    err);
	return (fd);
}

int
userfile_api_fd(const struct sup *sup, int fd)
{
	return (sup->users.api_fd != -1 ? sup->users.api_fd : fd);
}

void
userfile_cleanup(struct sup *sup)
{
	users_free(sup->users.set);
	sup->users.set = NULL;
	if (sup->users.api_fd != -1)
		close(sup->users.api_fd);
	sup->users.api_fd = -1;
	if (sup->users.dirfd >= 0)
		close(sup->users.dirfd);
	sup->users.dirfd = -1;
}
