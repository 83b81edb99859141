#!/usr/bin/env bash
# TLS hardening (docs/security.md, "TLS"): AEAD cipher suites only, and
# clients on the TLS stack of ATAK (Java's JSSE) still get in.
. "$(dirname "$0")/lib.sh"

setup() {
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem"
	write_config "$T/takd.ini" "$@"
}

# sc NAME PROTO [ARGS...]: openssl s_client as alice, PROTO -tls1_2 or
# -tls1_3, output in $T/NAME.s.  stdin stays open a moment so that a TLS
# 1.3 ticket (sent after the handshake) is read and saved by -sess_out.
sc() {
	local name=$1 proto=$2
	shift 2
	sleep 0.6 | timeout 20 openssl s_client \
	    -connect "127.0.0.1:$TAKD_PORT" -CAfile "$T/pki/ca.pem" \
	    -cert "$T/pki/clients/alice.pem" \
	    -key "$T/pki/clients/alice.key" -pass pass:test "$proto" \
	    -no_ign_eof "$@" >"$T/$name.s" 2>&1
}

# --- cipher suites ----------------------------------------------------------

# cipher_refused CIPHER: a TLS 1.2 client offering only CIPHER is refused
# by the server ("no shared cipher" in takd's log), not by itself.
cipher_refused() {
	local n0 n
	n0=$(takd_logs | grep -c 'handshake failed: no shared cipher')
	if sc refused -tls1_2 -cipher "$1"; then
		diag_file "$T/refused.s" 30
		fail "TLS 1.2 with $1 was accepted"
	fi
	! grep -Eq '^New, TLSv1' "$T/refused.s" ||
	    fail "TLS 1.2 with $1 negotiated a session"
	_refused() {
		n=$(takd_logs | grep -c 'handshake failed: no shared cipher')
		[ "$n" -gt "$n0" ]
	}
	wait_for 5 _refused || { diag_file "$T/refused.s" 20;
	    fail "takd did not refuse $1 for want of a shared cipher"; }
}

# cipher_accepted PROTO CIPHER: that suite is negotiated, client verified.
cipher_accepted() {
	local -a opt=(-cipher "$2")
	[ "$1" = -tls1_3 ] && opt=(-ciphersuites "$2")
	sc accepted "$1" "${opt[@]}" ||
	    { diag_file "$T/accepted.s" 30; fail "$2 refused"; }
	expect_grep "^New, TLSv1\\.[23], Cipher is $2\$" "$T/accepted.s" \
	    "$2 not negotiated"
	expect_grep 'Verify return code: 0 \(ok\)' "$T/accepted.s"
}

# The test PKI's server key is ECDSA (P-256): CBC suites, with ECDHE too,
# are refused; ECDHE-ECDSA with AES-GCM or ChaCha20-Poly1305 and the TLS
# 1.3 suites are taken.
aead_only_ecdsa() {
	local c
	setup
	start_takd
	for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES128-SHA256 \
	    ECDHE-ECDSA-AES256-SHA384 AES128-SHA AES256-SHA256; do
		cipher_refused "$c"
	done
	for c in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 \
	    ECDHE-ECDSA-CHACHA20-POLY1305; do
		cipher_accepted -tls1_2 "$c"
	done
	for c in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 \
	    TLS_CHACHA20_POLY1305_SHA256; do
		cipher_accepted -tls1_3 "$c"
	done
}

# An RSA server key: RSA key exchange and CBC suites are refused (OpenSSL
# would take them by default), ECDHE-RSA with an AEAD is taken.
aead_only_rsa() {
	local c
	setup
	"$TAKCTL" -c "$CFG" pki server --cn localhost --rsa 2048 --force \
	    >"$T/pki-rsa.log" 2>&1 ||
	    { diag_file "$T/pki-rsa.log"; fail "takctl pki server --rsa"; }
	start_takd
	for c in AES128-SHA AES256-SHA256 AES128-GCM-SHA256 \
	    ECDHE-RSA-AES128-SHA ECDHE-RSA-AES128-SHA256; do
		cipher_refused "$c"
	done
	for c in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 \
	    ECDHE-RSA-CHACHA20-POLY1305; do
		cipher_accepted -tls1_2 "$c"
	done
	cipher_accepted -tls1_3 TLS_AES_256_GCM_SHA384
}

# A Java (JSSE) client, the TLS stack of ATAK and the desktop TAK clients,
# with the PKCS#12 bundle takctl made: TLS 1.2 and 1.3 handshakes with an
# AEAD suite, and each resumes its session on the second connection.
jsse_client() {
	local n12 n13
	command -v java >/dev/null ||
	    fail "java is needed: scripts/deps.sh test installs it"
	setup
	start_takd
	timeout 90 java "$REPO/tests/integ/interop/TakTls.java" "$TAKD_PORT" \
	    "$T/pki/clients/alice.p12" test "$T/pki/ca.pem" TLSv1.2 TLSv1.3 \
	    >"$T/java.out" 2>&1 || { diag_file "$T/java.out";
	    fail "the Java client failed"; }
	diag "$(sort "$T/java.out" | uniq -c | tr '\n' ';')"
	expect_eq "$(grep -Ec '^handshake ok TLSv1\.2 TLS_ECDHE_ECDSA_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$' "$T/java.out")" \
	    2 "Java TLS 1.2 handshakes with ECDHE-ECDSA and an AEAD"
	expect_eq "$(grep -Ec '^handshake ok TLSv1\.3 TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$' "$T/java.out")" \
	    2 "Java TLS 1.3 handshakes"
	_java_resumed() {
		n12=$(takd_logs | grep -c '(TLSv1\.2, resumed yes)')
		n13=$(takd_logs | grep -c '(TLSv1\.3, resumed yes)')
		[ "$n12" = 1 ] && [ "$n13" = 1 ]
	}
	wait_for 5 _java_resumed || fail "Java resumptions: TLS 1.2 $n12," \
	    "TLS 1.3 $n13, expected 1 each"
}

run_case aead_only_ecdsa
run_case aead_only_rsa
run_case jsse_client
finish
