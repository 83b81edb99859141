#!/usr/bin/env bash
# Huge CRLs: the supervisor reads and verifies a CRL in a parser process and
# the workers map the compact, sealed set of its revoked serials, so that a
# CRL of a million entries costs no process hundreds of MB, stalls no
# worker's loop and leaves the admin socket answering.  CRL_ENTRIES (default
# 200,000: a few seconds under ASan) sets the size; docs/performance.md has
# the figures of 1,170,000 with the release build.
. "$(dirname "$0")/lib.sh"

N=${CRL_ENTRIES:-200000}
MKCRL=$TOOLS/mkcrl
# What a worker's memory may grow by with the set mapped: its 32-byte
# entries (shared by every process, but counted whole in each one's RSS),
# half as much again, and 8 MB.  The X509_CRL each worker used to parse
# took 250 bytes and more per entry.
RSS_BOUND_KB=$(( N * 48 / 1024 + 8192 ))
# The longest a pinging client may wait for a pong during a reload; the
# old worker parsed the CRL on its loop (~2 s for a million entries).
GAP_MS=${GAP_MS:-400}
# The longest `takctl status` may take while the CRL is being parsed.
STATUS_MS=${STATUS_MS:-600}

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" "$@"
	printf '%s%s%s\n' \
	    '<event version="2.0" uid="@UID@" type="t-x-c-t" how="m-g" ' \
	    'time="@NOW@" start="@NOW@" stale="@STALE@">' \
	    '<point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/><detail/></event>' \
	    >"$T/ping.xml"
}

# big_crl OUT: a CRL of N random serials plus carol (keyCompromise) and
# bob, signed by the test CA; made once per run (the PKI is the same in
# every case) and copied.
big_crl() {
	local cache="$PKI_CACHE/big-$N.der" t0
	if [ ! -s "$cache" ]; then
		t0=$(now_ms)
		"$MKCRL" --ca "$T/pki/ca.pem" --key "$T/pki/ca.key" \
		    --out "$cache.tmp" --random "$N" --seed 7 --days 30 \
		    --revoke "$T/pki/clients/carol.pem" --reason 1 \
		    --revoke "$T/pki/clients/bob.pem" >"$T/mkcrl.log" 2>&1 ||
		    { diag_file "$T/mkcrl.log"; fail "mkcrl"; }
		mv "$cache.tmp" "$cache"
		diag "CRL of $N + 2 entries: $(stat -c %s "$cache") bytes," \
		    "made in $(( $(now_ms) - t0 )) ms"
	fi
	cp "$cache" "$1.tmp"
	chmod 644 "$1.tmp"
	mv "$1.tmp" "$1"
}

# reload_timed: `takctl reload` in the background while `takctl status`
# is timed every 50 ms; sets RELOAD_MS, RELOAD_RC and STATUS_MAX_MS.
reload_timed() {
	local t0 t1 ms
	t0=$(now_ms)
	cot_spawn reload "$TAKCTL" -c "$CFG" reload
	STATUS_MAX_MS=0
	while [ ! -s "$T/reload.rc" ]; do
		t1=$(now_ms)
		"$TAKCTL" -c "$CFG" status >/dev/null 2>&1 ||
		    fail "takctl status failed during the reload"
		ms=$(( $(now_ms) - t1 ))
		[ "$ms" -le "$STATUS_MAX_MS" ] || STATUS_MAX_MS=$ms
		sleep 0.05
		[ $(( $(now_ms) - t0 )) -lt 60000 ] ||
		    fail "takctl reload still running after 60 s"
	done
	RELOAD_MS=$(( $(now_ms) - t0 ))
	RELOAD_RC=$(cat "$T/reload.rc")
}

