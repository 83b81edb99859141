/*
 * The users file in a worker: see auth.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc.h"
#include "shared/channels.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/users.h"
#include "worker/auth.h"
#include "worker/conn.h"
#include "worker/groups.h"
#include "worker/registry.h"
#include "worker/session.h"

/* What a reload did to the live sessions. */
struct auth_sweep {
	unsigned	 changed;	/* their groups changed */
	unsigned	 closed;	/* their user was deleted */
};

/*
 * Give c the groups of user u (NULL: not in the file, no user), under the
 * channels the user turned off (docs/groups.md, "Channels").  The users
 * file's halves and the worker's are the same bits.
 */
static int
auth_apply(struct worker *w, struct conn *c, const struct users_user *u,
    unsigned flags)
{
	struct groups_member	 g[USERS_GROUPS_MAX];
	struct channels_off	 off;
	unsigned		 halves[USERS_GROUPS_MAX];
	size_t			 i, n = 0;

	_Static_assert(USERS_IN == GROUPS_IN && USERS_OUT == GROUPS_OUT,
	    "halves");
	if (u != NULL) {
		/* Unreadable: logged, and the user's groups are all on. */
		(void)registry_channels(w, u->name, &off);
		(void)channels_apply(&off, u, halves);
		for (i = 0; i < u->n_groups && i < USERS_GROUPS_MAX; i++) {
			if (halves[i] == 0)
				continue;	/* turned off */
			g[n].name = u->groups[i].name;
			g[n++].halves = halves[i];
		}
	}
	return (session_set_groups_flags(w, c, u != NULL ? u->name : "", g,
	    n, flags));
}

void
auth_session(struct worker *w, struct conn *c)
{
	const struct users_user	*u;
	char			 who[CONN_WHO_MAX];

	if (c->plain)
		return;
	if (c->tls.user_bad) {
		/* It may be a user whose groups are narrower than __ANON__. */
		log_warnx("session %" PRIu64 ": its certificate's [auth] "
		    "user_rdn %s is given more than once, or is no user name: "
		    "refused (%s)", c->id, w->cfg->user_rdn,
		    conn_who(c, who, sizeof(who)));
		c->s.groups.source = GROUPS_SRC_REFUSED;
		return;
	}
	if (c->tls.user[0] == '\0' || w->users == NULL ||
	    (u = users_find(w->users, c->tls.user)) == NULL)
		return;
	(void)auth_apply(w, c, u, 0);	/* refused: session_start() closes */
}

/* Every live TLS session gets what set says of its user now. */
static void
auth_sweep_live(struct worker *w, const struct users *set,
    struct auth_sweep *sw)
{
	const struct users_user	*u;
	struct conn		*c, *next;
	uint64_t		 before;

	for (c = TAILQ_FIRST(&w->live); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->plain || c->s.doom != NULL || c->tls.user[0] == '\0')
			continue;
		u = users_find(set, c->tls.user);
		if (u == NULL && c->s.user[0] == '\0')
			continue;	/* was no user, is none */
		if (u == NULL) {
			session_close_user(w, c);
			sw->closed++;
		} else {
			before = w->cnt.groups_changed;
			(void)auth_apply(w, c, u, 0);
			if (w->cnt.groups_changed != before)
				sw->changed++;
		}
		/* Closing one may have closed others: then start over. */
		if (next != NULL && next->magic != CONN_MAGIC)
			next = TAILQ_FIRST(&w->live);
	}
}

static void
auth_ack(struct worker *w, uint32_t gen, uint32_t status,
    const struct auth_sweep *sw, const char *err)
{
	struct ipc_buf	*b;

	/* Payload buffers are 64 KiB: too big for the stack. */
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("users ack");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u32(b, status);
	ipc_put_u32(b, sw->changed);
	ipc_put_u32(b, sw->closed);
	ipc_put_str(b, err);
	ctl_send(w, IPC_MSG_USERS_ACK, gen, b);
	free(b);
}

void
auth_install(struct worker *w, int fd, uint32_t gen)
{
	struct auth_sweep	 sw = { 0, 0 };
	struct users		*set;
	char			 err[512] = "";
	int64_t			 t0 = clock_mono_ms();

	if ((set = users_map(fd, "users", err, sizeof(err))) == NULL) {
		log_warnx("users generation %u rejected, generation %u stays "
		    "in force: %s", gen, w->users_generation, err);
		auth_ack(w, gen, 1, &sw, err);
		return;
	}
	users_free(w->users);
	w->users = set;
	w->users_generation = gen;
	auth_sweep_live(w, set, &sw);
	log_info("users generation %u in force: %zu users; %u live sessions "
	    "changed groups, %u closed (deleted users), in %lld ms", gen,
	    users_count(set), sw.changed, sw.closed,
	    (long long)(clock_mono_ms() - t0));
	auth_ack(w, gen, 0, &sw, "");
}

void
auth_channels(struct worker *w, uint32_t gen, const char *user,
    const char *uid)
{
	const struct users_user	*u = NULL;
	struct ipc_buf		*b;
	struct conn		*c, *next;
	uint64_t		 before;
	unsigned		 changed = 0, seen = 0;

	if (w->users != NULL)
		u = users_find(w->users, user);
	for (c = TAILQ_FIRST(&w->live); c != NULL && u != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->plain || c->s.doom != NULL ||
		    strcmp(c->s.user, u->name) != 0)
			continue;
		seen++;
		before = w->cnt.groups_changed;
		/* The session that asked knows: no t-x-g-c for it. */
		(void)auth_apply(w, c, u, strcmp(c->s.uid, uid) == 0 ?
		    SESSION_GROUPS_NO_NOTICE : 0);
		if (w->cnt.groups_changed != before)
			changed++;
		/* A refusal dooms c only: the walk goes on from next. */
	}
	log_info("channels of user \"%s\" changed (asked by uid \"%s\"): "
	    "%u of its %u live sessions here changed groups", user, uid,
	    changed, seen);
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("channels ack");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u32(b, 0);
	ipc_put_u32(b, changed);
	ctl_send(w, IPC_MSG_CHANNELS_ACK, gen, b);
	free(b);
}

void
auth_free(struct worker *w)
{
	users_free(w->users);
	w->users = NULL;
}
