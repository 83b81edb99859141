#!/usr/bin/env bash
# Certificate enrollment on [api] enroll_listen (docs/enrollment.md,
# docs/api.md), driven by clients written without takd's code: curl,
# Python's ssl + http.client (api/enroll_client.py), CSRs of `openssl req`,
# PKCS#12 read by `openssl pkcs12`.
#
#   flow          the ATAK flow: tls/config (O/OU), a CSR with CN = user
#                 and those O/OU, signClient/v2 JSON and XML, signClient v1
#                 (PKCS#12, password atakatak, no key); the certificate
#                 chains to ca.pem and streams on 8089; takctl revoke
#                 closes that session within a second of returning; the
#                 revoked user's password still enrolls, a deleted user's
#                 does not (401); a user added after the start enrolls
#                 after takctl reload; counters in takctl status
#   refusals      wrong password and unknown user (the same 401, counted
#                 by verdict, logged with the peer and the name); past the
#                 3 free failures of a name, the 4th is answered at once
#                 and the 5th login held >= 1 s by the throttle (measured);
#                 CN of another user, extra RDN, RSA 1024, garbage body
#                 (400 with the reason, counted, logged), a body over
#                 max_body (413), an Accept of neither JSON nor XML (400)
#   rate          [api] enroll_rate/enroll_burst reach the signer: the
#                 signing past them is answered 503 with Retry-After
#   no_ca_key     the api process has no ca.key among its descriptors or
#                 mappings and none of the key's bytes in its memory, which
#                 the signer has (the scan works); the api holds alice's
#                 password hash, no worker does
#   signer        takctl status shows the signer; killed, it is started
#                 again and its channel reaches the api (IPC_MSG_SIGNER_FD):
#                 enrollment works again; a respawned api process gets a
#                 new signer and enrolls
# (Plain HTTP on 8446, another CA's and a revoked certificate on 8443:
# test_api.sh.)
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CLIENT=$REPO/tests/integ/api/enroll_client.py
MEMSCAN=$REPO/tests/integ/api/memscan.py
V2=/Marti/api/tls/signClient/v2
V1=/Marti/api/tls/signClient

adduser() {
	printf '%s\n' "$2" | "$TAKCTL" -c "$CFG" user add "$1" \
	    >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl user add $1"; }
}

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" api.enabled=yes api.listen=127.0.0.1:0 \
	    api.enroll_listen=127.0.0.1:0 api.cert_o=TAK api.cert_ou=Field \
	    "$@"
	adduser alice pw-alice
	adduser bob pw-bob
}

started() {
	start_takd
	EPORT=$(listener_port enroll)
	[ -n "$EPORT" ] || fail "no enroll listener in status"
	API_PID=$(sget api.pid)
	proc_alive "$API_PID" || fail "no api process"
}

# csr NAME SUBJECT [KEYOPTS...]: $T/NAME.key, $T/NAME.csr (PEM) and
# $T/NAME.b64 (the DER in base64 on one line, as ATAK posts it).
csr() {
	local name=$1 subj=$2
	shift 2
	[ $# -gt 0 ] || set -- -newkey ec -pkeyopt ec_paramgen_curve:P-256
	openssl req -new "$@" -nodes -keyout "$T/$name.key" -subj "$subj" \
	    -out "$T/$name.csr" >>"$T/openssl.log" 2>&1 ||
	    { diag_file "$T/openssl.log"; fail "openssl req $subj"; }
	openssl req -in "$T/$name.csr" -outform DER | base64 -w0 \
	    >"$T/$name.b64"
}

# sign OUT USER:PASS PATH BODY [CURL ARGS...]: POST BODY ($T/BODY).
sign() {
	local out=$1 cred=$2 path=$3 body=$4
	shift 4
	ecurl "$out" "$path" -u "$cred" --data-binary @"$T/$body" "$@"
}

# pem_of OUT KEY FILE: the base64 of KEY in the JSON reply OUT as a PEM
# certificate in $T/FILE.
pem_of() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("-----BEGIN CERTIFICATE-----\n" + d[sys.argv[2]].strip() +
      "\n-----END CERTIFICATE-----")' "$T/$1" "$2" >"$T/$3" ||
	    { diag_file "$T/$1"; fail "$1: no $2 in the JSON"; }
}

