#!/usr/bin/env bash
# Mutual TLS at the door: who gets in, who is refused and why, handshake
# timeout, CRL reload on SIGHUP, and no descriptor leak under churn.
. "$(dirname "$0")/lib.sh"

# What the log must say about a refused client (OpenSSL's words).
NO_CERT_ERE='did not return a certificate|no (client |peer )?certificate'
NO_CERT_ERE="$NO_CERT_ERE|certificate required"
UNKNOWN_CA_ERE='unable to get local issuer certificate'
UNKNOWN_CA_ERE="$UNKNOWN_CA_ERE|unable to verify the first certificate"

# setup [CLIENT-TO-REVOKE...] -- [section.key=value...]
setup() {
	local -a revoke=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		revoke+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem" "${revoke[@]}"
	write_config "$T/takd.ini" "$@"
}

valid_client() {
	local cpid rc
	setup
	start_takd
	expect_eq "$(wsum sessions)" 0 "sessions before"
	# Held until the case has seen it (it held 4 s, for the margin).
	printf 'wait-file %s within=20000\n' "$T/seen" >"$T/held.script"
	"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" $(client_args alice) \
	    --ca "$T/pki/ca.pem" --servername localhost \
	    --script "$T/held.script" >"$T/held.out" 2>&1 &
	cpid=$!
	wait_sum 8 sessions 1
	touch "$T/seen"
	wait "$cpid"
	rc=$?
	[ "$rc" -eq 0 ] || { diag_file "$T/held.out";
	    fail "held client exit status $rc, expected 0"; }
	expect_grep '^handshake ok TLSv1\.3$' "$T/held.out"
	wait_sum 5 sessions 0
	[ "$(wsum handshakes_ok)" -ge 1 ] || fail "handshakes_ok not counted"
}

no_certificate() {
	setup
	start_takd
	expect_refused --no-cert "$NO_CERT_ERE"
	takd_status
	[ "$(wsum handshakes_failed)" -ge 1 ] ||
	    fail "handshakes_failed not counted"
	expect_accepted alice	# the worker is still fine
}

other_ca() {
	setup
	use_pki "$T/other" other
	start_takd
	expect_refused alice "$UNKNOWN_CA_ERE" "$T/other"
	expect_accepted alice
}

# A CA with the same name as ours is still another CA.
twin_ca() {
	setup
	use_pki "$T/twin" twin
	start_takd
	expect_refused alice "$UNKNOWN_CA_ERE|signature failure" "$T/twin"
	expect_accepted alice
}

openssl_s_client() {
	local rc c=$T/pki/clients
	setup
	start_takd
	# Stay a second so that a refusal (an alert after the handshake in
	# TLS 1.3) would reach s_client before it leaves.
	(sleep 1) | timeout 20 openssl s_client \
	    -connect "127.0.0.1:$TAKD_PORT" -cert "$c/alice.pem" \
	    -key "$c/alice.key" -pass pass:test -CAfile "$T/pki/ca.pem" \
	    -verify_return_error -verify_hostname localhost >"$T/sc.out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || { diag_file "$T/sc.out" 30;
	    fail "openssl s_client exit status $rc"; }
	expect_grep 'Verify return code: 0 \(ok\)' "$T/sc.out"
	! grep -qi 'alert' "$T/sc.out" || { diag_file "$T/sc.out" 30;
	    fail "s_client got an alert"; }
	# And the same without a certificate is refused (not waiting for the
	# rest of the second once it is).
	if timeout 20 openssl s_client \
	    -connect "127.0.0.1:$TAKD_PORT" -CAfile "$T/pki/ca.pem" \
	    >"$T/sc.out" 2>&1 < <(sleep 1); then
		diag_file "$T/sc.out" 30
		fail "s_client without a certificate was let in"
	fi
	expect_grep alert "$T/sc.out" \
	    "no alert for s_client without a certificate"
}

revoked_at_start() {
	setup bob
	start_takd
	expect_eq "$(sget crl.entries)" 1 "CRL entries in status"
	expect_accepted alice
	expect_refused bob 'revoked'
}

# A silent connection is closed after about a second.
handshake_timeout() {
	setup -- tls.handshake_timeout=1s
	start_takd
	expect_client 3 --raw --hold 8
	expect_closed_after "$T/client.out" 700 3000
}

