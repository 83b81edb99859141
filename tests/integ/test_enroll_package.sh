#!/usr/bin/env bash
# takctl pki enroll-package USER: the enrollment package of a user of the
# users file (unzipped and read: layout, pref keys, the trust store with
# its password) and the QR strings printed; the password read from stdin
# (never argv), checked against the users file, left out with
# --no-password; an unknown user, a wrong password and a user without a
# password refused with nothing written.  No takd runs.
. "$(dirname "$0")/lib.sh"

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" auth.users="$T/etc/users" "$@"
	printf 'Blue pass&1\n' | "$TAKCTL" -c "$CFG" user add eve \
	    --groups Blue >"$T/out" 2>&1 ||
	    { diag_file "$T/out"; fail "user add eve"; }
	"$TAKCTL" -c "$CFG" user add nopw --no-password >"$T/out" 2>&1 ||
	    { diag_file "$T/out"; fail "user add nopw"; }
}

# ctl_in INPUT WANT ARGS...: takctl with INPUT on stdin exits WANT.
ctl_in() {
	local input=$1 want=$2 rc
	shift 2
	printf '%s' "$input" | "$TAKCTL" -c "$CFG" "$@" >"$T/out" 2>&1
	rc=$?
	[ "$rc" -eq "$want" ] && return 0
	diag "command: $*"
	diag_file "$T/out" 20
	fail "exit status $rc, expected $want"
}

enroll_package() {
	local Z P M
	setup pki.server_host=tak.example.org tls.listen=127.0.0.1:8089
	ctl_in $'Blue pass&1\n' 0 pki enroll-package eve
	Z=$T/pki/clients/eve-enroll.zip
	expect_grep "^enrollment package: .*/clients/eve-enroll.zip connects to tak.example.org:8089:ssl, enrolls on tak.example.org:8446\$" \
	    "$T/out"
	# The token is the password, percent-encoded (' ' and '&').
	expect_grep '^ATAK QR: tak://com\.atakmap\.app/enroll\?host=tak\.example\.org&username=eve&token=Blue%20pass%261$' \
	    "$T/out"
	expect_grep '^iTAK QR: takd tak\.example\.org,tak\.example\.org,8089,ssl$' \
	    "$T/out"
	[ "$(stat -c %a "$Z")" = 600 ] || fail "the package is not mode 0600"
	unzip -Z1 "$Z" >"$T/names" 2>&1 || { diag_file "$T/names"; fail unzip; }
	printf '%s\n' MANIFEST/manifest.xml takd-tak.example.org-enroll.pref \
	    truststore-tak.example.org-enroll.p12 >"$T/want"
	cmp -s "$T/names" "$T/want" ||
	    { diag_file "$T/names"; fail "not the enrollment layout"; }
	mkdir "$T/unz"
	(cd "$T/unz" && unzip -q "$Z") || fail "unzip failed"
	P=$T/unz/takd-tak.example.org-enroll.pref
	for k in String:connectString0:tak.example.org:8089:ssl \
	    String:caLocation0:truststore-tak.example.org-enroll.p12 \
	    String:caPassword0:atakatak \
	    Boolean:enrollForCertificateWithTrust0:true \
	    Boolean:useAuth0:true String:username0:eve \
	    String:caLocation:truststore-tak.example.org-enroll.p12 \
	    String:caPassword:atakatak String:apiCertEnrollmentPort:8446; do
		set -- "${k%%:*}" "${k#*:}"
		expect_grep "\"${2%%:*}\" class=\"class java.lang.$1\">${2#*:}<" "$P"
	done
	# No secret in the package: the phone asks, or reads the QR code.
	! grep -rq 'Blue pass' "$T/unz" || fail "the password is in the package"
	! grep -q 'certificateLocation' "$P" || fail "a client certificate entry"
	M=$T/unz/MANIFEST/manifest.xml
	expect_grep '<Parameter name="name" value="eve takd enrollment"/>' "$M"
	for f in takd-tak.example.org-enroll.pref \
	    truststore-tak.example.org-enroll.p12; do
		expect_grep "<Content ignore=\"false\" zipEntry=\"$f\"/>" "$M"
	done
	openssl pkcs12 -in "$T/unz/truststore-tak.example.org-enroll.p12" \
	    -nokeys -passin pass:atakatak -out "$T/ts.pem" 2>"$T/ossl.out" ||
	    { diag_file "$T/ossl.out"; fail "openssl cannot read the trust store"; }
	openssl x509 -in "$T/ts.pem" -noout -fingerprint >"$T/a"
	openssl x509 -in "$T/pki/ca.pem" -noout -fingerprint >"$T/b"
	cmp -s "$T/a" "$T/b" || fail "the trust store is not the CA"
	# Again: refused without --force, replaced with it.
	ctl_in $'Blue pass&1\n' 1 pki enroll-package eve
	expect_grep 'exists; use --force' "$T/out"
	ctl_in '' 0 pki enroll-package eve --no-password --force
	expect_grep '^ATAK QR: tak://com\.atakmap\.app/enroll\?host=tak\.example\.org&username=eve$' \
	    "$T/out"
}

