#!/usr/bin/env bash
# The api process (docs/api.md): HTTPS on [api] listen (8443, mutual TLS)
# and enroll_listen (8446, server TLS), driven by clients written without
# takd's code: curl, and Python's ssl + http.client (api/https_client.py).
#
#   endpoints     version, version/config, groups/all, clientEndPoints of
#                 two CoT clients; 404, 405 with Allow, HEAD; every reply
#                 has a Content-Type; takctl status and /metrics show the
#                 api process and its requests
#   groups        clientEndPoints and groups/all follow the users file:
#                 alice (Blue) sees her client only, carol (no user,
#                 __ANON__) hers, bob (Red) his
#   refusals      8443 refuses no certificate, another CA's, a revoked
#                 one, and plain HTTP (answered 400); each counted under
#                 its reason and logged with the peer's address
#   limits        a body over max_body 413, a head over max_headers 400,
#                 a silent TLS client closed at [api] timeout, a silent TCP
#                 connection at the handshake timeout, each counted
#   revoke_live   a revocation closes bob's open keep-alive connection at
#                 the reload, and bob's next handshake is refused
#   enroll        8446 without a client certificate: the enrollment
#                 profile 204, other paths 404, POST 405, plain HTTP 400
#   fd_cycles     200 connections of four kinds leave the api process with
#                 the descriptors it had
#   respawn       a killed api process is respawned and serves again
. "$(dirname "$0")/lib.sh"

CLIENT=$REPO/tests/integ/api/https_client.py
PY=/usr/bin/python3

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" api.enabled=yes api.listen=127.0.0.1:0 \
	    api.enroll_listen=127.0.0.1:0 metrics.listen=127.0.0.1:0 "$@"
}

started() {
	start_takd
	APORT=$(listener_port https)
	EPORT=$(listener_port enroll)
	MPORT=$(listener_port metrics)
	[ -n "$APORT" ] && [ -n "$EPORT" ] && [ -n "$MPORT" ] ||
	    fail "api listeners missing from status: $(tr '\n' ' ' \
	    <"$T/status.json")"
	API_PID=$(sget api.pid)
	proc_alive "$API_PID" || fail "no api process"
}

# acurl NAME OUT PATH [CURL ARGS...]: GET PATH of 8443 as client NAME of
# $T/pki (a name of another PKI dir: NAME=DIR/NAME; "-": no certificate);
# head and body in OUT.head and OUT, curl's exit status returned.
acurl() {
	local who=$1 out=$2 path=$3 dir=$T/pki
	local -a cert=()
	shift 3
	case "$who" in
	-)	;;
	*/*)	dir=${who%/*}; who=${who##*/} ;;
	esac
	[ "$who" = - ] || cert=(--cert "$dir/clients/$who.pem" \
	    --key "$dir/clients/$who.key" --pass test)
	curl -sS --max-time 5 --cacert "$T/pki/ca.pem" \
	    --resolve "localhost:$APORT:127.0.0.1" "${cert[@]}" \
	    -D "$T/$out.head" -o "$T/$out" "$@" \
	    "https://localhost:$APORT$path" 2>"$T/$out.err"
}

# ecurl, code and hval are lib.sh's (code and hval read acurl's replies
# too); an enrollment request here waits 5 s at most, as acurl's do.
ECURL_TIMEOUT=5

# expect_reply OUT CODE CTYPE: status and Content-Type of a reply.
expect_reply() {
	expect_eq "$(code "$1")" "$2" "$1: status"
	expect_eq "$(hval "$1" Content-Type)" "$3" "$1: Content-Type"
}

# json OUT EXPR: EXPR of Python over the reply's JSON, as d.
json() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$T/$1" "$2" || fail "$1: not the JSON expected"
}

# cot NAME UID: client NAME of $T/pki sends its position on 8089 as UID,
# callsign UID in capitals, and stays until killed.
cot() {
	[ -f "$T/sa.tmpl" ] || cot_sa_tmpl "$T/sa.tmpl"
	cot_bg "$1" $(client_args "$1") --uid "$2" --callsign "${2^^}" \
	    --send "$T/sa.tmpl" --hold 60
}

# scrape OUT: GET /metrics (plain HTTP) into $T/OUT.
scrape() {
	printf 'GET /metrics HTTP/1.0\r\n\r\n' | http_send "$MPORT" "$T/$1"
	[ "$(http_status "$T/$1")" = 200 ] || fail "GET /metrics: not 200"
}

# --- cases --------------------------------------------------------------------