# expect_client_cert FILE: FILE chains to ca.pem as a TLS client
# certificate of CN=alice, O=TAK, OU=Field.
expect_client_cert() {
	openssl verify -CAfile "$T/pki/ca.pem" -purpose sslclient "$T/$1" \
	    >"$T/verify.out" 2>&1 ||
	    { diag_file "$T/verify.out"; fail "$1 does not verify"; }
	openssl x509 -in "$T/$1" -noout -subject -nameopt RFC2253 \
	    >"$T/subj"
	expect_grep "^subject=OU=Field,O=TAK,CN=$2\$" "$T/subj"
}

# serial_pem PEM: its serial in hex without leading zeros (takd logs BN_bn2hex,
# which pads to whole bytes: match with 0*).
serial_pem() {
	openssl x509 -noout -serial -in "$1" | sed 's/^serial=//' | serial_norm
}

# --- cases --------------------------------------------------------------------

flow() {
	local o ou t1 ms n
	setup
	started
	# 1. tls/config: the names the CSR must carry.
	ecurl c /Marti/api/tls/config -u alice:pw-alice
	expect_eq "$(code c)" 200 "tls/config"
	expect_eq "$(hval c Content-Type)" "application/xml; charset=utf-8" \
	    "tls/config Content-Type"
	o=$("$PY" -c 'import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
n = {e.get("name"): e.get("value") for e in r.iter() if e.tag.endswith("nameEntry")}
print(n.get("O", ""), n.get("OU", ""))' "$T/c") || { diag_file "$T/c";
	    fail "tls/config is not the XML expected"; }
	read -r o ou <<<"$o"
	expect_eq "$o/$ou" "TAK/Field" "nameEntries of tls/config"
	# 2. A CSR with CN = the user and those O/OU.
	csr a "/CN=alice/O=$o/OU=$ou"
	# 3. signClient/v2, JSON (the bare base64 of ATAK).
	sign j alice:pw-alice "$V2?clientUid=ANDROID-0001&version=4.10.0" a.b64 \
	    -H 'Accept: application/json' || { diag_file "$T/j.err"; fail curl; }
	expect_eq "$(code j)" 200 "signClient/v2 JSON"
	expect_eq "$(hval j Content-Type)" "application/json" "JSON Content-Type"
	pem_of j signedCert a.pem
	pem_of j ca0 ca0.pem
	expect_client_cert a.pem alice
	cmp -s <(openssl x509 -in "$T/ca0.pem" -outform DER) \
	    <(openssl x509 -in "$T/pki/ca.pem" -outform DER) ||
	    fail "ca0 is not the CA"
	log_has "enroll: 127\.0\.0\.1:[0-9]+: user \"alice\" clientUid \"ANDROID-0001\": certificate 0*$(serial_pem "$T/a.pem") issued \(JSON\)" ||
	    fail "no log line for the JSON enrollment"
	# XML, by Python's http.client, the CSR in PEM.
	"$PY" "$CLIENT" "$EPORT" "$T/pki/ca.pem" alice pw-alice \
	    "$V2?clientUid=ANDROID-0001" application/xml "$T/a.csr" "$T/x" \
	    >"$T/x.status" 2>&1 || { diag_file "$T/x.status"; fail "XML"; }
	expect_grep '^200 application/xml$' "$T/x.status"
	"$PY" -c 'import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
assert r.tag == "enrollment", r.tag
print("-----BEGIN CERTIFICATE-----\n" + r.find("signedCert").text.strip() +
      "\n-----END CERTIFICATE-----")
assert len(r.findall("ca")) >= 1' "$T/x" >"$T/ax.pem" ||
	    { diag_file "$T/x"; fail "the XML reply"; }
	expect_client_cert ax.pem alice
	# v1: a PKCS#12, password atakatak, the certificates and no key.
	sign p alice:pw-alice "$V1?clientUid=ANDROID-0001" a.b64
	expect_eq "$(code p)" 200 "signClient v1"
	expect_eq "$(hval p Content-Type)" application/x-pkcs12 \
	    "PKCS#12 Content-Type"
	openssl pkcs12 -legacy -in "$T/p" -passin pass:atakatak -nokeys \
	    -out "$T/p.pem" >"$T/p12.out" 2>&1 ||
	    { diag_file "$T/p12.out"; fail "the PKCS#12 does not open"; }
	openssl pkcs12 -legacy -in "$T/p" -passin pass:atakatak -nocerts \
	    -nodes 2>/dev/null | grep -q 'PRIVATE KEY' &&
	    fail "the PKCS#12 holds a key"
	expect_grep 'friendlyName: signedCert' "$T/p.pem"
	expect_grep 'friendlyName: ca0' "$T/p.pem"
	openssl x509 -in "$T/p.pem" -out "$T/ap.pem" 2>/dev/null
	expect_client_cert ap.pem alice
	# 4. A CoT session on 8089 with the new certificate.
	cot_bg s1 --cert "$T/a.pem" --key "$T/a.key" --ca "$T/pki/ca.pem" \
	    --servername localhost --hold 30
	wait_sum 10 sessions 1
	# 5. takctl revoke closes it within a second of returning.
	expect_ctl 0 revoke alice
	t1=$(now_ms)
	cot_poll 2 test -s "$T/s1.rc" || fail "alice's session still open" \
	    "2 s after takctl revoke returned"
	ms=$(( $(now_ms) - t1 ))
	diag "alice's enrolled session ended ${ms} ms after takctl revoke returned"
	[ "$ms" -le 1000 ] || fail "closed ${ms} ms after takctl revoke"
	expect_eq "$(cat "$T/s1.rc")" 3 "the session was closed by the server"
	expect_client 1 --cert "$T/a.pem" --key "$T/a.key"
	# 6. The revoked user's password still enrolls: the user exists.
	sign j2 alice:pw-alice "$V2?clientUid=ANDROID-0002" a.b64
	expect_eq "$(code j2)" 200 "a revoked user enrolls again"
	# A deleted user does not.
	expect_ctl 0 user del alice
	expect_ctl 0 reload
	sign j3 alice:pw-alice "$V2" a.b64
	expect_eq "$(code j3)" 401 "a deleted user"
	# A user added after the start enrolls after the reload: the api
	# got the new generation with its hashes.
	adduser carol pw-carol
	csr c "/CN=carol/O=TAK/OU=Field"
	sign j4 carol:pw-carol "$V2" c.b64
	expect_eq "$(code j4)" 401 "carol before the reload"
	expect_ctl 0 reload
	sign j5 carol:pw-carol "$V2" c.b64
	expect_eq "$(code j5)" 200 "carol after the reload"
	takd_status
	expect_eq "$(sget api.api.enroll_signed)" 5 "enroll_signed"
	n=$(sget api.api.logins_ok)
	expect_eq "$n" 6 "logins_ok"
	expect_eq "$(sget api.api.logins_unknown_user)" 2 "logins_unknown_user"
	expect_eq "$(sget signer.state)" running "signer state"
	kill "$(cat "$T/s1.cpid")" 2>/dev/null
	return 0
}

