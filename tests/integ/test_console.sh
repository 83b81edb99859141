#!/usr/bin/env bash
# The admin web console on the api process (docs/console.md): its access
# (docs/security.md, "The admin console") with Python's ssl, and the page
# in a headless Chromium (Debian's chromium, chromium-driver and
# python3-selenium).
#
#   routes     every route of the console's tables (read from the
#              sources) refuses without a session, and with a forged
#              cookie; the Marti API refuses a connection without a
#              certificate
#   session    the login (a wrong password refused), the cookie's flags,
#              the CSRF token (a POST without it, with a wrong one, from
#              another origin: 403), the logout; no session id in a page
#   expiry     a session unused for [console] session_idle ends
#   nonadmin   a user's right password: 403, no cookie
#   cert       an admin's client certificate opens the page, its session
#              is bound to that certificate; a user's certificate is
#              refused
#   revoke     a revocation through the route: the new CRL keeps what
#              takctl revoked before, its number grows, both refused at
#              the handshake; a forged POST, twice, the server's
#              certificate: refused
#   live       the feed: clients that connect after an event stream
#              opened reach it with their positions (the registry read
#              only when LMDB's last transaction moved)
#   enroll     the clients table shows a client's certificate serial and
#              expiry (openssl's); a user's enrollment package and QR
#              codes from the users
#              view (headless Chromium: a wrong password said in words,
#              the codes render and decode with zbarimg to takctl's
#              strings, the zip downloads with takctl's layout; the
#              password never logged) and over HTTP (no-store; no token,
#              a user's certificate, wrong passwords refused, slowed)
#   browser    log in, three clients on the map and in the table (one
#              with the callsign <img src=x onerror=alert(1)>, shown as
#              text), disconnect one and revoke another (each leaves the
#              map and the table, its session closes, the third stays;
#              takctl and crl.pem show the revocation), non-admin
#              refused, health, logout; screenshots in $T
#   users_refused  user changes refused (forged, no session, a wrong
#              admin password, an admin made or touched, bad names and
#              groups, a user who exists), the users file unchanged;
#              takd-usersd without capabilities; killed, not respawned:
#              503 in words, status and takctl status say so
#   usersd_direct  takd-usersd alone on its channel: wrong admin
#              passwords and a non-admin refused, the file unchanged; uid
#              0 without capabilities; a bad frame: exit 1
#   users_concurrent  six adds from the console and six takctl user add
#              at the same time: none lost
#   users_browser  an admin adds a user in the browser, who enrolls on
#              8446 at once; a password reset refuses the old one; the
#              delete closes the user's streaming session; the file
#              stays root's, group takd's, 0640
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
HTTP=$REPO/tests/integ/console/console_http.py
BROWSER=$REPO/tests/integ/console/console_browser.py
ENROLL=$REPO/tests/integ/console/console_enroll.py
XSS='<img src=x onerror=alert(1)>'

adduser() {
	local name=$1 pw=$2
	shift 2
	printf '%s\n' "$pw" | "$TAKCTL" -c "$CFG" user add "$name" "$@" \
	    >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl user add $name"; }
}

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" api.enabled=yes api.listen=127.0.0.1:0 \
	    api.enroll_listen=127.0.0.1:0 \
	    console.enabled=yes console.www_dir="$REPO/console" \
	    console.leaflet_dir=/usr/share/javascript/leaflet \
	    console.tiles= "$@"
	adduser alice pw-alice --role admin
	adduser bob pw-bob
	start_takd
	APORT=$(listener_port https)
	[ -n "$APORT" ] || fail "no 8443 listener in status"
}

http() {
	"$PY" "$HTTP" "$1" "$APORT" "$T/pki/ca.pem" "${@:2}" >"$T/http.out" \
	    2>&1 || { diag_file "$T/http.out" 30; fail "console_http.py $1"; }
	diag "$(tail -n 1 "$T/http.out")"
}

# sa FILE UID CALLSIGN LAT LON COURSE TEAM: an ATAK position report.
sa() {
	local now stale cs
	now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
	stale=$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%S.000Z)
	cs=$(printf '%s' "$3" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
	cat >"$1" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<event version="2.0" uid="$2" type="a-f-G-U-C" how="m-g" time="$now" start="$now" stale="$stale"><point lat="$4" lon="$5" hae="10" ce="5" le="5"/><detail><contact callsign="$cs" endpoint="*:-1:stcp"/><__group name="$7" role="Team Member"/><track course="$6" speed="1"/></detail></event>
XML
}

