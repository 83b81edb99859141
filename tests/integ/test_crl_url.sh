#!/usr/bin/env bash
# [tls] crl_url: the CRL fetched from a real HTTP server on loopback
# (Python's http.server on a directory the cases rewrite) drives the
# revocation of live sessions like the file does; every bad answer keeps
# the CRL in force and is reported; a restart without the server starts
# with the last good copy.
. "$(dirname "$0")/lib.sh"

# crl_refresh is at least a minute for operators; a second here
# (shared/config.h, CONFIG_CRL_REFRESH_TEST_ENV).
export TAKD_TEST_CRL_REFRESH_MIN_1S=1

# url_crl PKIDIR NUMBER OUT [CLIENT...]: a CRL of PKIDIR's CA with that
# cRLNumber listing exactly CLIENTs (of $T/pki), valid 7 days, published
# atomically as OUT.
url_crl() {
	local pki=$1 num=$2 out=$3 d name
	shift 3
	ca_scratch urlca
	d=$CA_DIR
	printf '%02X\n' "$num" >"$d/crlnumber"
	echo 'default_crl_days = 7' >>"$d/ca.cnf"
	for name in "$@"; do
		openssl ca -batch -config "$d/ca.cnf" -keyfile "$pki/ca.key" \
		    -cert "$pki/ca.pem" -revoke "$T/pki/clients/$name.pem" \
		    >>"$d/log" 2>&1 ||
		    { diag_file "$d/log"; fail "openssl ca -revoke $name"; }
	done
	openssl ca -batch -config "$d/ca.cnf" -keyfile "$pki/ca.key" \
	    -cert "$pki/ca.pem" -gencrl -out "$d/crl.pem" >>"$d/log" 2>&1 ||
	    { diag_file "$d/log"; fail "openssl ca -gencrl"; }
	publish "$d/crl.pem" "$out"
}

# publish FILE OUT: what the HTTP server serves as OUT from now on.
publish() {
	cp "$1" "$2.tmp" && mv "$2.tmp" "$2" || fail "cannot publish $2"
}

# http_start: python3 -m http.server on $T/www, on a port of the kernel's
# choice the first time and the same one after; sets HTTP_PORT.
http_start() {
	local port=${HTTP_PORT:-0}
	mkdir -p "$T/www"
	cot_spawn http /usr/bin/python3 -u -m http.server --bind 127.0.0.1 \
	    --directory "$T/www" "$port"
	cot_poll 10 grep -q 'Serving HTTP on' "$T/http.out" ||
	    { diag_file "$T/http.out"; fail "http.server did not start"; }
	HTTP_PORT=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$T/http.out" |
	    head -n 1)
	[ -n "$HTTP_PORT" ] || fail "no port in http.server's output"
}

http_stop() {
	kill "$(cat "$T/http.cpid")" 2>/dev/null
	cot_poll 5 test -s "$T/http.rc" || fail "http.server did not stop"
}

# A takd fetching http://127.0.0.1:$HTTP_PORT/crl.pem every second, with
# CRL number 10 (nobody revoked) published and in force.
start_url_takd() {
	url_crl "$T/pki" 10 "$T/www/crl.pem"
	write_config "$T/takd.ini" \
	    "tls.crl_url=http://127.0.0.1:$HTTP_PORT/crl.pem" \
	    tls.crl_refresh=1s tls.crl_fetch_timeout=2s "$@"
	start_takd
	wait_status 5 crl.number 10
}

# fetch_fails ERE: the next fetch fails with a reason matching ERE, is
# counted and logged, and CRL number 11 stays in force.
fetch_fails() {
	local before
	takd_status || fail "takctl status"
	before=$(sget crl.fetch.failed)
	wait_for 8 eval 'takd_status && [ "$(sget crl.fetch.failed)" -gt '"$before"' ]' ||
	    fail "no failed fetch counted (expected: $1)"
	sget crl.fetch.last_error | grep -Eq -- "$1" ||
	    fail "last_error '$(sget crl.fetch.last_error)' does not match '$1'"
	expect_eq "$(sget crl.number)" 11 "CRL number in force"
	log_has "CRL fetch failed .*generation [0-9]+ stays in force: .*$1" ||
	    fail "no log line for the failed fetch ($1)"
	diag "refused: $(sget crl.fetch.last_error | cut -c 1-120)"
}

