#!/usr/bin/env bash
# Supervisor duties beyond the process model: encrypted server key, IPv6
# listener, descriptor limit, log reopen on SIGUSR1, admin socket and status,
# CRL reloads that overlap, meet a dying worker or an overflowed watch.
. "$(dirname "$0")/lib.sh"

setup() {
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem"
	write_config "$T/takd.ini" "$@"
}

# The server key may be password-protected; the wrong password is refused.
key_password() {
	setup
	openssl pkey -in "$T/pki/server.key" -aes256 -passout pass:s3cret \
	    -out "$T/pki/server.key.enc" 2>"$T/openssl.err" ||
	    { diag_file "$T/openssl.err"; fail "openssl pkey"; }
	chmod 600 "$T/pki/server.key.enc"
	write_config "$T/bad.ini" tls.key="$T/pki/server.key.enc" \
	    tls.key_password=wrong
	expect_rc 78 "$TAKD" -t -c "$T/bad.ini"
	write_config "$T/nopw.ini" tls.key="$T/pki/server.key.enc"
	expect_rc 78 "$TAKD" -t -c "$T/nopw.ini"
	write_config "$T/takd.ini" tls.key="$T/pki/server.key.enc" \
	    tls.key_password=s3cret
	expect_rc 0 "$TAKD" -t -c "$T/takd.ini"
	start_takd
	expect_client 0 $(client_args alice)
}

# Listeners on IPv4 and IPv6 at once serve the same clients.
ipv6_listener() {
	local port6
	[ -e /proc/net/if_inet6 ] || { diag "no IPv6 on this host"; return 0; }
	setup tls.listen=127.0.0.1:0
	printf 'listen = [::1]:0\n' >"$T/v6"
	sed -i "/^listen = 127.0.0.1:0/r $T/v6" "$T/takd.ini"
	start_takd
	expect_eq "$(sget listeners.1.address)" "::1" "second listener"
	port6=$(sget listeners.1.port)
	expect_rc 0 "$TAKCLIENT" --connect "[::1]:$port6" \
	    $(client_args alice) --quiet
	expect_client 0 $(client_args alice)
}

# [server] nofile is applied to every process (as far as the hard limit goes).
nofile_raised() {
	local pid want=4096 soft
	setup server.nofile=$want
	start_takd
	for pid in "$TAKD_PID" $(worker_pids); do
		soft=$(awk '/^Max open files/ { print $4 }' "/proc/$pid/limits")
		expect_eq "$soft" "$want" "open files limit of $pid"
	done
	log_has "nofile: asked $want, got $want" ||
	    fail "no log line saying what nofile was asked and got"
}

# SIGUSR1 reopens the log file: after logrotate moves it away (and creates the
# new one for the service user, as its `create` directive does), the
# supervisor and the workers write to the new file.  The log directory is
# root's, like /var/log/takd of the unit (docs/security.md): the service
# user can only write to the file it was given.
log_reopen() {
	local log=$T/logs/takd.log
	mkdir -m 755 "$T/logs"
	setup server.log="$log"
	start_takd
	mv "$log" "$log.1"
	if [ "$(id -u)" -eq 0 ]; then
		install -m 0640 -o "$TAKD_USER" /dev/null "$log"
	fi
	kill -USR1 "$TAKD_PID"
	wait_for 5 grep -q "log file reopened" "$log" 2>/dev/null ||
	    { diag_file "$log.1"; fail "supervisor did not reopen its log"; }
	# A worker logs the handshake of this client to the new file too.
	expect_client 0 $(client_args alice)
	wait_for 5 grep -q "worker .*established" "$log" ||
	    { diag_file "$log"; fail "worker still logs to the old file"; }
	grep -q "established" "$log.1" &&
	    fail "the handshake was logged to the rotated file"
	return 0
}