# Two clients (bob's and carol's certificates) streaming until killed;
# with "three", a third of alice's.
clients() {
	sa "$T/sa1.xml" ANDROID-one "Alpha 1" 48.8566 2.3522 90 Cyan
	sa "$T/sa2.xml" ANDROID-two "$XSS" 48.8600 2.3400 180 Red
	sa "$T/sa3.xml" ANDROID-three "Bravo 2" 48.8500 2.3600 270 Green
	"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" $(client_args bob) \
	    --send "$T/sa1.xml" --hold 60 >"$T/c1.out" 2>&1 &
	C1=$!
	"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" $(client_args carol) \
	    --send "$T/sa2.xml" --hold 60 >"$T/c2.out" 2>&1 &
	C2=$!
	C3=
	NCLIENTS=2
	if [ "${1:-}" = three ]; then
		"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" \
		    $(client_args alice) --send "$T/sa3.xml" --hold 60 \
		    >"$T/c3.out" 2>&1 &
		C3=$!
		NCLIENTS=3
	fi
	_two() {
		takd_status && [ "$(wsum sessions)" -ge "$NCLIENTS" ]
	}
	wait_for 10 _two || fail "the $NCLIENTS clients did not connect"
}

# gone PID NAME: the client's streaming session was closed by the server
# (takclient exits before its --hold of 60 s).
gone() {
	_exited() { ! kill -0 "$1" 2>/dev/null; }
	wait_for 5 _exited "$1" || fail "$2's session was not closed"
}

routes() {
	setup
	http routes "$REPO"
}

session() {
	setup
	http session alice pw-alice
	# The forged revocation left nothing behind.
	[ ! -s "$T/pki/revoked.txt" ] || fail "a forged POST revoked"
}

serial_of() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2
}

# A revocation from the console keeps what takctl revoked before it.
revoke() {
	local n_file
	setup
	"$TAKCTL" -c "$CFG" revoke bob >>"$T/takctl.log" 2>&1 ||
	    fail "takctl revoke bob"
	"$TAKCTL" -c "$CFG" reload >>"$T/takctl.log" 2>&1 ||
	    fail "takctl reload"
	n_file=$(openssl crl -in "$T/pki/crl.pem" -noout -crlnumber |
	    cut -d= -f2)
	http revoke alice pw-alice "$(serial_of "$T/pki/clients/carol.pem")" \
	    "$(serial_of "$T/pki/server.pem")"
	local crl=$T/state/store/crl-fetched.crl
	openssl crl -inform DER -in "$crl" -noout -text >"$T/crl.txt" ||
	    fail "no CRL copy"
	for who in bob carol; do
		grep -qi "$(serial_of "$T/pki/clients/$who.pem")" "$T/crl.txt" ||
		    { diag_file "$T/crl.txt"; fail "the new CRL lacks $who"; }
	done
	grep -q "CRL Number:" "$T/crl.txt" || fail "no CRL number"
	[ "$(openssl crl -inform DER -in "$crl" -noout -crlnumber |
	    cut -d= -f2)" != "$n_file" ] || fail "the CRL number did not grow"
	# In force: neither connects.
	for who in bob carol; do
		"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" \
		    $(client_args "$who") --hold 1 >"$T/again.out" 2>&1 &&
		    fail "$who connects"
	done
	log_has 'revokes serial .* \(reason 1\)' ||
	    fail "the supervisor did not log the admin's revocation"
}

expiry() {
	setup console.session_idle=2s
	http expiry alice pw-alice 2
}

nonadmin() {
	setup
	http nonadmin bob pw-bob
	log_has 'login of "bob" refused: not an admin' ||
	    fail "no log line for the refused non-admin"
}

cert() {
	setup
	"$TAKCTL" -c "$CFG" user add carol --role admin --no-password \
	    >>"$T/takctl.log" 2>&1 || fail "takctl user add carol"
	"$TAKCTL" -c "$CFG" reload >>"$T/takctl.log" 2>&1 ||
	    fail "takctl reload"
	local d=$T/pki/clients
	http cert "$d/carol.pem" "$d/carol.key" "$d/bob.pem" "$d/bob.key"
}

