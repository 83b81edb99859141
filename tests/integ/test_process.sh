#!/usr/bin/env bash
# The process model: N workers under the supervisor, privileges dropped,
# respawn after a crash, clean stop on SIGTERM and SIGINT.
. "$(dirname "$0")/lib.sh"

setup() {
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem"
	write_config "$T/takd.ini" "$@"
}

# Uid/Gid lines: real, effective and saved ids all equal to WANT.
expect_ids() {
	local pid=$1 what=$2 want=$3 ids
	ids=$(proc_field "$pid" "$what" | cut -d' ' -f1-3)
	expect_eq "$ids" "$want $want $want" \
	    "$what of $pid (real effective saved)"
}

workers_running() {
	local pids pid uid gid
	setup server.workers=2
	start_takd
	expect_eq "$(n_workers)" 2 "workers in status"
	expect_eq "$(sget pid)" "$TAKD_PID" "status pid"
	expect_eq "$(sget listeners.0.proto)" tls "listener proto"
	expect_eq "$(sget listeners.0.address)" 127.0.0.1 "listener address"
	expect_eq "$(wfield 0 id)$(wfield 1 id)" 01 "worker slot ids"
	pids=$(worker_pids)
	expect_eq "$(echo "$pids" | sort -u | wc -l)" 2 "distinct worker pids"
	for pid in $pids; do
		proc_alive "$pid" || fail "worker $pid is not running"
		expect_eq "$(proc_field "$pid" PPid)" "$TAKD_PID" \
		    "parent of worker $pid"
	done
	expect_eq "$(cat "$T/state/run/takd.pid" 2>/dev/null)" "$TAKD_PID" \
	    "pidfile content"
	[ -S "$T/state/run/takd.sock" ] || fail "no admin socket in run_dir"
	[ "$(id -u)" -eq 0 ] || { diag "not root: privilege drop not checked";
	    return 0; }
	uid=$(id -u "$TAKD_USER")
	gid=$(id -g "$TAKD_USER")
	for pid in "$TAKD_PID" $pids; do
		expect_ids "$pid" Uid "$uid"
		expect_ids "$pid" Gid "$gid"
		expect_eq "$(proc_field "$pid" Groups | tr -d ' ')" "$gid" \
		    "supplementary groups of $pid"
	done
}

worker_respawn() {
	local old0 old1 new0
	setup server.workers=2
	start_takd
	old0=$(wfield 0 pid)
	old1=$(wfield 1 pid)
	expect_eq "$(wfield 0 restarts)" 0 "restarts of slot 0 before"
	kill -KILL "$old0"
	wait_for 10 slot_respawned 0 "$old0" ||
	    fail "slot 0 still without a new live worker 10 s after SIGKILL"
	new0=$RESPAWNED
	expect_eq "$(wfield 0 restarts)" 1 "restarts of slot 0"
	expect_eq "$(proc_field "$new0" PPid)" "$TAKD_PID" "parent of $new0"
	expect_eq "$(wfield 1 pid)" "$old1" "pid of slot 1"
	expect_eq "$(wfield 1 restarts)" 0 "restarts of slot 1"
	log_has "($old0|worker 0).*(signal 9|SIGKILL)" ||
	    fail "no log line naming worker 0 ($old0) and signal 9 / SIGKILL"
	# The replacement serves clients.
	expect_rc 0 "$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" \
	    $(client_args alice) --count 4 --quiet
}

# stop_by SIGNAL: every process ends within 5 s, exit status 0, pidfile and
# admin socket removed, or left stale and root's when takd dropped root.
stop_by() {
	local pids pid t0 ms
	setup server.workers=2
	start_takd
	pids="$TAKD_PID $(worker_pids)"
	[ -s "$T/state/run/takd.pid" ] || fail "no pidfile while running"
	[ -S "$T/state/run/takd.sock" ] || fail "no admin socket while running"
	t0=$(now_ms)
	kill "-$1" "$TAKD_PID"
	for pid in $pids; do
		wait_for 5 proc_gone "$pid" ||
		    fail "process $pid still running 5 s after SIG$1"
	done
	ms=$(( $(now_ms) - t0 ))
	diag "all processes gone ${ms} ms after SIG$1"
	stop_takd "$1"
	expect_eq "$TAKD_EXIT" 0 "takd exit status after SIG$1"
	expect_run_left
}

sigterm_stops() {
	stop_by TERM
}

sigint_stops() {
	stop_by INT
}

# A connected client does not hold the stop up beyond drain_timeout, and is
# disconnected.
sigterm_with_client() {
	local cpid rc pid pids t0
	setup server.workers=2 server.drain_timeout=2s
	start_takd
	pids="$TAKD_PID $(worker_pids)"
	"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" $(client_args alice) \
	    --hold 30 >"$T/client.out" 2>&1 &
	cpid=$!
	wait_sum 10 sessions 1
	t0=$(now_ms)
	kill -TERM "$TAKD_PID"
	for pid in $pids; do
		wait_for 7 proc_gone "$pid" ||
		    fail "process $pid still running 7 s after SIGTERM" \
		    "with drain_timeout = 2s"
	done
	diag "all processes gone $(( $(now_ms) - t0 )) ms after SIGTERM"
	wait "$cpid"
	rc=$?
	[ "$rc" -eq 3 ] || { diag_file "$T/client.out";
	    fail "client exit status $rc, expected 3 (closed by server)"; }
	stop_takd
	expect_eq "$TAKD_EXIT" 0 "takd exit status"
}

# A supervisor killed outright leaves no orphan: each worker sees its
# control channel closed (or, as a backstop checked once a second, that its
# parent changed) and exits.
supervisor_killed() {
	local pids pid
	setup server.workers=2
	start_takd
	pids=$(worker_pids)
	[ -n "$pids" ] || fail "no worker pids"
	kill -KILL "$TAKD_PID"
	for pid in $pids; do
		wait_for 5 proc_gone "$pid" ||
		    fail "worker $pid still running 5 s after its supervisor died"
	done
	log_has 'stopping: supervisor (gone|closed the control channel)' ||
	    fail "no worker logged why it stopped"
}

run_case workers_running
run_case worker_respawn
run_case sigterm_stops
run_case sigint_stops
run_case sigterm_with_client
run_case supervisor_killed
finish
