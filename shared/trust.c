/*
 * Paths that root may trust: see trust.h and docs/security.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/trust.h"

/* Besides root; unset (takctl): whoever runs us, looked up each time. */
static uid_t	 trust_owner = (uid_t)-1;

void
trust_set_owner(uid_t uid)
{
	trust_owner = uid;
}

uid_t
trust_get_owner(void)
{
	return (trust_owner == (uid_t)-1 ? geteuid() : trust_owner);
}

static const char *
trust_user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	return (buf);
}

static int
trust_owner_ok(uid_t uid)
{
	return (uid == 0 || uid == trust_get_owner());
}

int
trust_stat_check(const struct stat *st, const char *path, char *err,
    size_t errlen)
{
	char	 who[96], want[96];
	uid_t	 owner = trust_get_owner();

	if (!trust_owner_ok(st->st_uid)) {
		if (owner == 0)
			snprintf(want, sizeof(want), "root");
		else
			trust_user_name(owner, want, sizeof(want));
		snprintf(err, errlen, "%s is owned by %s: it must be %s's, "
		    "since whoever owns it can change what takd trusts "
		    "(chown %s %s)", path, trust_user_name(st->st_uid, who,
		    sizeof(who)), want, owner == 0 ? "root:root" : "$USER",
		    path);
		errno = EPERM;
		return (-1);
	}
	/*
	 * Writable by others: refused, but for a sticky directory of root's
	 * (/tmp), where nobody can rename or remove what is not theirs.  A
	 * group may write only when it is root's own.
	 */
	if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && st->st_uid == 0)
		return (0);
	if ((st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) &&
	    st->st_gid != 0)) {
		snprintf(err, errlen, "%s is writable by %s (mode %04o): "
		    "takd trusts nothing another user may change (chmod go-w "
		    "%s)", path, (st->st_mode & S_IWOTH) ? "others" :
		    "its group", (unsigned)(st->st_mode & 07777), path);
		errno = EPERM;
		return (-1);
	}
	return (0);
}

