#!/usr/bin/env bash
# What root opens, and the local control sockets (docs/security.md), as an
# insider holding the service account would attack them: symbolic links
# raced into the places root writes, a PKI the service user swapped, FIFOs
# in the place of configured files, idle connections holding the admin
# socket and the metrics listener shut.  The attacker runs as the real
# dedicated account ($TAKD_USER) through setpriv; every case needs root.
. "$(dirname "$0")/lib.sh"

# as_svc CMD...: CMD as the service user, no supplementary group.
as_svc() {
	setpriv --reuid="$TAKD_USER" --regid="$TAKD_USER" --clear-groups -- "$@"
}

need_root() {
	[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
	    id -u "$TAKD_USER" >/dev/null 2>&1 && return 0
	diag "skipped: needs root, setpriv and the account $TAKD_USER"
	return 1
}

# The layout of a default install, all in $T: the PKI under state_dir (as
# [pki] dir defaults to), the log file in a root-owned directory ($T).
setup() {
	mkdir -m 755 "$T/state"
	use_pki "$T/state/pki"
	make_crl "$T/state/pki" "$T/state/pki/crl.pem"
	write_config "$T/takd.ini" pki.dir="$T/state/pki" "$@"
	PKI=$T/state/pki
}

# A root file that nothing may touch: root:root 0600, known content.
make_canary() {
	printf 'canary %s\n' "$RANDOM$RANDOM" >"$T/canary"
	chmod 600 "$T/canary"
	cp "$T/canary" "$T/canary.orig"
	mkdir -m 700 "$T/canary.d"
}

expect_canary() {
	expect_eq "$(stat -c '%U:%G %a' "$T/canary")" "root:root 600" \
	    "canary owner and mode"
	cmp -s "$T/canary" "$T/canary.orig" ||
	    fail "canary content changed: $(head -c 60 "$T/canary" | tr '\n' ' ')"
	expect_eq "$(stat -c '%U:%G %a' "$T/canary.d")" "root:root 700" \
	    "canary directory owner and mode"
}

# expect_start_refused WANT_ERE CMD...: CMD (takd -t or a start) exits 78
# within 10 s, saying what matches WANT_ERE.
expect_start_refused() {
	local want=$1 rc t0 ms
	shift
	t0=$(now_ms)
	timeout -k 2 10 "$@" >"$T/out" 2>&1 </dev/null
	rc=$?
	ms=$(( $(now_ms) - t0 ))
	[ "$rc" -eq 78 ] || { diag_file "$T/out" 10;
	    fail "$*: exit status $rc after $ms ms, expected 78"; }
	expect_grep "$want" "$T/out" "$*: no message matching /$want/"
	diag "refused in $ms ms: $(grep -E -m 1 -- "$want" "$T/out")"
}

# --- symbolic links raced into root's places --------------------------------

# _attack SECONDS: as the service user, keep putting links to the canary
# (and to its directory) in every place root creates, opens or hands over:
# the pidfile, the admin socket's name, the log file, the store directory,
# the PKI directory and its CA.  Counts the links it managed to make.
_attack() {
	as_svc bash -c '
	    T=$1; end=$(( SECONDS + $2 )); tries=0; made=0
	    try() { tries=$((tries + 1)); "$@" 2>/dev/null && made=$((made + 1)); }
	    while [ "$SECONDS" -lt "$end" ]; do
		for f in state/run/takd.pid state/run/takd.sock takd.log \
		    state/pki/ca.pem state/pki/crl.pem; do
			try ln -sfnT "$T/canary" "$T/$f"
		done
		try ln -sfnT "$T/canary.d" "$T/state/store"
		try mv -f "$T/state/store" "$T/state/store.away"
		try ln -sfnT "$T/canary.d" "$T/state/pki"
		try ln -sfnT "$T/canary.d" "$T/state/run"
	    done
	    echo "$tries $made"' _ "$T" "$1" >"$T/attack.count"
}

# _start_once: one takd start as root; it must come up (then it is stopped
# with SIGTERM and must exit 0) or refuse with exit 78 and a message.
_start_once() {
	local pid rc i
	"$TAKD" -f -c "$CFG" >"$T/run.err" 2>&1 </dev/null &
	pid=$!
	for i in $(seq 100); do
		proc_alive "$pid" || break
		takd_status && break
		sleep 0.05
	done
	if proc_alive "$pid"; then
		kill -TERM "$pid"
		wait "$pid"
		rc=$?
		[ "$rc" -eq 0 ] || fail "takd exit status $rc after SIGTERM"
		STARTED=$((STARTED + 1))
		return 0
	fi
	wait "$pid"
	rc=$?
	[ "$rc" -eq 78 ] && [ -s "$T/run.err" ] ||
	    { diag_file "$T/run.err"; fail "takd exited $rc on its own"; }
	REFUSED=$((REFUSED + 1))
	tail -n 1 "$T/run.err" >>"$T/refusals"
}

# Start after start for 6 s while the service user races links into every
# place root writes: the canary is never touched, and takd either serves or
# refuses.  The old layout (state_dir and run_dir the service user's) lost
# the canary to the pidfile at the first start.
symlink_races() {
	local end tries made
	need_root || return 0
	setup server.workers=1
	make_canary
	STARTED=0
	REFUSED=0
	_start_once	# the directories as takd makes them
	_attack 6 &
	end=$(( $(now_ms) + 6000 ))
	while [ "$(now_ms)" -lt "$end" ]; do
		_start_once
	done
	wait
	read -r tries made <"$T/attack.count"
	diag "$STARTED starts served, $REFUSED refused; the service user" \
	    "made $made of $tries links"
	[ -s "$T/refusals" ] && diag "refusals: $(sort -u "$T/refusals")"
	expect_canary
	[ "$STARTED" -ge 2 ] || fail "only $STARTED starts served"
	expect_eq "$made" 0 "links the service user could make"
	expect_eq "$(stat -c '%U %a' "$T/state") $(stat -c '%U %a' \
	    "$T/state/run") $(stat -c %U "$T/state/pki")" \
	    "root 755 root 755 root" "state_dir, run_dir and PKI owners"
	expect_eq "$(stat -c '%U %a' "$T/state/store")" "$TAKD_USER 700" \
	    "store directory"
	expect_eq "$(stat -c '%U %a' "$T/takd.log")" "$TAKD_USER 640" \
	    "log file"
}

# A stale pidfile that is a link (left by an older layout, or by anyone who
# could write there): removed, never written through.
stale_pidfile_link() {
	need_root || return 0
	setup server.workers=1
	make_canary
	mkdir -m 755 "$T/state/run"
	ln -s "$T/canary" "$T/state/run/takd.pid"
	ln -s "$T/canary" "$T/state/run/takd.sock"
	start_takd
	[ ! -L "$T/state/run/takd.pid" ] || fail "the pidfile is still a link"
	expect_eq "$(cat "$T/state/run/takd.pid")" "$TAKD_PID" "pidfile"
	expect_eq "$(stat -c '%U %a' "$T/state/run/takd.sock")" "root 600" \
	    "admin socket owner and mode"
	stop_takd
	expect_canary
}

# --- a PKI the service user could change -------------------------------------

# The service user owns the PKI directory (it replaced it when state_dir
# was its own), the CA in it, state_dir itself, or a group it is in may
# write to the PKI: takd -t and takd refuse to start, naming the path and
# the reason.  The old takd trusted all of these.
pki_swapped() {
	need_root || return 0
	setup
	chown -R "$TAKD_USER:$TAKD_USER" "$PKI"
	expect_start_refused "\\[pki\\] dir $PKI: $PKI is owned by $TAKD_USER" \
	    "$TAKD" -t -c "$CFG"
	expect_start_refused "$PKI is owned by $TAKD_USER" "$TAKD" -f -c "$CFG"
	chown -R root:root "$PKI"
	chown "$TAKD_USER" "$PKI/ca.pem"
	expect_start_refused "CA file $PKI/ca.pem is owned by $TAKD_USER" \
	    "$TAKD" -t -c "$CFG"
	chown root "$PKI/ca.pem"
	chown "$TAKD_USER" "$PKI/crl.pem"
	expect_start_refused "crl.pem is owned by $TAKD_USER" \
	    "$TAKD" -f -c "$CFG"
	chown root "$PKI/crl.pem"
	chgrp "$TAKD_USER" "$PKI"
	chmod 775 "$PKI"
	expect_start_refused "$PKI is writable by its group \\(mode 0775\\)" \
	    "$TAKD" -t -c "$CFG"
	chmod 711 "$PKI"
	chown "$TAKD_USER" "$T/state"
	expect_start_refused "$T/state is owned by $TAKD_USER" \
	    "$TAKD" -f -c "$CFG"
	chown root "$T/state"
	# Root opens the log file and hands it over: its directory too.
	mkdir -m 777 "$T/logs"
	write_config "$T/log.ini" pki.dir="$PKI" server.log="$T/logs/takd.log"
	expect_start_refused \
	    "\\[server\\] log $T/logs: $T/logs is writable by others" \
	    "$TAKD" -f -c "$T/log.ini"
	expect_rc 0 "$TAKD" -t -c "$CFG"
	start_takd
	expect_client 0 $(client_args alice "$PKI")
}

# --- FIFOs and links in the place of configured files -------------------------

# A FIFO at the CRL, CA, certificate or key path: takd -t and takd fail at
# once with a clear message (the old takd hung in open()); a link at one is
# not followed either.
fifo_files() {
	local f
	need_root || return 0
	setup
	for f in crl.pem ca.pem server.pem server.key; do
		mv "$PKI/$f" "$PKI/$f.real"
		mkfifo -m 600 "$PKI/$f"
		expect_start_refused "$f: not a regular file \\(a FIFO\\)" \
		    "$TAKD" -t -c "$CFG"
		expect_start_refused "$f: not a regular file \\(a FIFO\\)" \
		    "$TAKD" -f -c "$CFG"
		rm "$PKI/$f"
		ln -s "$PKI/$f.real" "$PKI/$f"
		expect_start_refused "$f: is a symbolic link" \
		    "$TAKD" -t -c "$CFG"
		rm "$PKI/$f"
		mv "$PKI/$f.real" "$PKI/$f"
	done
	expect_rc 0 "$TAKD" -t -c "$CFG"
}

# A FIFO swapped in for the CRL of a running takd: `takctl reload` answers
# an error at once, the clients are still served, SIGTERM still stops it.
fifo_crl_reload() {
	local t0 ms
	setup
	start_takd
	mv "$PKI/crl.pem" "$PKI/crl.pem.real"
	mkfifo -m 644 "$PKI/crl.pem"
	t0=$(now_ms)
	timeout -k 2 10 "$TAKCTL" -c "$CFG" reload >"$T/reload.out" 2>&1
	rc=$?
	ms=$(( $(now_ms) - t0 ))
	diag "takctl reload: exit $rc after $ms ms: $(head -c 200 "$T/reload.out")"
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] ||
	    fail "takctl reload with a FIFO as CRL: exit status $rc"
	[ "$ms" -lt 5000 ] || fail "takctl reload took $ms ms"
	expect_grep 'not a regular file' "$T/reload.out"
	expect_client 0 $(client_args alice "$PKI")
	takd_status || fail "takctl status after the failed reload"
	expect_eq "$(sget crl.generation)" 1 "CRL generation"
	stop_takd
	expect_eq "$TAKD_EXIT" 0 "exit status"
}

