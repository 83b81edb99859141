/*
 * The list of a worker's numbers as data, and what the worker and the
 * supervisor do with all of them at once: see counters.h.
 */
#include <stddef.h>
#include <string.h>

#include "ipc/ipc.h"
#include "shared/counters.h"

const char *const counters_hs_fail_names[IPC_HS_FAIL_MAX] = {
	[IPC_HS_NO_CERT] = "no_certificate",
	[IPC_HS_UNKNOWN_CA] = "unknown_ca",
	[IPC_HS_REVOKED] = "revoked",
	[IPC_HS_EXPIRED] = "expired",
	[IPC_HS_CRL] = "crl",
	[IPC_HS_OTHER_VERIFY] = "other_verify",
	[IPC_HS_PROTOCOL] = "protocol",
	[IPC_HS_TIMEOUT] = "timeout",
	[IPC_HS_CLOSED] = "closed_by_peer",
};

const char *const counters_ev_class_names[IPC_EV_CLASS_MAX] = {
	[IPC_EV_SA] = "sa",
	[IPC_EV_CHAT] = "chat",
	[IPC_EV_PING] = "ping",
	[IPC_EV_OTHER] = "other",
	[IPC_EV_UNPARSED] = "unparsed",
};

#define COUNTERS_DEF_C(f, type, group, key, family, label, value, heading, \
    text, help)								\
	{ #f, offsetof(struct counters, f), 1, NULL, COUNTER_##type,	\
	  group, key, family, label, value, heading, text, help },
#define COUNTERS_DEF_A(f, n, names, type, group, family, label, heading, \
    text, help)								\
	{ #f, offsetof(struct counters, f), n, names, COUNTER_##type,	\
	  group, NULL, family, label, NULL, heading, text, help },

const struct counter_def counter_defs[] = {
	TAKD_COUNTERS(COUNTERS_DEF_C, COUNTERS_DEF_A)
};
const size_t counter_ndefs = sizeof(counter_defs) / sizeof(counter_defs[0]);

uint64_t
counters_get(const struct counters *c, const struct counter_def *d, size_t i)
{
	uint64_t	 v;

	memcpy(&v, (const char *)c + d->off + i * sizeof(v), sizeof(v));
	return (v);
}

const char *
counters_name(const struct counter_def *d, size_t i)
{
	if (d->names == NULL)
		return (d->key);
	return (d->names[i] != NULL ? d->names[i] : "?");
}

void
counters_encode(struct ipc_buf *b, const struct counters *c)
{
	uint64_t	 v[COUNTERS_N];
	size_t		 i;

	/* Every member is a uint64_t: the struct is an array of them. */
	memcpy(v, c, sizeof(v));
	ipc_put_u32(b, (uint32_t)COUNTERS_N);
	for (i = 0; i < COUNTERS_N; i++)
		ipc_put_u64(b, v[i]);
}

int
counters_decode(struct ipc_rd *rd, struct counters *c)
{
	uint64_t	 v[COUNTERS_N];
	size_t		 i;

	if (ipc_get_u32(rd) != COUNTERS_N)
		return (-1);
	for (i = 0; i < COUNTERS_N; i++)
		v[i] = ipc_get_u64(rd);
	memcpy(c, v, sizeof(v));
	return (0);
}
