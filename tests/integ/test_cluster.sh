#!/usr/bin/env bash
# Several takd nodes linked over NATS (issue 19, docs/cluster.md): real
# nats-server processes on loopback ports, each with its config in the
# case's temp dir, and two takd nodes (each its own state dir, ports and
# log, one shared PKI), driven by real TLS clients.
#
#   events       SA both ways, a broadcast chat, directed chats by callsign
#                and by uid across nodes; each event reaches a client once
#                (published once per node, never echoed: a second client on
#                the sender's node and the remote client count it); pings
#                stay on their node; a client connecting later to the other
#                node gets the first one's latest SA by replay; takctl
#                status shows the other node, takctl clients --cluster its
#                client; a client that leaves one node is a t-x-d-d on the
#                other
#   groups       OU groups across nodes: blue on one node gets blue of the
#                other and nothing of red; the node of blue sessions only
#                subscribes to one group subject
#   node_killed  kill -9 of a whole node: the clients of the other get one
#                t-x-d-d per client of it, within node_timeout + 2 s, once
#   node_cut     a node cut from NATS (its only server killed, the other
#                node's still up): the other node's clients get one
#                t-x-d-d per client of it within node_timeout + 2 s;
#                once its server is back, its clients are seen again
#   revoke       takctl revoke on node 1 of a client connected to node 2
#                (each node its own copy of the PKI): its session on node 2
#                closes within 1.5 s; the older CRL published afterwards
#                (by a node n9) is refused by both nodes
#   nats_faults  node 1 starts with no NATS server up: it serves its own
#                clients and says so; a 3-server NATS cluster comes, node 2
#                joins; killing the server node 1 uses keeps events
#                flowing; with every server down each node serves its own;
#                once they are back, node 2 gets the position a client of
#                node 1 sent meanwhile (a later client replays it)
#   hostile      messages on the cluster's subjects that do not decode,
#                claim another node's id (or the receiver's), or are
#                oversized: dropped, counted, never delivered
#   slow         a node that cannot keep up with NATS (its queue cut to 4
#                messages by TAKD_CLUSTER_QUEUE_MAX) and a burst of 3,000
#                events: it drops, counts and logs them, its own clients'
#                events keep flowing between them meanwhile, and the link
#                to the other node holds
# events, node_killed, hostile and slow also scrape each node's /metrics
# (takd_cluster_*, docs/metrics.md) for what status says.
. "$(dirname "$0")/lib.sh"

NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
PY=/usr/bin/python3

