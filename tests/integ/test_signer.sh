#!/usr/bin/env bash
# takd-signer, the key holder of enrollment, driven as takd will drive it
# (tests/tools/signreq: supervisor/signer_proc.c prepares and spawns it,
# then the privilege drop to the service user) on a socketpair, with a PKI
# made by takctl and CSRs made by the openssl command line: the
# certificate chains to ca.pem as a client certificate with the configured
# subject and lifetime, shows in `takctl pki list` with its user and
# clientUid, and `takctl revoke` (by serial, by the user's name) puts it
# in the CRL; every refusal is answered and logged and records nothing;
# the rate limit; a malformed frame ends the signer; a CA key that does
# not match ca.pem stops it for good (exit 2); and the running signer is
# the service user's, holds no ca.key descriptor and nothing else.
# No takd runs.
. "$(dirname "$0")/lib.sh"

SIGNER=$(dirname "$TAKD")/takd-signer
SIGNREQ=$TOOLS/signreq

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" auth.users="$T/etc/users" \
	    api.cert_o=TAK api.cert_ou=Field api.cert_days=30 "$@"
	printf 'pw-alice\n' | "$TAKCTL" -c "$CFG" user add alice \
	    >"$T/out" 2>&1 || { diag_file "$T/out"; fail "user add alice"; }
	printf 'pw-john\n' | "$TAKCTL" -c "$CFG" user add "John Smith" \
	    >"$T/out" 2>&1 || { diag_file "$T/out"; fail "user add John"; }
	"$TAKCTL" -c "$CFG" user add nopw --no-password >"$T/out" 2>&1 ||
	    { diag_file "$T/out"; fail "user add nopw"; }
	# The signer writes nothing but the journal; signreq writes here.
	mkdir -m 1777 "$T/o"
}

