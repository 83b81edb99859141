#!/usr/bin/env bash
# takctl revoke / crl renew / crl show / crl import-fts against a running
# takd: the CRL is written, takd reloads it and refuses the revoked client's
# new connections while others still get in; and the data package of
# `takctl pki client`.  (Closing a revoked client's live session is takd's
# own test.)
. "$(dirname "$0")/lib.sh"

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" "$@"
}

# The CRL file lists serial (openssl's own reading of it).
crl_lists() {
	openssl crl -in "$T/pki/crl.pem" -noout -text |
	    grep -q "Serial Number: $1\$"
}

revoke_by_name() {
	local g0 s
	setup
	start_takd
	g0=$(sget crl.generation)
	expect_accepted alice
	expect_accepted bob
	s=$(serial_of alice)
	expect_ctl 0 revoke alice --reason keyCompromise
	expect_grep "^revoked: alice serial $s \\(keyCompromise\\)" "$T/out"
	expect_grep "^takd: reloaded, CRL generation $((g0 + 1)) active \\(1 entries" \
	    "$T/out" "takctl did not report the reload with the new generation"
	takd_status
	expect_eq "$(sget crl.generation)" $((g0 + 1)) "CRL generation"
	expect_eq "$(sget crl.entries)" 1 "CRL entries"
	crl_lists "$s" || fail "crl.pem does not list $s"
	expect_refused alice revoked
	expect_accepted bob
	# The index says so too.
	expect_ctl 0 pki list
	expect_grep "^$s +client +alice .* revoked [0-9T:Z-]+ keyCompromise\$" \
	    "$T/out"
	# Twice: refused with a reason, and nothing reloaded.
	expect_ctl 1 revoke alice
	expect_grep 'already revoked' "$T/out"
	takd_status
	expect_eq "$(sget crl.generation)" $((g0 + 1)) "CRL generation"
}

revoke_no_reload() {
	local g0
	setup
	start_takd
	g0=$(sget crl.generation)
	expect_ctl 0 revoke --serial "$(serial_of bob)" --no-reload
	expect_grep '^takd: not reloaded \(--no-reload\)' "$T/out"
	crl_lists "$(serial_of bob)" || fail "crl.pem does not list bob"
	sleep 1
	takd_status
	expect_eq "$(sget crl.generation)" "$g0" "CRL generation after --no-reload"
	expect_accepted bob	# takd still has the old CRL
	expect_ctl 0 reload
	takd_status
	expect_eq "$(sget crl.generation)" $((g0 + 1)) "CRL generation"
	expect_refused bob revoked
}

revoke_takd_down() {
	setup
	expect_ctl 0 revoke alice
	expect_grep '^takd: not running .*not reloaded' "$T/out"
	crl_lists "$(serial_of alice)" || fail "crl.pem does not list alice"
	# takd loads it when it starts.
	start_takd
	expect_eq "$(sget crl.entries)" 1 "CRL entries at start"
	expect_refused alice revoked
	expect_accepted carol
}

# takd is running but does not take the CRL: exit 1, and it says why.
revoke_reload_fails() {
	setup tls.crl_check=off
	start_takd
	expect_ctl 1 revoke carol
	expect_grep 'did not take it: .*crl_check = off' "$T/out"
	crl_lists "$(serial_of carol)" || fail "crl.pem does not list carol"
}

crl_renew() {
	local n0 n1 g0
	setup
	start_takd
	n0=$(sget crl.next_update)
	g0=$(sget crl.generation)
	expect_ctl 0 revoke bob --no-reload
	expect_ctl 0 crl renew --days 40
	expect_grep "^renewed: CRL: .*crlNumber 3, 1 entry" "$T/out"
	expect_grep "^takd: reloaded, CRL generation $((g0 + 1)) active" \
	    "$T/out"
	takd_status
	n1=$(sget crl.next_update)
	diag "next_update $n0 -> $n1"
	[ -n "$n1" ] && [ "$n1" != "$n0" ] ||
	    fail "crl.next_update did not change: '$n0' -> '$n1'"
	[[ "$n1" > "$n0" ]] || fail "crl.next_update went back: $n0 -> $n1"
	expect_eq "$(sget crl.entries)" 1 "CRL entries after renew"
	expect_refused bob revoked
	expect_ctl 0 crl show
	expect_grep '^crl number: 3$' "$T/out"
	expect_grep '\(in 39 days\)|\(in 40 days\)' "$T/out"
	expect_grep "^$(serial_of bob) " "$T/out"
}

# FreeTAKServer's JSON form: bob by a hex string, two more serials that
# takd never issued (one a JSON number, decimal), then crl show and a
# refused bob.
import_fts_json() {
	local g0
	setup
	start_takd
	g0=$(sget crl.generation)
	cat >"$T/fts.json" <<-EOF
	{"revoked_certificates": [
	  {"serial_number": "0x$(serial_of bob)",
	   "revocation_date": "2024-05-01 12:00:00.123456+00:00",
	   "reason": "key_compromise"},
	  {"serial_number": 123456789, "revocation_date": "2024-05-02T08:00:00Z",
	   "reason": "superseded"},
	  {"serial_number": "deadbeef", "reason": null}
	]}
	EOF
	expect_ctl 0 crl import-fts "$T/fts.json"
	expect_grep '^imported from .*: 1 revoked now, 2 new external serials' \
	    "$T/out"
	expect_grep "^takd: reloaded, CRL generation $((g0 + 1)) active \\(3 entries" \
	    "$T/out"
	expect_ctl 0 crl show
	expect_grep '^entries: 3$' "$T/out"
	expect_grep "^$(serial_of bob) +2024-05-01T12:00:00Z +keyCompromise\$" \
	    "$T/out"
	expect_grep '^075BCD15 +2024-05-02T08:00:00Z +superseded$' "$T/out"
	expect_grep '^DEADBEEF +[0-9T:Z-]+ +unspecified$' "$T/out"
	expect_refused bob revoked
	expect_accepted alice
	# A bad file changes nothing.
	printf '{"revoked_certificates": [{"serial_number": 1.5}]}' \
	    >"$T/bad.json"
	expect_ctl 1 crl import-fts "$T/bad.json"
	expect_grep 'bad.json: JSON, byte [0-9]+: serial_number must be' \
	    "$T/out"
	takd_status
	expect_eq "$(sget crl.generation)" $((g0 + 1)) "CRL generation"
}

