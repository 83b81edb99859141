#!/usr/bin/env bash
# TLS hardening (docs/security.md, "TLS"): AEAD cipher suites only, and
# clients on the TLS stack of ATAK (Java's JSSE) still get in; session
# ticket keys owned by the supervisor, rotated every [tls]
# ticket_key_rotation and pushed to every worker: a ticket resumes on any
# worker, is renewed once its key is the previous one, and is refused two
# rotations after its key was made; a respawned worker gets the ring.
# TLS 1.3 tickets are ids in the workers' shared session cache: one from
# worker 0 resumes on worker 1 with the same identity, and is refused in
# both once the certificate is revoked; each is for one use.  A resumed
# session keeps its certificate's notAfter (the registry's, takctl
# clients' "expires").
. "$(dirname "$0")/lib.sh"

setup() {
	use_pki "$T/pki"
	make_crl "$T/pki" "$T/pki/crl.pem"
	write_config "$T/takd.ini" "$@"
}

# sc NAME PROTO [ARGS...]: s_client as alice, PROTO -tls1_2 or -tls1_3,
# output in $T/NAME.s; stdin open until the handshake is done and the
# session of -sess_out is saved (a TLS 1.3 ticket comes after the
# handshake), 5 s at most.  (It was open 0.6 s each time: 40 clients, 25 s
# of the script.)
sc() {
	local name=$1
	shift
	S_CLIENT_DONE=1 S_CLIENT_HOLD=5 s_client alice "$name" "$@"
}

# reused NAME: the session of $T/NAME.s was resumed.
reused() {
	grep -Eq '^Reused, TLSv1\.[23],' "$T/$1.s"
}

expect_reused() {
	reused "$1" && return 0
	diag_file "$T/$1.s" 30
	fail "${2:-$1}: session not resumed"
}

# expect_full NAME [WHAT]: a successful full handshake, no resumption.
expect_full() {
	grep -Eq '^New, TLSv1\.[23],' "$T/$1.s" && return 0
	diag_file "$T/$1.s" 30
	fail "${2:-$1}: no full handshake"
}

# ticket_name FILE: hex of the key name (the first 16 bytes) of the ticket
# of a session, saved (-sess_out) or as s_client printed it (for TLS 1.2,
# where s_client saves no resumed session: the ticket it printed is the one
# the server sent in the handshake, if it sent one).
ticket_name() {
	case "$1" in
	*.sess) openssl sess_id -in "$1" -noout -text 2>/dev/null ;;
	*) cat "$1" ;;
	esac | awk '
	    /TLS session ticket:/ { t = 1; next }
	    t && /^ *0000 - / {
		    sub(/^ *0000 - /, ""); gsub(/-/, " ")
		    for (i = 1; i <= 16; i++) s = s $i
		    print s; exit }'
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

# --- session tickets --------------------------------------------------------

# resumed_on WORKER: lines of takd's log where worker WORKER established a
# resumed session.
resumed_on() {
	takd_logs |
	    grep -Ec "worker $1\\[[0-9]+\\].* established: .*resumed yes\\)"
}

# sc_on WORKER NAME PROTO [ARGS...]: sc with every other worker stopped,
# so that worker WORKER serves it.
sc_on() {
	local w=$1
	shift
	cot_stop_others "$w"
	sc "$@"
	cot_cont
}

# A session resumed from the shared cache (no certificate in it: the
# identity kept with the ticket) is registered with its certificate's
# notAfter, as a full handshake is: takctl clients --json says "expires".
resumed_expiry() {
	local pid want
	setup
	start_takd
	sc t13 -tls1_3 -sess_out "$T/t13.sess"
	expect_full t13
	want=$(date -u -d "$(openssl x509 -in "$T/pki/clients/alice.pem" \
	    -noout -enddate | cut -d= -f2)" '+%Y-%m-%dT%H:%M:%SZ')
	S_CLIENT_HOLD=3 s_client alice r13 -tls1_3 -sess_in "$T/t13.sess" &
	pid=$!
	_listed() {
		"$TAKCTL" -c "$CFG" clients --json >"$T/cl.json" 2>/dev/null &&
		    grep -q '"serial"' "$T/cl.json"
	}
	wait_for 3 _listed || fail "the resumed session is not registered"
	wait "$pid"
	expect_reused r13 "the TLS 1.3 session"
	grep -q "\"expires\":\"$want\"" "$T/cl.json" ||
	    { diag_file "$T/cl.json"; fail "no expires $want for the resumed session"; }
}