# free_port: a TCP port of 127.0.0.1 nobody listens on now.
free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nats_start NAME [CLUSTER_PORT ROUTE_PORT...]: a nats-server listening on
# a free port (NATS_PORT_NAME), its config and log in $T; with a cluster
# port, one of a NATS cluster routed to the given ports.
nats_start() {
	local name=$1 port conf routes="" r
	shift
	# A server started again listens where it did.
	eval "port=\${NATS_PORT_$name:-}"
	[ -n "$port" ] || port=$(free_port)
	conf=$T/nats-$name.conf
	{
		echo "listen: 127.0.0.1:$port"
		echo "max_payload: 4MB"
		echo "server_name: $name"
		if [ $# -gt 0 ]; then
			for r in "${@:2}"; do
				routes="$routes${routes:+, }\"nats-route://127.0.0.1:$r\""
			done
			echo "cluster { name: takdtest; listen: 127.0.0.1:$1;" \
			    "routes: [$routes ] }"
		fi
	} >"$conf"
	eval "NATS_PORT_$name=$port"
	cot_spawn "nats-$name" "$NATS_SERVER" -c "$conf" -l "$T/nats-$name.log"
	wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" ||
	    { diag_file "$T/nats-$name.log"; fail "nats-server $name did not start"; }
}

nats_kill() {
	kill -"${2:-TERM}" "$(cat "$T/nats-$1.cpid")" 2>/dev/null
	cot_poll 10 test -s "$T/nats-$1.rc"
}

# node_start N NATS_URLS [KEY=VALUE...]: takd node N (id nN) in $T/nN,
# sharing $T/pki; its config in CFG_N, port in PORT_N, supervisor in PID_N.
node_start() {
	local n=$1 urls=$2 d=$T/n$1 cfg end
	shift 2
	mkdir -p "$d"
	cfg=$d/takd.ini
	write_config "$cfg" server.workers=1 "server.state_dir=$d/state" \
	    "server.log=$d/takd.log" "cluster.nats=$urls" cluster.name=t \
	    "cluster.node=n$n" cluster.node_timeout=3s "$@"
	rm -f "$d/exit"
	(
		env --default-signal=INT ${NODE_ENV:-} "$TAKD" -f -c "$cfg" \
		    >>"$d/stderr" 2>&1 </dev/null &
		echo $! >"$d/pid"
		wait $!
		echo $? >"$d/exit"
	) 2>/dev/null &
	wait_for 5 test -s "$d/pid" || fail "node $n did not start"
	eval "PID_$n=$(cat "$d/pid")"
	cat "$d/pid" >>"$T/takd.pids"
	eval "CFG_$n=$cfg"
	wait_for 20 node_up "$cfg" ||
	    { diag_file "$d/takd.log" 40; fail "node $n did not come up"; }
	eval "PORT_$n=$(sget listeners.0.port)"
}

node_up() {
	takd_status "$1" && [ -n "$(sget listeners.0.port)" ] &&
	    [ "$(sget cluster.running)" = true ]
}

# node_log N: node N's log.
node_log() {
	cat "$T/n$1/takd.log" "$T/n$1/stderr" 2>/dev/null
}

# node_stat N PATH: a field of node N's status ("cluster.link...").
node_stat() {
	local cfg
	eval "cfg=\$CFG_$1"
	takd_status "$cfg" && sget "$2"
}

# stat_is N PATH VALUE: node N's status has VALUE at PATH (for wait_for).
stat_is() {
	[ "$(node_stat "$1" "$2")" = "$3" ]
}

# linked A B: node A hears node B, in step.
linked() {
	local cfg
	eval "cfg=\$CFG_$1"
	takd_status "$cfg" &&
	    [ "$(sget cluster.link.nats_connected)" = true ] &&
	    grep -q "^cluster\.link\.nodes\.[0-9]*\.id	n$2\$" "$T/status.flat"
}

# sa_script NAME [UNTIL]: a script for client NAME that sends its position
# every 300 ms until the file UNTIL (default $T/done) exists.
sa_script() {
	printf 'send-every 300 %s\nwait-file %s\n' "$T/sa.tmpl" \
	    "${2:-$T/done}" >"$T/$1.script"
	echo "$T/$1.script"
}

# scrape N: node N's /metrics (its [metrics] listen) into $T/mN.
scrape() {
	local cfg port
	eval "cfg=\$CFG_$1"
	takd_status "$cfg" || fail "no status of node $1"
	port=$(listener_port metrics)
	[ -n "$port" ] || fail "node $1 has no metrics listener"
	printf 'GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n' |
	    http_send "$port" "$T/m$1.http" || fail "GET /metrics of node $1"
	head -1 "$T/m$1.http" | grep -q ' 200 ' ||
	    { diag_file "$T/m$1.http" 5; fail "GET /metrics of node $1: not 200"; }
	tr -d '\r' <"$T/m$1.http" | awk 'b { print; next } /^$/ { b = 1 }' \
	    >"$T/m$1"
}

# metric N SERIES: a sample of node N's last scrape ('takd_cluster_up',
# 'takd_cluster_node_clients{node="n2"}'); false when there is none.
metric() {
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }' "$T/m$1"
}

# metric_is N SERIES VALUE
metric_is() {
	local v
	v=$(metric "$1" "$2") || fail "node $1's /metrics has no $2"
	[ "$v" = "$3" ] || fail "node $1: $2 is $v, not $3"
}

# on N: the next cot_bg connects to node N.
on() {
	eval "TAKD_PORT=\$PORT_$1"
}

# two_nodes [KEY=VALUE...]: NATS and nodes 1 and 2, linked.
two_nodes() {
	use_pki "$T/pki"
	nats_start a
	node_start 1 "nats://127.0.0.1:$NATS_PORT_a" "$@"
	node_start 2 "nats://127.0.0.1:$NATS_PORT_a" "$@"
	wait_for 10 linked 1 2 && wait_for 10 linked 2 1 ||
	    { diag_file "$T/n1/takd.log" 30; diag_file "$T/n2/takd.log" 30;
	    fail "the nodes do not see each other"; }
	cot_sa_tmpl "$T/sa.tmpl"
}