crl_reload() {
	local g0 workers
	setup
	start_takd
	g0=$(sget crl.generation)
	workers=$(worker_pids)
	expect_accepted bob
	make_crl "$T/pki" "$T/pki/crl.pem" bob
	kill -HUP "$TAKD_PID"
	wait_status 10 crl.generation $((g0 + 1))
	expect_eq "$(sget crl.entries)" 1 "CRL entries"
	expect_refused bob 'revoked'
	expect_accepted alice
	expect_same_workers "$workers"
}

# crl_reload_bad HOW ERE: an unusable CRL on SIGHUP leaves the old one in
# force; status crl.last_error says why, matching ERE.
crl_reload_bad() {
	local g0 workers err
	setup bob
	start_takd
	g0=$(sget crl.generation)
	workers=$(worker_pids)
	expect_refused bob 'revoked'
	case "$1" in
	garbage)
		printf 'not a CRL\n' >"$T/pki/crl.pem.tmp"
		mv "$T/pki/crl.pem.tmp" "$T/pki/crl.pem"
		;;
	other-ca)	# well formed, signed by the wrong CA
		use_pki "$T/other" other
		make_crl "$T/other" "$T/pki/crl.pem"
		;;
	esac
	kill -HUP "$TAKD_PID"
	wait_for 10 eval 'takd_status && [ -n "$(sget crl.last_error)" ]' ||
	    fail "status crl.last_error still empty after SIGHUP with a bad CRL"
	err=$(sget crl.last_error)
	diag "last_error: $err"
	echo "$err" | grep -Eqi -- "$2" ||
	    fail "crl.last_error does not match /$2/"
	expect_eq "$(sget crl.generation)" "$g0" "CRL generation"
	expect_same_workers "$workers"
	expect_refused bob 'revoked'
	expect_accepted alice
	# A good CRL afterwards is taken (and this one lets bob in again).
	make_crl "$T/pki" "$T/pki/crl.pem"
	kill -HUP "$TAKD_PID"
	wait_status 10 crl.generation $((g0 + 1))
	expect_accepted bob
}

crl_reload_garbage() {
	crl_reload_bad garbage 'not a (PEM|DER)|CRL.*(parse|decod|format)|asn1'
}

crl_reload_other_ca() {
	crl_reload_bad other-ca 'sign|issuer'
}

fd_churn() {
	local pid workers
	declare -A before=()
	setup -- server.workers=2
	start_takd
	workers=$(worker_pids)
	# Warm up (lazy allocations), then take the baseline.
	expect_client 0 $(client_args alice) --count 6 --parallel --quiet
	wait_for 10 takd_quiet || fail "sessions not back to 0 after warm-up"
	for pid in $workers; do
		before[$pid]=$(fd_count "$pid")
	done
	expect_client 0 $(client_args alice) --count 50 --quiet
	expect_client 0 $(client_args bob) --count 20 --parallel --quiet
	expect_client 1 --no-cert --count 50 --quiet
	expect_grep '0 ok, 50 failed' "$T/client.out"
	expect_client 1 --no-cert --count 20 --parallel --quiet
	expect_client 0 --raw --count 60 --quiet
	wait_for 15 takd_quiet ||
	    fail "sessions $(wsum sessions), handshaking $(wsum handshaking)" \
	    "after the churn, expected 0"
	expect_same_workers "$workers"
	[ "$(wsum handshakes_ok)" -ge 76 ] ||
	    fail "handshakes_ok $(wsum handshakes_ok), expected >= 76"
	[ "$(wsum handshakes_failed)" -ge 70 ] ||
	    fail "handshakes_failed $(wsum handshakes_failed), expected >= 70"
	for pid in $workers; do
		diag "worker $pid: ${before[$pid]} descriptors before," \
		    "$(fd_count "$pid") after"
		expect_fds "$pid" "${before[$pid]}"
	done
}

run_case valid_client
run_case no_certificate
run_case other_ca
run_case twin_ca
run_case openssl_s_client
run_case revoked_at_start
run_case handshake_timeout
run_case crl_reload
run_case crl_reload_garbage
run_case crl_reload_other_ca
run_case fd_churn
finish
