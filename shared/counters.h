/*
 * The numbers a worker reports, declared once.
 *
 * TAKD_COUNTERS below is the only list of them.  From it come struct
 * counters (what a worker increments and the supervisor keeps per slot), the
 * IPC_MSG_STATUS_REP payload (counters_encode / counters_decode), the worker
 * objects of `takctl status` (counters_json), the Prometheus families of
 * /metrics with their HELP lines (supervisor/metrics_text.c walks
 * counter_defs) and the rows of `takctl stats` (takctl/stats.c walks them
 * too).  Adding a counter is one line here and the line that increments it;
 * docs/metrics.md says what it means.
 *
 * A row is
 *
 *	C(field, type, group, key, family, label, value, heading, text, help)
 *	A(field, n, names, type, group, family, label, heading, text, help)
 *
 * C is one number; A is an array of n numbers named by names[i] (an enum of
 * ipc_msg.h), shown as one JSON object and one labelled family.
 *
 *	type	COUNTER (a Prometheus counter, summed in takctl stats), GAUGE
 *		(summed), PEAK (a gauge whose total is the largest), LEVEL (a
 *		gauge without a total, like a generation number)
 *	group	JSON object inside the worker's object the key goes in; "" for
 *		the worker's object itself.  For A, the object's name.
 *	key	JSON key (C only; A uses names[i])
 *	family	Prometheus family without the "takd_" prefix; NULL: not
 *		exported (status and stats only)
 *	label	label name when the family is split by a label, else NULL
 *	value	that label's value (C only; A uses names[i])
 *	heading	the section of `takctl stats` the row appears under
 *	text	the row's text in `takctl stats` (A: a prefix to names[i]);
 *		NULL: not shown there
 *	help	the family's HELP line (given on the family's first row)
 *
 * Rows of one JSON group, of one family and of one stats heading must be
 * adjacent (tests/unit/test_counters.c checks it): each output is written
 * in one pass over the list.  All values are u64.
 */
#ifndef TAKD_COUNTERS_H
#define TAKD_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc_msg.h"

