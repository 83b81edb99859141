/*
 * The worker mesh: one SOCK_SEQPACKET socketpair per pair of workers, made
 * here and handed out over the control channels (IPC_MSG_PEER), so that the
 * workers never need a rendezvous of their own.  A worker that starts, first
 * or respawned, is connected to every worker running at that moment; the
 * others replace their channel to its slot (worker/fanout.c).
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "shared/log.h"
#include "supervisor/proc.h"
#include "supervisor/sup.h"

/* 0 when both ends were handed over (sent or queued), else -1. */
static int
mesh_pair(struct sup *sup, struct proc_slot *a, struct proc_slot *b)
{
	int	 sv[2], rc = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("mesh: socketpair for workers %u and %u", a->id,
		    b->id);
		return (-1);
	}
	/*
	 * The frames carry duplicates; ours are closed right away.  Should
	 * the second send fail, the first end sees EOF and is dropped.
	 */
	if (proc_send(sup, a, IPC_MSG_PEER, b->id, NULL, 0, sv[0]) == 0 &&
	    proc_send(sup, b, IPC_MSG_PEER, a->id, NULL, 0, sv[1]) == 0)
		rc = 0;
	close(sv[0]);
	close(sv[1]);
	return (rc);
}

void
mesh_connect(struct sup *sup, struct proc_slot *slot)
{
	struct proc_slot	*other;
	unsigned		 i, n = 0, failed = 0;

	if (slot->state != SLOT_RUNNING || slot->chan == NULL)
		return;
	/* A worker and the cluster process: one more pair. */
	if (slot->id != TAKD_CLUSTER_SLOT && sup->cluster_run &&
	    sup->cluster.state == SLOT_RUNNING && sup->cluster.chan != NULL) {
		if (mesh_pair(sup, slot, &sup->cluster) == 0)
			n++;
		else
			failed++;
	}
	for (i = 0; i < sup->n_slots; i++) {
		other = &sup->slots[i];
		if (other == slot || other->state != SLOT_RUNNING ||
		    other->chan == NULL)
			continue;
		if (mesh_pair(sup, slot, other) == 0)
			n++;
		else
			failed++;
	}
	if (failed > 0)
		log_warnx("worker %u: mesh channels to %u workers, %u failed",
		    slot->id, n, failed);
	else if (n > 0)
		log_info("worker %u: mesh channels to %u workers", slot->id,
		    n);
}