endpoints() {
	local m n
	setup
	started
	acurl alice v /Marti/api/version || { diag_file "$T/v.err"; fail curl; }
	expect_reply v 200 "text/plain; charset=utf-8"
	expect_grep '^takd [0-9.]+$' "$T/v"
	acurl alice vc /Marti/api/version/config
	expect_reply vc 200 "application/json; charset=utf-8"
	expect_eq "$(json vc 'd["version"], d["type"], d["data"]["api"]')" \
	    "('3', 'ServerConfig', '3')" "version/config"
	expect_grep '"hostname":"[^"]+"' "$T/vc"
	acurl alice g /Marti/api/groups/all
	expect_reply g 200 "application/json; charset=utf-8"
	expect_eq "$(json g '[(x["name"], x["direction"]) for x in d["data"]]')" \
	    "[('__ANON__', 'IN'), ('__ANON__', 'OUT')]" "groups/all"
	# Two CoT clients, bound to their uids, are listed once each.
	cot alice a-1
	cot bob b-1
	wait_sum 10 sessions 2
	_listed() {
		acurl alice ce /Marti/api/clientEndPoints &&
		    [ "$(json ce 'len(d["data"])')" = 2 ]
	}
	wait_for 5 _listed || { diag_file "$T/ce"; fail "clientEndPoints"; }
	expect_reply ce 200 "application/json; charset=utf-8"
	expect_eq "$(json ce 'sorted((x["uid"], x["callsign"], x["lastStatus"]) for x in d["data"])')" \
	    "[('a-1', 'A-1', 'Connected'), ('b-1', 'B-1', 'Connected')]" \
	    "clientEndPoints"
	expect_grep '"lastEventTime":"20[0-9-]+T[0-9:.]+Z"' "$T/ce"
	# Wrong path, wrong method, HEAD.
	acurl alice nf /Marti/api/nothing
	expect_reply nf 404 "text/plain; charset=utf-8"
	acurl alice pm /Marti/api/version -X POST -d x=1
	expect_reply pm 405 "text/plain; charset=utf-8"
	expect_eq "$(hval pm Allow)" "GET, HEAD" "Allow"
	acurl alice hd /Marti/api/version --head
	expect_eq "$(code hd)" 200 "HEAD"
	expect_eq "$(hval hd Content-Length)" "$(wc -c <"$T/v")" \
	    "HEAD Content-Length"
	# Shown in takctl status and /metrics.
	takd_status
	expect_eq "$(sget api.state)" running "status api.state"
	n=$(sget api.api.requests_marti)
	[ "$n" -ge 7 ] || fail "status requests_marti $n, expected >= 7"
	# One curl, one connection, one request.
	expect_eq "$(sget api.handshakes_ok)" "$n" "status handshakes_ok"
	expect_eq "$(sget api.api.not_found)" 1 "status not_found"
	expect_eq "$(sget api.api.bad_method)" 1 "status bad_method"
	# The summary at a terminal has a line for it.
	script -qec "$TAKCTL -c $CFG status" /dev/null >"$T/summary" 2>&1 ||
	    { diag_file "$T/summary"; fail "takctl status at a terminal"; }
	expect_grep "^api process running, pid $API_PID, 0 restarts: " \
	    "$T/summary"
	scrape m
	m=$T/m
	expect_grep '^takd_api_up 1$' "$m"
	expect_grep "^takd_api_requests_total\{listener=\"marti\"\} $n\$" "$m"
	expect_grep "^takd_api_handshakes_ok_total $n\$" "$m"
	expect_grep '^takd_worker_up\{worker="1"\} 1$' "$m"
	kill "$(cat "$T/alice.cpid")" "$(cat "$T/bob.cpid")"
}

