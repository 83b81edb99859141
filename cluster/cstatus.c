/*
 * The cluster process's report: see cstatus.h.
 */
#include <string.h>

#include "cluster/cstatus.h"
#include "ipc/ipc.h"
#include "shared/json.h"

#define CSTATUS_N_STATS	(sizeof(struct cluster_stats) / sizeof(uint64_t))

void
cstatus_encode(struct ipc_buf *b, const struct cluster_status *s)
{
	uint32_t	 i;

	ipc_put_u32(b, s->connected ? 1 : 0);
	ipc_put_str(b, s->server);
	ipc_put_u32(b, s->workers);
	ipc_put_u32(b, s->clients);
	ipc_put_u32(b, s->subjects);
	ipc_put_u64(b, s->pres_seq);
	ipc_put_u64(b, s->slow_consumers);
	ipc_put_u32(b, (uint32_t)CSTATUS_N_STATS);
#define CLUSTER_STAT_PUT(f, h)	ipc_put_u64(b, s->st.f);
	CLUSTER_STATS(CLUSTER_STAT_PUT)
#undef CLUSTER_STAT_PUT
	ipc_put_u32(b, s->n_nodes);
	for (i = 0; i < s->n_nodes; i++) {
		ipc_put_str(b, s->nodes[i].id);
		ipc_put_u64(b, s->nodes[i].age_ms);
		ipc_put_u64(b, s->nodes[i].last_wall_ms);
		ipc_put_u32(b, s->nodes[i].clients);
		ipc_put_u32(b, s->nodes[i].synced ? 1 : 0);
		ipc_put_u64(b, s->nodes[i].events);
	}
}

int
cstatus_decode(const struct ipc_msg *m, struct cluster_status *s)
{
	struct ipc_rd	 rd;
	uint32_t	 i;

	memset(s, 0, sizeof(*s));
	ipc_rd_init(&rd, m);
	s->connected = ipc_get_u32(&rd) != 0;
	ipc_get_str(&rd, s->server, sizeof(s->server));
	s->workers = ipc_get_u32(&rd);
	s->clients = ipc_get_u32(&rd);
	s->subjects = ipc_get_u32(&rd);
	s->pres_seq = ipc_get_u64(&rd);
	s->slow_consumers = ipc_get_u64(&rd);
	if (ipc_get_u32(&rd) != CSTATUS_N_STATS)
		return (-1);
#define CLUSTER_STAT_GET(f, h)	s->st.f = ipc_get_u64(&rd);
	CLUSTER_STATS(CLUSTER_STAT_GET)
#undef CLUSTER_STAT_GET
	s->n_nodes = ipc_get_u32(&rd);
	if (rd.err != 0 || s->n_nodes > CSTATUS_NODES_MAX)
		return (-1);
	for (i = 0; i < s->n_nodes; i++) {
		ipc_get_str(&rd, s->nodes[i].id, sizeof(s->nodes[i].id));
		s->nodes[i].age_ms = ipc_get_u64(&rd);
		s->nodes[i].last_wall_ms = ipc_get_u64(&rd);
		s->nodes[i].clients = ipc_get_u32(&rd);
		s->nodes[i].synced = ipc_get_u32(&rd) != 0;
		s->nodes[i].events = ipc_get_u64(&rd);
	}
	return (ipc_rd_done(&rd));
}

void
cstatus_json(struct json *j, const struct cluster_status *s, int64_t age_ms)
{
	uint32_t	 i;

	json_obj_begin(j);
	json_kv_bool(j, "nats_connected", s->connected);
	json_kv_str(j, "nats_server", s->server);
	json_kv_int(j, "report_age_ms", age_ms);
	json_kv_uint(j, "workers_linked", s->workers);
	json_kv_uint(j, "clients_here", s->clients);
	json_kv_uint(j, "group_subjects", s->subjects);
	json_kv_uint(j, "presence_seq", s->pres_seq);
	json_kv_uint(j, "nats_slow_consumer_events", s->slow_consumers);
#define CLUSTER_STAT_JSON(f, h)	json_kv_uint(j, #f, s->st.f);
	CLUSTER_STATS(CLUSTER_STAT_JSON)
#undef CLUSTER_STAT_JSON
	json_key(j, "nodes");
	json_arr_begin(j);
	for (i = 0; i < s->n_nodes; i++) {
		json_obj_begin(j);
		json_kv_str(j, "id", s->nodes[i].id);
		json_kv_uint(j, "last_heard_ms_ago", s->nodes[i].age_ms);
		json_kv_uint(j, "last_heard_ms", s->nodes[i].last_wall_ms);
		json_kv_uint(j, "clients", s->nodes[i].clients);
		json_kv_bool(j, "in_step", s->nodes[i].synced);
		json_kv_uint(j, "events", s->nodes[i].events);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}
