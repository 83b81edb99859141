#!/usr/bin/env bash
# Admission (issue 12, findings 4, 10 and 11): connections that have not
# authenticated cannot lock out those that do, one certificate cannot hog
# sessions, and a peer that vanishes without FIN or RST is detected and its
# disconnect notice sent.  docs/security.md, "Before authentication";
# docs/operations.md, "Dead peers".
. "$(dirname "$0")/lib.sh"

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" "$@"
	start_takd
}

# flood NAME ADDR ARGS...: idle TCP connections from source address ADDR
# (127.0.0.x: loopback takes the whole 127/8), re-opened as the server
# closes them: --count in all, --window at once.
flood() {
	local name=$1 addr=$2
	shift 2
	cot_spawn "$name" "$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" \
	    --bind "$addr" --raw --hold 30 --timeout 30 --quiet "$@"
}

flood_stop() {
	local f pid
	for f in "$@"; do
		pid=$(cat "$T/$f.cpid")
		proc_alive "$pid" && kill "$pid" 2>/dev/null
	done
	return 0
}

# legit N SECONDS: N mutual-TLS clients from 127.0.0.1 all get in, within
# SECONDS in all.
legit() {
	local n=$1 limit=$2 t0 ms
	t0=$(now_ms)
	takclient $(client_args alice) --count "$n" --parallel --quiet \
	    --timeout "$limit"
	ms=$(( $(now_ms) - t0 ))
	diag "$n legitimate handshakes: $(tail -n 1 "$T/client.out") in $ms ms"
	grep -q "^$n sessions: $n ok, 0 failed" "$T/client.out" ||
	    { diag_file "$T/client.out" 20; fail "legitimate clients kept out"; }
	[ "$ms" -le $((limit * 1000)) ] ||
	    fail "$n handshakes took $ms ms (limit ${limit}s)"
}

# --- (a) one address, thousands of idle connections --------------------------

# The review's lock-out: one address opens 2,000 idle TCP connections and
# re-opens them as they are closed.  Before, they counted against
# max_sessions (here 500 a worker) and kept everybody out; now they only
# fill their address's 32 places a worker (the default), each new one
# taking the place of that address's oldest, while 20 legitimate clients
# get in at once.
flood_one_address() {
	setup server.workers=2 server.max_sessions=500 \
	    tls.max_handshakes_per_address=@omit
	flood f2 127.0.0.2 --count 10000 --window 2000
	wait_sum 20 accepted -ge 2000 "the flood's connections"
	diag "flood: $(wsum accepted) accepted, $(wsum handshaking)" \
	    "handshaking, $(wsum evicted_per_address) evicted," \
	    "$(wsum rejected_full) rejected (max_sessions)"
	legit 20 4
	takd_status
	diag "then: $(wsum accepted) accepted, $(wsum handshaking)" \
	    "handshaking, $(wsum evicted_per_address) evicted for the" \
	    "address, $(wsum rejected_per_address) refused"
	[ "$(wsum handshaking)" -le 64 ] ||
	    fail "$(wsum handshaking) handshakes held: the address's limit" \
	    "is 32 a worker"
	[ "$(wsum evicted_per_address)" -ge 1000 ] ||
	    fail "only $(wsum evicted_per_address) evictions for the address"
	expect_eq "$(wsum rejected_full)" 0 "rejected_full (max_sessions)"
	expect_eq "$(wsum handshakes_ok)" 20 "handshakes_ok"
	log_has 'handshakes from 127\.0\.0\.2, the max_handshakes_per_address limit' ||
	    fail "no log line names the address and the limit"
	flood_stop f2
	wait_sum 10 handshaking 0 "after the flood"
	expect_eq "$(wsum restarts)" 0 "worker restarts"
}

# --- (b) several addresses, the worker's limit --------------------------------