events() {
	local n f
	two_nodes metrics.listen=127.0.0.1:0
	cot_chat "$T/all.ev" chat-all hello-everybody
	cot_chat "$T/to-bob.ev" chat-cs to-bob-by-callsign 'callsign="BOB"'
	cot_chat "$T/to-a1.ev" chat-uid to-alice-by-uid 'uid="a1"'
	printf '%s\n' '<event version="2.0" uid="a1-ping" type="t-x-c-t" how="h-g-i-g-o" time="@NOW@" start="@NOW@" stale="@STALE@"><point lat="0" lon="0" hae="0" ce="9" le="9"/><detail/></event>' >"$T/ping.ev"
	cat >"$T/a1.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=b1 within=10000
	send $T/all.ev
	send $T/to-bob.ev
	send $T/ping.ev
	expect type=t-x-c-t-r within=5000
	expect grep=to-alice-by-uid within=10000
	touch $T/a1-ok
	wait-file $T/b1-left
	expect type=t-x-d-d 'grep=<link uid="b1"' within=10000
	touch $T/a1-done
	wait-file $T/done
	EOF
	cat >"$T/b1.script" <<-EOF
	forbid type=t-x-c-t
	forbid uid=takPong
	send-every 300 $T/sa.tmpl
	expect uid=a1 within=10000
	expect grep=hello-everybody within=10000
	expect grep=to-bob-by-callsign within=10000
	send $T/to-a1.ev
	touch $T/b1-ok
	wait-file $T/b1-go
	EOF
	on 1
	cot_bg a1 $(client_args alice) --script "$T/a1.script" --uid a1 \
	    --callsign ALICE --print
	# On node 1 too: sees alice's broadcast once, and not the chats; stays
	# to the end (it held 8 s, the case's longest wait).
	printf 'forbid grep=to-bob\nforbid grep=to-alice\nwait-file %s\n' \
	    "$T/done" >"$T/a2.script"
	cot_bg a2 $(client_args carol) --uid a2 --callsign CAROL --print \
	    --script "$T/a2.script"
	on 2
	cot_bg b1 $(client_args bob) --script "$T/b1.script" --uid b1 \
	    --callsign BOB --print
	wait_for 15 test -e "$T/a1-ok" -a -e "$T/b1-ok" ||
	    { diag_file "$T/a1.out" 30; diag_file "$T/b1.out" 30;
	    fail "events did not cross the nodes"; }
	# A client coming to node 1 later gets bob's position (node 2's).
	on 1
	expect_client 0 $(client_args carol) --expect-uid b1 --wait 5
	# Each event once: never published twice, never echoed back.
	sleep 1
	n=$(printed b1 | grep -c hello-everybody)
	[ "$n" = 1 ] || fail "bob got the broadcast chat $n times"
	n=$(printed a2 | grep -c hello-everybody)
	[ "$n" = 1 ] || fail "carol (alice's node) got it $n times"
	n=$(printed a1 | grep -c to-alice-by-uid)
	[ "$n" = 1 ] || fail "alice got bob's chat $n times"
	# What the operator sees (status: the cluster process's report, up
	# to a second old; read once, it was seen one event short).
	_link_counted() {
		takd_status "$CFG_1" &&
		    [ "$(sget cluster.link.events_out)" -ge 5 ] &&
		    [ "$(sget cluster.link.events_in)" -ge 2 ]
	}
	wait_for 5 _link_counted ||
	    fail "node 1 published $(sget cluster.link.events_out) events" \
	    "(expected >= 5) and delivered $(sget cluster.link.events_in)" \
	    "of node 2 (expected >= 2)"
	[ "$(sget cluster.link.nats_server)" = "nats://127.0.0.1:$NATS_PORT_a" ] ||
	    fail "nats_server: $(sget cluster.link.nats_server)"
	# The same in /metrics: every family of docs/cluster.md's list.
	scrape 1
	metric_is 1 takd_cluster_up 1
	metric_is 1 takd_cluster_restarts_total 0
	metric_is 1 "takd_cluster_nats_connected{server=\"nats://127.0.0.1:$NATS_PORT_a\"}" 1
	metric_is 1 takd_cluster_nodes 1
	metric_is 1 'takd_cluster_node_clients{node="n2"}' 1
	n=$(metric 1 'takd_cluster_node_last_heard_seconds{node="n2"}') ||
	    fail "node 1's /metrics has no last heard of n2"
	awk -v s="$n" 'BEGIN { exit !(s >= 0 && s < 3) }' ||
	    fail "node 1 last heard node 2 $n s ago"
	n=$(metric 1 takd_cluster_events_out_total) ||
	    fail "no takd_cluster_events_out_total"
	[ "$n" -ge 5 ] || fail "takd_cluster_events_out_total $n, not >= 5"
	[ "$(metric 1 takd_cluster_events_in_total)" -ge 2 ] 2>/dev/null ||
	    fail "takd_cluster_events_in_total < 2, or none"
	[ "$(metric 1 takd_cluster_published_total)" -ge "$n" ] 2>/dev/null ||
	    fail "fewer messages published than events"
	for f in publish_failed received drop_undecodable drop_foreign_id \
	    drop_oversized drop_slow drop_mesh drop_here node_timeouts \
	    departures syncs_asked syncs_served sa_stored disconnects \
	    reconnects crl_published crl_received crl_refused \
	    nats_slow_consumer_events; do
		metric 1 "takd_cluster_${f}_total" >/dev/null ||
		    fail "node 1's /metrics has no takd_cluster_${f}_total"
	done
	metric_is 1 takd_cluster_drop_slow_total 0
	metric_is 1 takd_cluster_node_timeouts_total 0
	"$TAKCTL" -c "$CFG_1" clients --cluster --json >"$T/cc.json" 2>&1 ||
	    { diag_file "$T/cc.json"; fail "takctl clients --cluster"; }
	grep -q '"node":"n2","uid":"b1","callsign":"BOB"' "$T/cc.json" &&
	    grep -q '"node":"n1","uid":"a1"' "$T/cc.json" ||
	    { diag_file "$T/cc.json"; fail "clients --cluster lacks a node"; }
	"$TAKCTL" -c "$CFG_1" clients --cluster >"$T/cc.txt" 2>&1 &&
	    grep -q '^n2 .*BOB' "$T/cc.txt" ||
	    { diag_file "$T/cc.txt"; fail "clients --cluster table"; }
	# Bob leaves node 2: alice on node 1 is told.
	touch "$T/b1-go"
	cot_wait b1 0
	touch "$T/b1-left"
	wait_for 10 test -e "$T/a1-done" ||
	    { diag_file "$T/a1.out" 20; fail "no t-x-d-d of bob on node 1"; }
	touch "$T/done"
	cot_wait a1 0
	cot_wait a2 0 20
}