live() {
	setup
	"$PY" - "$APORT" "$T/pki/ca.pem" "$T/open" >"$T/live.out" 2>&1 \
	    <<'PYEOF' &
import base64, http.client, json, ssl, sys, time
port, ca, mark = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = ssl.create_default_context(cafile=ca)
h = http.client.HTTPSConnection("localhost", port, context=c, timeout=20)
h.request("POST", "/console/login", headers={"Authorization": "Basic " +
          base64.b64encode(b"alice:pw-alice").decode()})
r = h.getresponse(); r.read()
cookie = r.getheader("Set-Cookie").split(";")[0]
h.request("GET", "/console/api/events", headers={"Cookie": cookie})
r = h.getresponse()
assert r.status == 200, r.status
assert r.getheader("Content-Type") == "text/event-stream", r.getheaders()
line = ""
while not line.startswith("data: "):
    line = r.readline().decode()
first = json.loads(line[6:])
assert first["clients"] == [], first
open(mark, "w").close()
t0 = time.monotonic()
seen = set()
while time.monotonic() - t0 < 15:
    line = r.readline().decode()
    if line.startswith("event: "):
        continue
    if line.startswith("data: "):
        for cl in json.loads(line[6:])["clients"]:
            if "pos" in cl:
                seen.add(cl["callsign"])
        if len(seen) >= 2:
            print("stream: %s in %.0f ms" % (sorted(seen),
                  (time.monotonic() - t0) * 1000))
            sys.exit(0)
print("stream saw only", seen)
sys.exit(1)
PYEOF
	local py=$!
	wait_for 10 test -e "$T/open" ||
	    { diag_file "$T/live.out"; fail "no event stream"; }
	clients
	wait "$py" ||
	    { diag_file "$T/live.out"; fail "no positions on the stream"; }
	diag "$(cat "$T/live.out")"
	kill "$C1" "$C2" 2>/dev/null
	wait "$C1" "$C2" 2>/dev/null
}

# zip_check ZIP: the enrollment layout, the pref and the trust store of
# takctl's package for eve (written by takctl pki enroll-package).
zip_check() {
	local d=$T/unz.$$.$RANDOM
	unzip -Z1 "$1" >"$T/names" 2>&1 || { diag_file "$T/names"; fail "unzip $1"; }
	printf '%s\n' MANIFEST/manifest.xml takd-tak.example.org-enroll.pref \
	    truststore-tak.example.org-enroll.p12 >"$T/want"
	cmp -s "$T/names" "$T/want" ||
	    { diag_file "$T/names"; fail "$1: not the enrollment layout"; }
	mkdir "$d" && (cd "$d" && unzip -q "$1") || fail "unzip $1"
	cmp -s "$d/takd-tak.example.org-enroll.pref" \
	    "$T/takctl/takd-tak.example.org-enroll.pref" ||
	    fail "$1: the pref differs from takctl's"
	openssl pkcs12 -in "$d/truststore-tak.example.org-enroll.p12" -nokeys \
	    -passin pass:atakatak 2>/dev/null |
	    openssl x509 -noout -fingerprint >"$T/a" || fail "$1: trust store"
	openssl x509 -in "$T/pki/ca.pem" -noout -fingerprint >"$T/b"
	cmp -s "$T/a" "$T/b" || fail "$1: the trust store is not the CA"
}

