/*
 * takctl user add | passwd | del | list | groups and takctl group list:
 * the users file ([auth] users; shared/users.h, docs/groups.md).
 *
 * A change reads the file under its directory's lock, changes it in memory
 * and writes it whole (user_file.c).  Bad input (names, groups, a user
 * that is or is not there) is refused before a password is asked or
 * anything written; a password is read (never from argv) and hashed before
 * the lock is taken.  takd takes the new file at `takctl reload`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "shared/json.h"
#include "shared/users.h"
#include "takctl/report.h"
#include "takctl/takctl.h"
#include "takctl/user.h"

#define USER_RELOAD_NOTE	"`takctl reload` puts the change in force"

enum {
	OPT_GROUPS = 256,
	OPT_IN,
	OPT_OUT,
	OPT_ROLE,
	OPT_NO_PASSWORD,
	OPT_JSON,
	OPT_HELP
};

/* What the options of one subcommand gave. */
struct user_args {
	struct users_group	 g[USERS_GROUPS_MAX];
	size_t			 n_groups;
	enum users_role		 role;
	bool			 no_password;
	bool			 json;
	char			**pos;
	int			 npos;
};

struct user_sub {
	const char		*name;
	int			(*fn)(struct config *, int, char **);
	const char		*usage;
	unsigned		 opts;	/* OPTBIT() of the options it takes */
	int			 npos;	/* positional arguments */
};

#define OPTBIT(o)	(1u << ((o) - OPT_GROUPS))

static const struct option user_opts[] = {
	{ "groups",	required_argument,	NULL, OPT_GROUPS },
	{ "in",		required_argument,	NULL, OPT_IN },
	{ "out",	required_argument,	NULL, OPT_OUT },
	{ "role",	required_argument,	NULL, OPT_ROLE },
	{ "no-password", no_argument,		NULL, OPT_NO_PASSWORD },
	{ "json",	no_argument,		NULL, OPT_JSON },
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ NULL,		0,			NULL, 0 }
};

static int	 user_usage(const struct user_sub *);

/*
 * Append the comma-separated groups of list with halves.  Names are checked
 * by users_put(); here only what does not fit.  -1 after a message.
 */
