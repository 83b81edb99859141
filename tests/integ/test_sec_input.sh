#!/usr/bin/env bash
# Security cases about what clients send: input takd must refuse rather
# than relay, tried with real TLS clients against a running takd.  Each
# case asserts on the exact bytes the other clients receive (takclient
# --out), on the attacker's session being closed with a log line naming its
# address and the reason, and on what a client connecting afterwards gets
# in its latest-SA replay.
#
# Issue 12, finding 1: an event smuggled inside an XML declaration.  Before
# the fix takd kept "<?xml ... ?>" up to the first "?>" unexamined and
# relayed and stored it in front of the event after it; receivers cut their
# stream at each "</event>", so a whole event hidden in a declaration
# reached every client as an event of its own and lived on in the replay.
. "$(dirname "$0")/lib.sh"

# stdin with every stale="..." emptied: what takd keeps for the replay has
# its stale time cut to [cot] sa_max_stale (docs/datapath.md).
no_stale() {
	sed 's/ stale="[^"]*"/ stale=""/g'
}

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" server.workers=2 "$@"
	start_takd
	cot_sa_tmpl "$T/sa.tmpl"
}

# sa_event UID [CONTACT]: one SA event on one line, fixed times (stale in
# 2099: never stale, and the bytes are known in advance); CONTACT "yes"
# gives it an identity (contact with callsign and endpoint).
sa_event() {
	local contact=""
	[ "${2:-}" = yes ] &&
	    contact="<contact callsign=\"CS-$1\" endpoint=\"*:-1:stcp\"/>"
	printf '%s%s%s%s%s\n' \
	    "<event version=\"2.0\" uid=\"$1\" type=\"a-f-G-U-C\" how=\"m-g\"" \
	    ' time="2026-11-23T08:00:00.000Z" start="2026-11-23T08:00:00.000Z"' \
	    ' stale="2099-01-01T00:00:00.000Z"><point lat="38.8895"' \
	    ' lon="-77.0353" hae="21.4" ce="9.9" le="9999999.0"/>' \
	    "<detail>$contact<remarks>from $1</remarks></detail></event>"
}

# bytes_clean FILE WHAT: FILE holds printable ASCII and line breaks only,
# no declaration and nothing of the smuggled event.
bytes_clean() {
	local bad
	bad=$(LC_ALL=C tr -d '\n\r\t\040-\176' <"$1" | wc -c)
	[ "$bad" = 0 ] ||
	    fail "$2 got $bad control or non-ASCII bytes: $(LC_ALL=C \
	    tr -d '\n\r\t\040-\176' <"$1" | od -An -c | head -n 2)"
	! grep -q 'smuggled' "$1" || fail "$2 got the smuggled event:" \
	    "$(grep -a -m1 'smuggled' "$1" | cut -c1-200)"
	! grep -q '<?xml' "$1" || fail "$2 got a declaration:" \
	    "$(grep -a -m1 '<?xml' "$1" | cut -c1-200)"
}

