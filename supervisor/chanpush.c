/*
 * Channels: from the api process to LMDB and the workers.  See chanpush.h.
 */
#include <stdlib.h>
#include <string.h>

#include "shared/channels.h"
#include "shared/log.h"
#include "shared/store.h"
#include "supervisor/chanpush.h"
#include "supervisor/proc.h"
#include "supervisor/round.h"

#define CHANPUSH_MAGIC	0x4348414eu	/* "CHAN" */

/* One push under way: the api's request and the workers' answers. */
struct chanpush {
	unsigned	 magic;
	uint32_t	 api_id;
	uint32_t	 acked;
	uint32_t	 changed;
	char		 user[USERS_NAME_MAX];
};

static void
chanpush_reply(struct sup *sup, uint32_t api_id, uint32_t status,
    uint32_t acked, uint32_t unanswered, uint32_t changed)
{
	struct ipc_buf	*b;

	/* Payload buffers are 64 KiB: too big for the stack. */
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("channels reply");
		return;
	}
	ipc_buf_init(b);
	ipc_put_u32(b, status);
	ipc_put_u32(b, acked);
	ipc_put_u32(b, unanswered);
	ipc_put_u32(b, changed);
	/* The api may have been respawned: it drops an id it never sent. */
	(void)proc_send(sup, &sup->api, IPC_MSG_CHANNELS_ACK, api_id, b->data,
	    b->len, -1);
	free(b);
}

static void
chanpush_done(struct sup *sup, const struct round *r, void *arg)
{
	struct chanpush	*cp = arg;

	if (round_waiting(r) > 0)
		log_warnx("channels of user \"%s\": %u workers did not answer "
		    "in %d ms", cp->user, round_waiting(r), CHANPUSH_WAIT_MS);
	chanpush_reply(sup, cp->api_id, 0, cp->acked, round_waiting(r),
	    cp->changed);
	cp->magic = 0;
	free(cp);
}

int
chanpush_req(struct sup *sup, const struct ipc_msg *m)
{
	struct chanpush		*cp = NULL;
	struct channels_off	 off;
	struct ipc_rd		 rd;
	struct ipc_buf		*b = NULL;
	struct round		*r;
	char			 user[USERS_NAME_MAX], uid[STORE_UID_SIZE];
	char			 rec[CHANNELS_REC_MAX + 1];
	size_t			 len;

	ipc_rd_init(&rd, m);
	ipc_get_str(&rd, user, sizeof(user));
	ipc_get_str(&rd, uid, sizeof(uid));
	ipc_get_str(&rd, rec, sizeof(rec));
	len = strlen(rec);
	/* What goes into LMDB is checked here, not only in the api. */
	if (ipc_rd_done(&rd) == -1 || m->fd != -1 || !users_name_ok(user) ||
	    channels_decode(rec, len, &off) == -1) {
		log_warnx("api: malformed channels request");
		return (-1);
	}
	if (sup->store == NULL || store_put_channels(sup->store, user, rec,
	    len) == -1) {
		log_warnx("channels of user \"%s\" not recorded: the state "
		    "store is unavailable", user);
		chanpush_reply(sup, m->hdr.gen_or_peer, 1, 0, 0, 0);
		return (0);
	}
	log_info("channels of user \"%s\" recorded (asked by uid \"%s\"): "
	    "%zu groups with a half off", user, uid, off.n);
	if ((cp = calloc(1, sizeof(*cp))) == NULL ||
	    (b = malloc(sizeof(*b))) == NULL ||
	    (r = round_new(sup, IPC_MSG_CHANNELS, 0, CHANPUSH_WAIT_MS,
	    chanpush_done, cp)) == NULL) {
		log_warn("channels push");
		free(cp);
		free(b);
		/* Recorded: sessions that connect get it; live ones do not. */
		chanpush_reply(sup, m->hdr.gen_or_peer, 0, 0, 0, 0);
		return (0);
	}
	cp->magic = CHANPUSH_MAGIC;
	cp->api_id = m->hdr.gen_or_peer;
	memcpy(cp->user, user, sizeof(cp->user));
	ipc_buf_init(b);
	ipc_put_str(b, user);
	ipc_put_str(b, uid);
	/* A worker that cannot be sent it is waited for: it will not answer. */
	round_send_workers(sup, r, b->data, b->len, ROUND_UNSENT_WAIT);
	free(b);
	return (0);
}

int
chanpush_ack(struct sup *sup, struct proc_slot *slot, const struct ipc_msg *m)
{
	struct chanpush	*cp;
	struct round	*r;
	struct ipc_rd	 rd;
	uint32_t	 status, changed;

	ipc_rd_init(&rd, m);
	status = ipc_get_u32(&rd);
	changed = ipc_get_u32(&rd);
	if (ipc_rd_done(&rd) == -1 || slot->id == TAKD_API_SLOT)
		return (-1);
	if ((r = round_find(sup, IPC_MSG_CHANNELS, m->hdr.gen_or_peer,
	    slot)) == NULL)
		return (0);	/* after the round's end */
	cp = round_arg(r);
	if (cp != NULL && cp->magic == CHANPUSH_MAGIC && status == 0) {
		cp->acked++;
		cp->changed += changed;
	}
	round_answer(sup, r, slot);
	return (0);
}
