/*
 * The session ticket key ring: see ticket.h.  Key material never reaches a
 * log line (only generations do), and every copy the supervisor no longer
 * needs is wiped: a dropped key, the payload buffer of each push.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "supervisor/proc.h"
#include "supervisor/ticket.h"
#include "worker/sesscache.h"

/* A key made at now_ms: current for a period, previous for the next. */
static int
ticket_key_make(struct tls_ticket_key *k, const struct ticket_ring *tr,
    int64_t now_ms)
{
	unsigned	 i, tries;

	/* The name picks the key: never the name of the other key in force. */
	for (tries = 0; tries < 4; tries++) {
		if (RAND_bytes(k->name, sizeof(k->name)) != 1)
			goto fail;
		for (i = 0; i < tr->ring.n; i++)
			if (memcmp(tr->ring.keys[i].name, k->name,
			    sizeof(k->name)) == 0)
				break;
		if (i == tr->ring.n)
			break;
	}
	if (tries == 4)
		goto fail;
	if (RAND_priv_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_priv_bytes(k->hmac, sizeof(k->hmac)) != 1)
		goto fail;
	k->expires_ms = now_ms + 2 * tr->period_ms;
	return (0);
fail:
	log_warnx("session ticket keys: no randomness (%s)",
	    ERR_reason_error_string(ERR_peek_last_error()) != NULL ?
	    ERR_reason_error_string(ERR_peek_last_error()) : "unknown error");
	ERR_clear_error();
	OPENSSL_cleanse(k, sizeof(*k));
	return (-1);
}

struct ticket_ring *
ticket_ring_new(int64_t period_ms, int64_t now_ms)
{
	struct ticket_ring	*tr;

	if ((tr = calloc(1, sizeof(*tr))) == NULL) {
		log_warn("session ticket keys");
		return (NULL);
	}
	tr->magic = TICKET_RING_MAGIC;
	tr->period_ms = period_ms;
	if (ticket_key_make(&tr->ring.keys[0], tr, now_ms) == -1) {
		ticket_ring_free(tr);
		return (NULL);
	}
	tr->ring.n = 1;
	tr->ring.generation = 1;
	tr->next_ms = now_ms + period_ms;
	return (tr);
}

void
ticket_ring_free(struct ticket_ring *tr)
{
	if (tr == NULL)
		return;
	OPENSSL_cleanse(tr, sizeof(*tr));
	free(tr);
}

int
ticket_ring_rotate(struct ticket_ring *tr, int64_t now_ms)
{
	struct tls_ticket_key	 k;

	if (ticket_key_make(&k, tr, now_ms) == -1) {
		tr->next_ms = now_ms + TICKET_RETRY_MS;
		return (-1);
	}
	/* The previous key goes; the current one too if it outlived itself. */
	if (tr->ring.n > 0 && now_ms < tr->ring.keys[0].expires_ms) {
		tr->ring.keys[1] = tr->ring.keys[0];
		tr->ring.n = 2;
	} else {
		OPENSSL_cleanse(&tr->ring.keys[1], sizeof(tr->ring.keys[1]));
		tr->ring.n = 1;
	}
	tr->ring.keys[0] = k;
	OPENSSL_cleanse(&k, sizeof(k));
	tr->ring.generation++;
	tr->next_ms = now_ms + tr->period_ms;
	return (0);
}

int
ticket_init(struct sup *sup)
{
	/* Mapped before the first fork: every worker shares it. */
	if (sesscache_init() == -1)
		return (-1);
	sup->tickets = ticket_ring_new(sup->cfg->ticket_key_rotation_ms,
	    clock_mono_ms());
	return (sup->tickets == NULL ? -1 : 0);
}

void
ticket_free(struct sup *sup)
{
	ticket_ring_free(sup->tickets);
	sup->tickets = NULL;
}

/*
 * Send the ring to one slot, or every running one (slot NULL).  A worker
 * that misses a push keeps its ring until the next one, and its keys still
 * expire on time (tls_ticket_find()).
 */
static void
ticket_push(struct sup *sup, struct proc_slot *slot)
{
	struct ipc_buf	*b;
	unsigned	 i;

	if (sup->tickets == NULL)
		return;
	if ((b = malloc(sizeof(*b))) == NULL) {
		log_warn("session ticket keys generation %u not sent",
		    sup->tickets->ring.generation);
		return;
	}
	ipc_buf_init(b);
	tls_ticket_encode(b, &sup->tickets->ring);
	for (i = 0; b->err == 0 && i < sup->n_slots; i++) {
		if ((slot != NULL && slot != &sup->slots[i]) ||
		    sup->slots[i].state != SLOT_RUNNING)
			continue;
		/* proc_send() says why a frame was not sent. */
		(void)proc_send(sup, &sup->slots[i], IPC_MSG_TICKET_KEYS,
		    sup->tickets->ring.generation, b->data, b->len, -1);
	}
	OPENSSL_cleanse(b->data, b->len);
	free(b);
}

void
ticket_send(struct sup *sup, struct proc_slot *slot)
{
	ticket_push(sup, slot);
}

int
ticket_tick(struct sup *sup)
{
	struct ticket_ring	*tr = sup->tickets;
	int64_t			 now = clock_mono_ms();

	if (tr == NULL || sup->stopping)
		return (-1);
	if (now < tr->next_ms)
		return ((int)(tr->next_ms - now));
	if (ticket_ring_rotate(tr, now) == 0) {
		log_info("session ticket keys rotated: generation %u in force "
		    "(%u keys)", tr->ring.generation, tr->ring.n);
		ticket_push(sup, NULL);
	}
	return ((int)(tr->next_ms - now));
}