# The attack: a declaration that holds a whole event with control
# characters (a terminal escape too), invalid UTF-8 and 200 levels of
# nesting, then "?>" and a valid SA of the attacker's own uid.  The session
# is closed at the smuggled '<'; nothing of it reaches anybody, now or in a
# later replay; the other clients keep being served.
decl_smuggled() {
	local i
	setup
	{
		printf '<?xml version="1.0" encoding="UTF-8" '
		printf '<event version="2.0" uid="smuggled" type="a-f-G-U-C"'
		printf ' how="m-g" time="2026-11-23T08:00:00Z"'
		printf ' start="2026-11-23T08:00:00Z" stale="2099-01-01T00:00:00Z">'
		printf '<point lat="1" lon="2" hae="0" ce="9" le="9"/><detail>'
		printf '<contact callsign="\001\033[2JSMUGGLED" endpoint="*:-1:stcp"/>'
		printf '<remarks>\377\376\300\257</remarks>'
		for i in $(seq 200); do printf '<a>'; done
		for i in $(seq 200); do printf '</a>'; done
		printf '</detail></event>?>\n'
		sa_event sec-s yes
	} >"$T/attack.xml"
	sa_event sec-r1 yes >"$T/r1.xml"
	# R0 (worker 0) and R1 (worker 1) receive; R1 has an SA stored.
	cat >"$T/r0.script" <<-EOF
	forbid grep=smuggled
	forbid uid=sec-s
	expect uid=sec-r1 within=5000
	touch $T/r0-ready
	wait-file $T/l-done within=30000
	EOF
	cat >"$T/r1.script" <<-EOF
	forbid grep=smuggled
	forbid uid=sec-s
	send $T/r1.xml
	wait-file $T/l-done within=30000
	EOF
	cat >"$T/s.script" <<-EOF
	send $T/attack.xml
	sleep 5000
	EOF
	# L comes afterwards: its replay holds R1's SA, nothing else.
	cat >"$T/l.script" <<-EOF
	forbid grep=smuggled
	expect uid=sec-r1 within=5000
	mark
	expect-none within=1000
	EOF
	cot_place r0 0 $(client_args alice) --script "$T/r0.script" \
	    --out "$T/r0.bytes"
	cot_place r1 1 $(client_args bob) --script "$T/r1.script" \
	    --out "$T/r1.bytes"
	wait_for 10 test -e "$T/r0-ready" ||
	    { diag_file "$T/r0.out"; fail "R0 did not get R1's SA"; }
	cot_place s 0 $(client_args carol) --script "$T/s.script"
	cot_wait s 3 20
	expect_log_line "$(cot_addr s)" \
	    "closed: '<' inside an XML declaration \(at stream byte 37\)"
	cot_place l 1 $(client_args carol) --script "$T/l.script" \
	    --out "$T/l.bytes"
	cot_wait l 0
	touch "$T/l-done"
	cot_wait r0 0
	cot_wait r1 0
	bytes_clean "$T/r0.bytes" R0
	bytes_clean "$T/r1.bytes" R1
	bytes_clean "$T/l.bytes" "the client connecting afterwards"
	# What they did get: R1's SA, byte for byte (R0 live; L replayed,
	# where takd cuts the stale time to [cot] sa_max_stale).
	tr -d '\n' <"$T/r1.xml" >"$T/r1.event"
	grep -qF -- "$(cat "$T/r1.event")" "$T/r0.bytes" ||
	    fail "r0 did not get R1's SA byte for byte"
	no_stale <"$T/l.bytes" >"$T/l.nostale"
	grep -qF -- "$(no_stale <"$T/r1.event")" "$T/l.nostale" ||
	    fail "l did not get R1's SA byte for byte (but its stale time)"
	takd_status || fail "no status"
	expect_eq "$(wsum closed.framing)" 1 "sessions closed for framing"
	expect_eq "$(wsum restarts)" 0 "worker restarts"
}

# Ordinary declarations, in every form clients write (ATAK, WinTAK's
# utf-16, Python's single quotes and us-ascii, a bare version with CRLF):
# each event is relayed byte for byte from "<event", the declarations
# dropped, the sender stays connected, and the SA stored for replay starts
# at "<event" too.
decl_dropped() {
	local f
	setup
	sa_event sec-o yes >"$T/e1"
	sa_event sec-m2 >"$T/e2"
	sa_event sec-m3 >"$T/e3"
	sa_event sec-m4 >"$T/e4"
	{
		printf '%s\n' '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
		cat "$T/e1"
		printf '%s\n' '<?xml version="1.0" encoding="utf-16"?>'
		cat "$T/e2"
		printf "<?xml version='1.0' encoding='us-ascii'?>"
		cat "$T/e3"
		printf '<?xml version="1.0"?>\r\n'
		cat "$T/e4"
	} >"$T/o.xml"
	for f in e1 e2 e3 e4; do
		tr -d '\n' <"$T/$f"
	done >"$T/expected"
	tr -d '\n' <"$T/e1" >"$T/expected-replay"
	# O leaves only once R has: its disconnect notice must not reach R.
	cat >"$T/o.script" <<-EOF
	send $T/o.xml
	wait-file $T/r-gone within=30000
	EOF
	cat >"$T/r.script" <<-EOF
	expect uid=sec-o uid=sec-m2 uid=sec-m3 uid=sec-m4 within=5000
	touch $T/r-got
	wait-file $T/l-done within=30000
	EOF
	cat >"$T/l.script" <<-EOF
	expect uid=sec-o within=5000
	mark
	expect-none within=1000
	EOF
	cot_place r 1 $(client_args bob) --script "$T/r.script" \
	    --out "$T/r.bytes"
	cot_place o 0 $(client_args alice) --script "$T/o.script"
	wait_for 10 test -e "$T/r-got" ||
	    { diag_file "$T/r.out"; fail "R did not get O's four events"; }
	cot_place l 1 $(client_args carol) --script "$T/l.script" \
	    --out "$T/l.bytes"
	cot_wait l 0
	touch "$T/l-done"
	cot_wait r 0
	touch "$T/r-gone"
	# O ended its script connected: takclient exits 3 when closed early.
	cot_wait o 0
	# The replay's stale time is takd's ([cot] sa_max_stale).
	no_stale <"$T/expected-replay" >"$T/expected-replay.ns"
	no_stale <"$T/l.bytes" >"$T/l.ns"
	for f in r.bytes:expected l.ns:expected-replay.ns; do
		expect_bytes "$T/${f#*:}" "$T/${f%:*}" "${f%%.*} did not get" \
		    "the events byte for byte without their declarations"
	done
	takd_status || fail "no status"
	expect_eq "$(wsum closed.framing)" 0 "sessions closed for framing"
}

run_case decl_smuggled
run_case decl_dropped
finish