# A ticket from worker 0 resumes on worker 1 and one from worker 1 on
# worker 0, TLS 1.3 and 1.2: every worker has the same keys.
resume_across_workers() {
	local p from to n
	setup
	start_takd
	for p in 1_3 1_2; do
		for from in 0 1; do
			to=$((1 - from))
			sc_on "$from" "t$p-$from" "-tls$p" \
			    -sess_out "$T/t$p-$from.sess"
			expect_full "t$p-$from" \
			    "TLS $p ticket from worker $from"
			[ -s "$T/t$p-$from.sess" ] ||
			    fail "no TLS $p session saved"
			n=$(resumed_on "$to")
			sc_on "$to" "r$p-$from" "-tls$p" \
			    -sess_in "$T/t$p-$from.sess"
			expect_reused "r$p-$from" \
			    "TLS $p ticket of worker $from on worker $to"
			wait_for 5 eval '[ "$(resumed_on "$to")" -gt "$n" ]' ||
			    fail "worker $to did not log the resumed session"
		done
	done
}

# wait_ring GEN [SECONDS]: every worker put ring generation GEN in force.
wait_ring() {
	_ring_in() {
		[ "$(takd_logs |
		    grep -c "ticket keys generation $1 in force")" -ge 2 ]
	}
	wait_for "${2:-10}" _ring_in "$1" ||
	    fail "ticket key ring generation $1 not in force in both workers"
}

# The generation of the ring in force (the supervisor's last rotation).
ring_gen() {
	takd_logs |
	    sed -n 's/.* keys rotated: generation \([0-9]*\) in .*/\1/p' |
	    tail -n 1 | grep . || echo 1
}

# With a 3 s rotation: a ticket resumes; after one rotation it still
# resumes and is replaced by one of the new key (TLS 1.2: renewed, the
# callback returned 2); after two it is refused (a full handshake), while
# the replacement resumes.
ticket_rotation() {
	local g n1 n2 pid
	setup tls.ticket_key_rotation=3s
	start_takd
	g=$(( $(ring_gen) + 1 ))
	wait_ring "$g" 6		# a whole period ahead
	sc t12 -tls1_2 -sess_out "$T/t12.sess"
	expect_full t12
	sc r12 -tls1_2 -sess_in "$T/t12.sess"
	expect_reused r12 "TLS 1.2 ticket, same period"
	# A ticket of the current key is not renewed (unless a rotation came
	# in between, on a slow machine).
	if [ "$(ring_gen)" = "$g" ]; then
		n1=$(ticket_name "$T/t12.sess")
		[ "$(ticket_name "$T/r12.s")" = "$n1" ] ||
		    fail "TLS 1.2 ticket of the current key was renewed"
	else
		diag "rotated before the TLS 1.2 resumption: no renewal check"
	fi
	# TLS 1.3 tickets are for one use: r13 renews t13 (for p13), and s13
	# is kept unused for the refusal two rotations later.
	sc t13 -tls1_3 -sess_out "$T/t13.sess"
	expect_full t13
	sc s13 -tls1_3 -sess_out "$T/s13.sess"
	expect_full s13
	sc r13 -tls1_3 -sess_in "$T/t13.sess" -sess_out "$T/r13.sess"
	expect_reused r13 "TLS 1.3 ticket, same period"

	wait_ring $((g + 1))
	# Both at once: the previous key lasts one period from here.
	sc p13 -tls1_3 -sess_in "$T/r13.sess" -sess_out "$T/p13.sess" &
	pid=$!
	sc p12 -tls1_2 -sess_in "$T/t12.sess"
	wait "$pid"
	expect_reused p13 "TLS 1.3 ticket, one rotation later"
	expect_reused p12 "TLS 1.2 ticket, one rotation later"
	n1=$(ticket_name "$T/t12.sess")
	n2=$(ticket_name "$T/p12.s")
	diag "TLS 1.2 ticket key names: $n1 then $n2"
	[ -n "$n1" ] && [ -n "$n2" ] || fail "no ticket in a saved session"
	[ "$n1" != "$n2" ] ||
	    fail "TLS 1.2 ticket of the previous key was not renewed"
	[ "$(ticket_name "$T/p13.sess")" != "$(ticket_name "$T/r13.sess")" ] ||
	    fail "TLS 1.3 ticket not replaced by a new one"
	# TLS 1.3 tickets are ids in the workers' shared session cache
	# (worker/sesscache.h), not sealed with the ring's keys; their entries
	# still expire with the key that was current when they were made.
	[ "$(ticket_name "$T/p13.sess")" != "$n2" ] ||
	    fail "the TLS 1.3 ticket is sealed with the TLS 1.2 ticket key"

	wait_ring $((g + 2))
	sc o13 -tls1_3 -sess_in "$T/s13.sess"
	expect_full o13 "TLS 1.3 ticket two rotations later"
	sc o12 -tls1_2 -sess_in "$T/t12.sess"
	expect_full o12 "TLS 1.2 ticket two rotations later"
	sc q13 -tls1_3 -sess_in "$T/p13.sess"
	expect_reused q13 "renewed TLS 1.3 ticket, one rotation later"
	log_has 'session ticket keys generation [0-9]+ in force \(2 keys\)' ||
	    fail "no ring of two keys logged"
}

