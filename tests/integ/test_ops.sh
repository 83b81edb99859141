#!/usr/bin/env bash
# Operations: limits (max_sessions, out of descriptors), the timeouts that
# close one session (idle, unfinished event, a reader that never reads),
# graceful stop, readiness notifications to a service manager, syslog and
# journal logging, and the systemd unit.  The descriptor churn test is
# test_churn.sh; log reopen and nofile are in test_supervisor.sh.
. "$(dirname "$0")/lib.sh"

COT=$TESTDATA/cot

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" "$@"
}

# dgram_sink NAME PATH: a datagram socket bound at PATH ("@name": abstract)
# that writes each datagram it gets as one line (newlines made blanks) to
# $T/NAME.lines: a stand-in for systemd's notify socket or /dev/log.
dgram_sink() {
	local name=$1 path=$2
	cot_spawn "$name" perl -MIO::Socket::UNIX -MSocket -e '
	    my ($path, $out) = @ARGV;
	    my $local = $path;
	    if ($local =~ s/^@/\0/) { } else { unlink $path; }
	    my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM,
		Local => $local) or die "bind $path: $!\n";
	    chmod 0666, $path if $path !~ /^@/;	# the workers are $TAKD_USER
	    open(my $f, ">>", $out) or die "$out: $!\n";
	    $f->autoflush(1);
	    my $b;
	    while (defined $s->recv($b, 65536)) {
		$b =~ s/\n/ /g;
		print $f "$b\n";
	    }' "$path" "$T/$name.lines"
	wait_for 5 test -e "$T/$name.lines" ||
	    { diag_file "$T/$name.out"; fail "datagram sink $name not up"; }
}

# A CoT event of about SIZE bytes that is not a position report (never
# superseded in an output queue), from uid UID.
big_event() {
	{
		printf '<event version="2.0" uid="%s" type="b-t-f" ' "$2"
		printf 'how="h-g-i-g-o" time="@NOW@" start="@NOW@" '
		printf 'stale="@STALE@"><point lat="0" lon="0" hae="0" ce="1" '
		printf 'le="1"/><detail><remarks>seq=@SEQ@ '
		head -c "$3" /dev/zero | tr '\0' x
		printf '</remarks></detail></event>\n'
	} >"$1"
}