# --- the admin socket -----------------------------------------------------------

# _hold NAME KIND ADDR N SECONDS PAUSE [as_svc]: keep N connections open to
# ADDR (unix: a socket path; tcp: HOST:PORT) without ever sending a byte,
# for SECONDS, opening new ones for those the server closed PAUSE seconds
# later (0: at once).  $T/NAME.out gets the connections made and failed.
_hold() {
	local name=$1
	shift
	local -a pre=()
	[ "${6:-}" = as_svc ] && pre=(as_svc)
	cot_spawn "$name" "${pre[@]}" perl -MIO::Socket::UNIX \
	    -MIO::Socket::INET -MIO::Select -MSocket -MTime::HiRes=time -e '
	    my ($kind, $addr, $n, $secs, $pause) = @ARGV;
	    sub conn { $kind eq "unix" ?
		IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $addr) :
		IO::Socket::INET->new(PeerAddr => $addr, Proto => "tcp",
		    $ENV{HOLD_FROM} ? (LocalAddr => $ENV{HOLD_FROM}) : ()) }
	    my (@s, $made, $fail);
	    my $end = time + $secs;
	    while (time < $end) {
		my $sel = IO::Select->new(@s);
		my $lost = 0;
		for my $h ($sel->can_read(0)) {
			my $b;
			next if sysread($h, $b, 1);
			@s = grep { $_ != $h } @s;
			close $h;
			$lost++;
		}
		select(undef, undef, undef, $pause) if $lost && $pause > 0;
		while (@s < $n) {
			my $c = conn();
			if (!$c) { $fail++; last }
			push @s, $c;
			$made++;
		}
		select(undef, undef, undef, 0.01);
	    }
	    print $made + 0, " ", $fail + 0, "\n";' "${@:1:5}"
}

