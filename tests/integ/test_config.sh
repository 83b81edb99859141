#!/usr/bin/env bash
# Configuration errors: exit status 78 (EX_CONFIG) with "FILE:LINE: message",
# and `takd -t` checking the TLS material before a start.
. "$(dirname "$0")/lib.sh"

# takd_fails_config FILE LINE_ERE WORD: both `takd -f -c FILE` and
# `takd -t -c FILE` exit 78 and say "FILE:LINE:" and WORD on stderr.
takd_fails_config() {
	local mode
	for mode in -f -t; do
		timeout -k 5 20 "$TAKD" $mode -c "$1" >"$T/stdout" 2>"$T/stderr"
		rc=$?
		[ "$rc" -eq 78 ] || { diag_file "$T/stderr" 20;
		    fail "takd $mode: exit status $rc, expected 78"; }
		expect_grep "$1:$2: .*$3" "$T/stderr" \
		    "takd $mode: no '$1:$2: ...$3...' line on stderr"
	done
}

bad_value_line() {
	printf '[server]\nlog_level = debug\nworkers = lots\n' >"$T/bad.ini"
	takd_fails_config "$T/bad.ini" 3 workers
}

unknown_key() {
	printf '[server]\nworkers = 2\ncolour = blue\n' >"$T/bad.ini"
	takd_fails_config "$T/bad.ini" 3 colour
}

# inih reports a section through its first key, so line 3 or 4 will do.
unknown_section() {
	printf '[server]\nworkers = 2\n[bogus]\nx = 1\n' >"$T/bad.ini"
	takd_fails_config "$T/bad.ini" '[34]' bogus
}

bad_duration() {
	printf '[server]\nworkers = 1\n[tls]\nhandshake_timeout = soon\n' \
	    >"$T/bad.ini"
	takd_fails_config "$T/bad.ini" 4 handshake_timeout
}

missing_file() {
	local mode rc
	for mode in -f -t; do
		timeout -k 5 20 "$TAKD" $mode -c "$T/nonexistent.ini" \
		    >"$T/stdout" 2>"$T/stderr"
		rc=$?
		[ "$rc" -eq 78 ] || { diag_file "$T/stderr";
		    fail "takd $mode: exit status $rc, expected 78"; }
		expect_grep "$T/nonexistent.ini" "$T/stderr" \
		    "takd $mode: stderr does not name the missing file"
	done
}

# takd_check WANT [section.key=value ...]: `takd -t` on a config with the
# overrides exits WANT; output in $T/check.out.
takd_check() {
	local want=$1 rc
	shift
	write_config "$T/takd.ini" "$@"
	timeout -k 5 30 "$TAKD" -t -c "$T/takd.ini" >"$T/check.out" 2>&1
	rc=$?
	[ "$rc" -eq "$want" ] || { diag_file "$T/takd.ini";
	    diag_file "$T/check.out" 20;
	    fail "takd -t ($*): exit status $rc, expected $want"; }
}

check_good() {
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem"
	takd_check 0
	# -t must not have started anything or left a pidfile behind.
	[ ! -e "$T/state/run/takd.pid" ] || fail "takd -t left a pidfile"
}

check_key_mismatch() {
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem"
	takd_check 78 "tls.key=$T/pki/clients/alice.key"
	expect_grep 'key|match' "$T/check.out" "no word about the key"
}

check_ca_missing() {
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem"
	takd_check 78 "tls.ca=$T/pki/nonexistent-ca.pem"
	expect_grep "nonexistent-ca.pem" "$T/check.out" "missing CA not named"
}

check_crl_missing() {
	use_pki "$T/pki"
	rm -f "$T/pki/crl.pem"
	takd_check 78 "tls.crl=$T/pki/missing-crl.pem" tls.crl_check=leaf
	expect_grep "missing-crl.pem" "$T/check.out" "missing CRL not named"
	# Without CRL checking, no CRL file is needed.
	takd_check 0 "tls.crl=$T/pki/missing-crl.pem" tls.crl_check=off
}

check_crl_other_ca() {
	use_pki "$T/pki"
	use_pki "$T/other" other
	make_crl "$T/other" "$T/pki/crl.pem"
	takd_check 78 tls.crl_check=leaf
}

run_case bad_value_line
run_case unknown_key
run_case unknown_section
run_case bad_duration
run_case missing_file
run_case check_good
run_case check_key_mismatch
run_case check_ca_missing
run_case check_crl_missing
run_case check_crl_other_ca
finish