# paused_reader NAME CLIENT [STEP...]: takclient NAME with the certificate
# of CLIENT and a 4 KB receive buffer, that reads nothing for 30 s (or runs
# the script steps given instead); connected when this returns.
paused_reader() {
	local name=$1 who=$2
	shift 2
	[ $# -gt 0 ] || set -- "pause 30000"
	printf '%s\n' "touch $T/$name-ready" "$@" >"$T/$name.script"
	cot_bg "$name" $(client_args "$who") --rcvbuf 4096 \
	    --script "$T/$name.script" --verbose
	wait_for 5 test -e "$T/$name-ready" || fail "reader $name not connected"
}

# --- limits -------------------------------------------------------------------

# A worker holding max_sessions sessions accepts the next connections and
# closes them at once: counted in rejected_full, one log line per 5 s that
# says how many it stands for, and the worker is usable again once sessions
# leave.
max_sessions() {
	local rc n
	setup server.workers=1 server.max_sessions=3
	start_takd
	cot_bg held $(client_args alice) --count 3 --parallel --hold 30
	wait_sum 10 sessions 3
	takclient $(client_args bob) --count 40 --parallel --quiet --timeout 5
	rc=$?
	expect_eq "$rc" 1 "takclient exit status (every session refused)"
	expect_grep '^40 sessions: 0 ok, 40 failed' "$T/client.out"
	takd_status
	expect_eq "$(wsum rejected_full)" 40 "rejected_full"
	expect_eq "$(wsum sessions)" 3 "sessions after the rejections"
	expect_eq "$(wsum handshakes_failed)" 0 "handshakes_failed"
	n=$(takd_logs | grep -c 'the max_sessions limit')
	diag "$n log lines for 40 rejections"
	[ "$n" -ge 1 ] && [ "$n" -le 2 ] ||
	    fail "$n log lines about max_sessions, expected 1 or 2"
	kill "$(cat "$T/held.cpid")"
	wait_sum 10 sessions 0
	expect_client 0 $(client_args carol)
}

# Out of descriptors ([server] nofile = 64 for a worker that has about 15 of
# its own): connections beyond are accepted with the spare descriptor and
# closed at once, counted in rejected_emfile, logged at most once per 5 s;
# the worker neither spins nor dies, and serves again once the flood leaves.
emfile() {
	local pid base t0 c0 used lines
	setup server.workers=1 server.nofile=64 tls.handshake_timeout=30s
	start_takd
	pid=$(worker_pids)
	log_has 'nofile 64 is below max_sessions 10000' ||
	    fail "no warning that nofile is below max_sessions"
	base=$(fd_count "$pid")
	cot_bg flood --raw --count 120 --parallel --hold 6 --quiet
	# Every connection of the flood is either held or refused.
	wait_for 10 eval 'takd_status && [ "$(( $(wsum handshaking) +
	    $(wsum rejected_emfile) ))" -eq 120 ]' ||
	    fail "handshaking $(wsum handshaking) + rejected_emfile" \
	    "$(wsum rejected_emfile) is not 120"
	diag "handshaking $(wsum handshaking), rejected_emfile" \
	    "$(wsum rejected_emfile), worker descriptors $(fd_count "$pid")" \
	    "(before $base)"
	[ "$(wsum rejected_emfile)" -gt 0 ] ||
	    fail "rejected_emfile still 0 with 120 connections and nofile 64"
	# Saturated and with connections still coming in: no busy loop.
	t0=$(now_ms)
	c0=$(cpu_ticks "$pid")
	takclient --raw --count 20 --quiet
	sleep 1
	used=$(( $(cpu_ticks "$pid") - c0 ))
	diag "worker used $used ticks in $(( $(now_ms) - t0 )) ms while full"
	[ "$used" -le 50 ] || fail "worker used $used ticks: spinning?"
	lines=$(takd_logs | grep -c 'Too many open files')
	[ "$lines" -ge 1 ] && [ "$lines" -le 2 ] ||
	    fail "$lines log lines about EMFILE, expected 1 or 2"
	cot_wait flood 3 20
	wait_sum 10 handshaking 0
	expect_client 0 $(client_args alice)
	expect_eq "$(worker_pids)" "$pid" "worker pid"
	wait_for 5 eval '[ "$(fd_count "$pid")" -le "$base" ]' ||
	    fail "worker has $(fd_count "$pid") descriptors, $base before"
}

# --- timeouts -------------------------------------------------------------------

# [cot] idle_timeout: a session that sends nothing is closed after it, with
# a log line and a count; one that pings (as ATAK does) stays.
idle_timeout() {
	setup server.workers=1 cot.idle_timeout=2s
	start_takd
	cot_bg silent $(client_args alice) --hold 8 --verbose
	cot_bg pinger $(client_args bob) --send "$COT/ping.xml" \
	    --send-every 500 --hold 5 --quiet
	cot_wait silent 3 15
	# About 2 s after connecting.
	expect_closed_after "$T/silent.out" 1800 4999
	expect_log_line "$(cot_addr silent)" 'idle timeout'
	cot_wait pinger 0 15
	takd_status
	expect_eq "$(wsum closed.idle)" 1 "sessions closed idle"
	[ "$(wsum events.pongs)" -ge 8 ] ||
	    fail "$(wsum events.pongs) pongs, expected 8 or more"
}

# [cot] partial_timeout: an event that never ends closes its session (the
# other one, sending whole events, stays).
partial_event() {
	setup server.workers=1 cot.partial_timeout=1s
	start_takd
	cot_sa_tmpl "$T/sa.tmpl"
	cot_bg part $(client_args alice) --send "$COT/hostile/unclosed-prefix.xml" \
	    --hold 10 --verbose
	printf 'send-every 300 %s\nwait-file %s\n' "$T/sa.tmpl" "$T/done" \
	    >"$T/whole.script"
	cot_bg whole $(client_args bob) --script "$T/whole.script" \
	    --uid pe-w --callsign WHOLE
	cot_wait part 3 15
	expect_log_line "$(cot_addr part)" 'unclosed event'
	# The other one stays a partial_timeout longer (it held 4 s in all).
	sleep 1
	touch "$T/done"
	cot_wait whole 0 15
	takd_status
	expect_eq "$(wsum closed.unclosed_event)" 1 "sessions closed unclosed"
	expect_eq "$(wsum closed.idle)" 0 "sessions closed idle"
}

