#!/usr/bin/env bash
# [ocsp] staple: takd asks a real OCSP responder (`openssl ocsp -index
# ... -port` on loopback) about its server certificate through
# takd-ocspfetch, and the workers staple the verified answer for clients
# that ask (`openssl s_client -status`): good, then revoked once the
# responder says so; a responder that stops changes nothing but the
# staple, which goes once its nextUpdate is past; an answer the CA did not
# sign is never stapled.
. "$(dirname "$0")/lib.sh"

# [ocsp] refresh is at least a minute for operators; a second here
# (shared/config.h, CONFIG_CRL_REFRESH_TEST_ENV).
export TAKD_TEST_CRL_REFRESH_MIN_1S=1

# libfaketime (Debian's faketime) runs the responder in the past: its
# answers then expire seconds after they are made, not the minute its
# -nmin 1 gives.  Preloaded directly (not the faketime wrapper, which
# forks), so that the pid cot_spawn keeps is the responder's own.
FAKETIME_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$')
[ -n "$FAKETIME_LIB" ] ||
    { echo "1..0 # SKIP libfaketime is not installed (scripts/deps.sh test)"; exit 0; }

# ocsp_index V|R: $T/ocsp/index.txt (openssl ca's format) lists the server
# certificate of $T/pki as valid, or revoked now (keyCompromise).
ocsp_index() {
	local ser end subj rev=
	mkdir -p "$T/ocsp"
	ser=$(openssl x509 -in "$T/pki/server.pem" -noout -serial |
	    sed 's/^serial=//')
	end=$(date -u -d "$(openssl x509 -in "$T/pki/server.pem" -noout \
	    -enddate | sed 's/^notAfter=//')" +%y%m%d%H%M%SZ)
	subj=$(openssl x509 -in "$T/pki/server.pem" -noout -subject \
	    -nameopt compat | sed 's/^subject=//')
	[ "$1" = R ] && rev="$(date -u +%y%m%d%H%M%SZ),keyCompromise"
	printf '%s\t%s\t%s\t%s\tunknown\t%s\n' "$1" "$end" "$rev" "$ser" \
	    "$subj" >"$T/ocsp/index.tmp"
	mv "$T/ocsp/index.tmp" "$T/ocsp/index.txt"
}

# ocsp_start [--behind SECONDS] [--signer PKIDIR]: openssl ocsp answering
# from $T/ocsp/index.txt on OCSP_PORT (chosen the first time), signing
# with the CA of PKIDIR (default $T/pki), nextUpdate a minute after
# thisUpdate.  --behind runs it that many seconds in the past (faketime),
# so that its answers expire that much sooner than a minute.
ocsp_start() {
	local behind=0 signer=$T/pki
	while [ $# -gt 0 ]; do
		case $1 in
		--behind) behind=$2; shift 2 ;;
		--signer) signer=$2; shift 2 ;;
		*) fail "ocsp_start: $1" ;;
		esac
	done
	[ -n "${OCSP_PORT:-}" ] || OCSP_PORT=$(/usr/bin/python3 -c \
	    'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cot_spawn ocsp env LD_PRELOAD="$FAKETIME_LIB" FAKETIME="-${behind}s" \
	    openssl ocsp \
	    -index "$T/ocsp/index.txt" -port "$OCSP_PORT" \
	    -rsigner "$signer/ca.pem" -rkey "$signer/ca.key" \
	    -CA "$T/pki/ca.pem" -nmin 1
	cot_poll 10 grep -q 'waiting for OCSP client' "$T/ocsp.out" ||
	    { diag_file "$T/ocsp.out"; fail "openssl ocsp did not start"; }
}

ocsp_stop() {
	kill "$(cat "$T/ocsp.cpid")" 2>/dev/null
	cot_poll 5 test -s "$T/ocsp.rc" || fail "openssl ocsp did not stop"
}

# A takd asking the responder every second.
start_ocsp_takd() {
	write_config "$T/takd.ini" ocsp.staple=yes \
	    "ocsp.responder=http://127.0.0.1:$OCSP_PORT" ocsp.refresh=1s \
	    ocsp.timeout=2s "$@"
	start_takd
}