# Eight addresses flood; each holds its 32 places a worker, more than the
# worker's max_handshakes (100): every new connection takes the place of
# an unauthenticated one.  Clients that handshake still get in.
flood_many_addresses() {
	local i names=""
	setup server.workers=2 server.max_sessions=300 \
	    tls.max_handshakes=100 tls.max_handshakes_per_address=@omit
	for i in 2 3 4 5 6 7 8 9; do
		flood "f$i" "127.0.0.$i" --count 1500 --window 150
		names="$names f$i"
	done
	wait_sum 20 accepted -ge 1200 "the flood's connections"
	diag "flood: $(wsum accepted) accepted, $(wsum handshaking)" \
	    "handshaking, evicted $(wsum evicted_handshakes_full) (worker)" \
	    "$(wsum evicted_per_address) (address)"
	legit 20 5
	takd_status
	diag "then: $(wsum accepted) accepted, evicted" \
	    "$(wsum evicted_handshakes_full) (worker)" \
	    "$(wsum evicted_per_address) (address), refused" \
	    "$(wsum rejected_handshakes_full) (worker)" \
	    "$(wsum rejected_per_address) (address)"
	[ "$(wsum handshaking)" -le 200 ] ||
	    fail "$(wsum handshaking) handshakes held: max_handshakes is 100"
	[ "$(wsum evicted_handshakes_full)" -ge 1 ] ||
	    fail "the worker's limit was never reached"
	expect_eq "$(wsum rejected_full)" 0 "rejected_full (max_sessions)"
	log_has 'handshakes in progress, the max_handshakes limit' ||
	    fail "no log line about max_handshakes"
	flood_stop $names
	wait_sum 10 handshaking 0 "after the flood"
	expect_eq "$(wsum restarts)" 0 "worker restarts"
}

# --- (c) sessions of one certificate ----------------------------------------------

# cert_client NAME N: a session of alice (uid alice-N) that sends its
# position and stays; placed with cot_steer beforehand.
cert_client() {
	cot_bg "$1" --verbose $(client_args alice) --uid "alice-$2" \
	    --callsign "A$2" --send "$T/sa.tmpl" --hold 60
}

# max_sessions_per_cert = 8 over two workers: with 8 sessions of alice on
# worker 0, a 9th on worker 1 (which has none of them) is refused, counted
# from the shared registry; a 10th on worker 0 closes alice's oldest
# session there, and bob sees that session's disconnect notice.
per_cert() {
	local i
	setup server.workers=2 tls.max_sessions_per_cert=@omit
	cot_sa_tmpl "$T/sa.tmpl"
	cot_bg bob --verbose $(client_args bob) --uid bob-1 --callsign B1 \
	    --print --hold 60
	cot_steer 0
	for i in 1 2 3 4 5 6 7 8; do
		cert_client "a$i" "$i"
		# In order: session ids of one worker grow with time.
		cot_poll 10 grep -q '^handshake ok' "$T/a$i.out" ||
		    { cot_cont; fail "alice-$i: no handshake"; }
	done
	cot_placed 0 a1 a2 a3 a4 a5 a6 a7 a8
	wait_sum 10 sessions 9
	sleep 0.3	# the registry commits before the loop sleeps
	cot_steer 1
	cert_client a9 9
	cot_wait a9 3 10
	cot_cont
	expect_grep 'closed by server' "$T/a9.out"
	takd_status
	expect_eq "$(wsum rejected_per_cert)" 1 "rejected_per_cert"
	expect_eq "$(wsum sessions)" 9 "sessions after the refusal"
	log_has 'session refused: its certificate holds 8 sessions in other workers, the max_sessions_per_cert limit of 8' ||
	    fail "no log line for the refusal"
	cot_steer 0
	cert_client a10 10
	cot_placed 0 a10
	cot_wait a1 3 10
	wait_sum 5 closed.per_cert 1
	expect_eq "$(wsum sessions)" 9 "sessions after the replacement"
	log_has 'certificate serial [0-9A-F]+ holds 8 sessions \(8 in this worker\), the max_sessions_per_cert limit of 8' ||
	    fail "no log line for the replacement"
	_notice() {
		grep 't-x-d-d' "$T/bob.out" | grep -q '"alice-1"'
	}
	cot_poll 5 _notice || fail "bob got no disconnect notice for" \
	    "alice-1: $(grep t-x-d-d "$T/bob.out" | cut -c1-200)"
}

# --- (d) dead peers ---------------------------------------------------------------

