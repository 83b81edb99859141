/*
 * The admin console's actions, supervisor side: see console_ops.h.
 */
#include <stdlib.h>
#include <string.h>

#include "shared/log.h"
#include "shared/store.h"
#include "shared/users.h"
#include "supervisor/console_ops.h"
#include "supervisor/proc.h"

/* What the api is told (IPC_MSG_DISCONNECT_ACK). */
#define CONSOLE_OPS_CLOSED	0
#define CONSOLE_OPS_NO_SESSION	1
#define CONSOLE_OPS_NO_WORKER	2

static void
console_ops_disconnect_reply(struct sup *sup, uint32_t id, uint32_t status)
{
	/* The api may have been respawned: it drops an id it never sent. */
	(void)proc_send(sup, &sup->api, IPC_MSG_DISCONNECT_ACK, id, &status,
	    sizeof(status), -1);
}

int
console_ops_disconnect(struct sup *sup, const struct ipc_msg *m)
{
	struct proc_slot	*slot = NULL;
	struct ipc_rd		 rd;
	struct ipc_buf		*b;
	char			 admin[USERS_NAME_MAX];
	uint64_t		 conn;
	unsigned		 worker, i;

	ipc_rd_init(&rd, m);
	conn = ipc_get_u64(&rd);
	ipc_get_str(&rd, admin, sizeof(admin));
	if (ipc_rd_done(&rd) == -1 || m->fd != -1 || !users_name_ok(admin)) {
		log_warnx("api: malformed disconnect request");
		return (-1);
	}
	worker = STORE_CONN_WORKER(conn);
	for (i = 0; i < sup->n_slots; i++)
		if (sup->slots[i].id == worker)
			slot = &sup->slots[i];
	if (slot == NULL || slot->state != SLOT_RUNNING) {
		log_info("console: admin \"%s\" asked to disconnect session "
		    "%llu of worker %u: that worker is not running", admin,
		    (unsigned long long)conn, worker);
		console_ops_disconnect_reply(sup, m->hdr.gen_or_peer,
		    CONSOLE_OPS_NO_WORKER);
		return (0);
	}
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("disconnect");
		console_ops_disconnect_reply(sup, m->hdr.gen_or_peer,
		    CONSOLE_OPS_NO_WORKER);
		return (0);
	}
	ipc_buf_init(b);
	/* The worker's own number: the low bits of the registry's id. */
	ipc_put_u64(b, conn & ((UINT64_C(1) << 48) - 1));
	ipc_put_str(b, admin);
	if (b->err != 0 || proc_send(sup, slot, IPC_MSG_DISCONNECT,
	    m->hdr.gen_or_peer, b->data, b->len, -1) == -1)
		console_ops_disconnect_reply(sup, m->hdr.gen_or_peer,
		    CONSOLE_OPS_NO_WORKER);
	free(b);
	return (0);
}

int
console_ops_disconnect_ack(struct sup *sup, struct proc_slot *slot,
    const struct ipc_msg *m)
{
	struct ipc_rd	 rd;
	uint32_t	 status;

	ipc_rd_init(&rd, m);
	status = ipc_get_u32(&rd);
	if (ipc_rd_done(&rd) == -1 || m->fd != -1 ||
	    slot->id >= TAKD_API_SLOT || status > CONSOLE_OPS_NO_SESSION)
		return (-1);
	console_ops_disconnect_reply(sup, m->hdr.gen_or_peer, status);
	return (0);
}