refusals() {
	local i t0 ms
	setup api.max_body=20k
	started
	csr a "/CN=alice/O=TAK/OU=Field"
	# Wrong password, unknown user: the same 401.
	sign w alice:nope "$V2" a.b64
	expect_eq "$(code w)" 401 "wrong password"
	expect_grep '^Basic realm=' <(hval w WWW-Authenticate)
	sign u mallory:nope "$V2" a.b64
	expect_eq "$(code u)" 401 "unknown user"
	cmp -s "$T/w" "$T/u" || fail "the 401s differ"
	log_has 'enroll: 127\.0\.0\.1:[0-9]+: /Marti/api/tls/signClient/v2: login refused for user "alice": bad_password|wrong' ||
	    fail "no log line for the wrong password"
	log_has 'login refused for user "mallory"' ||
	    fail "no log line for the unknown user"
	# alice's 3rd and 4th failures are answered at once (3 are free, the
	# 4th is the first past them); the 5th login waits 1 s.
	sign w2 alice:nope "$V2" a.b64
	t0=$(now_ms)
	sign w3 alice:nope "$V2" a.b64
	sign w4 alice:nope "$V2" a.b64
	ms=$(( $(now_ms) - t0 ))
	diag "3rd and 4th failures of alice answered in $ms ms"
	[ "$ms" -lt 900 ] || fail "the 3rd and 4th failures took $ms ms"
	t0=$(now_ms)
	sign w5 alice:nope "$V2" a.b64
	ms=$(( $(now_ms) - t0 ))
	diag "5th login of alice (after 4 failures) answered in $ms ms"
	expect_eq "$(code w5)" 401 "5th failure"
	[ "$ms" -ge 950 ] || fail "the 5th login was answered in $ms ms," \
	    "not held 1 s"
	log_has 'login of "alice" held 1 s for earlier failures' ||
	    fail "no log line for the delay"
	# The CSR's refusals, as bob (no failures: no delay).
	csr b "/CN=alice/O=TAK/OU=Field"
	sign r1 bob:pw-bob "$V2" b.b64
	expect_eq "$(code r1)" 400 "CN of another user"
	expect_grep 'CN' "$T/r1"
	csr x "/CN=bob/O=TAK/OU=Field/L=Paris"
	sign r2 bob:pw-bob "$V2" x.b64
	expect_eq "$(code r2)" 400 "extra RDN"
	csr k "/CN=bob/O=TAK/OU=Field" -newkey rsa:1024
	sign r3 bob:pw-bob "$V2" k.b64
	expect_eq "$(code r3)" 400 "RSA 1024"
	expect_grep 'RSA key of 1024 bits' "$T/r3"
	printf 'not a CSR at all!\n' >"$T/garbage"
	sign r4 bob:pw-bob "$V2" garbage
	expect_eq "$(code r4)" 400 "garbage body"
	head -c 30000 /dev/zero | tr '\0' A >"$T/big"
	sign r5 bob:pw-bob "$V2" big
	expect_eq "$(code r5)" 413 "body over max_body"
	csr g "/CN=bob/O=TAK/OU=Field"
	sign r6 bob:pw-bob "$V2" g.b64 -H 'Accept: text/html'
	expect_eq "$(code r6)" 400 "Accept of neither"
	expect_grep 'Accept' "$T/r6"
	sign ok bob:pw-bob "$V2" g.b64
	expect_eq "$(code ok)" 200 "bob after the refusals"
	takd_status
	expect_eq "$(sget api.api.logins_bad_password)" 5 "bad_password"
	expect_eq "$(sget api.api.logins_unknown_user)" 1 "unknown_user"
	expect_eq "$(sget api.api.logins_delayed)" 1 "logins_delayed"
	expect_eq "$(sget api.api.unauthorized)" 6 "unauthorized"
	expect_eq "$(sget api.api.enroll_bad_csr)" 3 "enroll_bad_csr"
	expect_eq "$(sget api.api.enroll_bad_request)" 2 "enroll_bad_request"
	expect_eq "$(sget api.api.body_too_large)" 1 "body_too_large"
	expect_eq "$(sget api.api.enroll_signed)" 1 "enroll_signed"
	log_has 'enroll: 127\.0\.0\.1:[0-9]+: /Marti/api/tls/signClient/v2 \(user "bob"\): 400: .*CN' ||
	    fail "no log line for the CN of another user"
	log_has '\(user "bob"\): 400: body: ' ||
	    fail "no log line for the garbage body"
}