#define TAKD_COUNTERS(C, A)						\
	C(open_fds, GAUGE, "", "open_fds",				\
	    "open_fds", NULL, NULL, "workers", "open descriptors",	\
	    "Open descriptors of the worker process.")			\
	C(crl_generation, LEVEL, "", "crl_generation",			\
	    "worker_crl_generation", NULL, NULL, "workers",		\
	    "CRL generation in force",					\
	    "CRL generation in force in the worker.")			\
	C(sessions, GAUGE, "", "sessions",				\
	    "sessions", NULL, NULL, "sessions", "sessions",		\
	    "Established client sessions.")				\
	C(handshaking, GAUGE, "", "handshaking",			\
	    "handshakes_in_progress", NULL, NULL, "sessions",		\
	    "handshaking", "Connections in their TLS handshake.")	\
	C(accepted, COUNTER, "", "accepted",				\
	    "connections_accepted_total", NULL, NULL, "sessions",	\
	    "connections accepted",					\
	    "Connections accepted, TLS and plain TCP.")			\
	C(rejected_full, COUNTER, "", "rejected_full",			\
	    "connections_rejected_total", "reason", "max_sessions",	\
	    "sessions", "rejected: max_sessions",			\
	    "Connections closed at accept, by reason.")			\
	C(rejected_emfile, COUNTER, "", "rejected_emfile",		\
	    "connections_rejected_total", "reason", "no_descriptors",	\
	    "sessions", "rejected: no descriptors", NULL)		\
	C(rejected_handshakes_full, COUNTER, "",			\
	    "rejected_handshakes_full", "connections_rejected_total",	\
	    "reason", "handshakes_full", "sessions",			\
	    "rejected: max_handshakes", NULL)				\
	C(rejected_per_address, COUNTER, "", "rejected_per_address",	\
	    "connections_rejected_total", "reason", "per_address",	\
	    "sessions", "rejected: max_handshakes_per_address", NULL)	\
	C(rejected_per_cert, COUNTER, "", "rejected_per_cert",		\
	    "connections_rejected_total", "reason", "per_cert",		\
	    "sessions", "rejected: max_sessions_per_cert", NULL)	\
	C(evicted_handshakes_full, COUNTER, "",			\
	    "evicted_handshakes_full", "handshakes_evicted_total",	\
	    "reason", "handshakes_full", "sessions",			\
	    "handshakes evicted: max_handshakes",			\
	    "Unauthenticated connections closed to make room for a new "\
	    "one, by the limit that was full.")			\
	C(evicted_per_address, COUNTER, "", "evicted_per_address",	\
	    "handshakes_evicted_total", "reason", "per_address",	\
	    "sessions", "handshakes evicted: per address", NULL)	\
	C(handshakes_ok, COUNTER, "", "handshakes_ok",			\
	    "handshakes_ok_total", NULL, NULL, "handshakes", "ok",	\
	    "TLS handshakes completed and admitted.")			\
	C(handshakes_resumed, COUNTER, "", "handshakes_resumed",	\
	    "handshakes_resumed_total", NULL, NULL, "handshakes",	\
	    "ok, resumed",						\
	    "Admitted handshakes that resumed a session (a ticket).")	\
	C(handshakes_failed, COUNTER, "", "handshakes_failed",		\
	    NULL, NULL, NULL, "handshakes", NULL, NULL)			\
	C(handshake_timeouts, COUNTER, "", "handshake_timeouts",	\
	    NULL, NULL, NULL, "handshakes", NULL, NULL)			\
	C(revoked_refused, COUNTER, "", "revoked_refused",		\
	    "revoked_refused_total", NULL, NULL, "handshakes",		\
	    "revoked: refused",						\
	    "Handshakes refused because the certificate is revoked.")	\
	C(revoked_closed, COUNTER, "", "revoked_closed",		\
	    "revoked_closed_total", NULL, NULL, "handshakes",		\
	    "revoked: live sessions closed",				\
	    "Live sessions closed because a new CRL revoked them.")	\
	C(crl_stale_admitted, COUNTER, "", "crl_stale_admitted",	\
	    "crl_stale_admissions_total", NULL, NULL, "handshakes",	\
	    "admitted with a stale CRL",				\
	    "Clients admitted while the CRL was past its nextUpdate "	\
	    "(crl_stale = enforce-listed).")				\
	C(ocsp_stapled, COUNTER, "", "ocsp_stapled",			\
	    "ocsp_stapled_total", NULL, NULL, "handshakes",		\
	    "OCSP responses stapled",					\
	    "Handshakes in which the OCSP response was stapled "	\
	    "([ocsp] staple, the client asked).")			\
	C(tickets_renewed, COUNTER, "tickets", "renewed",		\
	    "tickets_renewed_total", NULL, NULL, "handshakes",		\
	    "tickets renewed (previous key)",				\
	    "Session tickets of the previous key accepted and renewed "\
	    "under the current one.")					\
	C(tickets_refused, COUNTER, "tickets", "refused",		\
	    "tickets_refused_total", NULL, NULL, "handshakes",		\
	    "tickets refused (unknown key)",				\
	    "Session tickets of an unknown or expired key: the client "	\
	    "made a full handshake.")					\
	A(hs_fail, IPC_HS_FAIL_MAX, counters_hs_fail_names, COUNTER,	\
	    "handshake_failures", "handshake_failures_total", "reason",	\
	    "handshakes", "failed: ",					\
	    "TLS handshakes that failed, by reason (timeouts "		\
	    "included).")						\
	A(ev_in, IPC_EV_CLASS_MAX, counters_ev_class_names, COUNTER,	\
	    "events_in", "events_in_total", "class", "events", "in: ",	\
	    "Events read from clients, by the class of their type.")	\
	A(ev_out, IPC_EV_UNPARSED, counters_ev_class_names, COUNTER,	\
	    "events_out", "events_out_total", "class", "events",	\
	    "out: ",							\
	    "Events written whole to clients, by the class of their "	\
	    "type.")							\
	C(events_in, COUNTER, "events", "in",				\
	    NULL, NULL, NULL, "events", NULL, NULL)			\
	C(events_out, COUNTER, "events", "out",				\
	    NULL, NULL, NULL, "events", NULL, NULL)			\
	C(pongs, COUNTER, "events", "pongs",				\
	    "pongs_total", NULL, NULL, "events", "pongs",		\
	    "Pongs sent in answer to pings.")				\
	C(sa_replayed, COUNTER, "events", "sa_replayed",		\
	    "sa_replayed_total", NULL, NULL, "events",			\
	    "SA replayed at connect",					\
	    "Latest SA of other clients queued to a session at "	\
	    "connect.")							\
	C(replay_skipped, COUNTER, "events", "replay_skipped",		\
	    "sa_replay_skipped_total", NULL, NULL, "events",		\
	    "SA replay skipped",					\
	    "Latest SA not replayed: it would fill half the output "	\
	    "queue.")							\
	C(disconnect_notices, COUNTER, "events", "disconnect_notices",	\
	    "disconnect_notices_total", NULL, NULL, "events",		\
	    "disconnect notices",					\
	    "Disconnect notices (t-x-d-d) sent for clients that left.")	\
	C(groups_changed, COUNTER, "events", "groups_changed",		\
	    "groups_changed_total", NULL, NULL, "events",		\
	    "group changes (t-x-g-c)",					\
	    "Live sessions whose groups changed (each was sent a "	\
	    "t-x-g-c).")						\
	C(bytes_in, COUNTER, "bytes", "in",				\
	    "bytes_in_total", NULL, NULL, "events", "bytes in",		\
	    "Application bytes read from clients (after TLS).")		\
	C(bytes_out, COUNTER, "bytes", "out",				\
	    "bytes_out_total", NULL, NULL, "events", "bytes out",	\
	    "Application bytes written to clients (before TLS).")	\
	C(sa_stored, COUNTER, "sa_store", "stored",			\
	    "sa_stored_total", NULL, NULL, "stored SA", "stored",	\
	    "Latest SA events written to the state store for replay.")	\
	C(sa_clamped, COUNTER, "sa_store", "stale_clamped",		\
	    "sa_stale_clamped_total", NULL, NULL, "stored SA",		\
	    "stale time cut to sa_max_stale",				\
	    "Stored SA events whose stale time was cut to [cot] "	\
	    "sa_max_stale from now.")					\
	C(sa_too_large, COUNTER, "sa_store", "too_large",		\
	    "sa_not_stored_total", "reason", "too_large", "stored SA",	\
	    "not stored: too large for the store",			\
	    "SA events relayed but not stored for replay, by reason.")	\
	C(sa_evicted, COUNTER, "sa_store", "evicted",			\
	    "sa_evicted_total", NULL, NULL, "stored SA",		\
	    "evicted: a certificate's or the store's cap",		\
	    "Stored SA events removed at a commit of the worker to keep "\
	    "a certificate under sa_uids_per_cert or the store under "	\
	    "sa_store_max.")						\
	C(drop_malformed, COUNTER, "dropped", "malformed",		\
	    "events_dropped_total", "reason", "malformed", "dropped",	\
	    "malformed", "Events not delivered, by reason.")		\
	C(drop_rate, COUNTER, "dropped", "rate_limited",		\
	    "events_dropped_total", "reason", "rate_limited",		\
	    "dropped", "rate_limited", NULL)				\
	C(drop_bytes, COUNTER, "dropped", "byte_budget",		\
	    "events_dropped_total", "reason", "byte_budget",		\
	    "dropped", "byte_budget", NULL)				\
	C(drop_size, COUNTER, "dropped", "class_size",			\
	    "events_dropped_total", "reason", "class_size",		\
	    "dropped", "class_size", NULL)				\
	C(drop_no_recipient, COUNTER, "dropped", "no_recipient",	\
	    "events_dropped_total", "reason", "no_recipient",		\
	    "dropped", "no_recipient", NULL)				\
	C(drop_superseded, COUNTER, "dropped", "superseded",		\
	    "events_dropped_total", "reason", "superseded",		\
	    "dropped", "superseded", NULL)				\
	C(drop_closed, COUNTER, "dropped", "closed",			\
	    "events_dropped_total", "reason", "closed", "dropped",	\
	    "closed", NULL)						\
	C(drop_nomem, COUNTER, "dropped", "no_memory",			\
	    "events_dropped_total", "reason", "no_memory", "dropped",	\
	    "no_memory", NULL)						\
	C(drop_notice, COUNTER, "dropped", "notice_queue_half_full",	\
	    "events_dropped_total", "reason", "notice_queue_half_full",	\
	    "dropped", "notice_queue_half_full", NULL)			\
	C(drop_identity, COUNTER, "dropped", "identity_refused",	\
	    "events_dropped_total", "reason", "identity_refused",	\
	    "dropped", "identity_refused", NULL)			\
	C(drop_server_only, COUNTER, "dropped", "server_only",		\
	    "events_dropped_total", "reason", "server_only",		\
	    "dropped", "server_only", NULL)				\
	C(drop_takp_invalid, COUNTER, "dropped", "takp_invalid",	\
	    "events_dropped_total", "reason", "takp_invalid",		\
	    "dropped", "takp_invalid", NULL)				\
	C(drop_takp_control, COUNTER, "dropped", "takp_control",	\
	    "events_dropped_total", "reason", "takp_control",		\
	    "dropped", "takp_control", NULL)				\
	C(drop_unconvertible, COUNTER, "dropped", "unconvertible",	\
	    "events_dropped_total", "reason", "unconvertible",		\
	    "dropped", "unconvertible", NULL)				\
	C(withheld_broadcast, COUNTER, "withheld", "broadcast",	\
	    "deliveries_withheld_total", "reason", "broadcast",	\
	    "withheld by groups", "broadcast",				\
	    "Deliveries not made because the sender's IN groups and "	\
	    "the recipient's OUT groups do not meet, by the kind of "	\
	    "delivery.")						\
	C(withheld_directed, COUNTER, "withheld", "directed",		\
	    "deliveries_withheld_total", "reason", "directed",		\
	    "withheld by groups", "directed", NULL)			\
	C(withheld_replay, COUNTER, "withheld", "replay",		\
	    "deliveries_withheld_total", "reason", "replay",		\
	    "withheld by groups", "replay", NULL)			\
	C(withheld_notice, COUNTER, "withheld", "notice",		\
	    "deliveries_withheld_total", "reason", "notice",		\
	    "withheld by groups", "notice", NULL)			\
	C(close_framing, COUNTER, "closed", "framing",			\
	    "sessions_closed_total", "reason", "framing",		\
	    "sessions closed", "framing",				\
	    "Sessions closed for what they did, by reason.")		\
	C(close_unclosed, COUNTER, "closed", "unclosed_event",		\
	    "sessions_closed_total", "reason", "unclosed_event",	\
	    "sessions closed", "unclosed_event", NULL)			\
	C(close_idle, COUNTER, "closed", "idle",			\
	    "sessions_closed_total", "reason", "idle",			\
	    "sessions closed", "idle", NULL)				\
	C(close_slow, COUNTER, "closed", "slow_consumer",		\
	    "sessions_closed_total", "reason", "slow_consumer",		\
	    "sessions closed", "slow_consumer", NULL)			\
	C(close_takeover, COUNTER, "closed", "taken_over",		\
	    "sessions_closed_total", "reason", "taken_over",		\
	    "sessions closed", "taken_over", NULL)			\
	C(close_memory, COUNTER, "closed", "memory_budget",		\
	    "sessions_closed_total", "reason", "memory_budget",		\
	    "sessions closed", "memory_budget", NULL)			\
	C(close_dead_peer, COUNTER, "closed", "dead_peer",		\
	    "sessions_closed_total", "reason", "dead_peer",		\
	    "sessions closed", "dead_peer", NULL)			\
	C(close_per_cert, COUNTER, "closed", "per_cert",		\
	    "sessions_closed_total", "reason", "per_cert",		\
	    "sessions closed", "per_cert", NULL)			\
	C(close_groups, COUNTER, "closed", "groups",			\
	    "sessions_closed_total", "reason", "groups",		\
	    "sessions closed", "groups", NULL)				\
	C(close_user_deleted, COUNTER, "closed", "user_deleted",	\
	    "sessions_closed_total", "reason", "user_deleted",		\
	    "sessions closed", "user_deleted", NULL)			\
	C(close_admin, COUNTER, "closed", "admin",			\
	    "sessions_closed_total", "reason", "admin",			\
	    "sessions closed", "admin", NULL)				\
	C(takp_sessions_xml, GAUGE, "takp", "sessions_xml",		\
	    "sessions_by_encoding", "encoding", "xml", "TAK protocol",	\
	    "sessions on XML",						\
	    "Established client sessions by the encoding of their "	\
	    "stream: xml (TAK protocol 0) or v1 (protobuf).")		\
	C(takp_sessions_v1, GAUGE, "takp", "sessions_v1",		\
	    "sessions_by_encoding", "encoding", "v1", "TAK protocol",	\
	    "sessions on v1", NULL)					\
	C(takp_offered, COUNTER, "takp", "offered",			\
	    "takp_negotiations_total", "step", "offered",		\
	    "TAK protocol", "v1 offered",				\
	    "TAK protocol v1 negotiations: offers sent, and requests "	\
	    "accepted, refused (a version other than 1, or no offer) "	\
	    "and timed out (after the offer's 60 s).")			\
	C(takp_accepted, COUNTER, "takp", "accepted",			\
	    "takp_negotiations_total", "step", "accepted",		\
	    "TAK protocol", "v1 accepted", NULL)			\
	C(takp_refused, COUNTER, "takp", "refused",			\
	    "takp_negotiations_total", "step", "refused",		\
	    "TAK protocol", "requests refused", NULL)			\
	C(takp_timed_out, COUNTER, "takp", "timed_out",		\
	    "takp_negotiations_total", "step", "timed_out",		\
	    "TAK protocol", "requests timed out", NULL)		\
	C(takp_xml_to_v1, COUNTER, "takp", "xml_to_v1",		\
	    "takp_conversions_total", "direction", "xml_to_v1",	\
	    "TAK protocol", "conversions XML to v1",			\
	    "Events converted for recipients of the other encoding "	\
	    "(at most once per event and worker).")			\
	C(takp_v1_to_xml, COUNTER, "takp", "v1_to_xml",		\
	    "takp_conversions_total", "direction", "v1_to_xml",	\
	    "TAK protocol", "conversions v1 to XML", NULL)		\
	C(takp_xml_to_v1_failed, COUNTER, "takp", "xml_to_v1_failed",	\
	    "takp_conversion_failures_total", "direction", "xml_to_v1",	\
	    "TAK protocol", "conversions XML to v1 failed",		\
	    "Events that could not be converted: their recipients of "	\
	    "the other encoding did not get them.")			\
	C(takp_v1_to_xml_failed, COUNTER, "takp", "v1_to_xml_failed",	\
	    "takp_conversion_failures_total", "direction", "v1_to_xml",	\
	    "TAK protocol", "conversions v1 to XML failed", NULL)	\
	C(takp_framing, COUNTER, "takp", "framing_errors",		\
	    "takp_framing_errors_total", NULL, NULL, "TAK protocol",	\
	    "v1 framing errors",					\
	    "v1 sessions closed for a framing error (no 0xBF, a "	\
	    "length over max_event_bytes, a varint over 10 bytes).")	\
	C(takp_zeros, COUNTER, "takp", "zeros_skipped",		\
	    "takp_zeros_skipped_total", NULL, NULL, "TAK protocol",	\
	    "v1 stray zero bytes skipped",				\
	    "0x00 bytes skipped between v1 frames (a peer server's "	\
	    "habit; at most 8 in a row).")				\
	C(outq_high_water, PEAK, "outq", "high_water_bytes",		\
	    "outq_high_water_bytes", NULL, NULL, "output queues",	\
	    "high-water mark (bytes)",					\
	    "Largest output queue of any session since the worker "	\
	    "started.")							\
	C(outq_bytes, GAUGE, "outq", "queued_bytes",			\
	    "outq_bytes", NULL, NULL, "output queues",			\
	    "queued now (bytes)",					\
	    "Bytes waiting in the output queues of all sessions now.")	\
	C(mem_buffered, GAUGE, "memory", "buffered_bytes",		\
	    "buffered_bytes", NULL, NULL, "memory budget",		\
	    "buffered now (bytes)",					\
	    "Bytes the worker holds for its sessions: input buffers of "\
	    "unfinished events, event buffers and rings of the output "	\
	    "queues (an event queued to many counts once).")		\
	C(mem_high_water, PEAK, "memory", "high_water_bytes",		\
	    "buffered_high_water_bytes", NULL, NULL, "memory budget",	\
	    "high-water mark (bytes)",					\
	    "Most bytes the worker held for its sessions since it "	\
	    "started.")							\
	C(mem_budget, LEVEL, "memory", "budget_bytes",			\
	    "buffered_budget_bytes", NULL, NULL, "memory budget",	\
	    "budget (bytes)",						\
	    "The worker's [cot] max_buffered_bytes (auto resolved).")	\
	C(store_commits, COUNTER, "store", "commits",			\
	    "store_commits_total", NULL, NULL, "state store",		\
	    "commits",							\
	    "Write transactions the worker committed to the state "	\
	    "store.")							\
	C(store_commit_failures, COUNTER, "store", "commit_failures",	\
	    "store_commit_failures_total", NULL, NULL, "state store",	\
	    "commit failures",						\
	    "Write transactions of the worker that failed (the batch "	\
	    "of registry and SA writes was lost).")			\
	C(store_ops_dropped, COUNTER, "store", "ops_dropped",		\
	    "store_ops_dropped_total", NULL, NULL, "state store",	\
	    "writes dropped",						\
	    "Registry and SA writes of the worker lost: refused, or in "\
	    "a failed commit.")						\
	C(store_map_grows, COUNTER, "store", "map_grows",		\
	    "store_map_grows_total", NULL, NULL, "state store",		\
	    "map grows",						\
	    "Times the worker grew the state store's map.")		\
	C(store_map_size, PEAK, "store", "map_size_bytes",		\
	    "store_map_size_bytes", NULL, NULL, "state store",		\
	    "map size (bytes)",						\
	    "Size of the state store's map as the worker has it "	\
	    "mapped.")							\
	C(fanout_peers, LEVEL, "fanout", "peers",			\
	    "fanout_peers", NULL, NULL, "fan-out between workers",	\
	    "channels up",						\
	    "Channels to other workers that are up.")			\
	C(fanout_events_sent, COUNTER, "fanout", "events_sent",		\
	    "fanout_events_sent_total", NULL, NULL,			\
	    "fan-out between workers", "events sent",			\
	    "Events sent to other workers (once per peer).")		\
	C(fanout_events_received, COUNTER, "fanout", "events_received",	\
	    "fanout_events_received_total", NULL, NULL,			\
	    "fan-out between workers", "events received",		\
	    "Events received from other workers.")			\
	C(fanout_dropped_full, COUNTER, "fanout", "dropped_full",	\
	    "fanout_events_dropped_total", "reason", "peer_queue_full",	\
	    "fan-out between workers", "dropped: peer queue full",	\
	    "Events not sent to another worker, by reason.")		\
	C(fanout_dropped_down, COUNTER, "fanout", "dropped_down",	\
	    "fanout_events_dropped_total", "reason", "peer_down",	\
	    "fan-out between workers", "dropped: peer down", NULL)	\
	C(fanout_dropped_error, COUNTER, "fanout", "dropped_error",	\
	    "fanout_events_dropped_total", "reason", "error",		\
	    "fan-out between workers", "dropped: error", NULL)		\
	C(fanout_malformed, COUNTER, "fanout", "malformed",		\
	    "fanout_malformed_total", NULL, NULL,			\
	    "fan-out between workers", "channels closed: malformed",	\
	    "Channels to other workers closed for a malformed frame.")	\
	C(fs_held, COUNTER, "fileshare", "held",			\
	    "fileshare_requests_total", "package", "held",		\
	    "data package announcements", "b-f-t-r to here: package held",\
	    "File transfer requests (b-f-t-r) whose senderUrl points "	\
	    "at this server's api, by what the package store says of "	\
	    "the package: held, unknown (logged: its recipients will "	\
	    "get 404), unchecked (the store could not be read).")	\
	C(fs_unknown, COUNTER, "fileshare", "unknown",			\
	    "fileshare_requests_total", "package", "unknown",		\
	    "data package announcements",				\
	    "b-f-t-r to here: package unknown", NULL)			\
	C(fs_unchecked, COUNTER, "fileshare", "unchecked",		\
	    "fileshare_requests_total", "package", "unchecked",	\
	    "data package announcements",				\
	    "b-f-t-r to here: store unreadable", NULL)			\
	C(api_req_marti, COUNTER, "api", "requests_marti",		\
	    "api_requests_total", "listener", "marti", "api",		\
	    "requests: Marti (8443)",					\
	    "HTTP requests the api process routed, by listener (the "	\
	    "api process only).")					\
	C(api_req_enroll, COUNTER, "api", "requests_enroll",		\
	    "api_requests_total", "listener", "enroll", "api",		\
	    "requests: enrollment (8446)", NULL)			\
	C(api_req_metrics, COUNTER, "api", "requests_metrics",		\
	    "api_requests_total", "listener", "metrics", "api",		\
	    "requests: metrics", NULL)					\
	C(api_plain_on_tls, COUNTER, "api", "plain_http_on_tls",	\
	    "api_refused_total", "reason", "plain_http_on_tls", "api",	\
	    "refused: plain HTTP on a TLS port",			\
	    "HTTP requests and connections the api process refused, "	\
	    "by reason (TLS handshakes: handshake_failures_total).")	\
	C(api_bad_request, COUNTER, "api", "bad_request",		\
	    "api_refused_total", "reason", "bad_request", "api",	\
	    "refused: malformed request (400)", NULL)			\
	C(api_head_too_large, COUNTER, "api", "head_too_large",	\
	    "api_refused_total", "reason", "head_too_large", "api",	\
	    "refused: request head too large", NULL)			\
	C(api_body_too_large, COUNTER, "api", "body_too_large",	\
	    "api_refused_total", "reason", "body_too_large", "api",	\
	    "refused: body too large (413)", NULL)			\
	C(api_not_found, COUNTER, "api", "not_found",			\
	    "api_refused_total", "reason", "not_found", "api",		\
	    "refused: no such path (404)", NULL)			\
	C(api_bad_method, COUNTER, "api", "bad_method",		\
	    "api_refused_total", "reason", "method", "api",		\
	    "refused: method not allowed (405, 501)", NULL)		\
	C(api_unauthorized, COUNTER, "api", "unauthorized",		\
	    "api_refused_total", "reason", "unauthorized", "api",	\
	    "refused: not authorized (401)", NULL)			\
	C(api_timeouts, COUNTER, "api", "timeouts",			\
	    "api_refused_total", "reason", "timeout", "api",		\
	    "closed: timeout ([api] timeout)", NULL)			\
	C(api_conn_refused, COUNTER, "api", "connections_refused",	\
	    "api_refused_total", "reason", "connection_limit", "api",	\
	    "refused: connection limit", NULL)				\
	C(api_evicted, COUNTER, "api", "evicted",			\
	    "api_connections_evicted_total", NULL, NULL, "api",		\
	    "idle connections closed for a newcomer",			\
	    "Connections closed between requests to make room for a "	\
	    "new one at a connection limit.")				\
	C(api_metrics_evicted, COUNTER, "api", "metrics_evicted",	\
	    NULL, NULL, NULL, "api", NULL, NULL)			\
	C(api_login_ok, COUNTER, "api", "logins_ok",			\
	    "api_logins_total", "result", "ok", "api",			\
	    "enrollment logins: ok",					\
	    "HTTP Basic logins on the enrollment port, by result "	\
	    "(every result but ok is answered the same 401).")	\
	C(api_login_bad_password, COUNTER, "api", "logins_bad_password",\
	    "api_logins_total", "result", "bad_password", "api",	\
	    "enrollment logins: wrong password", NULL)			\
	C(api_login_unknown_user, COUNTER, "api", "logins_unknown_user",\
	    "api_logins_total", "result", "unknown_user", "api",	\
	    "enrollment logins: no such user", NULL)			\
	C(api_login_no_password, COUNTER, "api", "logins_no_password",	\
	    "api_logins_total", "result", "no_password", "api",	\
	    "enrollment logins: user without a password", NULL)	\
	C(api_login_malformed, COUNTER, "api", "logins_malformed",	\
	    "api_logins_total", "result", "malformed", "api",		\
	    "enrollment logins: no or malformed Authorization", NULL)	\
	C(api_login_delayed, COUNTER, "api", "logins_delayed",		\
	    "api_logins_delayed_total", NULL, NULL, "api",		\
	    "enrollment logins delayed (earlier failures)",		\
	    "Enrollment requests held before their login was checked, "	\
	    "for earlier failures of their user name or address.")	\
	C(api_throttle_names, GAUGE, "api", "throttle_names",		\
	    "api_throttle_tracked", "table", "names", "api",		\
	    "failed logins tracked: names",				\
	    "User names and source addresses whose failed logins the "	\
	    "enrollment port counts now.")				\
	C(api_throttle_addrs, GAUGE, "api", "throttle_addresses",	\
	    "api_throttle_tracked", "table", "addresses", "api",	\
	    "failed logins tracked: addresses", NULL)			\
	C(api_throttle_evictions, COUNTER, "api", "throttle_evictions",\
	    "api_throttle_evictions_total", NULL, NULL, "api",		\
	    "failed logins forgotten for room",				\
	    "Names and addresses still counting failures that a full "	\
	    "table forgot to make room.")				\
	C(api_enroll_signed, COUNTER, "api", "enroll_signed",		\
	    "api_enrollments_total", "result", "signed", "api",	\
	    "enrollments: signed",					\
	    "Certificate signing requests of authenticated users on "	\
	    "the enrollment port, by result.")				\
	C(api_enroll_bad_request, COUNTER, "api", "enroll_bad_request",\
	    "api_enrollments_total", "result", "bad_request", "api",	\
	    "enrollments refused: query, Accept or body (400)", NULL)	\
	C(api_enroll_bad_csr, COUNTER, "api", "enroll_bad_csr",	\
	    "api_enrollments_total", "result", "bad_csr", "api",	\
	    "enrollments refused: CSR policy (400)", NULL)		\
	C(api_enroll_refused, COUNTER, "api", "enroll_refused",	\
	    "api_enrollments_total", "result", "signer_refused", "api",	\
	    "enrollments refused by the signer (400)", NULL)		\
	C(api_enroll_busy, COUNTER, "api", "enroll_busy",		\
	    "api_enrollments_total", "result", "busy", "api",		\
	    "enrollments deferred: signer rate limit (503)", NULL)	\
	C(api_enroll_error, COUNTER, "api", "enroll_error",		\
	    "api_enrollments_total", "result", "error", "api",		\
	    "enrollments failed in the signer (500)", NULL)		\
	C(api_enroll_unavailable, COUNTER, "api", "enroll_unavailable",\
	    "api_enrollments_total", "result", "unavailable", "api",	\
	    "enrollments unanswered: no signer (503)", NULL)		\
	C(api_channels_set, COUNTER, "api", "channels_set",		\
	    "api_channels_total", "result", "set", "api",		\
	    "channels set",						\
	    "PUT /Marti/api/groups/active: channel choices of users, "	\
	    "by result.")						\
	C(api_channels_bad_request, COUNTER, "api",			\
	    "channels_bad_request", "api_channels_total", "result",	\
	    "bad_request", "api",					\
	    "channels refused: query or body (400, 413)", NULL)		\
	C(api_channels_forbidden, COUNTER, "api", "channels_forbidden",\
	    "api_channels_total", "result", "forbidden", "api",		\
	    "channels refused: another user's clientUid, a group not "	\
	    "the user's, no user (403)", NULL)				\
	C(api_channels_unavailable, COUNTER, "api",			\
	    "channels_unavailable", "api_channels_total", "result",	\
	    "unavailable", "api",					\
	    "channels not recorded: no store, no answer (503)", NULL)	\
	C(api_conns, GAUGE, "api", "connections",			\
	    "api_connections", NULL, NULL, "api", "connections open",	\
	    "Connections open to the api process, every listener.")	\
	C(pkg_uploads, COUNTER, "api", "pkg_uploads",			\
	    "api_packages_uploads_total", NULL, NULL, "api",		\
	    "data packages uploaded",					\
	    "Data package uploads stored (a copy of stored bytes "	\
	    "included: it stores nothing new).")			\
	C(pkg_bytes_in, COUNTER, "api", "pkg_bytes_in",		\
	    "api_packages_received_bytes_total", NULL, NULL, "api",	\
	    "data packages: bytes uploaded",				\
	    "Bytes of the data packages uploaded and stored.")		\
	C(pkg_downloads, COUNTER, "api", "pkg_downloads",		\
	    "api_packages_downloads_total", NULL, NULL, "api",		\
	    "data packages downloaded",				\
	    "Data package downloads sent whole.")			\
	C(pkg_bytes_out, COUNTER, "api", "pkg_bytes_out",		\
	    "api_packages_sent_bytes_total", NULL, NULL, "api",	\
	    "data packages: bytes downloaded",				\
	    "Bytes of data packages sent (partial downloads "		\
	    "included).")						\
	C(pkg_ref_hash, COUNTER, "api", "pkg_refused_hash",		\
	    "api_packages_refused_total", "reason", "hash_mismatch",	\
	    "api", "data packages refused: hash mismatch (400)",	\
	    "Data package requests refused, by reason.")		\
	C(pkg_ref_too_large, COUNTER, "api", "pkg_refused_too_large",	\
	    "api_packages_refused_total", "reason", "too_large", "api",	\
	    "data packages refused: over max_upload (413)", NULL)	\
	C(pkg_ref_quota, COUNTER, "api", "pkg_refused_quota",		\
	    "api_packages_refused_total", "reason", "quota", "api",	\
	    "data packages refused: [api] quota (507)", NULL)		\
	C(pkg_ref_user_quota, COUNTER, "api", "pkg_refused_user_quota",\
	    "api_packages_refused_total", "reason", "user_quota", "api",\
	    "data packages refused: [api] user_quota (413)", NULL)	\
	C(pkg_ref_disk_full, COUNTER, "api", "pkg_refused_disk_full",	\
	    "api_packages_refused_total", "reason", "disk_full", "api",	\
	    "data packages refused: disk full (507)", NULL)		\
	C(pkg_ref_bad, COUNTER, "api", "pkg_refused_bad_request",	\
	    "api_packages_refused_total", "reason", "bad_request",	\
	    "api", "data packages refused: bad request (400)", NULL)	\
	C(pkg_ref_stalled, COUNTER, "api", "pkg_refused_stalled",	\
	    "api_packages_refused_total", "reason", "stalled", "api",	\
	    "data package uploads stalled ([api] timeout)", NULL)	\
	C(pkg_ref_aborted, COUNTER, "api", "pkg_refused_aborted",	\
	    "api_packages_refused_total", "reason", "aborted", "api",	\
	    "data package uploads the client broke off", NULL)		\
	C(pkg_ref_not_found, COUNTER, "api", "pkg_refused_not_found",	\
	    "api_packages_refused_total", "reason", "not_found", "api",	\
	    "data packages refused: absent or not visible (404)", NULL)\
	C(pkg_ref_forbidden, COUNTER, "api", "pkg_refused_forbidden",	\
	    "api_packages_refused_total", "reason", "forbidden", "api",	\
	    "data packages refused: not the uploader (403)", NULL)	\
	C(pkg_ref_error, COUNTER, "api", "pkg_refused_error",		\
	    "api_packages_refused_total", "reason", "error", "api",	\
	    "data packages refused: store error (500, 503)", NULL)	\
	C(pkg_store_bytes, GAUGE, "api", "pkg_store_bytes",		\
	    "api_packages_stored_bytes", NULL, NULL, "api",		\
	    "data packages: bytes stored",				\
	    "Bytes of the data packages in the store.")		\
	C(pkg_store_count, GAUGE, "api", "pkg_store_count",		\
	    "api_packages_stored", NULL, NULL, "api",			\
	    "data packages stored",					\
	    "Data packages in the store.")