int
trust_split(const char *path, char *dir, char *base)
{
	const char	*slash;

	if (strlen(path) >= PATH_MAX || path[0] == '\0')
		return (-1);
	if ((slash = strrchr(path, '/')) == NULL) {
		snprintf(dir, PATH_MAX, ".");
		snprintf(base, PATH_MAX, "%s", path);
	} else {
		snprintf(dir, PATH_MAX, "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
		snprintf(base, PATH_MAX, "%s", slash + 1);
	}
	return (base[0] == '\0' ? -1 : 0);
}

/* The walk's state: what is left to walk and what was walked. */
struct trust_walk {
	char	 rest[2 * PATH_MAX];
	char	 done[PATH_MAX];
	int	 fd;
	int	 links;
};

static int
trust_walk_root(struct trust_walk *w, char *err, size_t errlen)
{
	struct stat	 st;

	if (w->fd != -1)
		close(w->fd);
	snprintf(w->done, sizeof(w->done), "/");
	if ((w->fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(w->fd, &st) == -1) {
		snprintf(err, errlen, "/: %s", strerror(errno));
		return (-1);
	}
	return (trust_stat_check(&st, "/", err, errlen));
}

/* Append comp to the walked path (or go up one for ".."). */
static void
trust_walk_name(struct trust_walk *w, const char *comp)
{
	char	*slash;
	size_t	 len = strlen(w->done);

	if (strcmp(comp, "..") == 0) {
		if ((slash = strrchr(w->done, '/')) != NULL)
			slash[slash == w->done] = '\0';
		return;
	}
	snprintf(w->done + len, sizeof(w->done) - len, "%s%s",
	    len > 1 ? "/" : "", comp);
}

/* A link in a checked directory: walk its target, then what was left. */
static int
trust_walk_link(struct trust_walk *w, const char *comp, const char *left,
    char *err, size_t errlen)
{
	char		 target[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
	char		 tail[2 * PATH_MAX];
	struct stat	 st;
	ssize_t		 n;

	snprintf(path, sizeof(path), "%s%s%s", w->done,
	    strcmp(w->done, "/") == 0 ? "" : "/", comp);
	/* In a sticky directory, anyone may have made it: whose is it? */
	if (fstatat(w->fd, comp, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", path);
		return (-1);
	}
	if (!trust_owner_ok(st.st_uid))
		return (trust_stat_check(&st, path, err, errlen));
	if (++w->links > TRUST_LINKS_MAX) {
		snprintf(err, errlen, "%s: too many symbolic links", path);
		return (-1);
	}
	if ((n = readlinkat(w->fd, comp, target, sizeof(target) - 1)) <= 0) {
		snprintf(err, errlen, "%s: readlink: %s", path,
		    n == 0 ? "empty link" : strerror(errno));
		return (-1);
	}
	target[n] = '\0';
	snprintf(tail, sizeof(tail), "%s", left);
	if ((size_t)snprintf(w->rest, sizeof(w->rest), "%s/%s", target,
	    tail) >= sizeof(w->rest)) {
		snprintf(err, errlen, "%s: path too long", path);
		return (-1);
	}
	if (target[0] == '/')
		return (trust_walk_root(w, err, errlen));
	return (0);
}

/* Make a missing directory; the last one gets its mode exactly. */
static int
trust_walk_mkdir(struct trust_walk *w, const char *comp, mode_t mode,
    char *err, size_t errlen)
{
	int	 fd;

	if (mkdirat(w->fd, comp, mode) == -1) {
		if (errno == EEXIST)
			return (0);
		snprintf(err, errlen, "cannot create %s%s%s: %s", w->done,
		    strcmp(w->done, "/") == 0 ? "" : "/", comp,
		    strerror(errno));
		return (-1);
	}
	/* mkdir's mode went through the umask. */
	fd = openat(w->fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 || fchmod(fd, mode) == -1) {
		snprintf(err, errlen, "chmod %s/%s: %s", w->done, comp,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

int
trust_dir_open(const char *path, int flags, mode_t mode, char *err,
    size_t errlen)
{
	struct trust_walk	 w;
	struct stat		 st;
	char			 cwd[PATH_MAX], comp[NAME_MAX + 1];
	char			*p, *end;
	size_t			 len;
	int			 nfd, fd, last, saved;

	w.fd = -1;
	w.links = 0;
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			snprintf(err, errlen, "%s: getcwd: %s", path,
			    strerror(errno));
			return (-1);
		}
	} else
		cwd[0] = '\0';
	if ((size_t)snprintf(w.rest, sizeof(w.rest), "%s/%s", cwd, path) >=
	    sizeof(w.rest) || strlen(path) >= PATH_MAX) {
		snprintf(err, errlen, "%.64s...: path too long", path);
		return (-1);
	}
	if (trust_walk_root(&w, err, errlen) == -1)
		goto fail;
	p = w.rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, '/');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len > NAME_MAX) {
			snprintf(err, errlen, "%s: a name is too long", path);
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		if (strcmp(comp, ".") == 0)
			continue;
		for (last = 1, end = p; *end != '\0'; end++)
			if (*end != '/') {
				last = 0;
				break;
			}
		nfd = openat(w.fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd == -1 && errno == ENOENT && (flags & TRUST_CREATE)) {
			if (trust_walk_mkdir(&w, comp, last ? mode : 0755, err,
			    errlen) == -1)
				goto fail;
			nfd = openat(w.fd, comp, O_PATH | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd == -1 && (errno == ELOOP || errno == ENOTDIR)) {
			/* p moves into w.rest, which is rewritten: copy. */
			char	 left[2 * PATH_MAX];

			snprintf(left, sizeof(left), "%s", p);
			if (trust_walk_link(&w, comp, left, err, errlen) == -1)
				goto fail;
			p = w.rest;
			continue;
		}
		if (nfd == -1) {
			saved = errno;
			snprintf(err, errlen, "%s%s%s: %s", w.done,
			    strcmp(w.done, "/") == 0 ? "" : "/", comp,
			    saved == ENOENT ? "no such directory" :
			    strerror(saved));
			errno = saved;
			goto fail;
		}
		close(w.fd);
		w.fd = nfd;
		trust_walk_name(&w, comp);
		if (fstat(w.fd, &st) == -1) {
			snprintf(err, errlen, "%s: %s", w.done,
			    strerror(errno));
			goto fail;
		}
		if (trust_stat_check(&st, w.done, err, errlen) == -1)
			goto fail;
	}
	/* The walk holds O_PATH descriptors; the caller gets a real one. */
	fd = openat(w.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		snprintf(err, errlen, "%s: %s", w.done, strerror(errno));
	close(w.fd);
	return (fd);
 fail:
	saved = errno;
	if (w.fd != -1)
		close(w.fd);
	errno = saved;
	return (-1);
}