# A reader that stops reading while events keep coming: its output queue
# ([cot] max_queue_bytes) fills and only it is disconnected, logged and
# counted; the sender goes on.  (Here, and below, one sender stands for a
# fleet's traffic: the per-client budgets, which would drop most of it,
# are off; test_sec_flood.sh tests them.)
slow_reader() {
	setup server.workers=1 cot.max_queue_bytes=64k \
	    cot.max_events_per_second=0 cot.max_bytes_per_second=off \
	    cot.max_chat_bytes=off
	start_takd
	big_event "$T/big.tmpl" sr-s 8000
	paused_reader r alice
	# The sender goes on until the reader is closed (it held 6 s).
	printf 'send-every 5 %s\nwait-file %s\n' "$T/big.tmpl" "$T/done" \
	    >"$T/s.script"
	cot_bg s $(client_args bob) --script "$T/s.script" --quiet
	expect_log_line "$(cot_addr r)" 'slow consumer' 15
	touch "$T/done"
	cot_wait s 0 20
	takd_status
	expect_eq "$(wsum closed.slow_consumer)" 1 "sessions closed slow"
	expect_eq "$(wsum sessions)" 0 "sessions left"
}

# A reader that stops reading while the queue is far from its bound: [cot]
# write_timeout closes it once none of its output has moved for that long;
# a reader that keeps reading the same events stays.
stalled_reader() {
	setup server.workers=1 cot.max_queue_bytes=64M cot.write_timeout=2s \
	    cot.max_events_per_second=0 cot.max_bytes_per_second=off \
	    cot.max_chat_bytes=off
	start_takd
	big_event "$T/big.tmpl" st-s 30000
	paused_reader r alice
	# The reader that reads gets all 300 events and stays until both the
	# stalled one is closed and the sender is done (they held 12 and 10
	# s: 7 s of the case spent waiting).
	printf 'expect uid=st-s count=300 within=30000\ntouch %s\nwait-file %s\n' \
	    "$T/ok-got" "$T/done" >"$T/ok.script"
	cot_bg ok $(client_args carol) --script "$T/ok.script" --quiet
	printf 'send-every 10 %s count=300\nwait-file %s\n' "$T/big.tmpl" \
	    "$T/done" >"$T/s.script"
	cot_bg s $(client_args bob) --script "$T/s.script" --quiet
	expect_log_line "$(cot_addr r)" \
	    'write timeout: [0-9]+ bytes queued, none read for 2000 ms' 15
	wait_for 30 eval '[ -e "$T/ok-got" ] || [ -s "$T/ok.rc" ]'
	[ -e "$T/ok-got" ] || { cot_wait ok 0 1; fail "the reading client" \
	    "did not get the 300 events"; }
	touch "$T/done"
	cot_wait s 0 20
	cot_wait ok 0 20
	takd_status
	expect_eq "$(wsum closed.slow_consumer)" 1 "sessions closed slow"
}

# --- graceful stop --------------------------------------------------------------

# SIGTERM: listeners close at once; a session that reads gets close_notify
# right away; one that never answers holds the stop up to drain_timeout,
# no longer; exit 0, pidfile and admin socket gone (or, when takd dropped
# root, left stale: expect_run_left).
drain() {
	local t0 ms
	setup server.workers=1 server.drain_timeout=3s
	start_takd
	cot_bg reader $(client_args alice) --hold 30
	paused_reader deaf bob
	wait_sum 10 sessions 2
	t0=$(now_ms)
	kill -TERM "$TAKD_PID"
	cot_wait reader 3 5
	expect_grep 'close_notify' "$T/reader.out"
	ms=$(( $(now_ms) - t0 ))
	diag "reader closed ${ms} ms after SIGTERM"
	[ "$ms" -lt 2000 ] || fail "close_notify took $ms ms"
	# The listener is gone while the deaf session holds the drain.
	proc_alive "$TAKD_PID" || fail "takd gone before drain_timeout"
	takclient --raw --timeout 2
	expect_grep 'refused' "$T/client.out" "connect during drain not refused"
	wait_takd 8 || fail "takd still running 8 s after SIGTERM"
	ms=$(( $(now_ms) - t0 ))
	diag "takd exited ${ms} ms after SIGTERM (drain_timeout 3 s)"
	[ "$ms" -ge 2500 ] || fail "takd exited before drain_timeout"
	expect_eq "$TAKD_EXIT" 0 "exit status"
	log_has 'drain deadline passed with 1 sessions open' ||
	    fail "no log line about the session open at the deadline"
	expect_run_left
}