# Revoke -> publish -> bob's live session closes within refresh + 1 s; his
# new connections are refused, alice's accepted; the copy is on disk.
revoke_live() {
	local t0 ms
	use_pki "$T/pki"
	http_start
	start_url_takd
	cot_bg bob $(client_args bob) --hold 30
	cot_bg alice $(client_args alice) --hold 30
	wait_sum 10 sessions 2
	url_crl "$T/pki" 11 "$T/www/crl.pem" bob
	t0=$(now_ms)
	cot_poll 3 test -s "$T/bob.rc" ||
	    fail "bob still connected 3 s after the CRL was published"
	ms=$(( $(now_ms) - t0 ))
	diag "bob's session closed ${ms} ms after the CRL was published" \
	    "(crl_refresh 1 s)"
	[ "$ms" -le 2000 ] || fail "closed after $ms ms, more than refresh + 1 s"
	takd_status
	expect_eq "$(sget crl.number)" 11 "CRL number in force"
	expect_eq "$(sget crl.fetch.installed)" 2 "CRLs installed from the URL"
	[ -e "$T/bob.rc" ] && [ ! -e "$T/alice.rc" ] ||
	    fail "alice's session was closed too"
	expect_refused bob revoked
	expect_accepted alice
	log_has "CRL from http://127.0.0.1:$HTTP_PORT/crl.pem: number 11" ||
	    fail "no log line for the installed CRL"
	cmp -s <(openssl crl -in "$T/www/crl.pem" -outform DER) \
	    "$T/state/store/crl-fetched.crl" ||
	    fail "the last good copy is not the published CRL"
}

# Each bad answer keeps CRL 11 (bob revoked) in force and is reported.
bad_answers() {
	use_pki "$T/pki"
	use_pki "$T/other" other
	http_start
	start_url_takd
	url_crl "$T/pki" 11 "$T/www/crl.pem" bob
	wait_status 5 crl.number 11
	# Another CA's CRL (it would un-revoke bob).
	url_crl "$T/other" 12 "$T/www/crl.pem"
	fetch_fails "not signed by the configured CA"
	# Truncated.
	url_crl "$T/pki" 12 "$T/crl12.pem"
	openssl crl -in "$T/crl12.pem" -outform DER -out "$T/crl12.der"
	head -c 100 "$T/crl12.der" >"$T/trunc"
	publish "$T/trunc" "$T/www/crl.pem"
	fetch_fails "not a PEM or DER X.509 CRL .*\\(100 bytes\\)"
	# An HTML error page served with status 200.
	printf '<html><body><h1>502 Bad Gateway</h1></body></html>\n' \
	    >"$T/err.html"
	publish "$T/err.html" "$T/www/crl.pem"
	fetch_fails "not a PEM or DER X.509 CRL"
	# A real error status.
	rm -f "$T/www/crl.pem"
	fetch_fails "HTTP status 404"
	# An older CRL number, valid and signed by the CA: bob not on it.
	url_crl "$T/pki" 5 "$T/www/crl.pem"
	fetch_fails "CRL number 5 is lower than the one in force \\(11\\)"
	# 20 MiB (crl_fetch_max is 16 MiB).
	head -c $((20 * 1024 * 1024)) /dev/zero >"$T/big"
	publish "$T/big" "$T/www/crl.pem"
	fetch_fails "larger than crl_fetch_max"
	# A server that accepts the connection and never answers.
	http_stop
	cot_spawn mute /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("listening", flush=True)
time.sleep(60)' "$HTTP_PORT"
	cot_poll 5 grep -q listening "$T/mute.out" ||
	    { diag_file "$T/mute.out"; fail "the mute server did not start"; }
	fetch_fails "[Tt]imed out"
	# 1 the file, 2 CRL 10, 3 CRL 11: nothing since.
	expect_eq "$(sget crl.generation)" 3 "CRL generation after it all"
	expect_refused bob revoked
	expect_accepted alice
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/prom" 2>&1 ||
	    fail "takctl stats --prometheus"
	expect_grep '^takd_crl_fetch_total\{result="failed"\} [1-9]' "$T/prom"
	expect_grep '^takd_crl_fetch_installed_total 2$' "$T/prom"
}

# A restart with the URL unreachable starts with the last good copy (bob
# revoked by CRL 11, which the file never listed), and says the fetch fails.
restart_offline() {
	use_pki "$T/pki"
	http_start
	start_url_takd
	url_crl "$T/pki" 11 "$T/www/crl.pem" bob
	wait_status 5 crl.number 11
	stop_takd
	http_stop
	start_takd
	takd_status
	expect_eq "$(sget crl.number)" 11 "CRL number at start"
	expect_eq "$(sget crl.generation)" 1 "CRL generation at start"
	expect_refused bob revoked
	expect_accepted alice
	wait_for 8 eval 'takd_status && [ "$(sget crl.fetch.failed)" -ge 1 ]' ||
	    fail "the failed fetch is not reported"
	sget crl.fetch.last_error | grep -q 'Could not connect\|Connection refused\|Failed to connect' ||
	    fail "last_error: $(sget crl.fetch.last_error)"
	expect_eq "$(sget crl.number)" 11 "CRL number after the failed fetch"
}

run_case revoke_live
run_case bad_answers
run_case restart_offline
finish