# ou_cert NAME OU: a client certificate "CN=NAME, O=takd test, OU=OU".
ou_cert() {
	subj_cert "$1" "/CN=$1/O=takd test/OU=$2"
}

groups() {
	use_pki "$T/pki"
	for c in blue1:Blue blue2:Blue red2:Red; do
		ou_cert "${c%:*}" "${c#*:}"
	done
	nats_start a
	node_start 1 "nats://127.0.0.1:$NATS_PORT_a" auth.ou_groups=yes
	node_start 2 "nats://127.0.0.1:$NATS_PORT_a" auth.ou_groups=yes
	wait_for 10 linked 1 2 && wait_for 10 linked 2 1 ||
	    fail "the nodes do not see each other"
	cot_sa_tmpl "$T/sa.tmpl"
	cot_chat "$T/red.ev" chat-red red-says-hi
	on 2
	printf 'send %s\nsend-every 300 %s\nwait-file %s\n' "$T/red.ev" \
	    "$T/sa.tmpl" "$T/done" >"$T/r2.script"
	cot_bg r2 $(subj_args red2) --uid r2 --callsign RED2 \
	    --script "$T/r2.script"
	cot_bg b2 $(subj_args blue2) --uid b2 --callsign BLUE2 \
	    --script "$(sa_script b2)"
	on 1
	cat >"$T/b1.script" <<-EOF
	forbid uid=r2
	forbid grep=red-says-hi
	send-every 300 $T/sa.tmpl
	expect uid=b2 within=10000
	touch $T/b1-ok
	wait-file $T/done
	EOF
	cot_bg b1 $(subj_args blue1) --uid b1 --callsign BLUE1 \
	    --script "$T/b1.script"
	wait_for 10 test -e "$T/b1-ok" || { diag_file "$T/b1.out" 20;
	    fail "blue1 on node 1 did not get blue2 of node 2"; }
	sleep 1		# red's events would have come by now
	# Node 1 holds blue sessions only: one group subject.
	wait_for 3 stat_is 1 cluster.link.group_subjects 1 ||
	    fail "node 1 subscribes to $(sget cluster.link.group_subjects)" \
	    "group subjects, not 1"
	wait_for 3 stat_is 2 cluster.link.group_subjects 2 ||
	    fail "node 2: $(sget cluster.link.group_subjects) group subjects"
	touch "$T/done"
	cot_wait b1 0
	cot_wait b2 0
	cot_wait r2 0
}

node_killed() {
	local t0 t1 n
	two_nodes metrics.listen=127.0.0.1:0
	on 1
	cot_bg a1 $(client_args alice) --uid a1 --callsign ALICE \
	    --script "$(sa_script a1)"
	cot_bg a2 $(client_args carol) --uid a2 --callsign CAROL \
	    --script "$(sa_script a2)"
	on 2
	cat >"$T/b1.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=a1 within=10000
	expect uid=a2 within=10000
	touch $T/b1-ok
	expect type=t-x-d-d 'grep=<link uid="a1"' within=15000
	expect type=t-x-d-d 'grep=<link uid="a2"' within=15000
	touch $T/b1-told
	wait-file $T/done
	EOF
	cot_bg b1 $(client_args bob) --script "$T/b1.script" --uid b1 \
	    --callsign BOB --print
	wait_for 10 test -e "$T/b1-ok" || fail "bob did not see node 1's clients"
	wait_for 5 stat_is 2 cluster.link.nodes.0.clients 2 ||
	    fail "node 2 does not count node 1's 2 clients"
	# Node 1 dies whole, at once: no goodbye, no notice of its own.
	t0=$(now_ms)
	kill -KILL $PID_1 $(proc_children "$PID_1")
	wait_for 10 test -e "$T/b1-told" ||
	    { diag_file "$T/b1.out" 20; fail "no t-x-d-d for node 1's clients"; }
	t1=$(now_ms)
	diag "t-x-d-d of node 1's clients $((t1 - t0)) ms after kill -9" \
	    "(node_timeout 3 s)"
	[ $((t1 - t0)) -le 5000 ] || fail "later than node_timeout + 2 s"
	sleep 2	# a second notice would come now
	n=$(printed b1 | grep -c '<link uid="a1"')
	[ "$n" = 1 ] || fail "bob got $n notices for alice, not 1"
	[ "$(node_stat 2 cluster.link.node_timeouts)" = 1 ] ||
	    fail "node_timeouts: $(sget cluster.link.node_timeouts)"
	scrape 2
	metric_is 2 takd_cluster_node_timeouts_total 1
	metric_is 2 takd_cluster_departures_total 2
	metric_is 2 takd_cluster_nodes 0
	touch "$T/done"
	cot_wait b1 0
}