# _status_fast: `takctl status` as root answers, in under 2 s.
_status_fast() {
	local t0 ms
	t0=$(now_ms)
	takd_status || { diag_file "$T/status.err" 5;
	    fail "takctl status failed under the flood"; }
	ms=$(( $(now_ms) - t0 ))
	[ "$ms" -lt 2000 ] || fail "takctl status took $ms ms under the flood"
	echo "$ms" >>"$T/status.ms"
}

# 40 idle connections of root's (reconnecting as takd drops them) and the
# service user's refused attempts: root's takctl status still answers each
# time, at once.  The old takd refused the 33rd connection, takctl's.
admin_idle_flood() {
	local sock i
	need_root || return 0
	setup
	start_takd
	sock=$T/state/run/takd.sock
	_hold rootflood unix "$sock" 40 6 0
	sleep 1
	for i in 1 2 3 4 5 6 7 8; do
		_status_fast
		sleep 0.4
	done
	cot_wait rootflood 0 10
	diag "root's flood: $(cat "$T/rootflood.out") connections made/failed;" \
	    "takctl status in $(sort -n "$T/status.ms" | tr '\n' ' ')ms"
	takd_status
	[ "$(sget admin.idle_closed)" -gt 0 ] ||
	    fail "no idle admin connection closed: $(sget admin.idle_closed)"
	log_has 'admin: idle connection of uid 0 .*closed after [0-9]+ ms' ||
	    fail "no log line for the idle connections closed"
}

