/*
 * The users file in the supervisor: see userfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/trust.h"
#include "shared/users.h"
#include "supervisor/userfile.h"

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
		snprintf(err, errlen, "%s: not a file name", sup->cfg->users);
		errno = EINVAL;
		return (-1);
	}
	if ((sup->users.dirfd = trust_dir_open(dir, 0, 0, why,
	    sizeof(why))) == -1) {
		snprintf(err, errlen, "%s: its directory: %s", sup->cfg->users,
		    why);
		return (-1);
	}
	return (0);
}

/* Read the file: a checked set without hashes in *out, or -1 with err. */
static int
userfile_read(struct sup *sup, struct users **out, bool *missing, char *err,
    size_t errlen)
{
	int	 rc;

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
	if (rc == -1)
		return (-1);
	*missing = rc == 1;
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

int
userfile_init(struct sup *sup, char *err, size_t errlen)
{
	char	 why[512];

	sup->users.dirfd = -1;
	if (userfile_read(sup, &sup->users.set, &sup->users.missing, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "[auth] users: %s", why);
		return (-1);
	}
	sup->users.generation = 1;
	sup->users.loaded_at = time(NULL);
	userfile_log_loaded(sup);
	return (0);
}

int
userfile_reload(struct sup *sup, char *err, size_t errlen)
{
	struct users	*set;
	bool		 missing;
	char		 why[512];

	if (userfile_read(sup, &set, &missing, why, sizeof(why)) == -1) {
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

void
userfile_cleanup(struct sup *sup)
{
	users_free(sup->users.set);
	sup->users.set = NULL;
	if (sup->users.dirfd >= 0)
		close(sup->users.dirfd);
	sup->users.dirfd = -1;
}