enroll_refused() {
	setup pki.server_host=tak.example.org
	# No password on argv: an extra argument is a usage error.
	ctl_in '' 64 pki enroll-package eve 'Blue pass&1'
	ctl_in $'wrong\n' 1 pki enroll-package eve
	expect_grep 'not the password of "eve"' "$T/out"
	ctl_in $'\n' 1 pki enroll-package eve
	expect_grep 'empty password' "$T/out"
	ctl_in $'x\n' 1 pki enroll-package mallory
	expect_grep 'no user "mallory"' "$T/out"
	ctl_in '' 1 pki enroll-package nopw --no-password
	expect_grep 'user "nopw" has no password' "$T/out"
	[ -z "$(ls "$T/pki/clients" | grep enroll)" ] ||
	    fail "a package was written: $(ls "$T/pki/clients")"
	# An IPv6 literal host cannot be in a connect string.
	write_config "$T/takd.ini" auth.users="$T/etc/users" \
	    pki.server_host=2001:db8::1
	ctl_in $'Blue pass&1\n' 1 pki enroll-package eve
	expect_grep 'IPv6 address.*DNS name' "$T/out"
	[ ! -e "$T/pki/clients/eve-enroll.zip" ] || fail "eve-enroll.zip written"
}

# draw2pbm KIND IN OUT: takctl's terminal rendering (KIND term: the lines
# after the first line starting with $4) or SVG (KIND svg) back to a P1
# PBM, 8 pixels a module, for zbarimg: a decoder independent of takd.
draw2pbm() {
	/usr/bin/python3 - "$@" <<'PY'
import re, sys
kind, src, out = sys.argv[1:4]
rows = []
if kind == "term":
    lines = open(src, encoding="utf-8").read().split("\n")
    i = next(n for n, l in enumerate(lines) if l.startswith(sys.argv[4]))
    for l in lines[i + 1:]:
        if not l.startswith("\033[97;40m"):
            break
        l = l[len("\033[97;40m"):-len("\033[0m")]
        top = [0 if c in "\u2580\u2588" else 1 for c in l]
        bot = [0 if c in "\u2584\u2588" else 1 for c in l]
        rows += [top, bot]
else:
    svg = open(src).read()
    n = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    rows = [[0] * n for _ in range(n)]
    for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg):
        rows[int(y)][int(x)] = 1
with open(out, "w") as f:
    w = len(rows[0]) * 8
    f.write("P1\n%d %d\n" % (w, len(rows) * 8))
    for r in rows:
        line = " ".join(str(v) for v in r for _ in range(8))
        f.write((line + "\n") * 8)
PY
}

# --qr, --qr-itak and --qr-terminal: every code drawn decodes (zbarimg) to
# the string printed; the files are 0600; PNG is refused with a reason.
enroll_qr() {
	local atak='tak://com.atakmap.app/enroll?host=tak.example.org&username=eve&token=Blue%20pass%261'
	local itak='takd tak.example.org,tak.example.org,8089,ssl'
	setup pki.server_host=tak.example.org tls.listen=127.0.0.1:8089
	ctl_in $'Blue pass&1\n' 0 pki enroll-package eve --qr "$T/atak.pbm" \
	    --qr-itak "$T/itak.svg" --qr-terminal
	cp "$T/out" "$T/term"
	expect_eq "$(zbarimg --raw -q "$T/atak.pbm" 2>/dev/null)" "$atak" "the PBM decoded"
	draw2pbm svg "$T/itak.svg" "$T/itak.pbm" || fail "cannot read the SVG"
	expect_eq "$(zbarimg --raw -q "$T/itak.pbm" 2>/dev/null)" "$itak" "the SVG decoded"
	draw2pbm term "$T/term" "$T/t1.pbm" "ATAK QR:" || fail "no ATAK drawing"
	expect_eq "$(zbarimg --raw -q "$T/t1.pbm" 2>/dev/null)" "$atak" "the terminal ATAK code"
	draw2pbm term "$T/term" "$T/t2.pbm" "iTAK QR:" || fail "no iTAK drawing"
	expect_eq "$(zbarimg --raw -q "$T/t2.pbm" 2>/dev/null)" "$itak" "the terminal iTAK code"
	[ "$(stat -c %a "$T/atak.pbm")" = 600 ] || fail "atak.pbm not 0600"
	ctl_in $'Blue pass&1\n' 0 pki enroll-package eve --force \
	    --qr "$T/atak.png"
	[ "$(head -c 8 "$T/atak.png" | od -An -tx1 | tr -d ' ')" = \
	    89504e470d0a1a0a ] || fail "atak.png is no PNG"
	expect_eq "$(zbarimg --raw -q "$T/atak.png" 2>/dev/null)" "$atak" "the PNG decoded"
	[ "$(stat -c %a "$T/atak.png")" = 600 ] || fail "atak.png not 0600"
	ctl_in $'Blue pass&1\n' 1 pki enroll-package eve --force \
	    --qr "$T/atak.gif"
	expect_grep 'give a \.png, \.svg or \.pbm file' "$T/out"
	[ ! -e "$T/atak.gif" ] || fail "atak.gif written"
}

run_case enroll_package
run_case enroll_refused
run_case enroll_qr
finish