# status_client OUT: a handshake as alice asking for the staple; the
# handshake must succeed.
status_client() {
	S_CLIENT_HOLD=0.3 s_client alice "$1" -status ||
	    { diag_file "$T/$1.s" 40; fail "s_client -status failed ($1)"; }
	grep -q 'Verify return code: 0 (ok)' "$T/$1.s" ||
	    { diag_file "$T/$1.s" 40; fail "handshake not verified ($1)"; }
}

# expect_staple OUT good|revoked|none
expect_staple() {
	case $2 in
	none)
		grep -q 'OCSP response: no response sent' "$T/$1.s" ||
		    { diag_file "$T/$1.s" 40; fail "a staple was sent ($1)"; } ;;
	*)
		grep -q 'OCSP Response Status: successful' "$T/$1.s" &&
		    grep -q "Cert Status: $2" "$T/$1.s" ||
		    { diag_file "$T/$1.s" 40; fail "no $2 staple ($1)"; } ;;
	esac
}

# Good, then revoked once the responder says so; only asked-for staples.
good_then_revoked() {
	use_pki "$T/pki"
	ocsp_index V
	ocsp_start
	start_ocsp_takd
	wait_status 8 ocsp.staple good
	status_client good
	expect_staple good good
	S_CLIENT_HOLD=0.3 s_client alice plain || fail "s_client"
	grep -q 'OCSP response' "$T/plain.s" &&
	    fail "a staple sent to a client that did not ask"
	log_has "OCSP staple [0-9]+: good, thisUpdate" ||
	    fail "no log line for the good staple"
	ocsp_index R
	wait_status 8 ocsp.staple revoked
	status_client rev
	expect_staple rev revoked
	log_has "OCSP: the responder says the server certificate .* is REVOKED" ||
	    fail "no warning for the revoked server certificate"
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/prom" 2>&1 ||
	    fail "takctl stats --prometheus"
	expect_grep '^takd_ocsp_staple\{state="revoked"\} 1$' "$T/prom"
	expect_grep '^takd_ocsp_requests_total\{result="ok"\} [1-9]' "$T/prom"
	expect_grep '^takd_ocsp_stapled_total\{worker="[0-9]+"\} [1-9]' "$T/prom"
}

# The responder stops: the cached staple is served until its nextUpdate,
# then handshakes go on without one.
responder_down() {
	local until left
	use_pki "$T/pki"
	ocsp_index V
	# Its answers expire 8 s from now.
	ocsp_start --behind 52
	start_ocsp_takd
	wait_status 8 ocsp.staple good
	ocsp_stop
	status_client cached
	expect_staple cached good
	wait_for 8 eval 'takd_status && [ "$(sget ocsp.failed)" -ge 1 ]' ||
	    fail "the failed request is not counted"
	sget ocsp.last_error | grep -Eq 'Failed to connect|Could not connect|Connection refused' ||
	    fail "last_error: $(sget ocsp.last_error)"
	log_has "OCSP request failed .*the staple in force is served until" ||
	    fail "no log line for the failed request"
	wait_status 15 ocsp.staple expired
	status_client expired
	expect_staple expired none
	expect_accepted alice
	log_has "OCSP staple [0-9]+ expired" ||
	    fail "no log line for the expired staple"
	diag "after the responder stopped: $(sget ocsp.failed) failed" \
	    "requests, staple expired, handshakes go on"
}

# An answer signed by another CA is refused and never stapled.
foreign_signer() {
	use_pki "$T/pki"
	use_pki "$T/other" other
	ocsp_index V
	ocsp_start --signer "$T/other"
	start_ocsp_takd
	wait_for 8 eval 'takd_status && [ "$(sget ocsp.failed)" -ge 1 ]' ||
	    fail "the foreign answer is not counted as a failure"
	sget ocsp.last_error | grep -q 'not signed by the issuer' ||
	    fail "last_error: $(sget ocsp.last_error)"
	expect_eq "$(sget ocsp.staple)" none "staple"
	status_client foreign
	expect_staple foreign none
}

run_case good_then_revoked
run_case responder_down
run_case foreign_signer
finish
