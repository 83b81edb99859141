#!/usr/bin/env bash
# TAK protocol v1 in takd (issue 16), with real clients over two workers:
# the XML clients are takclient, the v1 clients tests/integ/takp/
# v1client.py, a client written without takd's code (Debian's
# python3-protobuf on protoc's classes of proto/, Python's ssl and
# ElementTree), so that a fault shared by takd's codec and a test client
# built on it cannot hide.
#
#   mixed_fleet     an XML client on worker 0 and a v1 client on worker 1
#                   exchange SA, chats to each other's callsign and pings;
#                   each gets the other's events in its own encoding, with
#                   the same uid, type, point, callsign, group and detail;
#                   a later v1 client gets the latest-SA replay in v1 (the
#                   v1 sender's SA kept as XML, converted back), the
#                   departure of the XML client in v1; takctl clients says
#                   who speaks what, takctl status and /metrics count the
#                   negotiations, conversions and sessions per encoding
#   ignore_offer    a client that never answers the offer stays on XML:
#                   everything it gets, the v1 sender's SA and the replay
#                   included, is XML, not one 0xBF byte
#   refused         a request for version 2 is answered "false"; that
#                   client goes on in XML and is served as before
#   hostile         bad v1 input: a byte other than 0xBF where a frame
#                   starts and a length past max_event_bytes close that
#                   session (logged with peer and subject, counted), a
#                   frame whose message does not decode is dropped and the
#                   session goes on; a v1 frame before any negotiation
#                   closes its session; a plain-TCP v1 client and an XML
#                   bystander are served throughout
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" server.workers=2 cot.protocol_offer=on "$@"
	command -v protoc >/dev/null || fail "protoc is needed (scripts/deps.sh)"
	mkdir -p "$T/py"
	protoc --proto_path="$REPO/proto" --python_out="$T/py" \
	    "$REPO"/proto/*.proto 2>"$T/protoc.err" ||
	    { diag_file "$T/protoc.err"; fail "protoc --python_out"; }
	start_takd
	cot_sa_tmpl "$T/sa.tmpl"
}

# v1_bg NAME ARGS...: the Python v1 client against takd (cot_spawn).
v1_bg() {
	local name=$1
	shift
	cot_spawn "$name" env PYTHONPATH="$T/py" "$PY" \
	    "$REPO/tests/integ/takp/v1client.py" --ca "$T/pki/ca.pem" "$@"
}

# v1_place NAME WORKER ARGS...: v1_bg with the session on worker WORKER.
v1_place() {
	local name=$1 want=$2
	shift 2
	cot_steer "$want"
	v1_bg "$name" --connect "127.0.0.1:$TAKD_PORT" "$@"
	cot_placed "$want" "$name"
}

# prom_has LINE: takctl stats --prometheus has the line.
prom_has() {
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/prom" 2>&1 &&
	    grep -qxF -- "$1" "$T/prom"
}

mixed_fleet() {
	local n
	setup
	cot_chat "$T/to-victor.ev" chat-x to-victor 'callsign="VICTOR"'
	cat >"$T/x.script" <<-EOF
	# Nothing of the negotiation is relayed.
	forbid type=t-x-takp-q
	forbid type=t-x-takp-r
	send-every 300 $T/sa.tmpl
	expect uid=v1 type=a-f-G-U-C 'grep=callsign="VICTOR"' 'grep=<__group name="Cyan" role="Team Member"/>' 'grep=lat="38.8895" lon="-77.0353"' 'grep=<remarks>from-v1</remarks>' within=10000
	expect 'grep=<remarks>to-xray</remarks>' 'grep=<dest callsign="XRAY"/>' within=10000
	send $T/to-victor.ev
	touch $T/x-ok
	wait-file $T/done
	EOF
	cat >"$T/v.script" <<-EOF
	forbid type=t-x-takp-q
	forbid enc=xml type=a-f-G-U-C
	negotiate 1
	send-sa from-v1
	expect enc=v1 uid=x1 type=a-f-G-U-C callsign=XRAY group=Cyan lat=38.8895 lon=-77.0353 grep=<remarks>seq= within=10000
	send-chat callsign=XRAY to-xray
	expect enc=v1 uid=chat-x type=b-t-f grep=<remarks>to-victor</remarks> within=10000
	send-ping
	expect enc=v1 uid=takPong type=t-x-c-t-r within=5000
	touch $T/v-ok
	wait-file $T/x-gone
	expect enc=v1 type=t-x-d-d link=x1 within=10000
	EOF
	cot_place x 0 $(client_args alice) --script "$T/x.script" --uid x1 \
	    --callsign XRAY
	v1_place v 1 $(client_args bob) --script "$T/v.script" --uid v1 \
	    --callsign VICTOR
	wait_for 15 test -e "$T/x-ok" -a -e "$T/v-ok" || {
		diag_file "$T/x.out" 30
		diag_file "$T/v.out" 30
		fail "the XML and v1 clients did not get each other's events"
	}
	# A later v1 client: the replay, in v1, right after the answer; the
	# v1 sender's SA was kept as XML and comes back as v1 too.
	cat >"$T/w.script" <<-EOF
	negotiate 1
	expect enc=v1 uid=x1 callsign=XRAY lat=38.8895 within=3000
	expect enc=v1 uid=v1 callsign=VICTOR grep=<remarks>from-v1</remarks> within=3000
	EOF
	v1_place w 0 $(client_args carol) --script "$T/w.script" --uid w1 \
	    --callsign WHISKEY
	cot_wait w 0
	# Who speaks what.
	"$TAKCTL" -c "$CFG" clients --json >"$T/clients.json" 2>&1 ||
	    { diag_file "$T/clients.json"; fail "takctl clients --json"; }
	"$PY" - "$T/clients.json" <<-'EOF' || fail "takctl clients: encodings"
	import json, sys
	enc = {c["uid"]: c["encoding"] for c in json.load(open(sys.argv[1]))}
	sys.exit(0 if enc.get("x1") == "xml" and enc.get("v1") == "v1" else 1)
	EOF
	"$TAKCTL" -c "$CFG" clients >"$T/clients.txt" 2>&1
	grep -Eq '^VICTOR +v1 +1 .* v1 +127\.0\.0\.1:[0-9]+ ' "$T/clients.txt" ||
	    { diag_file "$T/clients.txt"; fail "takctl clients: no ENC column"; }
	wait_for 5 prom_has 'takd_sessions_by_encoding{worker="1",encoding="v1"} 1' ||
	    { grep encoding "$T/prom" | sed 's/^/#   /';
	    fail "takd_sessions_by_encoding: one v1 session on worker 1"; }
	# The XML client leaves: the v1 client is told in v1.
	touch "$T/done"
	cot_wait x 0
	touch "$T/x-gone"
	cot_wait v 0
	takd_status
	n=$(wsum takp.offered)
	[ "$n" -eq 3 ] || fail "takp.offered is $n, not 3"
	n=$(wsum takp.accepted)
	[ "$n" -eq 2 ] || fail "takp.accepted is $n, not 2"
	n=$(wsum takp.xml_to_v1)
	[ "$n" -ge 3 ] || fail "takp.xml_to_v1 is $n, not >= 3"
	n=$(wsum takp.v1_to_xml)
	[ "$n" -ge 2 ] || fail "takp.v1_to_xml is $n, not >= 2"
	n=$(wsum takp.xml_to_v1_failed)
	[ "$n" -eq 0 ] || fail "takp.xml_to_v1_failed is $n"
	log_has 'TAK protocol version 1 asked for: switched to v1 .*subject "CN=bob"' ||
	    fail "no log line of bob's switch to v1"
}

ignore_offer() {
	setup
	cat >"$T/v.script" <<-EOF
	negotiate 1
	send-sa early
	expect enc=v1 uid=x1 within=10000
	send-sa late
	wait-file $T/done
	EOF
	# The replay first (v's only SA so far), then live traffic.
	cat >"$T/x.script" <<-EOF
	expect uid=v1 'grep=<remarks>early</remarks>' within=10000
	send-every 300 $T/sa.tmpl
	expect uid=v1 'grep=<remarks>late</remarks>' 'grep=callsign="VICTOR"' within=10000
	EOF
	v1_place v 1 $(client_args bob) --script "$T/v.script" --uid v1 \
	    --callsign VICTOR
	wait_for 10 grep -q '^negotiated 1: true' "$T/v.out" ||
	    { diag_file "$T/v.out"; fail "v did not switch to v1"; }
	# Connects after v's SA: its replay (XML, after the offer's wait)
	# brings v's SA before the live one.
	sleep 0.5
	cot_place x 0 $(client_args alice) --script "$T/x.script" --uid x1 \
	    --callsign XRAY --out "$T/x.bytes"
	cot_wait x 0
	touch "$T/done"
	cot_wait v 0
	grep -q 't-x-takp-v' "$T/x.bytes" || fail "x got no offer"
	LC_ALL=C grep -q $'\xbf' "$T/x.bytes" &&
	    fail "x never asked for v1 but got a 0xBF byte"
	takd_status
	n=$(wsum takp.sessions_v1)
	[ "$n" -eq 0 ] || fail "takp.sessions_v1 is $n after both left"
	n=$(wsum events.sa_replayed)
	[ "$n" -ge 1 ] || fail "x got no replay (events.sa_replayed $n)"
}

refused() {
	setup
	cat >"$T/r.script" <<-EOF
	forbid enc=v1
	negotiate 2 false
	send-sa still-xml
	expect enc=xml uid=x1 callsign=XRAY within=10000
	wait-file $T/done
	EOF
	cat >"$T/x.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=r1 'grep=<remarks>still-xml</remarks>' within=10000
	EOF
	v1_place r 1 $(client_args bob) --script "$T/r.script" --uid r1 \
	    --callsign ROMEO
	cot_place x 0 $(client_args alice) --script "$T/x.script" --uid x1 \
	    --callsign XRAY
	cot_wait x 0
	touch "$T/done"
	cot_wait r 0
	takd_status
	n=$(wsum takp.refused)
	[ "$n" -eq 1 ] || fail "takp.refused is $n, not 1"
	log_has 'TAK protocol version 2 asked for: refused: takd speaks version 1' ||
	    fail "no log line of the refusal"
}

hostile() {
	local port
	setup tcp.listen=127.0.0.1:0
	port=$(listener_port tcp)
	[ -n "$port" ] && [ "$port" != 0 ] || fail "no tcp listener port"
	cat >"$T/b.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=g1 'grep=<remarks>after-garbage</remarks>' within=15000
	EOF
	# The good one, over the plain listener.
	cat >"$T/g.script" <<-EOF
	negotiate 1
	send-raw bf 04 ff ff ff ff
	send-raw 00 bf 02 0a 00
	send-sa after-garbage
	expect enc=v1 uid=b1 within=10000
	wait-file $T/done
	EOF
	cot_place b 0 $(client_args alice) --script "$T/b.script" --uid b1 \
	    --callsign BRAVO
	v1_bg g --connect "127.0.0.1:$port" --plain --script "$T/g.script" \
	    --uid g1 --callsign GOLF
	for h in magic:1603010000 huge:bfffffffff0f xml:3c6576656e74; do
		cat >"$T/${h%%:*}.script" <<-EOF
		negotiate 1
		send-raw ${h#*:}
		expect-closed within=5000
		EOF
		v1_bg "${h%%:*}" --connect "127.0.0.1:$TAKD_PORT" \
		    $(client_args carol) --script "$T/${h%%:*}.script"
	done
	# 0xBF on an XML session, never negotiated.
	cat >"$T/early.script" <<-EOF
	send-raw bf 02 0a 00
	expect-closed within=5000
	EOF
	v1_bg early --connect "127.0.0.1:$TAKD_PORT" $(client_args carol) \
	    --script "$T/early.script"
	for h in magic huge xml early; do
		cot_wait "$h" 0
	done
	cot_wait b 0
	touch "$T/done"
	cot_wait g 0
	log_has 'closed: not a TAK protocol v1 frame: 0x16 where 0xBF must start one .*subject "CN=carol"' ||
	    fail "no log line for the bad lead byte"
	log_has 'closed: TAK protocol v1 frame of 4294967295 bytes, larger than max_event_bytes' ||
	    fail "no log line for the huge length"
	log_has "closed: TAK protocol v1 frame but v1 was not negotiated" ||
	    fail "no log line for v1 before the negotiation"
	log_has 'TAK protocol v1 message dropped: .*plain TCP' ||
	    fail "no log line for the dropped message"
	takd_status
	n=$(wsum takp.framing_errors)
	[ "$n" -eq 3 ] || fail "takp.framing_errors is $n, not 3"
	n=$(wsum closed.framing)
	[ "$n" -eq 4 ] || fail "closed.framing is $n, not 4"
	n=$(wsum dropped.takp_invalid)
	[ "$n" -eq 1 ] || fail "dropped.takp_invalid is $n, not 1"
	n=$(wsum dropped.takp_control)
	[ "$n" -eq 1 ] || fail "dropped.takp_control is $n, not 1"
	n=$(wsum takp.zeros_skipped)
	[ "$n" -eq 1 ] || fail "takp.zeros_skipped is $n, not 1"
}

run_case mixed_fleet
run_case ignore_offer
run_case refused
run_case hostile
finish
