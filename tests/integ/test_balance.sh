#!/usr/bin/env bash
# Sessions spread over the workers (docs/operations.md, "Balance"): every
# listening address is a SO_REUSEPORT group of one socket per worker slot,
# and the kernel hashes each new connection to one of them.  With two
# workers, 200 clients connecting one by one (20 a second) or in bursts end
# with 35-65 % of the sessions on each worker; with four, 15-35 %.  (One
# shared socket with EPOLLEXCLUSIVE kept waking the same worker: 0/200.)
# A worker killed with SIGKILL is replaced on the same socket: what arrives
# meanwhile waits in its backlog, nothing is refused.
#
# The clients are takload's (tests/load/takload, --mode hold): one process
# holds them all.
#
# The bounds against the chance of a fair hash: a worker's count is
# binomial.  Two workers, 200 clients: 35-65 % is 4.2 standard deviations,
# a false failure in about 1 run in 10,000.  Four workers: 15-35 % of 200
# would be only 3.2, about 1 run in 100 failing with nothing wrong; of 400
# it is 4.6.  So four workers get 400 clients.
. "$(dirname "$0")/lib.sh"

TAKLOAD=${TAKLOAD:-$TOOLS/../load/takload}
[ -x "$TAKLOAD" ] || diag "missing $TAKLOAD: build with make test first"
N=0		# clients of the case (balance)
BURSTS=4	# of N / BURSTS clients each, half a second apart

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" server.log_level=info "$@"
	start_takd
}

# hold NAME CLIENTS RATE: takload holding CLIENTS sessions opened at RATE a
# second (0: as fast as it can), in the background until killed.
hold() {
	local c=$T/pki/clients
	cot_spawn "$1" "$TAKLOAD" --connect "127.0.0.1:$TAKD_PORT" \
	    --mode hold --cert "$c/alice.pem" --key "$c/alice.key" \
	    --pass test --clients "$2" --rate "$3" --duration 60 --settle 0 \
	    --quiet
}

# release NAME...: end those takloads (SIGTERM: status 1, interrupted) and
# wait until takd has no session left.
release() {
	local name
	for name in "$@"; do
		kill -TERM "$(cat "$T/$name.cpid")" 2>/dev/null
	done
	for name in "$@"; do
		cot_wait "$name" 1 20
	done
	wait_sum 20 sessions 0 "after the clients went away"
}