# The admin socket is the access control for takctl: mode 0600, owned by
# whoever started takd (root), never by the service user (docs/security.md);
# status carries version, uptime, CRL and per-worker figures.
admin_socket_and_status() {
	local mode owner
	setup server.workers=2
	start_takd
	mode=$(stat -c %a "$T/state/run/takd.sock")
	expect_eq "$mode" 600 "admin socket mode"
	owner=$(stat -c %U "$T/state/run/takd.sock")
	expect_eq "$owner" "$(id -un)" "admin socket owner"
	expect_eq "$(sget version)" "$("$TAKD" -v | awk '{ print $2 }')" \
	    "status version"
	[ -n "$(sget uptime)" ] || fail "status has no uptime"
	expect_eq "$(sget crl.generation)" 1 "CRL generation"
	expect_eq "$(sget crl.entries)" 0 "CRL entries"
	expect_eq "$(sget crl.stale)" false "CRL stale"
	[ -n "$(sget crl.next_update)" ] || fail "status has no CRL next_update"
	expect_eq "$(sget workers.1.state)" running "worker 1 state"
	[ -n "$(sget workers.1.started)" ] || fail "worker 1 has no start time"
	# A second takd on the same run_dir refuses to start.
	expect_rc 78 "$TAKD" -f -c "$CFG"
}

# takctl status for a person at a terminal (a pty made by script(1)): a
# summary, not JSON; --json, or stdout not a terminal, gives the JSON.
status_for_people() {
	setup server.workers=2
	start_takd
	script -qec "$TAKCTL -c $CFG status" /dev/null >"$T/tty" 2>&1 ||
	    { diag_file "$T/tty"; fail "takctl status on a terminal"; }
	tr -d '\r' <"$T/tty" >"$T/summary"
	grep -q '^{' "$T/summary" && fail "JSON on a terminal"
	expect_grep '^takd [0-9.]+, pid [0-9]+, up ' "$T/summary"
	expect_grep '^CRL generation 1, 0 entries, next update .* \(in [0-9]+d [0-9]+h\), not stale' \
	    "$T/summary"
	expect_grep '^worker +state +pid +sessions +handshaking +restarts +dropped +closed$' \
	    "$T/summary"
	expect_grep '^0 +running +[0-9]+ +0 +0 +0 +0 +0$' "$T/summary"
	expect_grep '^1 +running +[0-9]+ ' "$T/summary"
	expect_grep '^listening: tls 127\.0\.0\.1:[0-9]+' "$T/summary"
	script -qec "$TAKCTL -c $CFG status --json" /dev/null >"$T/tty" 2>&1 ||
	    fail "takctl status --json on a terminal"
	tr -d '\r' <"$T/tty" | json_flat /dev/stdin >"$T/flat" ||
	    fail "status --json is not JSON"
	expect_eq "$(jget workers.1.state "$T/flat")" running "--json workers.1"
	"$TAKCTL" -c "$CFG" status >"$T/pipe" || fail "takctl status to a file"
	json_flat "$T/pipe" >/dev/null || fail "status to a file is not JSON"
}

# _kill_slot0 N: kill worker 0 N times, each time once it was respawned.
_kill_slot0() {
	local i pid
	for i in $(seq "$1"); do
		pid=$(sget workers.0.pid)
		kill -KILL "$pid"
		wait_for 10 slot_respawned 0 "$pid" ||
		    fail "worker not respawned after kill $i"
	done
}

# A worker that keeps dying soon after its start is respawned with a
# doubling delay, so a crash loop cannot spin the machine.
respawn_backoff() {
	local i
	setup server.workers=1
	start_takd
	_kill_slot0 3
	expect_eq "$(sget workers.0.restarts)" 3 "restarts of slot 0"
	for i in 100 200 400; do
		log_has "worker 0 will be respawned in $i ms" ||
		    fail "no respawn after $i ms in the log"
	done
}

# A worker that was not running when a reload began (respawn wait) and dies
# during it was never asked: its death does not count as an answer.  Worker 1
# is stopped, so the reload ends at its deadline with one worker unanswered,
# and takctl reload fails.
_new_child() {
	local p
	for p in $(proc_children "$TAKD_PID"); do
		[ "$p" != "$1" ] && [ "$p" != "$2" ] && proc_alive "$p" &&
		    { NEW_CHILD=$p; return 0; }
	done
	return 1
}