# One reload of the huge CRL while carol (listed) is connected on worker 0
# and a client pings every 20 ms on each worker; bob (listed) holds a TLS
# ticket from before.  The reload closes carol's session and only hers,
# neither pinger waits more than GAP_MS for a pong, `takctl status`
# answers within STATUS_MS meanwhile, each worker's RSS grows by at most
# RSS_BOUND_KB (and not again with a second generation), bob's resumption
# and fresh handshake are refused as revoked, alice gets in.
huge_reload() {
	local w pid before="" after again
	setup
	start_takd
	S_CLIENT_DONE=1 S_CLIENT_HOLD=5 s_client bob bob -tls1_3 \
	    -sess_out "$T/bob.sess"
	[ -s "$T/bob.sess" ] || { diag_file "$T/bob.s"; fail "no ticket"; }
	printf 'wait-file %s within=110000\n' "$T/never" >"$T/carol.script"
	cot_place carol 0 $(client_args carol) --script "$T/carol.script"
	for w in 0 1; do
		cat >"$T/ping$w.script" <<-EOF
		send-every 20 $T/ping.xml
		expect type=t-x-c-t-r within=10000
		touch $T/pinging-$w
		wait-file $T/measure within=100000
		mark
		wait-file $T/reloaded within=100000
		sleep 300
		max-gap $GAP_MS type=t-x-c-t-r
		EOF
		cot_place "ping$w" "$w" $(client_args alice) --uid "ping-$w" \
		    --script "$T/ping$w.script"
	done
	for w in 0 1; do
		cot_poll 10 test -e "$T/pinging-$w" ||
		    fail "pinger on worker $w got no pong"
	done
	big_crl "$T/big.der"
	takd_status
	for pid in $(worker_pids); do
		before="$before $(proc_kb "$pid" Rss smaps_rollup)"
	done
	touch "$T/measure"
	sleep 0.1
	mv "$T/big.der" "$T/pki/crl.pem"
	reload_timed
	touch "$T/reloaded"
	[ "$RELOAD_RC" = 0 ] ||
	    { diag_file "$T/reload.out"; fail "takctl reload: $RELOAD_RC"; }
	diag "takctl reload took $RELOAD_MS ms; takctl status at most" \
	    "$STATUS_MAX_MS ms meanwhile"
	json_flat "$T/reload.out" >"$T/reload.flat"
	expect_eq "$(jget generation "$T/reload.flat")/$(jget entries \
	    "$T/reload.flat")/$(jget sessions_closed "$T/reload.flat")" \
	    "2/$((N + 2))/1" "reload: generation/entries/sessions_closed"
	[ "$STATUS_MAX_MS" -le "$STATUS_MS" ] ||
	    fail "takctl status took $STATUS_MAX_MS ms during the reload," \
	    "more than $STATUS_MS"
	cot_wait carol 3 5
	log_has "closed: certificate revoked \\(reason keyCompromise, since [0-9T:-]+Z\\) \\(peer $(cot_addr carol) subject \"[^\"]*carol" ||
	    fail "no log line closing carol's session as revoked"
	for w in 0 1; do
		cot_wait "ping$w" 0 10
		diag "worker $w: $(grep '^longest gap' "$T/ping$w.out")"
	done
	takd_status
	set -- $before
	for pid in $(worker_pids); do
		after=$(proc_kb "$pid" Rss smaps_rollup)
		diag "worker $pid: RSS $1 -> $after kB (Pss $(proc_kb "$pid" \
		    Pss smaps_rollup) kB), bound +$RSS_BOUND_KB kB"
		[ $((after - $1)) -le "$RSS_BOUND_KB" ] ||
		    fail "worker $pid grew by $((after - $1)) kB"
		shift
	done
	# A second generation replaces the first: no growth again.
	before=""
	for pid in $(worker_pids); do
		before="$before $(proc_kb "$pid" Rss smaps_rollup)"
	done
	expect_ctl 0 reload
	set -- $before
	for pid in $(worker_pids); do
		again=$(proc_kb "$pid" Rss smaps_rollup)
		[ $((again - $1)) -le 4096 ] ||
		    fail "worker $pid grew by $((again - $1)) kB with the" \
		    "second generation"
		shift
	done
	S_CLIENT_DONE=1 S_CLIENT_HOLD=5 s_client bob bob -tls1_3 \
	    -sess_in "$T/bob.sess"
	expect_grep '^Reused, TLSv1\.3' "$T/bob.s" \
	    "bob's session not resumed: the test proves nothing"
	wait_for 5 log_has "resumed session refused: certificate revoked \\(reason unspecified, since [^)]*\\) \\(subject \"[^\"]*bob" ||
	    fail "no log line refusing bob's resumed session"
	expect_client 1 $(client_args bob)
	expect_client 0 $(client_args alice)
	takd_status
	expect_eq "$(sget crl.entries)" $((N + 2)) "crl.entries"
	expect_eq "$(wsum revoked_closed)" 1 "revoked_closed"
	[ "$(wsum revoked_refused)" -ge 2 ] ||
	    fail "revoked_refused is $(wsum revoked_refused)"
	expect_eq "$(wsum restarts)" 0 "worker restarts"
}

# The parser process killed half-way: the reload fails with a reason, the
# generation in force stays, nothing else is disturbed.
parser_killed() {
	local sup kids pid parser="" i
	setup
	start_takd
	big_crl "$T/big.der"
	mv "$T/big.der" "$T/pki/crl.pem"
	takd_status
	cot_spawn reload "$TAKCTL" -c "$CFG" reload
	for i in $(seq 100); do
		for pid in $(proc_children "$TAKD_PID"); do
			worker_pids | grep -qx "$pid" || parser=$pid
		done
		[ -n "$parser" ] && break
		sleep 0.02
	done
	[ -n "$parser" ] || fail "no parser process seen"
	kill -KILL "$parser"
	cot_wait reload 1 20
	expect_grep 'the parser process ended without a result' \
	    "$T/reload.out" "takctl reload did not say why"
	takd_status
	expect_eq "$(sget crl.generation)" 1 "generation after the failure"
	expect_eq "$(wsum restarts)" 0 "worker restarts"
	expect_client 0 $(client_args carol)
	# The next reload works.
	expect_ctl 0 reload
	expect_client 1 $(client_args carol)
}

# [tls] crl_check = chain checks every certificate of the client's chain
# against the set: a CRL listing the CA's own serial refuses everybody,
# which leaf (the client's certificate only) does not.
chain_mode() {
	setup tls.crl_check=chain
	big_crl "$T/pki/crl.pem"
	start_takd
	expect_client 0 $(client_args alice)
	expect_client 1 $(client_args carol)
	log_has "certificate verify failed: certificate revoked" ||
	    fail "carol's refusal does not say revoked"
	"$MKCRL" --ca "$T/pki/ca.pem" --key "$T/pki/ca.key" \
	    --out "$T/crl.tmp" --revoke "$T/pki/ca.pem" >"$T/mkcrl.log" 2>&1 ||
	    { diag_file "$T/mkcrl.log"; fail "mkcrl"; }
	chmod 644 "$T/crl.tmp"
	mv "$T/crl.tmp" "$T/pki/crl.pem"
	expect_ctl 0 reload
	expect_client 1 $(client_args alice)
	stop_takd
	write_config "$T/takd.ini" tls.crl_check=leaf
	start_takd
	expect_client 0 $(client_args alice)
}

run_case huge_reload
run_case parser_killed
run_case chain_mode
finish