# A node that loses NATS while the other keeps it: two routed servers,
# node 1 knows only x, node 2 only y; x dies.
node_cut() {
	local t0 t1 n
	use_pki "$T/pki"
	for n in x y; do
		eval "NATS_PORT_$n=$(free_port)"
		eval "CP_$n=$(free_port)"
	done
	nats_start x "$CP_x" "$CP_y"
	nats_start y "$CP_y" "$CP_x"
	node_start 1 "nats://127.0.0.1:$NATS_PORT_x"
	node_start 2 "nats://127.0.0.1:$NATS_PORT_y"
	wait_for 10 linked 1 2 && wait_for 10 linked 2 1 ||
	    fail "the nodes do not see each other"
	cot_sa_tmpl "$T/sa.tmpl"
	on 1
	cot_bg a1 $(client_args alice) --uid a1 --callsign ALICE \
	    --script "$(sa_script a1)"
	on 2
	cat >"$T/b1.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=a1 within=10000
	touch $T/b1-ok
	expect type=t-x-d-d 'grep=<link uid="a1"' within=15000
	touch $T/b1-told
	wait-file $T/healed
	mark
	expect uid=a1 within=10000
	touch $T/b1-back
	wait-file $T/done
	EOF
	cot_bg b1 $(client_args bob) --uid b1 --callsign BOB --print \
	    --script "$T/b1.script"
	wait_for 10 test -e "$T/b1-ok" || fail "bob did not see alice"
	t0=$(now_ms)
	nats_kill x KILL
	wait_for 10 test -e "$T/b1-told" ||
	    { diag_file "$T/b1.out" 20; fail "no t-x-d-d for node 1's client"; }
	t1=$(now_ms)
	diag "t-x-d-d of node 1's client $((t1 - t0)) ms after its NATS" \
	    "died (node_timeout 3 s)"
	[ $((t1 - t0)) -le 5000 ] || fail "later than node_timeout + 2 s"
	# (status: the cluster process's report, up to a second old)
	wait_for 3 stat_is 2 cluster.link.node_timeouts 1 ||
	    fail "node 2 node_timeouts: $(sget cluster.link.node_timeouts)"
	# Node 1, alone, declared nobody dead and still serves alice.
	[ "$(node_stat 1 cluster.link.node_timeouts)" = 0 ] ||
	    fail "node 1 node_timeouts: $(sget cluster.link.node_timeouts)"
	on 1
	expect_client 0 $(client_args carol) --uid a2 --expect-uid a1 --wait 5
	nats_start x "$CP_x" "$CP_y"
	wait_for 10 linked 1 2 && wait_for 10 linked 2 1 ||
	    fail "node 1 did not come back"
	touch "$T/healed"
	wait_for 10 test -e "$T/b1-back" ||
	    { diag_file "$T/b1.out" 20; fail "alice not seen again on node 2"; }
	n=$(printed b1 | grep -c '<link uid="a1"')
	[ "$n" = 1 ] || fail "bob got $n notices for alice, not 1"
	touch "$T/done"
	cot_wait b1 0
	cot_wait a1 0
}

# inject SUBJECT FILE: publish FILE's bytes on SUBJECT, as a raw NATS client.
inject() {
	$PY - "$NATS_PORT_a" "$1" "$2" <<-'PYEOF' || fail "cannot inject $1"
	import socket, sys
	port, subj, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
	data = open(path, "rb").read()
	s = socket.create_connection(("127.0.0.1", port), 5)
	s.recv(4096)				# INFO
	s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
	s.sendall(b"PUB %s %d\r\n" % (subj.encode(), len(data)) + data + b"\r\n")
	s.sendall(b"PING\r\n")
	buf = b""
	while b"PONG" not in buf and b"-ERR" not in buf:
	    buf += s.recv(4096)
	if b"-ERR" in buf:
	    sys.exit("server said " + buf.decode())
	PYEOF
}

