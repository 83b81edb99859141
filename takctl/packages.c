/*
 * takctl packages: the data package store ([api] packages_dir,
 * docs/datapackages.md), read and cleaned in place.
 *
 *	takctl packages list [--json]
 *	takctl packages rm HASH
 *	takctl packages gc [--json]
 *
 * The store belongs to the service user the api process runs as.  LMDB
 * creates lock.mdb on any open, even a read-only one, and a file takctl
 * (root) made there would lock the api process out of its own store.  So
 * takctl opens it as the owner of packages_dir: it takes that user's ids
 * for good (this command does nothing else), and refuses a store that does
 * not exist yet rather than make one: the api process creates it.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/json.h"
#include "shared/log.h"
#include "shared/pkgstore.h"
#include "takctl/report.h"
#include "takctl/takctl.h"

static const struct report_col pkg_cols[] = {
	{ "hash",	"HASH",		64 },
	{ "name",	"NAME",		24 },
	{ "size",	"BYTES",	10 },
	{ "user",	"USER",		12 },
	{ "groups",	"GROUPS",	16 },
	{ "tool",	"TOOL",		7 },
	{ "submitted",	"SUBMITTED",	0 },
};

/* Become the owner of dir (root only; nothing to do for root's own). */
static int
packages_become_owner(const char *dir)
{
	struct stat	 st;
	int		 fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			takctl_warnx("%s: no package store yet (the api process "
			    "creates it when it starts with [api] enabled)",
			    dir);
		else
			takctl_warnx("%s: %s", dir, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		takctl_warnx("%s: %s", dir, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	if (geteuid() != 0 || st.st_uid == 0)
		return (0);	/* pkgstore_open() checks we own it */
	if (setgroups(1, &st.st_gid) == -1 ||
	    setresgid(st.st_gid, st.st_gid, st.st_gid) == -1 ||
	    setresuid(st.st_uid, st.st_uid, st.st_uid) == -1 ||
	    geteuid() != st.st_uid) {
		takctl_warnx("%s: cannot become its owner (uid %u): %s", dir,
		    (unsigned)st.st_uid, strerror(errno));
		return (-1);
	}
	return (0);
}

static struct pkgstore *
packages_open(struct config *c, bool write)
{
	struct pkgstore	*s;
	char		 err[PATH_MAX + 256];

	if (packages_become_owner(c->api_packages_dir) == -1)
		return (NULL);
	s = pkgstore_open(c->api_packages_dir, write ? PKGSTORE_NOCREATE :
	    PKGSTORE_RDONLY, err, sizeof(err));
	if (s == NULL)
		takctl_warnx("%s", err);
	return (s);
}

static void
json_time_ms(struct json *j, int64_t ms)
{
	json_time(j, (time_t)(ms / 1000));
}

static int
packages_put(const struct pkg_meta *m, void *arg)
{
	struct json	*j = arg;

	json_obj_begin(j);
	json_kv_str(j, "hash", m->hash);
	json_kv_str(j, "name", m->name);
	json_kv_uint(j, "size", m->size);
	json_kv_str(j, "mime", m->mime);
	json_kv_str(j, "keywords", m->keywords);
	json_kv_str(j, "creator_uid", m->creator_uid);
	json_kv_str(j, "user", m->user);
	json_kv_str(j, "groups", m->groups);
	json_kv_str(j, "tool", m->public ? "public" : "private");
	json_key(j, "submitted");
	json_time_ms(j, m->submitted_ms);
	json_kv_int(j, "submitted_ms", m->submitted_ms);
	json_obj_end(j);
	return (0);
}

static int
packages_list(struct config *c, bool json)
{
	struct pkgstore	*s;
	struct json	 j;
	uint64_t	 bytes, count;
	int		 rc = TAKCTL_EX_FAIL;

	if ((s = packages_open(c, false)) == NULL)
		return (TAKCTL_EX_FAIL);
	pkgstore_usage(s, &bytes, &count);
	json_init(&j);
	if (json) {
		json_obj_begin(&j);
		json_kv_str(&j, "dir", c->api_packages_dir);
		json_kv_uint(&j, "bytes", bytes);
		json_kv_uint(&j, "count", count);
		json_kv_uint(&j, "quota", c->api_quota);
		json_kv_uint(&j, "user_quota", c->api_user_quota);
		json_key(&j, "packages");
	}
	json_arr_begin(&j);
	if (pkgstore_foreach(s, packages_put, &j) == -1) {
		takctl_warnx("%s: cannot read the package records",
		    c->api_packages_dir);
		goto done;
	}
	json_arr_end(&j);
	if (json)
		json_obj_end(&j);
	if (j.err != 0) {
		takctl_warnx("out of memory");
		goto done;
	}
	if (json) {
		printf("%.*s\n", (int)j.len, j.buf);
		rc = TAKCTL_EX_OK;
		goto done;
	}
	rc = report_table(j.buf, j.len, pkg_cols,
	    sizeof(pkg_cols) / sizeof(pkg_cols[0]), "package", "packages", "");
	printf("%llu bytes stored (quota %llu, per user %llu; 0: none)\n",
	    (unsigned long long)bytes, (unsigned long long)c->api_quota,
	    (unsigned long long)c->api_user_quota);
 done:
	json_free(&j);
	pkgstore_close(s);
	return (rc);
}

static int
packages_rm(struct config *c, const char *hash)
{
	struct pkgstore	*s;
	struct pkg_meta	 m;
	int		 rc;

	if (!pkgstore_hash_ok(hash)) {
		takctl_warnx("packages rm: \"%.80s\" is not a SHA-256 (64 hex "
		    "digits)", hash);
		return (TAKCTL_EX_USAGE);
	}
	if ((s = packages_open(c, true)) == NULL)
		return (TAKCTL_EX_FAIL);
	if ((rc = pkgstore_get(s, hash, &m)) == 0)
		rc = pkgstore_delete(s, hash);
	pkgstore_close(s);
	if (rc != 0) {
		takctl_warnx("packages rm %s: %s", hash, pkgstore_strerror(rc));
		return (TAKCTL_EX_FAIL);
	}
	printf("%s removed (\"%s\", %llu bytes)\n", m.hash, m.name,
	    (unsigned long long)m.size);
	return (TAKCTL_EX_OK);
}

static int
packages_gc(struct config *c, bool json)
{
	struct pkgstore			*s;
	struct pkgstore_gc_report	 r;
	struct json			 j;
	int				 rc;

	if ((s = packages_open(c, true)) == NULL)
		return (TAKCTL_EX_FAIL);
	rc = pkgstore_gc(s, &r);
	pkgstore_close(s);
	if (rc != 0) {
		takctl_warnx("packages gc: %s: failed (see the lines above)",
		    c->api_packages_dir);
		return (TAKCTL_EX_FAIL);
	}
	if (!json) {
		printf("removed: %llu files without a record (%llu bytes), "
		    "%llu records without a file, %llu stale temp files, "
		    "%llu foreign entries\n",
		    (unsigned long long)r.orphan_files,
		    (unsigned long long)r.orphan_bytes,
		    (unsigned long long)r.orphan_records,
		    (unsigned long long)r.stale_tmp,
		    (unsigned long long)r.foreign);
		return (TAKCTL_EX_OK);
	}
	json_init(&j);
	json_obj_begin(&j);
	json_kv_uint(&j, "orphan_files", r.orphan_files);
	json_kv_uint(&j, "orphan_bytes", r.orphan_bytes);
	json_kv_uint(&j, "orphan_records", r.orphan_records);
	json_kv_uint(&j, "stale_tmp", r.stale_tmp);
	json_kv_uint(&j, "foreign", r.foreign);
	json_obj_end(&j);
	rc = j.err != 0 ? TAKCTL_EX_FAIL : TAKCTL_EX_OK;
	if (rc == TAKCTL_EX_OK)
		printf("%.*s\n", (int)j.len, j.buf);
	json_free(&j);
	return (rc);
}

int
cmd_packages(struct config *c, int argc, char **argv)
{
	bool	 json = argc == 3 && strcmp(argv[2], "--json") == 0;

	/* The store's warnings (what gc removed, a damaged record) only. */
	log_setlevel(LOG_WARNING);
	log_procinit("takctl");
	if (argc >= 2 && strcmp(argv[1], "list") == 0 &&
	    (argc == 2 || json))
		return (packages_list(c, json));
	if (argc == 3 && strcmp(argv[1], "rm") == 0)
		return (packages_rm(c, argv[2]));
	if (argc >= 2 && strcmp(argv[1], "gc") == 0 && (argc == 2 || json))
		return (packages_gc(c, json));
	takctl_warnx("usage: takctl packages list [--json] | packages rm HASH "
	    "| packages gc [--json]");
	return (TAKCTL_EX_USAGE);
}
