#!/usr/bin/env bash
# Hostile input against a running takd (issue 7).  Each case runs one or
# more attacks, one phase each, while a well-behaved pair keeps exchanging SA: P (alice, worker 0) and Q
# (bob, worker 1) send a position every 200 ms from before the attack to
# after it, must see each other's during it, and in the end must have
# received every position of the other, in order, without a gap, and
# nothing else than what the case allows.  For the attacker: its session is
# closed (or its input refused, or its excess dropped), a log line names its
# address and the reason, the right counter of `takctl status` moved by the
# right amount, no worker restarted and, where descriptors are at stake,
# the workers' open_fds came back to where they were.  Phases of one case
# share one takd; the counters are noted when each begins.
. "$(dirname "$0")/lib.sh"

COT=$TESTDATA/cot
HOSTILE=$COT/hostile
# The start of /etc/passwd: no relayed event may ever contain it.
PASSWD_HEAD=$(head -n 1 /etc/passwd | cut -c1-12)
PIDS0=

# --- the well-behaved pair -------------------------------------------------

# pair_script ME PARTNER-UID PARTNER: the script of P or Q: positions every
# 200 ms; three of the partner's before the attack; two more during each of
# the $PHASES phases of the attack (mid1, mid2, ...); three after it.  What
# an attack must never deliver is forbidden: the start of /etc/passwd, the
# text of the entity bomb.
pair_script() {
	local i
	cat <<-EOF
	forbid 'grep=$PASSWD_HEAD'
	forbid grep=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
	wait-file $T/go
	send-every 200 $T/sa.tmpl
	expect uid=$2 count=3 within=5000
	touch $T/$1-ready
	EOF
	for i in $(seq 1 "$PHASES"); do
		cat <<-EOF
		wait-file $T/mid$i within=90000
		mark
		expect uid=$2 count=2 within=5000
		touch $T/$1-mid$i
		EOF
	done
	cat <<-EOF
	wait-file $T/end within=90000
	mark
	expect uid=$2 count=3 within=5000
	touch $T/$1-done
	wait-file $T/$3-done within=10000
	EOF
}

pair_diag() {
	diag_file "$T/p.out" 15
	diag_file "$T/q.out" 15
}

# P on worker 0 and Q on worker 1, both sending once both are connected
# (so that no latest-SA replay mixes with the live positions).
pair_start() {
	pair_script p hp-q q >"$T/p.script"
	pair_script q hp-p p >"$T/q.script"
	cot_place p 0 $(client_args alice) --script "$T/p.script" \
	    --uid hp-p --callsign PAPA --print
	cot_place q 1 $(client_args bob) --script "$T/q.script" \
	    --uid hp-q --callsign QUEBEC --print
	touch "$T/go"
	wait_for 10 test -e "$T/p-ready" -a -e "$T/q-ready" ||
	    { pair_diag; fail "P and Q are not exchanging SA"; }
}

# phase WHAT: the next phase of the attack begins: the counters are noted.
PHASES=1
PHASE=0
phase() {
	PHASE=$((PHASE + 1))
	[ "$PHASE" -le "$PHASES" ] || fail "phase $PHASE of $PHASES"
	diag "phase $PHASE: $*"
	snapshot
}

# While the attack goes on: P and Q each get two more positions.
pair_mid() {
	touch "$T/mid$PHASE"
	wait_for 10 test -e "$T/p-mid$PHASE" -a -e "$T/q-mid$PHASE" ||
	    { pair_diag; fail "P and Q stopped exchanging SA during the" \
	    "attack"; }
}

# seq_check NAME UID: client NAME got the positions of UID numbered 1..N,
# each once, in order, N at least what the script expects.
seq_check() {
	local seqs
	seqs=$(printed "$1" | grep -F "uid=\"$2\"" |
	    sed -n 's/.*<remarks>seq=\([0-9]*\)<.*/\1/p' | tr '\n' ' ')
	echo "$seqs" | tr ' ' '\n' | grep . |
	    awk -v min=$((6 + 2 * PHASES)) 'NR != $1 { bad = 1 }
	    END { exit bad || NR < min }' ||
	    fail "$1 lost positions of $2: got seq $seqs"
}