# A PEM CRL as FreeTAKServer writes it (here made by `openssl ca`), in a
# file named FTS_CRL.json, and the same appended to a ca.pem.
import_fts_pem() {
	setup
	make_crl "$T/pki" "$T/FTS_CRL.json" carol
	cat "$T/pki/ca.pem" "$T/FTS_CRL.json" >"$T/fts-ca.pem"
	start_takd
	expect_accepted carol
	expect_ctl 0 crl import-fts "$T/FTS_CRL.json"
	expect_grep '^imported from .*: 1 revoked now' "$T/out"
	expect_refused carol revoked
	expect_accepted alice
	expect_ctl 0 crl import-fts "$T/fts-ca.pem"
	expect_grep ': 0 revoked now, 0 new external serials, 1 already' \
	    "$T/out"
}

# The data package, version 2: flat, files named after the server, the
# manifest listing them, and the pref keys ATAK, iTAK and WinTAK read.
client_package() {
	setup pki.server_host=tak.example.org tls.listen=127.0.0.1:8443
	expect_ctl 0 pki client dave --password 'pa&ss'
	expect_grep 'connects to tak.example.org:8443:ssl' "$T/out"
	Z=$T/pki/clients/dave.zip
	[ "$(stat -c %a "$Z")" = 600 ] || fail "dave.zip is not mode 0600"
	unzip -Z1 "$Z" >"$T/names" 2>&1 ||
	    { diag_file "$T/names"; fail "unzip -Z1 failed"; }
	printf '%s\n' MANIFEST/manifest.xml takd-tak.example.org.pref \
	    truststore-tak.example.org.p12 dave-tak.example.org.p12 >"$T/want"
	cmp -s "$T/names" "$T/want" ||
	    { diag_file "$T/names"; fail "not the version 2 layout"; }
	mkdir "$T/unz"
	(cd "$T/unz" && unzip -q "$Z") || fail "unzip failed"
	# iTAK: the pref and every p12 at the root, nothing else in a folder.
	[ "$(find "$T/unz" -mindepth 2 -type f | sed "s|$T/unz/||")" = \
	    MANIFEST/manifest.xml ] || fail "files below the root"
	P=$T/unz/takd-tak.example.org.pref
	for k in connectString0:tak.example.org:8443:ssl \
	    caLocation0:truststore-tak.example.org.p12 \
	    'caPassword0:pa&amp;ss' 'clientPassword0:pa&amp;ss' \
	    certificateLocation0:dave-tak.example.org.p12 \
	    caLocation:truststore-tak.example.org.p12 \
	    'caPassword:pa&amp;ss' 'clientPassword:pa&amp;ss' \
	    certificateLocation:dave-tak.example.org.p12; do
		expect_grep "\"${k%%:*}\" class=\"class java.lang.String\">${k#*:}<" \
		    "$P"
	done
	M=$T/unz/MANIFEST/manifest.xml
	expect_grep '<Parameter name="name" value="dave takd"/>' "$M"
	expect_grep '<Parameter name="onReceiveDelete" value="true"/>' "$M"
	for f in takd-tak.example.org.pref truststore-tak.example.org.p12 \
	    dave-tak.example.org.p12; do
		expect_grep "<Content ignore=\"false\" zipEntry=\"$f\"/>" "$M"
	done
	openssl pkcs12 -in "$T/unz/truststore-tak.example.org.p12" -nokeys \
	    -passin 'pass:pa&ss' -out "$T/ts.pem" 2>"$T/ossl.out" ||
	    { diag_file "$T/ossl.out"; fail "openssl cannot read the trust store"; }
	openssl x509 -in "$T/ts.pem" -noout -fingerprint >"$T/a"
	openssl x509 -in "$T/pki/ca.pem" -noout -fingerprint >"$T/b"
	cmp -s "$T/a" "$T/b" || fail "the trust store is not the CA"
	cmp -s "$T/unz/dave-tak.example.org.p12" "$T/pki/clients/dave.p12" ||
	    fail "the bundle in the package is not clients/dave.p12"
}

# An IPv6 literal as [pki] server_host: ATAK splits the connect string on
# ':', so takctl refuses and asks for a DNS name; nothing is issued.
client_package_ipv6() {
	setup pki.server_host=2001:db8::1
	expect_ctl 1 pki client erin --password x
	expect_grep 'IPv6 address.*DNS name' "$T/out"
	[ ! -e "$T/pki/clients/erin.pem" ] || fail "erin was issued"
	[ ! -e "$T/pki/clients/erin.zip" ] || fail "erin.zip was written"
}

run_case revoke_by_name
run_case revoke_no_reload
run_case revoke_takd_down
run_case revoke_reload_fails
run_case crl_renew
run_case import_fts_json
run_case import_fts_pem
run_case client_package
run_case client_package_ipv6
finish