# wire_event FILE NODE UID: a cluster event message (cluster/wire.h) of
# node NODE carrying an SA of UID in group __ANON__, into FILE; with
# PAD=N, N more bytes of XML comment in the event.
wire_event() {
	$PY - "$@" <<-'PYEOF'
	import struct, sys, time
	path, node, uid = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
	pad = int(__import__("os").environ.get("PAD", "0"))
	now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
	stale = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 300))
	ev = ('<event version="2.0" uid="%s" type="a-f-G-U-C" how="m-g" '
	    'time="%s" start="%s" stale="%s"><point lat="1" lon="2" hae="0" '
	    'ce="9" le="9"/><detail><contact callsign="EVIL"/>%s</detail>'
	    '</event>' % (uid, now, now, stale, "<!--" + "x" * pad + "-->"
	    if pad else "")).encode()
	def s16(b):
	    return struct.pack(">H", len(b)) + b
	m = b"TKC1" + bytes([1]) + s16(node) + struct.pack(">Q", 7)
	m += bytes([0, 1, 0, 0]) + s16(uid.encode()) + s16(b"__ANON__")
	m += bytes([0]) + struct.pack(">I", len(ev)) + ev
	open(path, "wb").write(m)
	PYEOF
}

hostile() {
	local n
	two_nodes metrics.listen=127.0.0.1:0
	on 2
	printf 'forbid uid=evil\nforbid uid=evil2\nforbid uid=evil3\nsend-every 300 %s\nexpect uid=evil4 within=10000\nwait-file %s\n' \
	    "$T/sa.tmpl" "$T/done" >"$T/b1.script"
	cot_bg b1 $(client_args bob) --uid b1 --callsign BOB --print \
	    --script "$T/b1.script"
	sleep 1
	# Not a message of ours at all.
	printf 'garbage, not a takd message' >"$T/junk"
	inject takd.t.ev.sa.g__ANON__.evil "$T/junk"
	# Node 1's id, on a subject of another sender.
	wire_event "$T/claim" n1 evil
	inject takd.t.ev.sa.g__ANON__.evil "$T/claim"
	# The receiver's own id: its own never come back (no echo).
	wire_event "$T/self" n2 evil2
	inject takd.t.ev.sa.g__ANON__.n2 "$T/self"
	# 1.5 MB: more than an event and its header may be.
	PAD=1500000 wire_event "$T/big" evil evil3
	inject takd.t.ev.sa.g__ANON__.evil "$T/big"
	# A well-formed event of a node that says who it is: delivered.
	wire_event "$T/ok" evil evil4
	inject takd.t.ev.sa.g__ANON__.evil "$T/ok"
	sleep 1		# for anything forbidden to come
	touch "$T/done"
	cot_wait b1 0 20
	takd_status "$CFG_2" || fail "no status of node 2"
	for f in drop_undecodable:1 drop_foreign_id:2 drop_oversized:1; do
		n=$(sget "cluster.link.${f%:*}")
		[ "$n" = "${f#*:}" ] ||
		    fail "node 2 ${f%:*} is $n, not ${f#*:}"
	done
	node_log 2 | grep -q 'claims to come from node n1' ||
	    fail "no log line for the claim of node 1's id"
	node_log 2 | grep -q 'dropped: larger than' ||
	    fail "no log line for the oversized message"
	scrape 2
	metric_is 2 takd_cluster_drop_undecodable_total 1
	metric_is 2 takd_cluster_drop_foreign_id_total 2
	metric_is 2 takd_cluster_drop_oversized_total 1
}

# flood FILE COUNT: publish FILE's bytes COUNT times on the subject of
# the node "flood", all at once from one raw NATS client.
flood() {
	$PY - "$NATS_PORT_a" "$1" "$2" <<-'PYEOF' || fail "cannot flood"
	import socket, sys
	port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
	data = open(path, "rb").read()
	pub = b"PUB takd.t.ev.sa.g__ANON__.flood %d\r\n" % len(data) + data + b"\r\n"
	s = socket.create_connection(("127.0.0.1", port), 5)
	s.recv(4096)				# INFO
	s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n' +
	    pub * count + b"PING\r\n")
	buf = b""
	while b"PONG" not in buf and b"-ERR" not in buf:
	    buf += s.recv(4096)
	if b"-ERR" in buf:
	    sys.exit("server said " + buf.decode())
	PYEOF
}