enroll() {
	local pw='Blue pass&1' want itak t0 end
	want='tak://com.atakmap.app/enroll?host=tak.example.org&username=eve&token=Blue%20pass%261'
	itak='takd tak.example.org,tak.example.org,8089,ssl'
	setup pki.server_host=tak.example.org
	adduser eve "$pw"
	"$TAKCTL" -c "$CFG" reload >>"$T/takctl.log" 2>&1 || fail "takctl reload"
	# takctl's package and strings: what the console must give.
	printf '%s\n' "$pw" | "$TAKCTL" -c "$CFG" pki enroll-package eve \
	    >"$T/ctl.out" 2>&1 || { diag_file "$T/ctl.out"; fail "takctl enroll"; }
	expect_grep "^ATAK QR: $(printf '%s' "$want" | sed 's/[.?&]/\\&/g')\$" \
	    "$T/ctl.out"
	mkdir "$T/takctl" &&
	    (cd "$T/takctl" && unzip -q "$T/pki/clients/eve-enroll.zip") ||
	    fail "unzip takctl's package"
	clients
	end=$(openssl x509 -in "$T/pki/clients/bob.pem" -noout -enddate |
	    cut -d= -f2)
	# takctl clients --json: bob's certificate's notAfter.
	"$TAKCTL" -c "$CFG" clients --json >"$T/clients.json" 2>&1 ||
	    fail "takctl clients --json"
	/usr/bin/python3 -c 'import json, sys
c = [x for x in json.load(open(sys.argv[1])) if x["user"] == "bob"]
sys.exit(0 if c and c[0].get("expires") == sys.argv[2] else 1)' \
	    "$T/clients.json" "$(date -u -d "$end" '+%Y-%m-%dT%H:%M:%SZ')" ||
	    { diag_file "$T/clients.json"; fail "takctl clients: no expires"; }
	t0=$(now_ms)
	# The clients table: bob's certificate, as openssl reads it.
	"$PY" "$ENROLL" "https://localhost:$APORT" alice pw-alice eve "$pw" \
	    "$T" "Alpha 1" "$(serial_of "$T/pki/clients/bob.pem")" \
	    "$(date -u -d "$end" '+%Y-%m-%d %H:%M:%SZ')" \
	    >"$T/enroll.out" 2>&1 ||
	    { diag_file "$T/enroll.out" 30; fail "the enrollment dialog"; }
	while read -r l; do diag "$l"; done <"$T/enroll.out"
	diag "($(( $(now_ms) - t0 )) ms in all)"
	command -v zbarimg >/dev/null || fail "zbarimg (zbar-tools) missing"
	expect_eq "$(zbarimg --raw -q "$T/qr-atak.png" 2>/dev/null)" "$want" \
	    "the ATAK code the browser shows"
	expect_eq "$(zbarimg --raw -q "$T/qr-itak.png" 2>/dev/null)" "$itak" \
	    "the iTAK code the browser shows"
	zip_check "$T/download/eve-enroll.zip"
	http enroll alice pw-alice eve "$pw" "$want" "$T/http" \
	    "$T/pki/clients/bob.pem" "$T/pki/clients/bob.key"
	zip_check "$T/http.zip"
	! takd_logs | grep -q -e 'Blue pass' -e 'Blue%20pass' ||
	    fail "the password is in takd's log"
	log_has 'enrollment package and QR code of "eve" for admin "alice"' ||
	    fail "no log line for the enrollment"
	log_has 'gave a wrong password for the enrollment of "eve"' ||
	    fail "no log line for the wrong password"
	kill "$C1" "$C2" 2>/dev/null
	wait "$C1" "$C2" 2>/dev/null
}

browser() {
	local t0
	setup
	clients three
	t0=$(now_ms)
	"$PY" "$BROWSER" "https://localhost:$APORT" alice pw-alice bob pw-bob \
	    "Alpha 1" "$XSS" "Bravo 2" -- "$T" "Alpha 1" "$XSS" \
	    >"$T/browser.out" 2>&1 ||
	    { diag_file "$T/browser.out" 30; fail "the browser test"; }
	grep -v '^browser:' "$T/browser.out" | while read -r l; do
		diag "$l"; done
	diag "$(tail -n 1 "$T/browser.out") in $(( $(now_ms) - t0 )) ms;" \
	    "screenshots in $T"
	[ -s "$T/map.png" ] && [ -s "$T/clients.png" ] ||
	    fail "no screenshots"
	# Disconnected: bob's session closed, logged with the admin.
	gone "$C1" bob
	log_has 'disconnected by admin "alice" from the console' ||
	    fail "no log line naming the admin"
	# Revoked: carol's session closed, alice's stays; the CRL in force,
	# takctl and a new handshake say so.
	gone "$C2" carol
	kill -0 "$C3" 2>/dev/null || fail "alice's client went too"
	revoked_everywhere carol
	kill "$C1" "$C2" "$C3" 2>/dev/null
	wait "$C1" "$C2" "$C3" 2>/dev/null
}