# csr NAME SUBJECT [KEYOPTS...]: $T/NAME.csr made by openssl req.
csr() {
	local name=$1 subj=$2
	shift 2
	[ $# -gt 0 ] || set -- -newkey ec -pkeyopt ec_paramgen_curve:P-256
	openssl req -new "$@" -nodes -keyout "$T/$name.key" -subj "$subj" \
	    -out "$T/$name.csr" >>"$T/openssl.log" 2>&1 ||
	    { diag_file "$T/openssl.log"; fail "openssl req $subj"; }
}

# signreq ARGS...: the tool as root, the signer dropped to $TAKD_USER.
signreq() {
	local -a as=()
	[ "$(id -u)" -eq 0 ] && as=(-U "$TAKD_USER")
	"$SIGNREQ" -c "$CFG" -x "$SIGNER" "${as[@]}" "$@" >"$T/reply" \
	    2>"$T/signer.log"
	local rc=$?
	[ "$rc" -eq 0 ] || { diag_file "$T/signer.log"; diag_file "$T/reply";
	    fail "signreq exit status $rc"; }
}

serial_pem() {
	openssl x509 -noout -serial -in "$1" | sed 's/^serial=//' | serial_norm
}

signer_enroll() {
	local s1 s2 s3 n
	setup
	csr a "/CN=alice/O=TAK/OU=Field"
	csr r "/CN=Alice/O=TAK/OU=Field" -newkey rsa:2048
	csr j "/CN=John Smith/O=TAK/OU=Field"
	signreq alice ANDROID-0001 "$T/a.csr" "$T/o/a" \
	    alice ANDROID-0001 "$T/r.csr" "$T/o/r" \
	    "John Smith" - "$T/j.csr" "$T/o/j"
	expect_grep '^1 ok $' "$T/reply"
	expect_grep '^2 ok $' "$T/reply"
	expect_grep '^3 ok $' "$T/reply"
	expect_grep '^signer exit 0$' "$T/reply"
	for n in a r j; do
		# The chain the reply gives is ca.pem; the leaf verifies as a
		# TLS client certificate under it.
		cmp -s "$T/o/$n.ca.pem" "$T/pki/ca.pem" ||
		    fail "the chain of $n is not ca.pem"
		openssl verify -CAfile "$T/pki/ca.pem" -purpose sslclient \
		    "$T/o/$n.pem" >"$T/out" 2>&1 ||
		    { diag_file "$T/out"; fail "$n does not verify"; }
		openssl x509 -in "$T/o/$n.pem" -noout -checkend $((29 * 86400)) \
		    >/dev/null || fail "$n: shorter than cert_days"
		openssl x509 -in "$T/o/$n.pem" -noout -checkend $((31 * 86400)) \
		    >/dev/null && fail "$n: longer than cert_days"
	done
	# The subject is the user's name from the users file, O and OU.
	openssl x509 -in "$T/o/r.pem" -noout -subject -nameopt RFC2253 \
	    >"$T/subj"
	expect_grep '^subject=OU=Field,O=TAK,CN=alice$' "$T/subj"
	openssl x509 -in "$T/o/a.pem" -noout -text >"$T/text"
	expect_grep 'CA:FALSE' "$T/text"
	expect_grep 'TLS Web Client Authentication' "$T/text"
	expect_grep 'request 1: signed serial [0-9A-F]+ for user "alice" clientUid "ANDROID-0001", EC P-256 key' \
	    "$T/signer.log"
	expect_grep 'request 2: signed .* RSA 2048 key' "$T/signer.log"

	# In the index, with the user and the clientUid.
	s1=$(serial_pem "$T/o/a.pem")
	s2=$(serial_pem "$T/o/r.pem")
	s3=$(serial_pem "$T/o/j.pem")
	expect_rc 0 "$TAKCTL" -c "$CFG" pki list
	expect_grep "^0*$s1 +client +alice .* valid enrolled uid=ANDROID-0001\$" \
	    "$T/out"
	expect_grep "^0*$s3 +client +John Smith .* valid enrolled uid=-\$" \
	    "$T/out"

	# Revoked by serial, then by the user's names: the CRL lists them.
	expect_rc 0 "$TAKCTL" -c "$CFG" revoke --serial "$s1" --no-reload
	openssl verify -CAfile "$T/pki/ca.pem" -crl_check \
	    -CRLfile "$T/pki/crl.pem" "$T/o/a.pem" >"$T/out" 2>&1 &&
	    fail "a revoked certificate still verifies"
	expect_grep 'certificate revoked' "$T/out"
	openssl verify -CAfile "$T/pki/ca.pem" -crl_check \
	    -CRLfile "$T/pki/crl.pem" "$T/o/r.pem" >/dev/null 2>&1 ||
	    fail "revoking one of alice's certificates revoked the other"
	expect_rc 0 "$TAKCTL" -c "$CFG" revoke alice --no-reload
	expect_rc 0 "$TAKCTL" -c "$CFG" revoke "John Smith" --no-reload
	openssl crl -in "$T/pki/crl.pem" -noout -text | tr -d ' :' |
	    sed -n 's/^SerialNumber//p' | serial_norm >"$T/crl"
	for n in "$s1" "$s2" "$s3"; do
		grep -qx "$n" "$T/crl" || fail "serial $n is not in the CRL"
	done
	# And the index took the enrolled lines in.
	grep -q "enroll=ANDROID-0001" "$T/pki/index.txt" ||
	    fail "index.txt lacks the enrolled certificates"
}

signer_refusals() {
	local lines
	setup
	csr bob "/CN=bob/O=TAK/OU=Field"
	csr weak "/CN=alice/O=TAK/OU=Field" -newkey rsa:1024
	csr ou "/CN=alice/O=TAK/OU=Admins"
	csr extra "/CN=alice/O=TAK/OU=Field/CN=admin"
	csr order "/CN=alice/OU=Field/O=TAK"
	csr nou "/CN=alice/O=TAK"
	csr k1 "/CN=alice/O=TAK/OU=Field" -newkey ec \
	    -pkeyopt ec_paramgen_curve:secp256k1
	csr ok "/CN=nopw/O=TAK/OU=Field"
	signreq alice U1 "$T/bob.csr" "$T/o/1" alice U1 "$T/weak.csr" "$T/o/2" \
	    alice U1 "$T/ou.csr" "$T/o/3" alice U1 "$T/extra.csr" "$T/o/4" \
	    alice U1 "$T/order.csr" "$T/o/5" alice U1 "$T/nou.csr" "$T/o/6" \
	    alice U1 "$T/k1.csr" "$T/o/7" nopw U1 "$T/ok.csr" "$T/o/8" \
	    mallory U1 "$T/bob.csr" "$T/o/9"
	expect_grep '^1 refused subject CN "bob" is not the authenticated user "alice"$' \
	    "$T/reply"
	expect_grep '^2 refused RSA key of 1024 bits' "$T/reply"
	expect_grep '^3 refused subject OU "Admins" is not the configured "Field"$' \
	    "$T/reply"
	expect_grep '^4 refused subject has an extra attribute CN after OU' \
	    "$T/reply"
	expect_grep '^5 refused subject attribute 2 is OU, expected O' \
	    "$T/reply"
	expect_grep '^6 refused subject lacks OU "Field"' "$T/reply"
	expect_grep '^7 refused EC secp256k1 key not accepted' "$T/reply"
	expect_grep '^8 refused user has no password' "$T/reply"
	expect_grep '^9 refused no such user$' "$T/reply"
	expect_grep '^signer exit 0$' "$T/reply"
	# Each refusal has its log line, with the user and the clientUid.
	expect_grep 'request 7: refused the CSR of user "alice" clientUid "U1": EC secp256k1' \
	    "$T/signer.log"
	expect_grep 'request 9: refused the CSR of user "mallory"' \
	    "$T/signer.log"
	# Nothing was signed, nothing recorded.
	grep -q 'signed serial' "$T/signer.log" && fail "something was signed"
	lines=$(wc -l <"$T/pki/enrolled.txt")
	expect_eq "$lines" 0 "lines in enrolled.txt"
	ls "$T"/o/*.pem >/dev/null 2>&1 && fail "a certificate was written"
	return 0
}

signer_rate_limit() {
	setup
	csr a "/CN=alice/O=TAK/OU=Field"
	signreq -r 1 -b 2 alice U "$T/a.csr" "$T/o/1" alice U "$T/a.csr" \
	    "$T/o/2" alice U "$T/a.csr" "$T/o/3"
	expect_grep '^1 ok $' "$T/reply"
	expect_grep '^2 ok $' "$T/reply"
	expect_grep '^3 busy too many certificates signed lately' "$T/reply"
	expect_grep 'request 3: deferred the CSR of user "alice"' \
	    "$T/signer.log"
	expect_eq "$(wc -l <"$T/pki/enrolled.txt")" 2 "lines in enrolled.txt"
}

signer_malformed() {
	setup
	csr a "/CN=alice/O=TAK/OU=Field"
	signreq -g alice U "$T/a.csr" "$T/o/1"
	expect_grep '^1 ok $' "$T/reply"
	expect_grep '^signer exit 1$' "$T/reply"
	expect_grep 'malformed request from the api: sign request: bad user name; closing' \
	    "$T/signer.log"
}

signer_bad_key() {
	setup
	csr a "/CN=alice/O=TAK/OU=Field"
	# A CA key that is not ca.pem's: the signer refuses to start, for good.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$T/pki/ca.key" 2>>"$T/openssl.log" || fail genpkey
	signreq alice U "$T/a.csr" "$T/o/1"
	expect_grep '^1 closed$' "$T/reply"
	expect_grep '^signer exit 2$' "$T/reply"
	expect_grep 'ca.key does not belong to ca.pem' "$T/signer.log"
	# No ca.key at all: prepared never, with the fix in the message.
	rm "$T/pki/ca.key"
	"$SIGNREQ" -c "$CFG" -x "$SIGNER" alice U "$T/a.csr" "$T/o/1" \
	    >"$T/out" 2>&1 && fail "signreq started without ca.key"
	expect_grep 'ca.key: no such file; enrollment needs the CA' "$T/out"
}

signer_privileges() {
	local pid uid fds f
	[ "$(id -u)" -eq 0 ] || { diag "not root: skipped"; return 0; }
	setup
	csr a "/CN=alice/O=TAK/OU=Field"
	"$SIGNREQ" -c "$CFG" -x "$SIGNER" -U "$TAKD_USER" -w 3 alice U \
	    "$T/a.csr" "$T/o/1" >"$T/reply" 2>"$T/signer.log" &
	wait_for 10 grep -q '^signer pid' "$T/reply" ||
	    { diag_file "$T/signer.log"; fail "no signer pid"; }
	pid=$(sed -n 's/^signer pid //p' "$T/reply")
	uid=$(awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' \
	    "/proc/$pid/status")
	expect_eq "$uid" "$(id -u "$TAKD_USER") $(id -u "$TAKD_USER") $(id -u "$TAKD_USER") $(id -u "$TAKD_USER")" \
	    "signer uids"
	expect_grep '^NoNewPrivs:[[:space:]]+1$' "/proc/$pid/status"
	# Its descriptors: std streams, the api channel, the PKI directory,
	# the journal, the users' directory; ca.key and ca.pem are closed.
	fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
	expect_eq "$fds" "0 1 2 3 6 7 8 " "signer descriptors"
	for f in /proc/"$pid"/fd/*; do
		case $(readlink "$f") in
		*ca.key*) fail "the signer holds ca.key open" ;;
		esac
	done
	grep -q '^Max processes *0 *0' "/proc/$pid/limits" ||
	    diag "RLIMIT_NPROC not 0 (sanitizer build)"
	wait
	expect_grep '^1 ok $' "$T/reply"
}

run_case signer_enroll
run_case signer_refusals
run_case signer_rate_limit
run_case signer_malformed
run_case signer_bad_key
run_case signer_privileges
finish