# pair_end [ERE]: P and Q finish; each got all of the other's positions and
# nothing else but events matching ERE; no worker restarted.
pair_end() {
	local allow=${1:-}
	local n name uid others
	touch "$T/end"
	cot_wait p 0 20
	cot_wait q 0 20
	for n in p:hp-q q:hp-p; do
		name=${n%:*}
		uid=${n#*:}
		seq_check "$name" "$uid"
		others=$(printed "$name" | grep -vF "uid=\"$uid\"")
		[ -z "$allow" ] || others=$(echo "$others" | grep -Ev -- "$allow")
		[ -z "$others" ] || fail "$name got other events:" \
		    "$(echo "$others" | cut -c1-300)"
	done
	expect_same_workers "$PIDS0"
	expect_eq "$(wsum restarts)" 0 "worker restarts"
}

# --- takd and counters -------------------------------------------------------

setup_pki() {
	use_pki "$T/pki"
}

# setup_takd [section.key=value...]: takd with two workers and a short
# handshake timeout, the SA template, the pair started.
setup_takd() {
	write_config "$T/takd.ini" server.workers=2 tls.handshake_timeout=2s "$@"
	start_takd
	PIDS0=$(worker_pids)
	cot_sa_tmpl "$T/sa.tmpl"
	pair_start
}

setup() {
	setup_pki
	setup_takd "$@"
}

# The counters before the attack, in $T/status0.flat.
snapshot() {
	takd_status || fail "no status"
	cp "$T/status.flat" "$T/status0.flat"
}

# delta FIELD: how much FIELD moved since the snapshot (fresh status).
delta() {
	echo $(( $(wsum "$1") - $(wsum "$1" "$T/status0.flat") ))
}

_deltas_are() {
	local kv
	takd_status || return 1
	for kv in "$@"; do
		[ "$(delta "${kv%=*}")" = "${kv#*=}" ] || return 1
	done
}

# expect_delta FIELD=N...: each FIELD (summed over the workers) moved by
# exactly N since the snapshot; waits up to 5 s for them.  sessions=0 and
# handshaking=0 say that the attackers' connections are all gone.
expect_delta() {
	local kv bad=""
	wait_for 5 _deltas_are "$@" && return 0
	for kv in "$@"; do
		[ "$(delta "${kv%=*}")" = "${kv#*=}" ] || bad="$bad ${kv%=*}
		    moved by $(delta "${kv%=*}") (expected ${kv#*=});"
	done
	fail "since the phase began:" $bad
}

# open_fds FLAT: the workers' open_fds in a flattened status, in order.
open_fds() {
	awk -F '\t' '$1 ~ /^workers\.[0-9]+\.open_fds$/ { printf "%s ", $2 }' \
	    "$1"
}

# phase_end FIELD=N...: the phase is over: the counters moved as said, the
# attackers' sessions and handshakes are gone and so are their descriptors.
phase_end() {
	expect_delta "$@" sessions=0 handshaking=0
	expect_eq "$(open_fds "$T/status.flat")" \
	    "$(open_fds "$T/status0.flat")" "workers' open_fds (before the phase)"
}

# --- attackers -------------------------------------------------------------

# attack NAME ARGS...: a takclient in the background, with its address.
attack() {
	local name=$1
	shift
	cot_bg "$name" --verbose "$@"
}

# closed_with NAME RC ERE: client NAME ended with exit status RC (3: closed
# by the server; 1: handshake refused) and one log line names its address
# and matches ERE.
closed_with() {
	local addr
	cot_wait "$1" "$2" 20
	# It ended: nothing to kill when the case ends.
	rm -f "$T/$1.cpid"
	addr=$(cot_addr "$1")
	[ -n "$addr" ] || { diag_file "$T/$1.out"; fail "$1 printed no address"; }
	expect_log_line "$addr" "$3" 5 "$1"
	LOG_LINE=${LOG_LINE#*: }
	diag "$1: ${LOG_LINE:0:140}"
}

# ev_head UID / ev_tail: the start of a CoT event without identity (no
# contact) up to <detail>, and its end from </detail>.
ev_head() {
	printf '%s%s%s' \
	    "<event version=\"2.0\" uid=\"$1\" type=\"a-h-G\" how=\"h-g-i-g-o\"" \
	    ' time="@NOW@" start="@NOW@" stale="@STALE@">' \
	    '<point lat="1.5" lon="2.5" hae="0" ce="10" le="10"/><detail>'
}

ev_tail() {
	printf '</detail></event>\n'
}

# event FILE UID DETAIL: one such event with DETAIL inside <detail>.
event() {
	{ ev_head "$2"; printf '%s' "$3"; ev_tail; } >"$1"
}

# --- TLS: garbage, clear text, certificates ---------------------------------

# Bytes that are not TLS on the TLS port: random bytes, a handshake record
# with a random body (both refused at once), and the header of a 16 KB
# record with 100 bytes behind it (takd waits for the rest: handshake
# timeout).
attack_tls_garbage() {
	phase "TLS garbage before the handshake"
	{ printf '\026\003\001\000\100'; head -c 64 "$HOSTILE/tls-garbage.bin"
	    } >"$T/record.bin"
	{ printf '\026\003\001\100\000'; head -c 100 "$HOSTILE/tls-garbage.bin"
	    } >"$T/partial.bin"
	attack g1 --plain --send "$HOSTILE/tls-garbage.bin" --hold 10
	attack g2 --plain --send "$T/record.bin" --hold 10
	attack g3 --plain --send "$T/partial.bin" --hold 10
	pair_mid
	closed_with g1 3 'handshake failed: wrong version number'
	closed_with g2 3 'handshake failed: [a-z]'
	closed_with g3 3 'handshake timed out'
	expect_closed_after "$T/g3.out" 1500 4000
	phase_end handshakes_failed=2 handshake_timeouts=1 handshakes_ok=0
}

# CoT and HTTP in clear text on the TLS port.
attack_plaintext() {
	phase "plain text on the TLS port"
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' >"$T/http.txt"
	attack t1 --plain --send "$COT/sa-atak.xml" --hold 10
	attack t2 --plain --send "$T/http.txt" --hold 10
	pair_mid
	closed_with t1 3 'handshake failed: wrong version number'
	closed_with t2 3 'handshake failed: http request'
	phase_end handshakes_failed=2
}

# make_cert NAME EXT FROM TO: a key and a certificate for CN=NAME in
# $T/pki/clients, signed by the test CA with `openssl ca`, with the
# extensions of section EXT below, valid FROM .. TO (date -d strings).
make_cert() {
	local name=$1 ext=$2 d from to
	from=$(date -u -d "$3" +%y%m%d%H%M%SZ)
	to=$(date -u -d "$4" +%y%m%d%H%M%SZ)
	ca_scratch "ca-$1"
	d=$CA_DIR
	cat >>"$d/ca.cnf" <<-EOF
	policy = anything
	unique_subject = no
	[ anything ]
	commonName = supplied
	[ client ]
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = clientAuth
	[ no_signature ]
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,keyEncipherment
	extendedKeyUsage = clientAuth
	[ server_only ]
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = serverAuth
	EOF
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$name" -keyout "$T/pki/clients/$name.key" \
	    -out "$d/csr" >>"$d/log" 2>&1 &&
	openssl ca -batch -config "$d/ca.cnf" -cert "$T/pki/ca.pem" \
	    -keyfile "$T/pki/ca.key" -in "$d/csr" -notext -extensions "$ext" \
	    -startdate "$from" -enddate "$to" \
	    -out "$T/pki/clients/$name.pem" >>"$d/log" 2>&1 ||
	    { diag_file "$d/log"; fail "cannot make the certificate $name"; }
}

# The certificates of attack_certs, and carol revoked; before takd starts.
make_bad_certs() {
	use_pki "$T/other" other
	make_cert fine client '-5 minutes' '+1 day'
	make_cert expired client '-2 days' '-1 day'
	make_cert future client '+1 day' '+2 days'
	make_cert no_sig no_signature '-5 minutes' '+1 day'
	make_cert server_only server_only '-5 minutes' '+1 day'
	make_crl "$T/pki" "$T/pki/crl.pem" carol
}

# Client certificates takd must refuse: another CA, expired, not yet valid,
# revoked, a key usage without digitalSignature, an extended key usage of
# serverAuth only.  A certificate made the same way without any of these
# defects gets in (so each refusal is for its defect).
attack_certs() {
	local n name
	local -a names=(other expired future revoked no_sig server_only) res=(
	    'unable to get local issuer certificate|unable to verify the first certificate'
	    'certificate has expired' 'certificate is not yet valid'
	    'certificate revoked' 'unsuitable certificate purpose'
	    'unsuitable certificate purpose')
	phase "client certificates"
	attack fine $(client_args fine) --hold 1
	attack other $(client_args alice "$T/other") --hold 3
	attack expired $(client_args expired) --hold 3
	attack future $(client_args future) --hold 3
	attack revoked $(client_args carol) --hold 3
	attack no_sig $(client_args no_sig) --hold 3
	attack server_only $(client_args server_only) --hold 3
	pair_mid
	cot_wait fine 0 20
	for n in "${!names[@]}"; do
		name=${names[$n]}
		closed_with "$name" 1 "handshake failed: .*(${res[$n]})"
		expect_grep '^handshake failed: ' "$T/$name.out"
	done
	phase_end handshakes_failed=6 revoked_refused=1 handshakes_ok=1
}

tls_handshake() {
	PHASES=3
	setup_pki
	make_bad_certs
	setup_takd
	attack_tls_garbage
	attack_plaintext
	attack_certs
	pair_end
}

# --- XML entities ------------------------------------------------------------

# The billion laughs, as the sample has it (a DOCTYPE before the event) and
# with its DOCTYPE inside the event, where only the parser can see it.  Both
# close their session, nothing is expanded (the workers' peak memory stays
# put; expanded, the sample would take 870 MB).
attack_entity_bomb() {
	local pid before=() n=0 grew
	phase "entity expansion bomb"
	for pid in $PIDS0; do
		before+=("$(proc_kb "$pid" VmHWM)")
	done
	sed -n 's/^<!DOCTYPE event \(\[.*\]\)>$/\1/p' \
	    "$HOSTILE/entity-bomb.xml" >"$T/subset"
	[ -s "$T/subset" ] || fail "no internal subset in entity-bomb.xml"
	event "$T/inner.xml" hx-bomb2 \
	    "<!DOCTYPE event $(cat "$T/subset")><remarks>&h;</remarks>"
	attack b1 $(client_args carol) --send "$HOSTILE/entity-bomb.xml" \
	    --hold 10
	attack b2 $(client_args carol) --send "$T/inner.xml" --hold 10
	pair_mid
	closed_with b1 3 'closed: DOCTYPE in the stream'
	closed_with b2 3 'closed: malformed event'
	expect_delta closed.framing=1 dropped.malformed=1
	for pid in $PIDS0; do
		grew=$(( $(proc_kb "$pid" VmHWM) - before[n] ))
		diag "worker $pid: peak memory grew by $grew kB"
		[ "$grew" -lt 65536 ] ||
		    fail "worker $pid: peak memory grew by $grew kB"
		n=$((n + 1))
	done
	phase_end
}

# http_listener: a TCP listener that logs every connection to $T/fetches;
# prints its port.
http_listener() {
	cot_spawn listener python3 -c '
import socket, sys, os
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, a = s.accept()
    with open(sys.argv[2], "a") as f:
        f.write("connection from %s:%d\n" % a)
    c.close()
' "$T/http.port" "$T/fetches"
	wait_for 5 test -s "$T/http.port" || fail "no HTTP listener"
}

# External entities: a local file (one of ours, whose access time would show
# a read, and /etc/passwd) and URLs on a listener of ours (an entity, a
# parameter entity, an external DTD), declared before the event and inside
# it, and an entity never declared.  Every session closed, the file never
# read, no connection to the listener, nothing of the file in what P and Q
# receive (their scripts forbid the start of /etc/passwd).
attack_external_entities() {
	local port secret=$T/secret.txt url n atime decl
	local -a files=() res=()
	phase "external entities"
	http_listener
	port=$(cat "$T/http.port")
	url=http://127.0.0.1:$port
	echo "hx-secret-$RANDOM$RANDOM" >"$secret"
	chmod 644 "$secret"
	touch -a -d '2001-01-01 00:00:00' "$secret"
	atime=$(stat -c %X "$secret")
	n=0
	for decl in "[<!ENTITY x SYSTEM \"file://$secret\">]" \
	    '[<!ENTITY x SYSTEM "file:///etc/passwd">]' \
	    "[<!ENTITY x SYSTEM \"$url/entity\">]" \
	    "[<!ENTITY % p SYSTEM \"$url/param\"> %p;]" \
	    "SYSTEM \"$url/dtd\""; do
		{ printf '<?xml version="1.0"?>\n<!DOCTYPE event %s>\n' "$decl"
		    ev_head "hx-xxe$n"; printf '<remarks>&x;</remarks>'; ev_tail
		    } >"$T/x$n.xml"
		files+=("$T/x$n.xml")
		res+=('closed: DOCTYPE in the stream')
		n=$((n + 1))
	done
	event "$T/x$n.xml" "hx-xxe$n" "<!DOCTYPE event [<!ENTITY x SYSTEM \"file://$secret\"><!ENTITY y SYSTEM \"$url/inner\">]><remarks>&x;&y;</remarks>"
	files+=("$T/x$n.xml")
	res+=('closed: malformed event')
	n=$((n + 1))
	event "$T/x$n.xml" "hx-xxe$n" '<remarks>&x;</remarks>'
	files+=("$T/x$n.xml")
	res+=('closed: malformed event')
	files+=("$HOSTILE/external-entity.xml")
	res+=('closed: DOCTYPE in the stream')
	for n in "${!files[@]}"; do
		attack "x$n" $(client_args carol) --send "${files[$n]}" --hold 10
	done
	pair_mid
	for n in "${!files[@]}"; do
		closed_with "x$n" 3 "${res[$n]}"
	done
	phase_end closed.framing=6 dropped.malformed=2
	[ ! -s "$T/fetches" ] ||
	    fail "takd connected to our listener: $(cat "$T/fetches")"
	expect_eq "$(stat -c %X "$secret")" "$atime" "access time of $secret"
	# Both detectors work: a read moves the access time, a connection is
	# logged.
	cat "$secret" >/dev/null
	[ "$(stat -c %X "$secret")" != "$atime" ] ||
	    fail "reading $secret does not change its access time here"
	# (A connection and nothing sent: the listener hangs up at once.)
	( : >/dev/tcp/127.0.0.1/"$port" ) 2>/dev/null ||
	    fail "cannot reach our own listener"
	wait_for 5 test -s "$T/fetches" || fail "our listener logs nothing"
}

xml_entities() {
	PHASES=2
	setup
	attack_entity_bomb
	attack_external_entities
	pair_end
}

# --- events: size, end, nesting, bytes -------------------------------------

# exact_event FILE UID BYTES: an event of exactly BYTES bytes, "<event" to
# "</event>", no newline: a drawing (u-d-f), which only max_event_bytes
# bounds (positions and chat have smaller caps of their own).
exact_event() {
	local head tail fill
	head="<event version=\"2.0\" uid=\"$2\" type=\"u-d-f\" how=\"h-g-i-g-o\" time=\"2026-11-23T08:00:00Z\" start=\"2026-11-23T08:00:00Z\" stale=\"2099-01-01T00:00:00Z\"><point lat=\"1\" lon=\"2\" hae=\"0\" ce=\"9\" le=\"9\"/><detail><remarks>"
	tail='</remarks></detail></event>'
	fill=$(( $3 - ${#head} - ${#tail} ))
	{
		printf '%s' "$head"
		head -c "$fill" /dev/zero | tr '\0' x
		printf '%s' "$tail"
	} >"$1"
	expect_eq "$(wc -c <"$1")" "$3" "size of $1"
}

# An event of max_event_bytes (64k) is relayed whole; one byte more closes
# its session.
attack_oversized() {
	phase "an event of max_event_bytes + 1"
	exact_event "$T/max.xml" hx-max 65536
	exact_event "$T/over.xml" hx-over 65537
	attack m0 $(client_args carol) --send "$T/max.xml" --hold 1
	attack m1 $(client_args carol) --send "$T/over.xml" --hold 10
	pair_mid
	cot_wait m0 0 20
	closed_with m1 3 'closed: event larger than max_event_bytes'
	phase_end closed.framing=1
}

# Events that never end: one that stops half-way, one that trickles on
# forever below max_event_bytes (both closed by partial_timeout, counted
# from its first byte) and one that grows without end (closed at
# max_event_bytes).
attack_never_ending() {
	phase "never-ending events"
	head -c 100 /dev/zero | tr '\0' x >"$T/trickle"
	head -c 8192 /dev/zero | tr '\0' x >"$T/flow"
	cat >"$T/n2.script" <<-EOF
	send $HOSTILE/unclosed-prefix.xml
	send-every 100 $T/trickle
	sleep 10000
	EOF
	cat >"$T/n3.script" <<-EOF
	send $HOSTILE/unclosed-prefix.xml
	send-every 10 $T/flow
	sleep 10000
	EOF
	attack n1 $(client_args carol) --send "$HOSTILE/unclosed-prefix.xml" \
	    --hold 10
	attack n2 $(client_args carol) --script "$T/n2.script"
	attack n3 $(client_args carol) --script "$T/n3.script"
	pair_mid
	closed_with n3 3 'closed: event larger than max_event_bytes'
	closed_with n1 3 'closed: unclosed event'
	closed_with n2 3 'closed: unclosed event'
	expect_closed_after "$T/n1.out" 1800 5000
	expect_closed_after "$T/n2.out" 1800 5000
	phase_end closed.unclosed_event=2 closed.framing=1
}

# 5,000 levels of nesting (35 KB, under max_event_bytes).
attack_deep_nesting() {
	phase "deep nesting"
	attack d1 $(client_args carol) --send "$HOSTILE/deep-nesting.xml" \
	    --hold 10
	pair_mid
	closed_with d1 3 'closed: malformed event: .*(nested deeper|depth)'
	phase_end dropped.malformed=1
}

# Invalid UTF-8: the sample (bytes FF FE in an attribute), and in text an
# overlong "/", a UTF-16 surrogate, a sequence cut short, a code point past
# U+10FFFF.
attack_invalid_utf8() {
	local n bad
	phase "invalid UTF-8"
	n=0
	for bad in '\377\376' '\300\257' '\355\240\200' '\342\202' \
	    '\364\220\200\200'; do
		# (The octal escapes are printf's to expand.)
		{ ev_head "hx-utf$n"; printf "<remarks>a${bad}b</remarks>"
		    ev_tail; } >"$T/u$n.xml"
		n=$((n + 1))
	done
	cp "$HOSTILE/invalid-utf8.xml" "$T/u$n.xml"
	for n in 0 1 2 3 4 5; do
		attack "u$n" $(client_args carol) --send "$T/u$n.xml" --hold 10
	done
	pair_mid
	for n in 0 1 2 3 4 5; do
		closed_with "u$n" 3 'closed: malformed event: .*UTF-8'
	done
	phase_end dropped.malformed=6
}

# NUL bytes: inside an attribute (the sample), in the text of an event, and
# between two events (the one before it is relayed, the one after it not).
attack_nul_bytes() {
	phase "NUL bytes"
	{ ev_head hx-nul1; printf '<remarks>a\000b</remarks>'; ev_tail
	    } >"$T/nul1.xml"
	{ ev_head hx-before; printf '<remarks>fine</remarks>'; ev_tail
	    printf '\000\n'
	    ev_head hx-after; printf '<remarks>never</remarks>'; ev_tail
	    } >"$T/nul2.xml"
	attack z0 $(client_args carol) --send "$HOSTILE/nul-byte.xml" --hold 10
	attack z1 $(client_args carol) --send "$T/nul1.xml" --hold 10
	attack z2 $(client_args carol) --send "$T/nul2.xml" --hold 10
	pair_mid
	closed_with z0 3 'closed: NUL byte'
	closed_with z1 3 'closed: NUL byte'
	closed_with z2 3 'closed: NUL byte'
	phase_end closed.framing=3
}

bad_events() {
	local n
	PHASES=5
	setup cot.max_event_bytes=64k cot.partial_timeout=2s
	attack_oversized
	attack_never_ending
	attack_deep_nesting
	attack_invalid_utf8
	attack_nul_bytes
	pair_end 'uid="hx-(max|before)"'
	for n in p q; do
		expect_eq "$(printed $n | grep -F 'uid="hx-max"' | wc -lc |
		    awk '{ print $1 "/" $2 - 1 }')" 1/65536 \
		    "events/bytes of hx-max received by $n"
		expect_eq "$(printed $n | grep -c 'uid="hx-before"')" 1 \
		    "hx-before events received by $n"
	done
}

# --- flood -------------------------------------------------------------------

# One client sends 10,000 events in about a second (100 every 10 ms) under
# [cot] max_events_per_second = 200: it stays connected, what passes the
# limit reaches P and Q, and everything else is dropped and counted, one
# for one.  The byte budget is off: it would drop most of them first
# (test_sec_flood.sh).  The events are positions of one uid: while they
# wait for [cot] sa_flush_delay (100 ms) in a recipient's queue, each
# newer one supersedes the one queued (docs/datapath.md), so what passed
# is, for each recipient, what it got plus what its worker superseded.  The
# flooder, a recipient of the pair's positions, is alone on a third worker:
# P is the only recipient on worker 0 and Q on worker 1.
flood() {
	local i kp kq sp sq passed dropped addr secs
	setup cot.max_events_per_second=200 cot.max_bytes_per_second=off \
	    server.workers=3
	phase "a flood of 10,000 events/s"
	for i in $(seq 1 100); do
		printf '%s%s%s\n' \
		    '<event version="2.0" uid="hx-flood" type="a-h-G"' \
		    ' how="h-g-i-g-o" time="@NOW@" start="@NOW@" stale="@STALE@">' \
		    "<point lat=\"1\" lon=\"2\" hae=\"0\" ce=\"9\" le=\"9\"/><detail><remarks>flood @SEQ@.$i</remarks></detail></event>"
	done >"$T/flood.tmpl"
	cat >"$T/f.script" <<-EOF
	send-every 10 $T/flood.tmpl count=100
	sleep 2500
	EOF
	cot_place f 2 $(client_args carol) --script "$T/f.script"
	pair_mid
	closed_with f 0 'more than 200 events/s: dropping the excess'
	# takd read all it was sent before the session ended.
	addr=$(cot_addr f)
	wait_for 5 log_line_has "$addr" 'closed: .* 10000 events in' ||
	    fail "the flooder's session did not end with 10000 events in:" \
	    "$(takd_logs | grep -F "$addr" | tail -n 1)"
	secs=$(echo "$LOG_LINE" |
	    sed -n 's/.*, \([0-9]*\) s, [0-9]* bytes and 10000 events in.*/\1/p')
	[ -n "$secs" ] || fail "no session length in: $LOG_LINE"
	phase_end
	dropped=$(delta dropped.rate_limited)
	passed=$((10000 - dropped))
	pair_end 'uid="hx-flood"'
	takd_status || fail "takctl status"
	kp=$(printed p | grep -c 'uid="hx-flood"')
	kq=$(printed q | grep -c 'uid="hx-flood"')
	sp=$(wdelta 0 dropped.superseded)
	sq=$(wdelta 1 dropped.superseded)
	diag "10000 sent, $dropped dropped, $passed passed: P got $kp" \
	    "($sp superseded), Q $kq ($sq); the session lasted $secs s"
	expect_eq "$((kp + sp))" "$passed" \
	    "flood events received by P ($kp) + superseded on worker 0 ($sp)"
	expect_eq "$((kq + sq))" "$passed" \
	    "flood events received by Q ($kq) + superseded on worker 1 ($sq)"
	# Token bucket: one second's worth at once, then 200 a second.
	[ "$passed" -ge 200 ] &&
	    [ "$passed" -le $((200 + 200 * (secs + 1))) ] ||
	    fail "$passed events passed a limit of 200/s in a session of $secs s"
}

# wdelta ID FIELD: FIELD of worker ID moved by this much since the
# snapshot of the phase (wfield reads only the latest status).
wdelta() {
	awk -F '\t' -v id="$1" -v f="$2" '
	    FNR == 1 { n++ }
	    $1 ~ /^workers\.[0-9]+\.id$/ && $2 == id {
		    split($1, p, "."); want[n] = "workers." p[2] "." f }
	    { v[n, $1] = $2 }
	    END { print v[2, want[2]] - v[1, want[1]] }' \
	    "$T/status0.flat" "$T/status.flat"
}

# --- never handshaken ---------------------------------------------------------

# 2,000 connections that never start a handshake: all closed by the
# handshake timeout, every descriptor given back.  From one address they
# would now mostly evict each other ([tls] max_handshakes, 1,000 a worker,
# and max_handshakes_per_address: test_sec_admission.sh); without those
# limits this case keeps testing the timeout's path.
never_handshaken() {
	local ports
	setup tls.max_handshakes=0
	phase "2,000 connections never handshaken"
	cot_bg raw --raw --count 2000 --parallel --hold 20 --timeout 15 \
	    --verbose
	wait_for 20 eval 'takd_status && [ "$(delta accepted)" -ge 2000 ]' ||
	    fail "takd accepted $(delta accepted) of 2000 connections"
	diag "2000 connections accepted, $(wsum handshaking) waiting," \
	    "workers' open_fds $(open_fds "$T/status.flat")"
	pair_mid
	cot_wait raw 3 30
	expect_grep '^2000 sessions: 0 ok, 0 failed, 2000 closed early$' \
	    "$T/raw.out"
	phase_end handshake_timeouts=2000 handshakes_failed=0
	diag "workers' open_fds: $(open_fds "$T/status0.flat")before," \
	    "$(open_fds "$T/status.flat")after"
	# The log names them (rate-limited, ten lines a second and worker: some
	# of them).
	sed -n 's/^\[[0-9]*\] local address 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
	    "$T/raw.out" | sort -u >"$T/raw.ports"
	takd_logs | sed -n 's/.*peer 127\.0\.0\.1:\([0-9]*\): handshake timed out.*/\1/p' |
	    sort -u >"$T/timed.ports"
	ports=$(comm -12 "$T/raw.ports" "$T/timed.ports" | wc -l)
	diag "$ports handshake-timeout log lines name one of the 2000"
	[ "$ports" -ge 1 ] || fail "no 'handshake timed out' line names them"
	pair_end
}

run_case tls_handshake
run_case xml_entities
run_case bad_events
run_case flood
run_case never_handshaken
finish