# revoked_everywhere NAME: NAME's certificate, revoked from the console,
# is revoked for takd (a new handshake refused), for takctl (pki list),
# and in crl.pem once takctl writes it (crl renew), whose CRL number goes
# past the signer's.
revoked_everywhere() {
	local serial n_signer n_file
	serial=$(openssl x509 -in "$T/pki/clients/$1.pem" -noout -serial |
	    cut -d= -f2)
	log_has "revoked for admin \"alice\"" ||
	    fail "the signer did not log the revocation"
	"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" $(client_args "$1") \
	    --hold 1 >"$T/again.out" 2>&1 &&
	    { diag_file "$T/again.out"; fail "$1 connects again"; }
	"$TAKCTL" -c "$CFG" pki list >"$T/list.out" 2>&1 ||
	    fail "takctl pki list"
	grep -E "client +$1 .* revoked .*keyCompromise" "$T/list.out" \
	    >/dev/null ||
	    { diag_file "$T/list.out"; fail "pki list: $1 not revoked"; }
	n_signer=$(openssl crl -inform DER -in "$T/state/store/crl-fetched.crl" \
	    -noout -crlnumber | cut -d= -f2)
	"$TAKCTL" -c "$CFG" crl renew >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl crl renew"; }
	openssl crl -in "$T/pki/crl.pem" -noout -text | grep -qi "$serial" ||
	    fail "crl.pem does not list $serial after takctl crl renew"
	n_file=$(openssl crl -in "$T/pki/crl.pem" -noout -crlnumber |
	    cut -d= -f2)
	[ $((16#${n_file#0x})) -gt $((16#${n_signer#0x})) ] ||
	    fail "crl.pem number $n_file not past the signer's $n_signer"
	diag "$1 ($serial) revoked: refused at the handshake, in pki list," \
	    "crl.pem $n_file after the signer's $n_signer"
}

# User changes refused, each leaving the users file as it was; the
# helper runs as root without capabilities and the file stays root's,
# group takd's, 0640.
users_refused() {
	setup api.enroll_listen=127.0.0.1:0
	http users alice pw-alice bob pw-bob "$T/state/users"
	log_has 'usersd.*admin "alice": add user "mallory" refused: the admin password is wrong' ||
	    fail "takd-usersd did not log the refusal with the admin's name"
	local pid
	pid=$(sget usersd.pid)
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "no takd-usersd in status"
	grep -q '^CapEff:[[:space:]]*0*$' "/proc/$pid/status" ||
	    fail "takd-usersd has capabilities: $(grep Cap /proc/$pid/status)"
	grep -q '^CapBnd:[[:space:]]*0*$' "/proc/$pid/status" ||
	    fail "takd-usersd's bounding set: $(grep Cap /proc/$pid/status)"
	# Gone, it is not respawned (no root left): 503 in words, status
	# and the log say so.
	kill -KILL "$pid"
	_usersd_gone() {
		takd_status && [ "$(sget usersd.state)" = unavailable ]
	}
	wait_for 5 _usersd_gone || fail "status still shows takd-usersd"
	http users503 alice pw-alice
	# takctl status's words (at a terminal: script(1) gives it one).
	script -qec "$TAKCTL -c $CFG status" /dev/null >"$T/st.txt" 2>&1 ||
	    fail "takctl status"
	grep -q '^usersd killed by signal 9: user changes from the console are unavailable until takd restarts' \
	    "$T/st.txt" || { diag_file "$T/st.txt"; fail "takctl status"; }
	log_has "usersd \\(pid $pid\\) killed by signal 9; it cannot be restarted" ||
	    fail "no log line for takd-usersd's death"
}

# takd-usersd alone, its channel spoken to directly: the admin's password
# is its own check, not the supervisor's nor the api's.
usersd_direct() {
	local gid=-
	mkdir -m 755 "$T/state"
	write_config "$T/takd.ini"
	adduser alice pw-alice --role admin
	adduser bob pw-bob
	[ "$(id -u)" -eq 0 ] && gid=$(id -g "$TAKD_USER")
	"$PY" "$REPO/tests/integ/console/usersd_direct.py" \
	    "$(dirname "$TAKD")/takd-usersd" "$T/state/users" "$gid" \
	    >"$T/direct.out" 2>&1 ||
	    { diag_file "$T/direct.out" 30; fail "usersd_direct.py"; }
	diag "$(tail -n 1 "$T/direct.out")"
	grep -q 'admin "bob": add user "eve" refused' "$T/direct.out" ||
	    fail "no log line of the refusal"
}

# The console and takctl add users at the same time: takd-usersd takes
# takctl's lock, so no change is lost.
users_concurrent() {
	local py i n
	setup api.enroll_listen=127.0.0.1:0
	"$PY" "$HTTP" users_many "$APORT" "$T/pki/ca.pem" alice pw-alice 6 \
	    web >"$T/many.out" 2>&1 &
	py=$!
	for i in 1 2 3 4 5 6; do
		printf 'pw-%s\n' "$i" | "$TAKCTL" -c "$CFG" user add "ctl$i" \
		    --groups Red >>"$T/takctl.log" 2>&1 ||
		    { diag_file "$T/takctl.log"; fail "takctl user add ctl$i"; }
	done
	wait "$py" || { diag_file "$T/many.out"; fail "the console's adds"; }
	diag "$(cat "$T/many.out"), 6 takctl adds beside"
	for i in 1 2 3 4 5 6; do
		grep -q "^web$i:" "$T/state/users" && grep -q "^ctl$i:" \
		    "$T/state/users" || { diag_file "$T/state/users";
		    fail "web$i or ctl$i lost"; }
	done
	n=$(grep -c '^[^#]' "$T/state/users")
	expect_eq "$n" 14 "users in the file"
}

# sign_v2 OUT USER:PASS: signClient/v2 with a CSR of CN=USER; its status
# (ecurl: tests/integ/lib.sh).
sign_v2() {
	local name=${2%%:*}
	[ -s "$T/$name.b64" ] || {
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$T/$name.key" -out "$T/$name.csr" \
		    -subj "/CN=$name/O=TAK/OU=Field" >>"$T/openssl.log" 2>&1 ||
		    fail "openssl req"
		openssl req -in "$T/$name.csr" -outform DER | base64 -w0 \
		    >"$T/$name.b64"
	}
	ecurl "$1" "/Marti/api/tls/signClient/v2" -u "$2" \
	    -H 'Accept: application/json' --data-binary @"$T/$name.b64"
	http_status "$T/$1.head"
}

# An admin adds a user in the browser, who enrolls on 8446 at once (the
# reload ran); a password reset refuses the old one; the delete closes
# the user's streaming session.  The users file stays root's, group
# takd's, 0640.
users_browser() {
	local t0 py mode
	setup api.enroll_listen=127.0.0.1:0 api.cert_o=TAK api.cert_ou=Field
	EPORT=$(listener_port enroll)
	[ -n "$EPORT" ] || fail "no enroll listener in status"
	t0=$(now_ms)
	"$PY" "$REPO/tests/integ/console/users_browser.py" \
	    "https://localhost:$APORT" alice pw-alice dave pw-dave-1 \
	    pw-dave-2 "$T" >"$T/browser.out" 2>&1 &
	py=$!
	wait_for 40 test -e "$T/added" ||
	    { diag_file "$T/browser.out" 30; fail "the browser did not add"; }
	grep -q '^dave:\$y\$.*:user:Blue::$' "$T/state/users" ||
	    { diag_file "$T/state/users"; fail "dave not in the users file"; }
	if [ "$(id -u)" -eq 0 ]; then
		mode=$(stat -c '%U:%G %a' "$T/state/users")
		expect_eq "$mode" "root:$(id -gn "$TAKD_USER") 640" \
		    "the users file's owner, group and mode"
	fi
	expect_eq "$(sign_v2 e1 dave:pw-dave-1)" 200 "dave enrolls"
	"$PY" -c 'import json, sys
print("-----BEGIN CERTIFICATE-----\n" + json.load(open(sys.argv[1]))[
    "signedCert"].strip() + "\n-----END CERTIFICATE-----")' "$T/e1" \
	    >"$T/dave.pem" || { diag_file "$T/e1"; fail "no signedCert"; }
	touch "$T/go-passwd"
	wait_for 20 test -e "$T/passwd" ||
	    { diag_file "$T/browser.out" 30; fail "no password reset"; }
	expect_eq "$(sign_v2 e2 dave:pw-dave-1)" 401 "dave's old password"
	expect_eq "$(sign_v2 e3 dave:pw-dave-2)" 200 "dave's new password"
	# dave streams with the enrolled certificate until deleted.
	"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" --cert "$T/dave.pem" \
	    --key "$T/dave.key" --hold 60 >"$T/dave.out" 2>&1 &
	local cd=$!
	_dave() { takd_status && [ "$(wsum sessions)" -ge 1 ]; }
	wait_for 10 _dave || fail "dave's client did not connect"
	touch "$T/go-delete"
	wait "$py" || { diag_file "$T/browser.out" 30; fail "the browser test"; }
	grep -v '^browser:' "$T/browser.out" | while read -r l; do
		diag "$l"; done
	diag "$(tail -n 1 "$T/browser.out"), $(( $(now_ms) - t0 )) ms in all"
	gone "$cd" dave
	! grep -q '^dave:' "$T/state/users" || fail "dave still in the file"
	log_has 'usersd.*admin "alice": delete user "dave": user "dave" deleted' ||
	    fail "takd-usersd did not log the delete with the admin's name"
	[ -s "$T/users.png" ] || fail "no screenshot"
}

run_case routes
run_case session
run_case users_refused
run_case usersd_direct
run_case expiry
run_case nonadmin
run_case cert
run_case revoke
run_case live
run_case enroll
run_case browser
run_case users_browser
run_case users_concurrent
finish