# The service user cannot use the admin socket: the kernel refuses it the
# socket file (root's, 0600); and should the file be opened up to all, the
# supervisor refuses it by SO_PEERCRED, says so, and its flood of
# connections costs root nothing.  The old socket was the service user's.
admin_service_user() {
	local sock
	need_root || return 0
	setup
	start_takd
	sock=$T/state/run/takd.sock
	! as_svc "$TAKCTL" -c "$CFG" status >"$T/svc.out" 2>&1 ||
	    fail "the service user got takctl status"
	! as_svc "$TAKCTL" -c "$CFG" reload >"$T/svc.out" 2>&1 ||
	    fail "the service user reloaded the CRL"
	diag "service user, socket 0600: $(head -n 1 "$T/svc.out")"
	# An operator's mistake: the socket opened to everyone.
	chmod 666 "$sock"
	! as_svc "$TAKCTL" -c "$CFG" reload >"$T/svc.out" 2>&1 ||
	    fail "the service user reloaded the CRL through a 0666 socket"
	! as_svc "$TAKCTL" -c "$CFG" clients >"$T/svc.out" 2>&1 ||
	    fail "the service user listed the clients"
	wait_for 5 log_has "admin: connection of uid $(id -u "$TAKD_USER") \\(pid [0-9]+\\) refused: only root may use takctl" ||
	    fail "no log line for the refused service user"
	_hold svcflood unix "$sock" 40 4 0 as_svc
	sleep 0.5
	for i in 1 2 3 4 5; do
		_status_fast
		sleep 0.4
	done
	cot_wait svcflood 0 10
	diag "service user's flood: $(cat "$T/svcflood.out") made/failed;" \
	    "admin.refused $(sget admin.refused)"
	[ "$(sget admin.refused)" -gt 2 ] ||
	    fail "admin.refused: $(sget admin.refused)"
	expect_eq "$(sget crl.generation)" 1 "CRL generation"
}

# --- the metrics listener -----------------------------------------------------

# 20 idle TCP connections (more than METRICS_MAX_CLIENTS, 16): a scrape
# still gets its 200.  The old listener answered 503 for 5 s.
metrics_idle_flood() {
	local port i code
	setup metrics.listen=127.0.0.1:0
	start_takd
	port=$(listener_port metrics)
	[ -n "$port" ] || fail "no metrics port in status"
	# From another address than the scrapes, as a flood from another host
	# would be: on one address the server cannot tell them apart (an idle
	# scraper accepted in the same batch as the flood may be the oldest).
	HOLD_FROM=127.0.0.2 _hold mflood tcp "127.0.0.1:$port" 20 6 1
	sleep 1
	for i in 1 2 3 4 5; do
		printf 'GET /metrics HTTP/1.0\r\n\r\n' |
		    http_send "$port" "$T/scrape.http"
		code=$(http_status "$T/scrape.http")
		[ "$code" = 200 ] || { diag_file "$T/scrape.http" 5;
		    fail "scrape $i under the flood: '$code', not 200"; }
		grep -q '^takd_up' "$T/scrape.http" ||
		    grep -q '^takd_' "$T/scrape.http" ||
		    fail "scrape $i: no takd metric"
		sleep 0.5
	done
	cot_wait mflood 0 10
	takd_status
	diag "metrics flood: $(cat "$T/mflood.out") made/failed;" \
	    "idle closed $(sget admin.metrics_idle_closed)"
	[ "$(sget admin.metrics_idle_closed)" -gt 0 ] ||
	    fail "no idle metrics connection closed"
}

run_case symlink_races
run_case stale_pidfile_link
run_case pki_swapped
run_case fifo_files
run_case fifo_crl_reload
run_case admin_idle_flood
run_case admin_service_user
run_case metrics_idle_flood
finish