# A node whose cluster process cannot keep up: node 2's queue from NATS
# holds 4 messages (TAKD_CLUSTER_QUEUE_MAX), and 3,000 events come at
# once.  What does not fit is dropped, counted and logged; the clients of
# node 2 keep getting each other's events during the burst (local
# delivery never waits for the cluster), and node 1's still come after.
slow() {
	local n
	use_pki "$T/pki"
	nats_start a
	node_start 1 "nats://127.0.0.1:$NATS_PORT_a"
	NODE_ENV=TAKD_CLUSTER_QUEUE_MAX=4 node_start 2 \
	    "nats://127.0.0.1:$NATS_PORT_a" metrics.listen=127.0.0.1:0
	wait_for 10 linked 1 2 && wait_for 10 linked 2 1 ||
	    fail "the nodes do not see each other"
	node_log 2 | grep -q 'TAKD_CLUSTER_QUEUE_MAX: at most 4 messages' ||
	    fail "node 2 did not say its queue limit"
	cot_sa_tmpl "$T/sa.tmpl"
	on 1
	cot_bg a1 $(client_args alice) --uid a1 --callsign ALICE \
	    --script "$(sa_script a1)"
	on 2
	cot_bg c1 $(client_args carol) --uid c1 --callsign CAROL \
	    --script "$(sa_script c1)"
	# Bob, on node 2 with carol: her positions every 300 ms while the
	# burst goes on, then alice's (node 1) still.
	cat >"$T/b1.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=c1 within=5000
	expect uid=a1 within=10000
	touch $T/b1-ok
	wait-file $T/burst
	mark
	expect uid=c1 count=3 within=1500
	touch $T/b1-local
	mark
	expect uid=a1 count=2 within=8000
	touch $T/b1-remote
	wait-file $T/done
	EOF
	cot_bg b1 $(client_args bob) --uid b1 --callsign BOB \
	    --script "$T/b1.script"
	wait_for 10 test -e "$T/b1-ok" || { diag_file "$T/b1.out" 20;
	    fail "bob did not get carol's and alice's positions"; }
	wire_event "$T/flood.msg" flood flood1
	touch "$T/burst"
	flood "$T/flood.msg" 3000
	wait_for 5 test -e "$T/b1-local" || { diag_file "$T/b1.out" 20;
	    fail "carol's positions did not reach bob during the burst"; }
	wait_for 10 test -e "$T/b1-remote" || { diag_file "$T/b1.out" 20;
	    fail "alice's positions stopped after the burst"; }
	n=$(node_stat 2 cluster.link.drop_slow)
	[ "${n:-0}" -gt 0 ] || fail "node 2 dropped nothing of the burst"
	diag "node 2 dropped $n of 3000 events (queue of 4 messages)"
	node_log 2 | grep -q 'cluster: slow consumer: [0-9]* messages dropped' ||
	    fail "no log line for the slow consumer"
	scrape 2
	metric_is 2 takd_cluster_drop_slow_total "$(node_stat 2 cluster.link.drop_slow)"
	# Node 1 still heard (the burst's sender counts as a node too).
	n=$(metric 2 'takd_cluster_node_last_heard_seconds{node="n1"}') ||
	    fail "node 2's /metrics has no last heard of n1"
	awk -v s="$n" 'BEGIN { exit !(s >= 0 && s < 3) }' ||
	    fail "node 2 last heard node 1 $n s ago"
	touch "$T/done"
	cot_wait a1 0
	cot_wait b1 0
	cot_wait c1 0
}

revoke() {
	local t0 t1 g1 g2
	use_pki "$T/pki"
	cp -a "$T/pki" "$T/pki2"
	cp "$T/pki/crl.pem" "$T/old-crl.pem"
	nats_start a
	node_start 1 "nats://127.0.0.1:$NATS_PORT_a"
	node_start 2 "nats://127.0.0.1:$NATS_PORT_a" "pki.dir=$T/pki2"
	wait_for 10 linked 1 2 && wait_for 10 linked 2 1 ||
	    fail "the nodes do not see each other"
	cot_sa_tmpl "$T/sa.tmpl"
	on 2
	cot_bg b1 $(client_args bob) --uid b1 --callsign BOB \
	    --script "$(sa_script b1)"
	cot_bg c1 $(client_args carol) --uid c1 --callsign CAROL \
	    --script "$(sa_script c1)"
	wait_for 10 stat_is 2 cluster.link.clients_here 2 ||
	    fail "bob and carol not on node 2"
	g2=$(node_stat 2 crl.generation)
	t0=$(now_ms)
	"$TAKCTL" -c "$CFG_1" revoke bob >"$T/revoke.out" 2>&1 ||
	    { diag_file "$T/revoke.out"; fail "takctl revoke bob on node 1"; }
	cot_poll 5 test -s "$T/b1.rc" ||
	    fail "bob's session on node 2 still open 5 s after the revoke"
	t1=$(now_ms)
	diag "bob's session on node 2 closed $((t1 - t0)) ms after takctl" \
	    "revoke on node 1 began"
	[ $((t1 - t0)) -le 1500 ] || fail "later than 1.5 s"
	proc_alive "$(cat "$T/c1.cpid")" || fail "carol was closed too"
	node_log 2 | grep -q 'taken from another node' ||
	    fail "node 2 did not log the CRL it took"
	wait_for 3 stat_is 2 crl.generation $((g2 + 1)) ||
	    fail "node 2 CRL generation $(sget crl.generation), not $((g2 + 1))"
	# The older CRL, published afterwards: refused everywhere.
	g1=$(node_stat 1 crl.generation)
	$PY - "$T/old-crl.pem" "$T/old.msg" <<-'PYEOF'
	import struct, sys
	crl = open(sys.argv[1], "rb").read()
	m = b"TKC1" + bytes([6]) + struct.pack(">H", 2) + b"n9"
	m += struct.pack(">Q", 9) + struct.pack(">I", len(crl)) + crl
	open(sys.argv[2], "wb").write(m)
	PYEOF
	inject takd.t.crl.n9 "$T/old.msg"
	for n in 1 2; do
		wait_for 5 eval "node_log $n | grep -q 'CRL of another node refused: its CRL number'" ||
		    fail "node $n did not refuse the older CRL"
	done
	[ "$(node_stat 1 crl.generation)" = "$g1" ] &&
	    [ "$(node_stat 2 crl.generation)" = $((g2 + 1)) ] ||
	    fail "a CRL generation changed with the older CRL"
	# Bob cannot come back on node 2.
	on 2
	expect_client 1 $(client_args bob)
	touch "$T/done"
	cot_wait c1 0
}