/* How a number adds up over the workers, and its Prometheus type. */
enum counter_type {
	COUNTER_COUNTER,	/* counter, summed */
	COUNTER_GAUGE,		/* gauge, summed */
	COUNTER_PEAK,		/* gauge, the largest is the total */
	COUNTER_LEVEL		/* gauge, no total */
};

extern const char *const counters_hs_fail_names[IPC_HS_FAIL_MAX];
extern const char *const counters_ev_class_names[IPC_EV_CLASS_MAX];

struct counters {
#define COUNTERS_C(f, ...)		uint64_t f;
#define COUNTERS_A(f, n, ...)		uint64_t f[n];
	TAKD_COUNTERS(COUNTERS_C, COUNTERS_A)
#undef COUNTERS_C
#undef COUNTERS_A
};

/* One row of the list, as data (an A row is one def over n values). */
struct counter_def {
	const char	*field;		/* the member's name, for tests */
	size_t		 off;		/* offsetof(struct counters, field) */
	size_t		 n;		/* 1 for C rows */
	const char *const *names;	/* A rows: the n names; else NULL */
	enum counter_type type;
	const char	*group;
	const char	*key;		/* C rows */
	const char	*family;
	const char	*label;
	const char	*value;		/* C rows */
	const char	*heading;
	const char	*text;
	const char	*help;
};

extern const struct counter_def counter_defs[];
extern const size_t counter_ndefs;

/* Values in struct counters, all of them: what STATUS_REP carries. */
#define COUNTERS_N	(sizeof(struct counters) / sizeof(uint64_t))

/* Value i (0 .. def->n - 1) of def in c. */
uint64_t counters_get(const struct counters *, const struct counter_def *,
	    size_t i);
/* The JSON key of value i of def: key (C rows) or names[i] (A rows). */
const char *counters_name(const struct counter_def *, size_t i);

struct ipc_buf;
struct ipc_rd;
struct json;

/* STATUS_REP's counters: u32 COUNTERS_N, then every value as u64. */
void	 counters_encode(struct ipc_buf *, const struct counters *);
/* The reverse; -1 when the count is not COUNTERS_N (c then untouched). */
int	 counters_decode(struct ipc_rd *, struct counters *);
/* The keys and objects of the list into the JSON object being written. */
void	 counters_json(struct json *, const struct counters *);

#endif