# SIGTERM while a session's output queue holds events it has not read yet:
# they are all delivered before close_notify, within drain_timeout.  200
# events of 30 KB, more than the kernel's socket buffers take (4 MB at most
# by default): takd itself still holds some of them at SIGTERM.
drain_flush() {
	local out
	setup server.workers=1 server.drain_timeout=15s cot.max_queue_bytes=16M \
	    cot.max_events_per_second=0 cot.max_bytes_per_second=off \
	    cot.max_chat_bytes=off
	start_takd
	big_event "$T/big.tmpl" df-s 30000
	paused_reader r alice "pause 5000" \
	    "expect uid=df-s count=200 within=10000"
	cot_bg s $(client_args bob) --send "$T/big.tmpl" --send-every 5 \
	    --count 200 --hold 10 --quiet
	wait_sum 10 events.in 200
	out=$(wsum events.out)
	diag "written to the reader at SIGTERM: $out of 200 events"
	[ "$out" -lt 200 ] ||
	    fail "all 200 written before SIGTERM: the drain had nothing to flush"
	kill -TERM "$TAKD_PID"
	cot_wait r 0 25
	wait_takd 10 || fail "takd still running after the drain"
	expect_eq "$TAKD_EXIT" 0 "exit status"
}

# --- service manager ---------------------------------------------------------

# notify_lines: the notifications received so far, one a line.
notify_has() {
	grep -Eq -- "$1" "$T/notify.lines" 2>/dev/null
}