# nats_urls: the three servers of nats_faults.
nats_urls() {
	echo "nats://127.0.0.1:$NATS_PORT_x,nats://127.0.0.1:$NATS_PORT_y,nats://127.0.0.1:$NATS_PORT_z"
}

nats_trio() {
	nats_start x "$CP_x" "$CP_y" "$CP_z"
	nats_start y "$CP_y" "$CP_x" "$CP_z"
	nats_start z "$CP_z" "$CP_x" "$CP_y"
}

nats_faults() {
	local srv name
	use_pki "$T/pki"
	cot_sa_tmpl "$T/sa.tmpl"
	for name in x y z; do
		eval "NATS_PORT_$name=$(free_port)"
		eval "CP_$name=$(free_port)"
	done
	# No NATS yet: node 1 starts, serves, and says why it is alone.
	node_start 1 "$(nats_urls)"
	[ "$(node_stat 1 cluster.link.nats_connected)" = false ] ||
	    fail "node 1 connected to a NATS that is not there"
	node_log 1 | grep -q 'no NATS server of .* answers yet: serving' ||
	    fail "node 1 did not say it serves alone"
	on 1
	cot_bg a1 $(client_args alice) --uid a1 --callsign ALICE \
	    --script "$(sa_script a1)"
	expect_client 0 $(client_args carol) --uid a2 --expect-uid a1 --wait 5
	nats_trio
	node_start 2 "$(nats_urls)"
	wait_for 10 linked 1 2 && wait_for 10 linked 2 1 ||
	    fail "the nodes did not find each other once NATS came"
	on 2
	cat >"$T/b1.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=a1 within=10000
	touch $T/b1-ok
	wait-file $T/killed
	mark
	expect uid=a1 count=5 within=8000
	touch $T/b1-ok2
	wait-file $T/done
	EOF
	cot_bg b1 $(client_args bob) --uid b1 --callsign BOB \
	    --script "$T/b1.script"
	wait_for 10 test -e "$T/b1-ok" || fail "no event across the nodes"
	# The server node 1 is on dies: both reconnect to another.
	srv=$(node_stat 1 cluster.link.nats_server)
	for name in x y z; do
		eval "[ \"\$srv\" = nats://127.0.0.1:\$NATS_PORT_$name ]" &&
		    break
	done
	nats_kill "$name" KILL
	touch "$T/killed"
	wait_for 10 test -e "$T/b1-ok2" || { diag_file "$T/b1.out" 20;
	    fail "events stopped with NATS server $name killed"; }
	_moved() {
		local now
		now=$(node_stat 1 cluster.link.nats_server)
		[ -n "$now" ] && [ "$now" != "$srv" ]
	}
	wait_for 5 _moved || fail "node 1 still names the killed server"
	diag "NATS $name killed: node 1 moved to" \
	    "$(node_stat 1 cluster.link.nats_server)"
	# Every server down: node 1 still serves its own clients.
	for name in x y z; do
		nats_kill "$name" TERM
	done
	wait_for 5 stat_is 1 cluster.link.nats_connected false ||
	    fail "node 1 still says it is connected"
	on 1
	expect_client 0 $(client_args carol) --uid a2 --expect-uid a1 --wait 5
	# A client of node 1 comes and sends its position while the link
	# is down; it stays.
	cot_bg a3 $(client_args carol) --uid a3 --callsign LATE \
	    --script "$(sa_script a3)"
	wait_for 5 stat_is 1 cluster.link.clients_here 2 ||
	    fail "node 1 does not count a3"
	nats_trio
	wait_for 10 linked 1 2 && wait_for 10 linked 2 1 ||
	    fail "the cluster did not heal"
	on 2
	expect_client 0 $(client_args carol) --uid b9 --expect-uid a3 --wait 5
	touch "$T/done"
	cot_wait b1 0
	cot_wait a3 0
}

run_case events
run_case groups
run_case node_killed
run_case node_cut
run_case revoke
run_case nats_faults
run_case hostile
run_case slow
finish