# A ticket made by worker 0 before a rotation resumes, after it, on a
# worker 1 killed and respawned since: a respawned worker is sent the ring
# in force, previous key included.
ticket_respawn() {
	local g pid1 pid2 want
	setup tls.ticket_key_rotation=4s
	start_takd
	g=$(( $(ring_gen) + 1 ))
	wait_ring "$g" 8
	sc_on 0 t -tls1_3 -sess_out "$T/t.sess"
	expect_full t
	wait_ring $((g + 1))
	takd_status
	pid1=$(wfield 1 pid)
	want="keys generation $((g + 1)) in force \\(2 keys\\)"
	kill -KILL "$pid1"
	_respawned() {
		slot_respawned 1 "$pid1" &&
		    log_has "worker 1\\[$RESPAWNED\\].* ticket $want"
	}
	wait_for 5 _respawned || fail "worker 1 not respawned with ring" \
	    "generation $((g + 1))"
	pid2=$RESPAWNED
	sc_on 1 r -tls1_3 -sess_in "$T/t.sess"
	expect_reused r "ticket of worker 0 on the respawned worker 1"
	log_has "worker 1\\[$pid2\\].* established: .*resumed yes\\)" ||
	    fail "the respawned worker 1 did not log the resumed session"
}

# A TLS 1.3 ticket is for one use (RFC 8446, 8.1 and C.4): resumed on
# worker 0, the same ticket replayed on worker 1, then on worker 0, gets a
# full handshake each time (and counts in tickets_refused), while the
# ticket the resumption renewed resumes.
ticket_one_use() {
	local n
	setup
	start_takd
	sc t -tls1_3 -sess_out "$T/t.sess"
	expect_full t
	sc_on 0 r -tls1_3 -sess_in "$T/t.sess" -sess_out "$T/r.sess"
	expect_reused r "the ticket's first use"
	takd_status || fail "no status"
	n=$(wsum tickets.refused)
	sc_on 1 again1 -tls1_3 -sess_in "$T/t.sess"
	expect_full again1 "the ticket used again, on the other worker"
	sc_on 0 again0 -tls1_3 -sess_in "$T/t.sess"
	expect_full again0 "the ticket used again, on the same worker"
	takd_status || fail "no status"
	expect_eq "$(wsum tickets.refused)" $((n + 2)) "tickets refused"
	sc_on 1 next -tls1_3 -sess_in "$T/r.sess"
	expect_reused next "the ticket the resumption renewed"
}

# sc_sa WORKER NAME UID ARGS...: s_client as alice served by worker WORKER
# that sends an SA of uid UID and stays until sc_sa_end NAME (20 s at
# most), in the background (its pid in SC_PID); output in $T/NAME.s.
sc_sa() {
	local w=$1 name=$2 uid=$3
	shift 3
	sed "s/uid=\"ANDROID-[^\"]*\"/uid=\"$uid\"/" \
	    "$REPO/tests/data/cot/sa-atak.xml" >"$T/$name.xml"
	rm -f "$T/$name.end"
	cot_stop_others "$w"
	{ cat "$T/$name.xml"; wait_for 20 test -e "$T/$name.end"; } |
	    timeout 30 openssl s_client \
	    -connect "127.0.0.1:$TAKD_PORT" -CAfile "$T/pki/ca.pem" \
	    -cert "$T/pki/clients/alice.pem" -key "$T/pki/clients/alice.key" \
	    -pass pass:test -no_ign_eof -tls1_3 "$@" >"$T/$name.s" 2>&1 &
	SC_PID=$!
}