# spread WHAT LO HI: all N sessions up; each worker holds LO to HI % of them.
spread() {
	local what=$1 lo=$2 hi=$3 w s all=""
	wait_sum 40 sessions "$N" "$what"
	for w in $(seq 0 $(( $(n_workers) - 1 ))); do
		s=$(wfield "$w" sessions)
		all="$all${all:+/}$s"
	done
	diag "$what: sessions per worker $all"
	for s in ${all//\// }; do
		[ $((s * 100)) -ge $((lo * N)) ] && [ $((s * 100)) -le $((hi * N)) ] ||
		    fail "$what: sessions per worker $all, each should hold" \
		    "$lo-$hi % of $N"
	done
	expect_eq "$(wsum rejected_full)" 0 "rejected (max_sessions)"
}

# balance W LO HI CLIENTS: `workers` W, one address; CLIENTS clients one by
# one at 20 a second, then in BURSTS bursts half a second apart.
balance() {
	local w=$1 lo=$2 hi=$3 i
	N=$4
	setup server.workers="$w"
	# One listener shown, whatever the number of sockets behind it.
	expect_eq "$(jcount listeners "$T/status.flat")" 1 "listeners shown"
	hold steady "$N" 20
	spread "$w workers, 20 connections/s" "$lo" "$hi"
	# The per-worker gauge says the same.
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/prom" 2>&1 ||
	    { diag_file "$T/prom"; fail "takctl stats --prometheus"; }
	for i in $(seq 0 $((w - 1))); do
		expect_grep "^takd_sessions\\{worker=\"$i\"\\} $(wfield "$i" \
		    sessions)\$" "$T/prom"
	done
	release steady
	for i in $(seq 1 $BURSTS); do
		hold "burst$i" $((N / BURSTS)) 0
		sleep 0.5
	done
	spread "$w workers, $BURSTS bursts of $((N / BURSTS))" "$lo" "$hi"
	release $(seq -f 'burst%g' 1 $BURSTS)
}

two_workers() {
	balance 2 35 65 200
}

four_workers() {
	balance 4 15 35 400
}

# lsock PID: the inode of the listening socket PID holds (takplace --list).
lsock() {
	"$TAKPLACE" --pid "$1" --list >"$T/lsock.out" 2>&1 ||
	    { diag_file "$T/lsock.out"; fail "takplace --list $1"; }
	[ "$(wc -l <"$T/lsock.out")" = 1 ] ||
	    { diag_file "$T/lsock.out"; fail "pid $1: not one listener"; }
	cut -d' ' -f2 "$T/lsock.out"
}

_slot0_new() {
	slot_respawned 0 "$OLD0" && [ "$(wfield 0 responding)" = true ] &&
	    NEW0=$RESPAWNED
}

# Worker 0 holds sessions and is killed.  Its listening socket stays with
# the supervisor: whatever connects to it (all of them, steered there) while
# the slot is empty waits in its backlog, none is refused, and the worker
# respawned in slot 0 accepts them on the very same socket.
respawn_same_socket() {
	local ino0 ino1 refused=0 tries=0 end
	setup server.workers=2
	OLD0=$(wfield 0 pid)
	NEW0=
	ino0=$(lsock "$OLD0")
	ino1=$(lsock "$(wfield 1 pid)")
	[ "$ino0" != "$ino1" ] ||
	    fail "workers 0 and 1 share listening socket $ino0"
	cot_steer 0
	cot_bg held $(client_args bob) --count 5 --parallel --hold 60
	wait_for 20 eval 'takd_status && [ "$(wfield 0 sessions)" = 5 ]' ||
	    fail "worker 0 holds $(wfield 0 sessions) sessions, expected 5"
	kill -KILL "$OLD0"
	wait_for 5 proc_gone "$OLD0" || fail "worker 0 ($OLD0) still there"
	# A TLS client that lands on the empty slot, and plain connections
	# until the new worker answers: every connect() must succeed.
	cot_bg late $(client_args alice) --verbose --timeout 20
	end=$(( $(now_ms) + 15000 ))
	while [ "$(now_ms)" -lt "$end" ]; do
		tries=$((tries + 1))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$TAKD_PORT") 2>>"$T/connect.err"
		then
			refused=$((refused + 1))
		fi
		[ "$tries" -ge 50 ] && _slot0_new && break
		sleep 0.01
	done
	cot_cont
	[ -n "$NEW0" ] || fail "slot 0 not respawned"
	diag "$tries connections while slot 0 was replaced, $refused failed"
	[ "$refused" = 0 ] || { diag_file "$T/connect.err" 5;
	    fail "$refused of $tries connections failed during the respawn"; }
	expect_eq "$(lsock "$NEW0")" "$ino0" "slot 0's socket after the respawn"
	cot_wait late 0 30
	wait_for 5 eval 'cot_worker_of "$(cot_addr late)" >"$T/late.w"' ||
	    fail "no 'established' line for the late client"
	expect_eq "$(cat "$T/late.w")" 0 "worker of the late client"
	log_has "worker 0\\[$NEW0\\].* established: peer $(cot_addr late)" ||
	    fail "the late client was not served by the new worker $NEW0"
	# Everything queued meanwhile was taken (accepted, then hung up).
	wait_for 10 eval 'takd_status && [ "$(wfield 0 accepted)" -ge $((tries + 1)) ]' ||
	    fail "new worker 0 accepted $(wfield 0 accepted) of $((tries + 1))"
}

run_case two_workers
run_case four_workers
run_case respawn_same_socket
finish