groups() {
	setup
	ctl() { "$TAKCTL" -c "$CFG" "$@" >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl $*"; }; }
	ctl user add alice --groups Blue --no-password
	ctl user add bob --groups Red --no-password
	started
	cot alice a-1
	cot bob b-1
	cot carol c-1
	wait_sum 10 sessions 3
	_three() {
		acurl carol x /Marti/api/clientEndPoints &&
		    [ "$(json x 'len(d["data"])')" = 1 ]
	}
	wait_for 5 _three || { diag_file "$T/x"; fail "clientEndPoints"; }
	expect_eq "$(json x '[x["uid"] for x in d["data"]]')" "['c-1']" \
	    "carol (__ANON__) sees"
	acurl alice x /Marti/api/clientEndPoints
	expect_eq "$(json x '[x["uid"] for x in d["data"]]')" "['a-1']" \
	    "alice (Blue) sees"
	expect_eq "$(json x '[x["username"] for x in d["data"]]')" \
	    "['alice']" "alice's username"
	acurl bob x /Marti/api/clientEndPoints
	expect_eq "$(json x '[x["uid"] for x in d["data"]]')" "['b-1']" \
	    "bob (Red) sees"
	acurl alice g /Marti/api/groups/all
	expect_eq "$(json g '[(x["name"], x["direction"]) for x in d["data"]]')" \
	    "[('Blue', 'IN'), ('Blue', 'OUT')]" "alice's groups"
	acurl carol g /Marti/api/groups/all
	expect_eq "$(json g '[x["name"] for x in d["data"]]')" \
	    "['__ANON__', '__ANON__']" "carol's groups"
	kill "$(cat "$T/alice.cpid")" "$(cat "$T/bob.cpid")" \
	    "$(cat "$T/carol.cpid")"
}

refusals() {
	setup
	use_pki "$T/other" other
	make_crl "$T/pki" "$T/pki/crl.pem" carol
	started
	! acurl - n /Marti/api/version || fail "no certificate: served"
	! acurl "$T/other/alice" o /Marti/api/version ||
	    fail "another CA: served"
	! acurl carol r /Marti/api/version || fail "revoked: served"
	curl -sS --max-time 5 -D "$T/p.head" -o "$T/p" \
	    "http://127.0.0.1:$APORT/Marti/api/version" 2>"$T/p.err"
	expect_eq "$(code p)" 400 "plain HTTP on 8443"
	expect_grep 'speaks TLS' "$T/p"
	acurl alice ok /Marti/api/version
	expect_eq "$(code ok)" 200 "alice after the refusals"
	_counted() {
		takd_status && [ "$(sget api.handshake_failures.protocol)" = 1 ]
	}
	wait_for 5 _counted || fail "refusals not counted"
	expect_eq "$(sget api.handshake_failures.no_certificate)" 1 \
	    "no_certificate"
	expect_eq "$(sget api.handshake_failures.unknown_ca)" 1 "unknown_ca"
	expect_eq "$(sget api.handshake_failures.revoked)" 1 "revoked"
	expect_eq "$(sget api.revoked_refused)" 1 "revoked_refused"
	expect_eq "$(sget api.api.plain_http_on_tls)" 1 "plain_http_on_tls"
	expect_eq "$(sget api.handshakes_ok)" 1 "handshakes_ok"
	# Each logged with the peer's address (and the certificate).
	local p='marti: 127\.0\.0\.1:[0-9]+: TLS handshake refused'
	log_has "$p \(no_certificate\): no client certificate" ||
	    fail "no log line for no certificate"
	log_has "$p \(unknown_ca\): certificate .*refused" ||
	    fail "no log line for another CA"
	log_has "$p \(revoked\): certificate serial $(serial_of carol) refused: certificate revoked" ||
	    fail "no log line for the revoked certificate"
	log_has "$p \(protocol\): plain HTTP on a TLS port" ||
	    fail "no log line for plain HTTP"
}

limits() {
	local t0 ms
	setup api.max_body=2k api.timeout=1s tls.handshake_timeout=1s
	started
	head -c 3000 /dev/zero | tr '\0' a >"$T/big"
	acurl alice b /Marti/api/version -X POST --data-binary @"$T/big"
	expect_eq "$(code b)" 413 "body over max_body"
	[ -n "$(hval b Content-Type)" ] || fail "413 without Content-Type"
	acurl alice h /Marti/api/version -H "X-Pad: $(head -c 9000 \
	    /dev/zero | tr '\0' a)"
	# What libevent 2.1 answers (docs/api.md): counted as too large.
	expect_eq "$(code h)" 400 "head over max_headers"
	acurl alice s /Marti/api/version -X POST --data-binary x=1
	expect_eq "$(code s)" 405 "a small body to a GET route"
	# A TLS client that says nothing after its handshake.
	"$PY" "$CLIENT" idle "$APORT" "$T/pki/ca.pem" \
	    "$T/pki/clients/alice.pem" "$T/pki/clients/alice.key" 5 \
	    >"$T/idle.out" 2>&1
	ms=$(sed -n 's/^closed after \([0-9]*\)$/\1/p' "$T/idle.out")
	diag "silent TLS client closed after ${ms:-?} ms"
	[ -n "$ms" ] && [ "$ms" -ge 900 ] && [ "$ms" -lt 2500 ] ||
	    { diag_file "$T/idle.out"; fail "silent TLS client not closed" \
	    "at [api] timeout (1 s)"; }
	# A TCP connection that never starts its handshake.
	t0=$(now_ms)
	timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; cat <&3' _ \
	    "$APORT" >/dev/null 2>&1
	ms=$(( $(now_ms) - t0 ))
	diag "silent TCP connection closed after $ms ms"
	[ "$ms" -ge 900 ] && [ "$ms" -lt 3500 ] ||
	    fail "silent TCP connection closed after $ms ms, expected ~1000"
	takd_status
	expect_eq "$(sget api.api.body_too_large)" 1 "body_too_large"
	expect_eq "$(sget api.api.head_too_large)" 1 "head_too_large"
	expect_eq "$(sget api.api.bad_method)" 1 "bad_method"
	expect_eq "$(sget api.api.timeouts)" 1 "timeouts"
	expect_eq "$(sget api.handshake_failures.timeout)" 1 \
	    "handshake timeout"
	log_has 'marti: 127\.0\.0\.1:[0-9]+: 413: body over \[api\] max_body' ||
	    fail "no log line for the 413"
	log_has 'marti: 127\.0\.0\.1:[0-9]+: nothing for [0-9]+ ms \(\[api\] timeout\): closed' ||
	    fail "no log line for the timeout"
}

revoke_live() {
	local ms
	setup
	started
	cot_spawn ka "$PY" "$CLIENT" keepalive "$APORT" "$T/pki/ca.pem" \
	    "$T/pki/clients/bob.pem" "$T/pki/clients/bob.key" \
	    /Marti/api/version 10
	cot_poll 5 grep -q '^first 200$' "$T/ka.out" ||
	    { diag_file "$T/ka.out"; fail "bob's first request"; }
	sleep 0.5
	grep -q closed "$T/ka.out" && fail "closed before the revocation"
	make_crl "$T/pki" "$T/pki/crl.pem" bob
	"$TAKCTL" -c "$CFG" reload >"$T/reload.out" 2>&1 ||
	    { diag_file "$T/reload.out"; fail "takctl reload"; }
	cot_wait ka 0 10
	ms=$(sed -n 's/^closed after \([0-9]*\)$/\1/p' "$T/ka.out")
	diag "bob's keep-alive connection closed $ms ms after its request"
	takd_status
	expect_eq "$(sget api.revoked_closed)" 1 "revoked_closed"
	log_has "marti: 127\.0\.0\.1:[0-9]+: certificate $(serial_of bob) revoked .*closing its connection" ||
	    fail "no log line for the closed connection"
	log_has 'CRL generation 2 in force: 1 revoked; 1 HTTPS connection closed' ||
	    fail "the api process did not install generation 2"
	! acurl bob b /Marti/api/version || fail "bob served after revocation"
	acurl alice a /Marti/api/version
	expect_eq "$(code a)" 200 "alice still served"
}

enroll() {
	setup
	started
	ecurl p /Marti/api/tls/profile/enrollment?clientUid=x ||
	    { diag_file "$T/p.err"; fail "8446 without a certificate"; }
	expect_eq "$(code p)" 204 "enrollment profile"
	[ ! -s "$T/p" ] || fail "204 with a body"
	ecurl v /Marti/api/version
	expect_reply v 404 "text/plain; charset=utf-8"
	ecurl pp /Marti/api/tls/profile/enrollment -X POST -d x
	expect_reply pp 405 "text/plain; charset=utf-8"
	curl -sS --max-time 5 -D "$T/h.head" -o "$T/h" \
	    "http://127.0.0.1:$EPORT/" 2>"$T/h.err"
	expect_eq "$(code h)" 400 "plain HTTP on 8446"
	takd_status
	expect_eq "$(sget api.api.requests_enroll)" 3 "enroll requests"
	expect_eq "$(sget api.api.plain_http_on_tls)" 1 "plain_http_on_tls"
}

fd_cycles() {
	local before after
	setup
	started
	acurl alice w /Marti/api/version	# the first use of everything
	_quiet() { takd_status && [ "$(sget api.api.connections)" = 0 ]; }
	wait_for 5 _quiet || fail "connections left open"
	before=$(fd_count "$API_PID")
	"$PY" "$CLIENT" cycles "$APORT" "$T/pki/ca.pem" \
	    "$T/pki/clients/alice.pem" "$T/pki/clients/alice.key" 200 \
	    >"$T/cy.out" 2>&1 || { diag_file "$T/cy.out"; fail "cycles"; }
	diag "$(cat "$T/cy.out")"
	wait_for 10 _quiet || fail "$(sget api.api.connections) connections" \
	    "left open after 200 cycles"
	after=$(fd_count "$API_PID")
	diag "api process descriptors: $before before, $after after 200" \
	    "connections"
	expect_eq "$after" "$before" "descriptors of the api process"
	expect_eq "$(sget api.accepted)" 201 "connections accepted"
}

respawn() {
	local old
	setup
	started
	old=$API_PID
	kill -KILL "$old"
	_back() {
		takd_status && [ "$(sget api.restarts)" = 1 ] &&
		    [ "$(sget api.state)" = running ] &&
		    [ "$(sget api.pid)" != "$old" ]
	}
	wait_for 10 _back || fail "api process not respawned"
	wait_for 5 acurl alice v /Marti/api/version ||
	    fail "8443 not served after the respawn"
	expect_eq "$(code v)" 200 "after the respawn"
	log_has 'api process died: killed by signal 9' ||
	    fail "no log line for the death"
}

run_case endpoints
run_case groups
run_case refusals
run_case limits
run_case revoke_live
run_case enroll
run_case fd_cycles
run_case respawn
finish