# sc_sa_end NAME: client NAME of sc_sa leaves (it stayed 4 s every time:
# 8 s of resume_identity_revoked).
sc_sa_end() {
	touch "$T/$1.end"
	wait "$SC_PID"
}

# clients_entry UID: "subject|serial|user" of UID in takctl clients.
clients_entry() {
	"$TAKCTL" -c "$CFG" clients --json >"$T/clients.json" 2>/dev/null &&
	    json_flat "$T/clients.json" | awk -F '\t' -v uid="$1" '
	    { split($1, p, "."); v[$1] = $2 }
	    p[2] == "uid" && $2 == uid { k = p[1] }
	    END { if (k == "") exit 1
		  print v[k ".subject"] "|" v[k ".serial"] "|" v[k ".user"] }'
}

# A TLS 1.3 ticket made by worker 0 (a session cache entry since issue 21,
# no certificate in it) resumes on worker 1 with the identity of the full
# handshake: takctl clients lists the same subject, serial and user.  Once
# the certificate is revoked, the same ticket is refused in both workers.
resume_identity_revoked() {
	local full res w n
	setup
	start_takd
	sc_sa 0 full rs-full -sess_out "$T/full.sess"
	wait_for 5 clients_entry rs-full >/dev/null ||
	    { diag_file "$T/full.s"; fail "the full session is not listed"; }
	full=$(clients_entry rs-full)
	wait_for 5 test -s "$T/full.sess" || fail "no TLS 1.3 session saved"
	sc_sa_end full
	cot_cont
	expect_full full "ticket from worker 0"
	[ -s "$T/full.sess" ] || fail "no TLS 1.3 session saved"
	# The ticket is the 32-byte id of the session in the shared cache: no
	# sealed session, so no certificate to decode when it comes back.
	n=$(openssl sess_id -in "$T/full.sess" -noout -text | awk '
	    /TLS session ticket:/ { t = 1; next }
	    t && /^ *[0-9a-f][0-9a-f][0-9a-f][0-9a-f] - / { n++; next }
	    t { exit } END { print n + 0 }')
	expect_eq "$n" 2 "lines of 16 bytes in the TLS 1.3 ticket"
	sc_sa 1 res rs-res -sess_in "$T/full.sess" -sess_out "$T/res.sess"
	wait_for 5 clients_entry rs-res >/dev/null ||
	    { diag_file "$T/res.s"; fail "the resumed session is not listed"; }
	res=$(clients_entry rs-res)
	sc_sa_end res
	cot_cont
	expect_reused res "ticket of worker 0 on worker 1"
	log_has "worker 1\\[[0-9]+\\].* established: .*alice.*resumed yes\\)" ||
	    fail "worker 1 did not log the resumed session"
	diag "full: $full; resumed: $res"
	case "$full" in *CN=alice*"|"?*"|"*) ;;
	*) fail "the full session's identity: $full" ;; esac
	expect_eq "$res" "$full" "identity of the resumed session"
	# Tickets are for one use: worker 0 gets the one the resumption
	# renewed (its identity copied from the entry), worker 1 one of
	# another full handshake.
	sc_on 0 full2 -tls1_3 -sess_out "$T/rv1.sess"
	expect_full full2 "second ticket"
	cp "$T/res.sess" "$T/rv0.sess"
	expect_ctl 0 revoke alice
	for w in 0 1; do
		sc_on "$w" "rv$w" -tls1_3 -sess_in "$T/rv$w.sess"
		expect_reused "rv$w" "revoked ticket on worker $w: the test" \
		    "proves nothing"
		wait_for 5 log_has "worker $w\\[[0-9]+\\].* resumed session refused: certificate revoked .*alice" ||
		    fail "worker $w did not refuse the revoked resumption"
	done
	expect_eq "$(takd_logs | grep -c 'established: .*alice.*resumed yes')" \
	    1 "resumed sessions established"
}

run_case aead_only_ecdsa
run_case aead_only_rsa
run_case jsse_client
run_case resume_across_workers
run_case ticket_rotation
run_case ticket_respawn
run_case resume_identity_revoked
run_case resumed_expiry
run_case ticket_one_use
finish