# A network namespace with a veth pair: the host end 198.18.0.1 (RFC 2544's
# benchmarking range: never routed), the namespace end 198.18.0.2.  Taking
# the namespace's end down makes its packets stop in both directions
# without a FIN or RST: a phone out of coverage.  The host knows the
# peer's MAC for good, so the kernel's failing ARP never turns the silence
# into a "host unreachable".
NS=
netns_up() {
	local mac
	NS=takd-adm-$$
	ip netns add "$NS" || fail "ip netns add"
	ip link add "v$$h" type veth peer name "v$$n" netns "$NS" ||
	    fail "ip link add veth"
	ip addr add 198.18.0.1/30 dev "v$$h"
	ip link set "v$$h" up
	ip -n "$NS" addr add 198.18.0.2/30 dev "v$$n"
	ip -n "$NS" link set "v$$n" up
	ip -n "$NS" link set lo up
	mac=$(ip -n "$NS" -o link show "v$$n" |
	    sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ip neigh replace 198.18.0.2 lladdr "$mac" dev "v$$h" nud permanent
	mac=$(ip -o link show "v$$h" |
	    sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ip -n "$NS" neigh replace 198.18.0.1 lladdr "$mac" dev "v$$n" \
	    nud permanent
}

netns_down() {
	[ -n "$NS" ] || return 0
	ip link del "v$$h" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	NS=
}

# dead_peer MODE: the peer in the namespace vanishes while a client on the
# host watches.  keepalive: nothing is sent to it, the probes find it dead
# (tcp_user_timeout off); user_timeout: the watcher's positions reach it
# unacknowledged, TCP_USER_TIMEOUT ends it (keepalive off).  Either way
# within a few seconds, and the watcher gets its t-x-d-d.
dead_peer() {
	local mode=$1 t0 ms
	netns_up
	trap 'rc=$?; netns_down; (exit $rc); _case_exit' EXIT
	if [ "$mode" = keepalive ]; then
		setup tls.listen=198.18.0.1:0 server.tcp_keepalive=1s \
		    server.tcp_keepalive_interval=1s \
		    server.tcp_keepalive_count=2 server.tcp_user_timeout=off
	else
		setup tls.listen=198.18.0.1:0 server.tcp_keepalive=off \
		    server.tcp_user_timeout=3s
	fi
	cot_sa_tmpl "$T/sa.tmpl"
	cot_spawn phone ip netns exec "$NS" "$TAKCLIENT" \
	    --connect "198.18.0.1:$TAKD_PORT" $(client_args alice) \
	    --uid phone-1 --callsign PHONE --send "$T/sa.tmpl" --hold 60
	cat >"$T/watch.script" <<-EOF
	expect uid=phone-1 within=10000
	touch $T/watch-ready
	wait-file $T/gone within=20000
	EOF
	[ "$mode" = keepalive ] || echo "send-every 300 $T/sa.tmpl" \
	    >>"$T/watch.script"
	cat >>"$T/watch.script" <<-EOF
	mark
	expect type=t-x-d-d grep=phone-1 within=15000
	EOF
	cot_spawn watch "$TAKCLIENT" --connect "198.18.0.1:$TAKD_PORT" \
	    $(client_args bob) --uid watch-1 --callsign W --script \
	    "$T/watch.script" --print
	wait_for 10 test -e "$T/watch-ready" ||
	    { diag_file "$T/phone.out"; diag_file "$T/watch.out";
	    fail "the watcher never saw the phone"; }
	takd_status
	expect_eq "$(wsum sessions)" 2 "sessions"
	# Coverage lost: no FIN, no RST, nothing.
	ip -n "$NS" link set "v$$n" down
	t0=$(now_ms)
	touch "$T/gone"
	cot_wait watch 0 20
	ms=$(( $(now_ms) - t0 ))
	diag "the phone's disconnect notice came $ms ms after it vanished"
	[ "$ms" -le 8000 ] || fail "dead peer detected after $ms ms"
	wait_sum 5 closed.dead_peer 1
	log_has 'session [0-9]+ closed: dead peer: nothing acknowledged' ||
	    fail "no log line for the dead peer"
}

dead_peer_keepalive() {
	dead_peer keepalive
}

dead_peer_user_timeout() {
	dead_peer user_timeout
}

run_case flood_one_address
run_case flood_many_addresses
run_case per_cert
run_case dead_peer_keepalive
run_case dead_peer_user_timeout
finish