no_ca_key() {
	local scal hash w pid
	setup
	started
	# Its descriptors and mappings.
	ls -l "/proc/$API_PID/fd" >"$T/fds" 2>&1
	grep -q 'ca\.key' "$T/fds" && { diag_file "$T/fds"; fail "the api" \
	    "process holds ca.key"; }
	grep -q 'ca\.key' "/proc/$API_PID/maps" && fail "ca.key mapped"
	# Its memory: the CA's private scalar, as bytes or BIGNUM limbs.
	scal=$(openssl pkey -in "$T/pki/ca.key" -noout -text 2>/dev/null |
	    awk '/^priv:/ { p = 1; next } /^pub:/ { p = 0 } p' |
	    tr -d ' :\n' | sed 's/^00//')
	[ ${#scal} -eq 64 ] || fail "cannot read the CA's private scalar"
	hash=$(grep '^alice:' "$T/state/users" | cut -d: -f2)
	[ -n "$hash" ] || fail "no hash of alice in the users file"
	hash=$(printf '%s' "$hash" | od -An -tx1 | tr -d ' \n')
	"$PY" "$MEMSCAN" "$API_PID" "$scal" "$hash" >"$T/api.scan" 2>&1 ||
	    { diag_file "$T/api.scan"; fail "cannot scan the api process"; }
	expect_grep "^$scal absent\$" "$T/api.scan"
	# Positive control: the signer has the key, so the scan finds one.
	pid=$(sget signer.pid)
	"$PY" "$MEMSCAN" "$pid" "$scal" >"$T/signer.scan" 2>&1 ||
	    { diag_file "$T/signer.scan"; fail "cannot scan the signer"; }
	expect_grep "^$scal found\$" "$T/signer.scan"
	# The hashes: in the api process, in no worker.
	expect_grep "^$hash found\$" "$T/api.scan"
	for w in $(worker_pids); do
		"$PY" "$MEMSCAN" "$w" "$hash" >"$T/w.scan" 2>&1 ||
		    { diag_file "$T/w.scan"; fail "cannot scan worker $w"; }
		expect_grep "^$hash absent\$" "$T/w.scan"
	done
	log_has 'api\[[0-9]+\] info: started on epoll: .* \(2 users, 2 with a password hash\)' ||
	    fail "the api process did not say it holds 2 hashes"
}

signer() {
	local old
	setup
	started
	csr a "/CN=alice/O=TAK/OU=Field"
	expect_eq "$(sget signer.state)" running "signer state"
	old=$(sget signer.pid)
	proc_alive "$old" || fail "no signer process"
	script -qec "$TAKCTL -c $CFG status" /dev/null >"$T/summary" 2>&1
	expect_grep "^signer running, pid $old, 0 restarts" "$T/summary"
	kill -KILL "$old"
	_back() {
		takd_status && [ "$(sget signer.restarts)" = 1 ] &&
		    [ "$(sget signer.state)" = running ]
	}
	wait_for 5 _back || fail "the signer was not started again"
	_signs() {
		sign s alice:pw-alice "$V2" a.b64 && [ "$(code s)" = 200 ]
	}
	wait_for 5 _signs || { diag_file "$T/s"; fail "no enrollment after" \
	    "the signer's respawn"; }
	log_has 'api\[[0-9]+\] .*enroll: channel to the signer up' ||
	    fail "the api did not take the new channel"
	# The api process respawned gets a signer of its own.
	old=$(sget signer.pid)
	kill -KILL "$API_PID"
	_api_back() {
		takd_status && [ "$(sget api.restarts)" = 1 ] &&
		    [ "$(sget api.state)" = running ] &&
		    [ "$(sget signer.pid)" != "$old" ] &&
		    [ "$(sget signer.state)" = running ]
	}
	wait_for 10 _api_back || fail "api or signer not back"
	wait_for 5 _signs || { diag_file "$T/s"; fail "no enrollment after" \
	    "the api's respawn"; }
	proc_gone "$old" || fail "the old signer still runs"
}

# [api] enroll_rate and enroll_burst reach the signer: one at once, one a
# minute; the second signing is deferred (503, Retry-After), counted.
rate() {
	setup api.enroll_rate=1 api.enroll_burst=1
	started
	csr a "/CN=alice/O=TAK/OU=Field"
	sign s1 alice:pw-alice "$V2" a.b64
	expect_eq "$(code s1)" 200 "first signing"
	sign s2 alice:pw-alice "$V2" a.b64
	expect_eq "$(code s2)" 503 "second signing within the minute"
	expect_eq "$(hval s2 Retry-After)" 60 "Retry-After"
	takd_status
	expect_eq "$(sget api.api.enroll_busy)" 1 "enroll_busy"
	log_has 'signer\[[0-9]+\] info: ready: .* at most 1 a minute \(1 at once\)' ||
	    fail "the signer did not get the configured rate"
}

# Password checks (about 20 ms each) run on a thread of the api process:
# while many logins are checked, its loop answers everybody else at once.
# With the checks on the loop, a request behind 8 of them waited for all
# (160 ms). Eight names nobody has, so that no throttle delay comes in
# (each costs the dummy hash, as a real user's wrong password).
loop_free() {
	local i t n
	local -a pids=()
	setup
	started
	for i in $(seq 8); do
		ecurl l$i /Marti/api/tls/config -u "nobody$i:wrong" &
		pids+=($!)
	done
	# Let the logins arrive before the probe.
	sleep 0.05
	t=$(curl -sS --max-time 10 --cacert "$T/pki/ca.pem" \
	    --resolve "localhost:$EPORT:127.0.0.1" -o /dev/null \
	    -w '%{http_code} %{time_total}' \
	    "https://localhost:$EPORT/Marti/api/tls/profile/enrollment")
	wait "${pids[@]}"
	diag "profile request behind 8 password checks: $t s"
	expect_eq "${t%% *}" 204 "the profile request"
	awk -v t="${t#* }" 'BEGIN { exit !(t < 0.06) }' ||
	    fail "the profile request took ${t#* } s behind the checks"
	n=0
	for i in $(seq 8); do
		[ "$(code l$i)" = 401 ] && n=$((n + 1))
	done
	expect_eq "$n" 8 "logins refused with 401"
	takd_status
	expect_eq "$(sget api.api.logins_unknown_user)" 8 "unknown users counted"
}

run_case flow
run_case rate
run_case refusals
run_case no_ca_key
run_case signer
run_case loop_free
finish