# READY=1 (with MAINPID) once every worker runs its loop, RELOADING=1 then
# READY=1 around SIGHUP and takctl reload, STOPPING=1 on SIGTERM; the
# abstract socket form works too.
sd_notify() {
	local n
	setup server.workers=2
	dgram_sink notify "$T/notify.sock"
	NOTIFY_SOCKET=$T/notify.sock start_takd
	wait_for 5 notify_has '^READY=1' || fail "no READY=1"
	notify_has "^READY=1 MAINPID=$TAKD_PID STATUS=2 workers" ||
	    { diag_file "$T/notify.lines"; fail "READY=1 without MAINPID"; }
	expect_eq "$(wc -l <"$T/notify.lines")" 1 "notifications at start"
	# Both workers had said hello (from their loops, set up) before it:
	# the supervisor logs each hello, then what it notified.
	n=$(awk '/ worker [0-9]+ says hello$/ { h[$(NF - 2)] = 1 }
	    / notified .*: READY=1$/ { print length(h); f = 1; exit }
	    END { if (!f) print "none" }' "$T/takd.log")
	[ "$n" = 2 ] || { grep -E 'says hello|notified|started' \
	    "$T/takd.log" | sed 's/^/# /'; fail "READY=1 sent after $n" \
	    "hellos, expected both workers'"; }
	log_has 'all 2 workers up: ready' || fail "no log line for readiness"
	expect_eq "$(n_workers)" 2 "workers"
	kill -HUP "$TAKD_PID"
	wait_for 5 eval '[ "$(grep -c "^READY=1" "$T/notify.lines")" -ge 2 ]' ||
	    { diag_file "$T/notify.lines"; fail "no READY=1 after SIGHUP"; }
	expect_ctl 0 reload
	wait_for 5 eval '[ "$(grep -c "^READY=1" "$T/notify.lines")" -ge 3 ]' ||
	    { diag_file "$T/notify.lines"; fail "no READY=1 after reload"; }
	# Each READY=1 after the first follows its own RELOADING=1.
	sed -n '2,$p' "$T/notify.lines" | awk '
	    /^RELOADING=1 MONOTONIC_USEC=[0-9]+ / { if (open) exit 1; open = 1; next }
	    /^READY=1 / { if (!open) exit 1; open = 0; n++; next }
	    { exit 1 }
	    END { exit !(n == 2 && !open) }' ||
	    { diag_file "$T/notify.lines"; fail "not RELOADING/READY pairs"; }
	notify_has '^READY=1 STATUS=2 workers, CRL generation 3$' ||
	    { diag_file "$T/notify.lines"; fail "no CRL generation 3"; }
	stop_takd
	expect_eq "$TAKD_EXIT" 0 "exit status"
	notify_has '^STOPPING=1' || { diag_file "$T/notify.lines";
	    fail "no STOPPING=1"; }
	n=$(wc -l <"$T/notify.lines")
	expect_eq "$n" 6 "notifications in all"
	# An abstract socket name.
	dgram_sink abstract "@takd-test-$$-notify"
	NOTIFY_SOCKET=@takd-test-$$-notify start_takd
	wait_for 5 grep -q "^READY=1 MAINPID=$TAKD_PID" "$T/abstract.lines" ||
	    { diag_file "$T/abstract.lines"; fail "no READY=1 (abstract)"; }
}

# [server] log = syslog: lines of the supervisor and of the workers reach
# /dev/log (a stand-in in a mount namespace of the daemon's own) and the
# workers keep working: they hold the syslog socket across their
# descriptor sweep.
syslog_dest() {
	local real=$TAKD n
	[ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null ||
	    { diag "skipped: needs root and unshare -m"; return 0; }
	setup server.workers=2 server.log=syslog
	mkdir -m 755 "$T/dev"
	for n in null zero urandom random full; do
		: >"$T/dev/$n"
	done
	dgram_sink syslog "$T/dev/log"
	# /dev of the daemon: the real devices it needs and our log socket.
	cat >"$T/takd-ns" <<-EOF
	#!/bin/sh
	exec unshare -m sh -c 'for n in null zero urandom random full; do
		mount --bind /dev/\$n "$T/dev/\$n" || exit 1
	done
	mount --rbind "$T/dev" /dev || exit 1
	exec "$real" "\$@"' takd "\$@"
	EOF
	chmod +x "$T/takd-ns"
	TAKD=$T/takd-ns start_takd
	expect_client 0 $(client_args alice) --count 3
	wait_for 5 grep -q 'worker [01]: session 1 established' \
	    "$T/syslog.lines" ||
	    { diag_file "$T/syslog.lines"; fail "no worker line in syslog"; }
	grep -Eq "^<30>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} takd\\[$TAKD_PID\\]: supervisor: takd .* starting" \
	    "$T/syslog.lines" ||
	    { diag_file "$T/syslog.lines" 5; fail "supervisor line format"; }
	grep -q '^<28>.*: supervisor: ' "$T/syslog.lines" ||
	    fail "no warning (priority 28) in syslog"
	takd_status
	expect_eq "$(wsum restarts)" 0 "worker restarts"
	expect_eq "$(wsum handshakes_ok)" 3 "handshakes"
	[ ! -s "$T/takd.log" ] || fail "lines went to the log file"
}

# Under systemd, stderr is the journal ($JOURNAL_STREAM names it): each line
# starts with its syslog priority, without a timestamp of its own.
journal_stream() {
	# crl_warn_days: a sure warning at start ("CRL expires soon").
	setup server.workers=1 server.log=stderr tls.crl_warn_days=3650
	: >"$T/takd.stderr"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$T/takd.stderr") start_takd
	expect_client 0 $(client_args alice)
	wait_for 5 grep -q '^<6>worker 0\[[0-9]*\] info: session 1 established' \
	    "$T/takd.stderr" ||
	    { diag_file "$T/takd.stderr" 10; fail "no <6> worker line"; }
	grep -q "^<6>supervisor\\[$TAKD_PID\\] info: takd .* starting" \
	    "$T/takd.stderr" || fail "no <6> supervisor line"
	grep -q '^<4>supervisor\[' "$T/takd.stderr" ||
	    fail "no <4> warning line"
	! grep -Ev '^<[0-7]>' "$T/takd.stderr" | grep -q . ||
	    fail "lines without a priority: $(grep -Ev '^<[0-7]>' \
	    "$T/takd.stderr" | head -3)"
}

# etc/takd.service passes systemd-analyze verify (the binary path pointed at
# the one under test).
systemd_unit() {
	local unit=$REPO/etc/takd.service
	[ -f "$unit" ] || fail "no $unit"
	command -v systemd-analyze >/dev/null ||
	    { diag "skipped: no systemd-analyze"; return 0; }
	mkdir "$T/units"
	sed "s|/usr/sbin/takd|$TAKD|g; s|/usr/bin/takctl|$TAKCTL|g" "$unit" \
	    >"$T/units/takd.service"
	SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	    "$T/units/takd.service" >"$T/verify.out" 2>&1
	if grep -i 'takd.service' "$T/verify.out" | grep -q .; then
		diag_file "$T/verify.out"
		fail "systemd-analyze verify complains about the unit"
	fi
	grep -q '^Type=notify$' "$unit" || fail "not Type=notify"
	# "+": outside the sandbox, where it may signal the service user.
	grep -Eq '^ExecReload=\+?/bin/kill -HUP \$MAINPID$' "$unit" ||
	    fail "ExecReload is not kill -HUP \$MAINPID"
	grep -Eq '^LimitNOFILE=[0-9]+$' "$unit" || fail "no LimitNOFILE="
	# takd, no longer root, cannot remove them from root's /run/takd.
	grep -Eq '^ExecStopPost=\+/bin/rm -f /run/takd/takd.pid /run/takd/takd.sock$' \
	    "$unit" || fail "no ExecStopPost= removing the pidfile and socket"
}

# The capabilities etc/takd.service leaves (CapabilityBoundingSet=) are
# enough for takd started as root: read the keys, prepare its directories,
# drop to the service user and serve; reopen its log file after logrotate
# in a root-owned log directory (LogsDirectory=, 0755); leave state_dir and
# run_dir root's, the store the service user's; start a second time over
# the pidfile and admin socket the first one left; reload the CRL.  No
# capability is left after the drop; with the console on, takd-usersd
# (uid 0) runs with none either and an empty bounding set.
unit_capabilities() {
	local caps bset pid
	[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null ||
	    { diag "skipped: needs root and setpriv"; return 0; }
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$REPO/etc/takd.service")
	[ -n "$caps" ] || fail "no CapabilityBoundingSet= in the unit"
	bset=$(echo "$caps" | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_/+/p' |
	    paste -sd, -)
	diag "bounding set: $caps"
	mkdir -m 755 "$T/logs"
	mkdir -m 755 "$T/state"	# as etc/takd.service makes it
	use_pki "$T/state/pki"
	write_config "$T/takd.ini" server.workers=1 server.run_dir="$T/run" \
	    pki.dir="$T/state/pki" server.log="$T/logs/takd.log" \
	    api.enabled=yes api.listen=127.0.0.1:0 \
	    api.enroll_listen=127.0.0.1:0 console.enabled=yes \
	    console.www_dir="$REPO/console"
	cat >"$T/takd-caps" <<-EOF
	#!/bin/sh
	exec setpriv --bounding-set -all,$bset --inh-caps -all -- "$TAKD" "\$@"
	EOF
	chmod +x "$T/takd-caps"
	TAKD=$T/takd-caps start_takd
	pid=$(sget usersd.pid)
	[ -n "$pid" ] && [ "$pid" -gt 0 ] ||
	    fail "no takd-usersd: $(sget usersd.why)"
	expect_eq "$(proc_field "$pid" CapBnd)" 0000000000000000 \
	    "takd-usersd's bounding set"
	for pid in "$TAKD_PID" $(worker_pids) "$pid"; do
		expect_eq "$(proc_field "$pid" CapEff)" 0000000000000000 \
		    "effective capabilities of $pid"
	done
	expect_client 0 $(client_args alice "$T/state/pki")
	# logrotate: move the file away, create the new one, SIGUSR1.
	mv "$T/logs/takd.log" "$T/logs/takd.log.1"
	install -m 0640 -o "$TAKD_USER" /dev/null "$T/logs/takd.log"
	kill -USR1 "$TAKD_PID"
	wait_for 5 grep -q 'log file reopened' "$T/logs/takd.log" ||
	    fail "log file not reopened in a root-owned 0755 directory"
	stop_takd
	expect_eq "$TAKD_EXIT" 0 "exit status"
	# Root's, but for the store: docs/security.md.
	expect_eq "$(stat -c %U "$T/state") $(stat -c %U "$T/run")" \
	    "root root" "owners of state_dir and run_dir"
	expect_eq "$(stat -c '%U %a' "$T/state/store")" "$TAKD_USER 700" \
	    "owner and mode of the store directory"
	TAKD=$T/takd-caps start_takd
	expect_client 0 $(client_args bob "$T/state/pki")
	expect_ctl 0 reload
	expect_eq "$(takd_status && sget crl.generation)" 2 "CRL generation"
}

run_case max_sessions
run_case emfile
run_case idle_timeout
run_case partial_event
run_case slow_reader
run_case stalled_reader
run_case drain
run_case drain_flush
run_case sd_notify
run_case syslog_dest
run_case journal_stream
run_case systemd_unit
run_case unit_capabilities
finish