static int
user_args_groups(struct user_args *a, const char *list, unsigned halves)
{
	const char	*p = list, *comma;
	size_t		 len;

	if (*list == '\0')
		return (0);
	for (;;) {
		comma = strchr(p, ',');
		len = comma == NULL ? strlen(p) : (size_t)(comma - p);
		if (len >= USERS_NAME_MAX) {
			takctl_warnx("group \"%.*s...\": longer than %d bytes",
			    32, p, USERS_NAME_MAX - 1);
			return (-1);
		}
		if (a->n_groups == USERS_GROUPS_MAX) {
			takctl_warnx("more than %d groups", USERS_GROUPS_MAX);
			return (-1);
		}
		memcpy(a->g[a->n_groups].name, p, len);
		a->g[a->n_groups].name[len] = '\0';
		a->g[a->n_groups++].halves = halves;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return (0);
}

/*
 * The options of subcommand s (argv[0] its name).  0, 1 after --help, -1
 * after a usage error (64) or -2 after bad input (1), reported.
 */
static int
user_getopt(const struct user_sub *s, int argc, char **argv,
    struct user_args *a)
{
	int			 ch, idx;

	memset(a, 0, sizeof(*a));
	a->role = USERS_ROLE_USER;
	optind = 0;	/* glibc: full re-initialisation */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", user_opts, &idx)) != -1) {
		if (ch == OPT_HELP) {
			takctl_help();
			return (1);
		}
		if (ch == ':') {
			takctl_warnx("%s: %s needs a value", s->name,
			    argv[optind - 1]);
			return (-1);
		}
		if (ch < OPT_GROUPS || ch >= OPT_HELP ||
		    !(s->opts & OPTBIT(ch))) {
			takctl_warnx("%s: unknown option \"%s\"", s->name,
			    argv[optind - 1]);
			return (-1);
		}
		switch (ch) {
		case OPT_GROUPS:
			if (user_args_groups(a, optarg, USERS_IN |
			    USERS_OUT) == -1)
				return (-2);
			break;
		case OPT_IN:
			if (user_args_groups(a, optarg, USERS_IN) == -1)
				return (-2);
			break;
		case OPT_OUT:
			if (user_args_groups(a, optarg, USERS_OUT) == -1)
				return (-2);
			break;
		case OPT_ROLE:
			if (strcmp(optarg, "admin") == 0)
				a->role = USERS_ROLE_ADMIN;
			else if (strcmp(optarg, "user") == 0)
				a->role = USERS_ROLE_USER;
			else {
				takctl_warnx("--role: \"%s\": expected admin "
				    "or user", optarg);
				return (-1);
			}
			break;
		case OPT_NO_PASSWORD:
			a->no_password = true;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		}
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	if (a->npos != s->npos) {
		takctl_warnx("%s: expected %d argument%s, got %d", s->name,
		    s->npos, s->npos == 1 ? "" : "s", a->npos);
		return (-1);
	}
	return (0);
}

/*
 * Run getopt: 0 to go on, else the command is over: -1 after --help (exit
 * 0), or the exit status of an error.
 */
static int
user_args(const struct user_sub *s, int argc, char **argv,
    struct user_args *a)
{
	switch (user_getopt(s, argc, argv, a)) {
	case 0:
		return (0);
	case 1:
		return (-1);
	case -2:
		return (TAKCTL_EX_FAIL);
	default:
		return (user_usage(s));
	}
}

/*
 * Check u as the file would take it (names, hash, groups, duplicates)
 * before a password is asked or a lock taken.  -1 after a message.
 */
static int
user_check(const struct users_user *u)
{
	struct users	*scratch;
	char		 err[1024];
	int		 rc;

	if ((scratch = users_new()) == NULL) {
		takctl_warnx("out of memory");
		return (-1);
	}
	if ((rc = users_put(scratch, u, err, sizeof(err))) == -1)
		takctl_warnx("%s", err);
	users_free(scratch);
	return (rc);
}

static void
user_groups_text(const struct users_user *u, char *buf, size_t len)
{
	size_t	 i, o = 0;
	int	 n;

	buf[0] = '\0';
	for (i = 0; i < u->n_groups && o < len; i++) {
		n = snprintf(buf + o, len - o, "%s%s%s", i > 0 ? ", " : "",
		    u->groups[i].name, u->groups[i].halves == USERS_IN ?
		    " (in)" : u->groups[i].halves == USERS_OUT ? " (out)" : "");
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void
user_print_done(const struct config *cfg, const char *what,
    const struct users_user *u)
{
	char	 g[USERS_GROUPS_MAX * (USERS_NAME_MAX + 8)];

	if (u == NULL) {
		printf("%s: %s\n", cfg->users, what);
	} else {
		user_groups_text(u, g, sizeof(g));
		printf("%s: %s %s (%s; groups: %s; %s)\n", cfg->users, what,
		    u->name, users_role_name(u->role), g[0] == '\0' ?
		    "none" : g, users_has_password(u) ? "password set" :
		    "no password: certificate only");
	}
	printf("%s\n", USER_RELOAD_NOTE);
}

/* --- user add | passwd | del | groups ------------------------------- */

static int	 user_cmd_add(struct config *, int, char **);
static int	 user_cmd_passwd(struct config *, int, char **);
static int	 user_cmd_del(struct config *, int, char **);
static int	 user_cmd_groups(struct config *, int, char **);
static int	 user_cmd_list(struct config *, int, char **);
static int	 user_cmd_import(struct config *, int, char **);

static const struct user_sub user_subs[] = {
	{ "add", user_cmd_add, "NAME [--groups G1,G2] [--in G,...] "
	    "[--out G,...] [--role admin|user] [--no-password]",
	    OPTBIT(OPT_GROUPS) | OPTBIT(OPT_IN) | OPTBIT(OPT_OUT) |
	    OPTBIT(OPT_ROLE) | OPTBIT(OPT_NO_PASSWORD), 1 },
	{ "passwd", user_cmd_passwd, "NAME [--no-password]",
	    OPTBIT(OPT_NO_PASSWORD), 1 },
	{ "del", user_cmd_del, "NAME", 0, 1 },
	{ "list", user_cmd_list, "[--json]", OPTBIT(OPT_JSON), 0 },
	{ "groups", user_cmd_groups, "NAME G1[,G2...] [--in G,...] "
	    "[--out G,...]", OPTBIT(OPT_IN) | OPTBIT(OPT_OUT), 2 },
	{ "import-tak", user_cmd_import, "FILE", 0, 1 },
};

static int
user_usage(const struct user_sub *s)
{
	fprintf(stderr, "usage: takctl %s%s %s\n", s->fn == NULL ? "" :
	    "user ", s->name, s->usage);
	fprintf(stderr, "(takctl -h lists every command)\n");
	return (TAKCTL_EX_USAGE);
}

/*
 * The user called name from the locked file, copied into u (its groups
 * into g).  -1 after a message when there is none.
 */
static int
user_copy(struct users_txn *t, const char *name, struct users_user *u,
    struct users_group *g)
{
	const struct users_user	*cur;

	if ((cur = users_find(t->us, name)) == NULL) {
		takctl_warnx("no user \"%s\" in %s; nothing changed", name,
		    t->path);
		return (-1);
	}
	*u = *cur;
	if (cur->n_groups > 0)
		memcpy(g, cur->groups, cur->n_groups * sizeof(*g));
	u->groups = g;
	return (0);
}

/* Put u and write the file; the exit status. */
static int
user_put_commit(struct config *cfg, struct users_txn *t,
    const struct users_user *u, const char *what)
{
	char	 err[1024];

	if (users_put(t->us, u, err, sizeof(err)) == -1) {
		takctl_warnx("%s; nothing changed", err);
		return (TAKCTL_EX_FAIL);
	}
	if (user_commit(cfg, t) == -1)
		return (TAKCTL_EX_FAIL);
	user_print_done(cfg, what, users_find(t->us, u->name));
	return (TAKCTL_EX_OK);
}

/* Whether name is in the file already, before any password is asked. */
static int
user_exists(struct config *cfg, const char *name, bool *exists)
{
	struct users_txn	 t;

	if (user_begin(cfg, &t, false) == -1)
		return (-1);
	*exists = users_find(t.us, name) != NULL;
	user_end(&t);
	return (0);
}

static int
user_cmd_add(struct config *cfg, int argc, char **argv)
{
	struct user_args	 a;
	struct users_user	 u;
	struct users_txn		 t;
	bool			 exists;
	int			 rc;

	if ((rc = user_args(&user_subs[0], argc, argv, &a)) != 0)
		return (rc < 0 ? TAKCTL_EX_OK : rc);
	memset(&u, 0, sizeof(u));
	if (strlen(a.pos[0]) >= sizeof(u.name)) {
		takctl_warnx("user name \"%.32s...\": longer than %d bytes",
		    a.pos[0], USERS_NAME_MAX - 1);
		return (TAKCTL_EX_FAIL);
	}
	snprintf(u.name, sizeof(u.name), "%s", a.pos[0]);
	snprintf(u.hash, sizeof(u.hash), "!");
	u.role = a.role;
	u.n_groups = a.n_groups;
	u.groups = a.g;
	if (user_check(&u) == -1)
		return (TAKCTL_EX_FAIL);
	if (user_exists(cfg, u.name, &exists) == -1)
		return (TAKCTL_EX_FAIL);
	if (exists) {
		takctl_warnx("user \"%s\" exists; change it with takctl user "
		    "passwd or takctl user groups", u.name);
		return (TAKCTL_EX_FAIL);
	}
	if (!a.no_password && user_password(u.name, u.hash,
	    sizeof(u.hash)) == -1)
		return (TAKCTL_EX_FAIL);
	rc = TAKCTL_EX_FAIL;
	if (user_begin(cfg, &t, true) == -1)
		goto done;
	/* Another takctl may have added it since we looked. */
	if (users_find(t.us, u.name) != NULL) {
		takctl_warnx("user \"%s\" exists; nothing changed", u.name);
		goto done;
	}
	rc = user_put_commit(cfg, &t, &u, "added");
 done:
	user_end(&t);
	OPENSSL_cleanse(u.hash, sizeof(u.hash));
	return (rc);
}

static int
user_cmd_passwd(struct config *cfg, int argc, char **argv)
{
	struct users_group	 g[USERS_GROUPS_MAX];
	struct user_args	 a;
	struct users_user	 u;
	struct users_txn		 t;
	char			 hash[USERS_HASH_MAX];
	bool			 exists;
	int			 rc;

	memset(&u, 0, sizeof(u));
	if ((rc = user_args(&user_subs[1], argc, argv, &a)) != 0)
		return (rc < 0 ? TAKCTL_EX_OK : rc);
	if (user_exists(cfg, a.pos[0], &exists) == -1)
		return (TAKCTL_EX_FAIL);
	if (!exists) {
		takctl_warnx("no user \"%s\" in %s", a.pos[0], cfg->users);
		return (TAKCTL_EX_FAIL);
	}
	snprintf(hash, sizeof(hash), "!");
	if (!a.no_password && user_password(a.pos[0], hash,
	    sizeof(hash)) == -1)
		return (TAKCTL_EX_FAIL);
	rc = TAKCTL_EX_FAIL;
	if (user_begin(cfg, &t, true) == -1 ||
	    user_copy(&t, a.pos[0], &u, g) == -1)
		goto done;
	memcpy(u.hash, hash, sizeof(hash));
	rc = user_put_commit(cfg, &t, &u, a.no_password ?
	    "removed the password of" : "set the password of");
 done:
	user_end(&t);
	OPENSSL_cleanse(hash, sizeof(hash));
	OPENSSL_cleanse(u.hash, sizeof(u.hash));
	return (rc);
}

static int
user_cmd_del(struct config *cfg, int argc, char **argv)
{
	struct user_args	 a;
	struct users_txn		 t;
	char			 err[1024], what[USERS_NAME_MAX + 32];
	int			 rc;

	if ((rc = user_args(&user_subs[2], argc, argv, &a)) != 0)
		return (rc < 0 ? TAKCTL_EX_OK : rc);
	rc = TAKCTL_EX_FAIL;
	if (user_begin(cfg, &t, true) == -1)
		goto done;
	if (users_del(t.us, a.pos[0], err, sizeof(err)) == -1) {
		takctl_warnx("%s in %s; nothing changed", err, cfg->users);
		goto done;
	}
	if (user_commit(cfg, &t) == -1)
		goto done;
	snprintf(what, sizeof(what), "deleted user %s", a.pos[0]);
	user_print_done(cfg, what, NULL);
	rc = TAKCTL_EX_OK;
 done:
	user_end(&t);
	return (rc);
}

static int
user_cmd_groups(struct config *cfg, int argc, char **argv)
{
	struct users_group	 g[USERS_GROUPS_MAX];
	struct user_args	 a, both;
	struct users_user	 u;
	struct users_txn		 t;
	size_t			 i;
	int			 rc;

	if ((rc = user_args(&user_subs[4], argc, argv, &a)) != 0)
		return (rc < 0 ? TAKCTL_EX_OK : rc);
	/* The list (may be "") first, then --in and --out. */
	memset(&both, 0, sizeof(both));
	if (user_args_groups(&both, a.pos[1], USERS_IN | USERS_OUT) == -1)
		return (TAKCTL_EX_FAIL);
	for (i = 0; i < a.n_groups; i++) {
		if (both.n_groups == USERS_GROUPS_MAX) {
			takctl_warnx("more than %d groups", USERS_GROUPS_MAX);
			return (TAKCTL_EX_FAIL);
		}
		both.g[both.n_groups++] = a.g[i];
	}
	memset(&u, 0, sizeof(u));
	if (strlen(a.pos[0]) >= sizeof(u.name)) {
		takctl_warnx("no user \"%.32s...\" in %s", a.pos[0],
		    cfg->users);
		return (TAKCTL_EX_FAIL);
	}
	snprintf(u.name, sizeof(u.name), "%s", a.pos[0]);
	u.n_groups = both.n_groups;
	u.groups = both.g;
	if (user_check(&u) == -1)
		return (TAKCTL_EX_FAIL);
	rc = TAKCTL_EX_FAIL;
	if (user_begin(cfg, &t, true) == -1 ||
	    user_copy(&t, a.pos[0], &u, g) == -1)
		goto done;
	u.n_groups = both.n_groups;
	u.groups = both.g;
	rc = user_put_commit(cfg, &t, &u, "set the groups of");
 done:
	user_end(&t);
	OPENSSL_cleanse(u.hash, sizeof(u.hash));
	return (rc);
}

/* --- user list, group list ------------------------------------------ */

static const struct report_col user_cols[] = {
	{ "name",	"USER",		20 },
	{ "role",	"ROLE",		5 },
	{ "password",	"PASSWORD",	8 },
	{ "groups",	"GROUPS",	0 },
};

static void
user_json_halves(struct json *j, unsigned halves)
{
	json_kv_bool(j, "in", (halves & USERS_IN) != 0);
	json_kv_bool(j, "out", (halves & USERS_OUT) != 0);
}

/* Print j's buffer (a JSON array) as JSON, or as a table. */
static int
user_print(struct json *j, bool json, const struct report_col *cols,
    size_t ncols, const char *one, const char *many, const char *suffix)
{
	int	 rc;

	if (j->err) {
		takctl_warnx("out of memory");
		return (TAKCTL_EX_FAIL);
	}
	if (json) {
		fwrite(j->buf, 1, j->len, stdout);
		putchar('\n');
		rc = TAKCTL_EX_OK;
	} else
		rc = report_table(j->buf, j->len, cols, ncols, one, many,
		    suffix);
	if (fflush(stdout) == EOF) {
		takctl_warnx("writing the list failed");
		rc = TAKCTL_EX_FAIL;
	}
	return (rc);
}

static int
user_cmd_list(struct config *cfg, int argc, char **argv)
{
	char			 g[USERS_GROUPS_MAX * (USERS_NAME_MAX + 8)];
	const struct users_user	*u;
	struct user_args	 a;
	struct users_txn		 t;
	struct json		 j;
	size_t			 i, k;
	int			 rc;

	if ((rc = user_args(&user_subs[3], argc, argv, &a)) != 0)
		return (rc < 0 ? TAKCTL_EX_OK : rc);
	if (user_begin(cfg, &t, false) == -1)
		return (TAKCTL_EX_FAIL);
	json_init(&j);
	json_arr_begin(&j);
	for (i = 0; i < users_count(t.us); i++) {
		u = users_get(t.us, i);
		json_obj_begin(&j);
		json_kv_str(&j, "name", u->name);
		json_kv_str(&j, "role", users_role_name(u->role));
		if (a.json) {
			/* Whether one is set: never the hash. */
			json_kv_bool(&j, "password", users_has_password(u));
			json_key(&j, "groups");
			json_arr_begin(&j);
			for (k = 0; k < u->n_groups; k++) {
				json_obj_begin(&j);
				json_kv_str(&j, "name", u->groups[k].name);
				user_json_halves(&j, u->groups[k].halves);
				json_obj_end(&j);
			}
			json_arr_end(&j);
		} else {
			user_groups_text(u, g, sizeof(g));
			json_kv_str(&j, "password", users_has_password(u) ?
			    "yes" : "no");
			json_kv_str(&j, "groups", g);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	rc = user_print(&j, a.json, user_cols, sizeof(user_cols) /
	    sizeof(user_cols[0]), "user", "users", "");
	json_free(&j);
	user_end(&t);
	return (rc);
}

static int
user_cmd_import(struct config *cfg, int argc, char **argv)
{
	struct user_args	 a;
	int			 rc;

	if ((rc = user_args(&user_subs[5], argc, argv, &a)) != 0)
		return (rc < 0 ? TAKCTL_EX_OK : rc);
	return (user_import_tak(cfg, a.pos[0]));
}

int
cmd_user(struct config *cfg, int argc, char **argv)
{
	size_t	 i;

	if (argc < 2) {
		takctl_warnx("user needs a subcommand");
		return (takctl_usage());
	}
	for (i = 0; i < sizeof(user_subs) / sizeof(user_subs[0]); i++)
		if (strcmp(argv[1], user_subs[i].name) == 0)
			return (user_subs[i].fn(cfg, argc - 1, argv + 1));
	takctl_warnx("unknown user subcommand \"%s\"", argv[1]);
	return (takctl_usage());
}

/* One member of a group: a user and its halves. */
struct user_member {
	size_t		 user;
	unsigned	 halves;
};

static const struct report_col group_cols[] = {
	{ "name",	"GROUP",	20 },
	{ "members",	"MEMBERS",	0 },
};

static const struct user_sub group_list_sub = {
	"group list", NULL, "[--json]", OPTBIT(OPT_JSON), 0
};

int
cmd_group(struct config *cfg, int argc, char **argv)
{
	const struct users_user	*u;
	struct user_member	*m = NULL;
	struct user_args	 a;
	struct users_txn		 t;
	struct json		 j;
	size_t			*start = NULL, *fill = NULL, ng, i, k, total;
	char			*cell = NULL;
	size_t			 cell_len;
	FILE			*mem = NULL;
	long			 gi;
	int			 rc;

	if (argc < 2) {
		takctl_warnx("group needs a subcommand");
		return (takctl_usage());
	}
	if (strcmp(argv[1], "list") != 0) {
		takctl_warnx("unknown group subcommand \"%s\"", argv[1]);
		return (takctl_usage());
	}
	if ((rc = user_args(&group_list_sub, argc - 1, argv + 1, &a)) != 0)
		return (rc < 0 ? TAKCTL_EX_OK : rc);
	if (user_begin(cfg, &t, false) == -1)
		return (TAKCTL_EX_FAIL);
	rc = TAKCTL_EX_FAIL;
	json_init(&j);
	/* Members by group: counted, then placed (users in name order). */
	ng = users_group_count(t.us);
	for (i = 0, total = 0; i < users_count(t.us); i++)
		total += users_get(t.us, i)->n_groups;
	if ((start = calloc(ng + 1, sizeof(*start))) == NULL ||
	    (fill = calloc(ng + 1, sizeof(*fill))) == NULL ||
	    (m = calloc(total + 1, sizeof(*m))) == NULL) {
		takctl_warnx("out of memory");
		goto done;
	}
	for (i = 0; i < users_count(t.us); i++) {
		u = users_get(t.us, i);
		for (k = 0; k < u->n_groups; k++)
			start[users_group_index(t.us, u->groups[k].name) + 1]++;
	}
	for (i = 0; i < ng; i++)
		start[i + 1] += start[i];
	for (i = 0; i < users_count(t.us); i++) {
		u = users_get(t.us, i);
		for (k = 0; k < u->n_groups; k++) {
			gi = users_group_index(t.us, u->groups[k].name);
			m[start[gi] + fill[gi]].user = i;
			m[start[gi] + fill[gi]++].halves =
			    u->groups[k].halves;
		}
	}
	json_arr_begin(&j);
	for (i = 0; i < ng; i++) {
		json_obj_begin(&j);
		json_kv_str(&j, "name", users_group_name(t.us, i));
		if (a.json) {
			json_key(&j, "members");
			json_arr_begin(&j);
		} else if ((mem = open_memstream(&cell, &cell_len)) == NULL) {
			takctl_warnx("out of memory");
			goto done;
		}
		for (k = start[i]; k < start[i + 1]; k++) {
			u = users_get(t.us, m[k].user);
			if (a.json) {
				json_obj_begin(&j);
				json_kv_str(&j, "user", u->name);
				user_json_halves(&j, m[k].halves);
				json_obj_end(&j);
			} else
				fprintf(mem, "%s%s%s", k > start[i] ? ", " :
				    "", u->name, m[k].halves == USERS_IN ?
				    " (in)" : m[k].halves == USERS_OUT ?
				    " (out)" : "");
		}
		if (a.json)
			json_arr_end(&j);
		else {
			if (fclose(mem) == EOF) {
				takctl_warnx("out of memory");
				goto done;
			}
			json_kv_str(&j, "members", cell);
			free(cell);
			cell = NULL;
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	rc = user_print(&j, a.json, group_cols, sizeof(group_cols) /
	    sizeof(group_cols[0]), "group", "groups", "");
 done:
	free(cell);
	free(start);
	free(fill);
	free(m);
	json_free(&j);
	user_end(&t);
	return (rc);
}