reload_unasked_worker_dies() {
	local pid0 pid1
	setup server.workers=2
	start_takd
	# Quick deaths double slot 0's respawn delay: 100, 200, 400, then 800.
	_kill_slot0 3
	pid0=$(sget workers.0.pid)
	pid1=$(sget workers.1.pid)
	proc_stop "$pid1"
	kill -KILL "$pid0"
	wait_for 5 log_has "worker 0 will be respawned in 800 ms" ||
	    fail "slot 0 not waiting 800 ms"
	cot_spawn reload "$TAKCTL" -c "$CFG" reload
	wait_for 5 _new_child "$pid0" "$pid1" || fail "slot 0 not respawned"
	kill -KILL "$NEW_CHILD"
	wait_for 10 test -s "$T/reload.rc" || fail "takctl reload hangs"
	cot_cont
	expect_eq "$(cat "$T/reload.rc")" 1 "takctl reload status"
	expect_grep '"workers_unanswered":1' "$T/reload.out"
	expect_grep '"workers_acked":0' "$T/reload.out"
}

# A reload nobody waits for (crl_watch, SIGHUP) ends at its deadline even
# with a worker that never answers, and a change of the file while it is in
# flight is loaded after it, not dropped.  No takctl while worker 1 is
# stopped: its status round would wake the supervisor by itself.
crl_watch_during_reload() {
	local pid1
	setup server.workers=2 tls.crl_watch=on
	start_takd
	pid1=$(sget workers.1.pid)
	proc_stop "$pid1"
	make_crl "$T/pki" "$T/pki/crl.pem" bob
	wait_for 5 log_has "CRL reloaded: generation 2" ||
	    fail "first change not reloaded"
	make_crl "$T/pki" "$T/pki/crl.pem" bob carol
	wait_for 8 log_has "CRL generation 2 active in 1 of 2 workers" ||
	    fail "the reload outlived its deadline"
	wait_for 5 log_has "CRL reloaded: generation 3" ||
	    fail "the change made during a reload was dropped"
	cot_cont
	wait_status 5 crl.generation 3
	expect_eq "$(sget crl.entries)" 2 "CRL entries"
	expect_client 1 $(client_args carol)
	expect_client 0 $(client_args alice)
}

# takctl's reload during another one is refused at once and told so; the
# one in flight goes on to its own end (here its deadline: worker 1 is
# stopped), and the next reload works.
reload_overlap_refused() {
	local pid1
	setup server.workers=2
	start_takd
	pid1=$(sget workers.1.pid)
	proc_stop "$pid1"
	cot_spawn reload "$TAKCTL" -c "$CFG" reload
	wait_for 5 log_has "CRL reloaded: generation 2" ||
	    fail "first reload not read"
	expect_ctl 1 reload
	expect_grep '"error":"a reload is already in progress"' "$T/out"
	log_has "reload refused: generation 2 is still being pushed" ||
	    fail "no log line for the refused reload"
	wait_for 8 test -s "$T/reload.rc" || fail "takctl reload hangs"
	cot_cont
	expect_eq "$(cat "$T/reload.rc")" 1 "first takctl reload status"
	expect_grep '"workers_acked":1' "$T/reload.out"
	expect_grep '"workers_unanswered":1' "$T/reload.out"
	expect_ctl 0 reload
	expect_grep '"generation":3' "$T/out"
	expect_grep '"workers_acked":2' "$T/out"
}

# When the watch's queue overflows, the CRL's own event may be among those
# lost: the overflow itself is a reason to reload.  The supervisor is
# stopped while the CRL's directory sees more events than the queue holds
# (/proc/sys/fs/inotify/max_queued_events), and then the CRL is replaced.
crl_watch_overflow() {
	local i max
	max=$(cat /proc/sys/fs/inotify/max_queued_events 2>/dev/null) ||
	    { diag "no inotify limits to read"; return 0; }
	[ "$max" -le 200000 ] || { diag "inotify queue of $max: skipped"; return 0; }
	setup server.workers=1 tls.crl_watch=on
	start_takd
	proc_stop "$TAKD_PID"
	# Alternate names: identical events in a row are merged.
	for i in $(seq $((max + 100))); do
		: >"$T/pki/noise$((i % 2))"
	done
	make_crl "$T/pki" "$T/pki/crl.pem" bob
	cot_cont
	wait_status 5 crl.generation 2
	expect_client 1 $(client_args bob)
}

run_case respawn_backoff
run_case crl_watch_overflow
run_case reload_unasked_worker_dies
run_case crl_watch_during_reload
run_case reload_overlap_refused
run_case key_password
run_case ipv6_listener
run_case nofile_raised
run_case log_reopen
run_case admin_socket_and_status
run_case status_for_people
finish
