#!/usr/bin/env bash
# takctl pki renew NAME --grace D: a new certificate and data package that
# a real TLS client connects with; the old certificate keeps working until
# the grace ends, and the first `takctl crl renew` after it revokes it
# (its live session closed, its serial on the CRL).  takctl pki
# renew-server: a new server certificate, same name and key type, served
# after a restart.
. "$(dirname "$0")/lib.sh"

# The client certificate and key inside NAME's data package, as PEM in
# $T/pkg/NAME.pem (openssl pkcs12 with the package's password).
package_pem() {
	local p12
	rm -rf "$T/pkg" && mkdir -p "$T/pkg/zip"
	unzip -q -o "$T/pki/clients/$1.zip" -d "$T/pkg/zip" ||
	    fail "cannot unzip $1.zip"
	p12=$(find "$T/pkg/zip" -name "$1-*.p12" | head -n 1)
	[ -n "$p12" ] || { ls -R "$T/pkg/zip" >&2; fail "no $1.p12 in the package"; }
	openssl pkcs12 -in "$p12" -passin pass:test -nodes \
	    -out "$T/pkg/$1.pem" >"$T/pkg/openssl.log" 2>&1 ||
	    { diag_file "$T/pkg/openssl.log"; fail "cannot read $1.p12"; }
}

renew_client() {
	local old_ser new_ser out
	use_pki "$T/pki"
	write_config "$T/takd.ini"
	start_takd
	mkdir -p "$T/old"
	cp "$T/pki/clients/alice.pem" "$T/pki/clients/alice.key" "$T/old/"
	old_ser=$(openssl x509 -in "$T/old/alice.pem" -noout -serial |
	    sed 's/^serial=//')
	cot_bg oldsess --cert "$T/old/alice.pem" --key "$T/old/alice.key" \
	    --pass test --hold 30
	wait_sum 10 sessions 1
	expect_ctl 0 pki renew alice --grace 4s --password test
	diag "$(head -n 1 "$T/out")"
	new_ser=$(openssl x509 -in "$T/pki/clients/alice.pem" -noout -serial |
	    sed 's/^serial=//')
	[ "$new_ser" != "$old_ser" ] || fail "the certificate was not renewed"
	openssl x509 -in "$T/pki/clients/alice.pem" -noout -text |
	    grep -q 'id-ecPublicKey' || fail "the key type changed"
	expect_grep "old certificate: serial $old_ser" "$T/out"
	# The new package works with a real client.
	package_pem alice
	expect_client 0 --cert "$T/pkg/alice.pem" --key "$T/pkg/alice.pem" \
	    --ca "$T/pki/ca.pem" --servername localhost
	expect_grep '^handshake ok TLSv1\.[23]$' "$T/client.out"
	# Within the grace: the old certificate works, a CRL renewal keeps it.
	expect_ctl 0 crl renew
	grep -q "revoked: alice" "$T/out" && fail "revoked before the grace ended"
	expect_client 0 --cert "$T/old/alice.pem" --key "$T/old/alice.key" \
	    --pass test
	[ -e "$T/oldsess.rc" ] && fail "the old session closed within the grace"
	sleep 4
	expect_ctl 0 crl renew
	expect_grep "revoked: alice serial $old_ser \(superseded" "$T/out"
	expect_grep 'takd: reloaded' "$T/out"
	cot_poll 3 test -s "$T/oldsess.rc" ||
	    fail "the old certificate's session is still open"
	openssl crl -in "$T/pki/crl.pem" -noout -text >"$T/crl.txt"
	expect_grep "Serial Number: $old_ser" "$T/crl.txt"
	expect_grep 'Superseded' "$T/crl.txt"
	grep -q "Serial Number: $new_ser" "$T/crl.txt" &&
	    fail "the new certificate is on the CRL"
	expect_client 1 --cert "$T/old/alice.pem" --key "$T/old/alice.key" \
	    --pass test
	expect_accepted alice
	# Nothing pending is left to revoke again.
	expect_ctl 0 crl renew
	grep -q "revoked:" "$T/out" && fail "revoked twice"
	true
}

renew_server() {
	local old_ser new_ser
	use_pki "$T/pki"
	write_config "$T/takd.ini"
	start_takd
	old_ser=$(openssl x509 -in "$T/pki/server.pem" -noout -serial)
	expect_ctl 0 pki renew-server
	expect_grep 'restart takd' "$T/out"
	new_ser=$(openssl x509 -in "$T/pki/server.pem" -noout -serial)
	[ "$new_ser" != "$old_ser" ] || fail "the server certificate was not renewed"
	openssl x509 -in "$T/pki/server.pem" -noout -subject | grep -q 'CN *= *localhost' ||
	    fail "the server name changed"
	openssl x509 -in "$T/pki/server.pem" -noout -ext subjectAltName |
	    grep -q 'DNS:localhost' || fail "the SANs changed"
	# Until a restart takd serves the certificate it started with.
	S_CLIENT_HOLD=0.3 s_client alice before
	openssl x509 -in "$T/before.s" -noout -serial | grep -qx "$old_ser" ||
	    fail "takd already serves another certificate"
	stop_takd
	start_takd
	S_CLIENT_HOLD=0.3 s_client alice after
	openssl x509 -in "$T/after.s" -noout -serial | grep -qx "$new_ser" ||
	    fail "after the restart takd does not serve the new certificate"
	expect_accepted alice
}

run_case renew_client
run_case renew_server
finish
