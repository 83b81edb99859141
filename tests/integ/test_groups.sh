#!/usr/bin/env bash
# Groups in the workers (issue 15): who may see whom, with real TLS and
# plain clients over two workers.  The users file is not wired yet: the
# groups come from the certificates' O and OU ([auth] ou_groups) and from
# the plain listener ([tcp] group).
#
#   ou_isolated  blue1, blue2 (OU=Blue) and red1, red2 (OU=Red), one of
#                each team per worker: each gets its team mate's SA and
#                chat, directed by callsign and by uid, and not one event of
#                the other team (a chat blue sends to red's callsign
#                included); a late blue client's replay holds blue only;
#                red2's departure reaches red1 only; takctl clients lists
#                each session's groups, takctl stats --prometheus the
#                sessions per group, takctl status the withheld deliveries
#   tcp_group    [tcp] group puts the plain client with the blue TLS
#                clients: it sees them and they see it, red sees none of it
. "$(dirname "$0")/lib.sh"

BLUE="takd test/Blue"
RED="takd test/Red"

# ou_cert NAME OU: a client certificate "CN=NAME, O=takd test, OU=OU".
ou_cert() {
	subj_cert "$1" "/CN=$1/O=takd test/OU=$2"
}

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" server.workers=2 auth.ou_groups=yes "$@"
	for c in blue1:Blue blue2:Blue blue3:Blue red1:Red red2:Red; do
		ou_cert "${c%:*}" "${c#*:}"
	done
	start_takd
	cot_sa_tmpl "$T/sa.tmpl"
}

# prom_has LINE: takctl stats --prometheus has the line.
prom_has() {
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/prom" 2>&1 &&
	    grep -qxF -- "$1" "$T/prom"
}

ou_isolated() {
	local n
	setup
	cot_chat "$T/to-b1-cs.ev" chat-1 to-blue1-cs 'callsign="BLUE1"'
	cot_chat "$T/to-b1-uid.ev" chat-2 to-blue1-uid 'uid="b1"'
	cot_chat "$T/to-r1.ev" chat-3 cross-blue 'callsign="RED1"'
	cot_chat "$T/to-r2.ev" chat-4 to-red2 'callsign="RED2"'
	cat >"$T/b1.script" <<-EOF
	forbid uid=r1
	forbid uid=r2
	forbid grep=to-red2
	forbid 'grep=<link uid="r2"'
	send-every 300 $T/sa.tmpl
	expect uid=b2 within=10000
	expect grep=to-blue1-cs within=10000
	expect grep=to-blue1-uid within=10000
	touch $T/b1-ok
	wait-file $T/done
	EOF
	cat >"$T/b2.script" <<-EOF
	forbid uid=r1
	forbid uid=r2
	forbid grep=to-red2
	forbid 'grep=<link uid="r2"'
	send-every 300 $T/sa.tmpl
	expect uid=b1 within=10000
	send $T/to-b1-cs.ev
	send $T/to-b1-uid.ev
	send $T/to-r1.ev
	wait-file $T/done
	EOF
	cat >"$T/r1.script" <<-EOF
	forbid uid=b1
	forbid uid=b2
	forbid uid=b3
	forbid grep=cross-blue
	send-every 300 $T/sa.tmpl
	expect uid=r2 within=10000
	send $T/to-r2.ev
	expect type=t-x-d-d 'grep=<link uid="r2"' within=10000
	touch $T/r1-ok
	wait-file $T/done
	EOF
	cat >"$T/r2.script" <<-EOF
	forbid uid=b1
	forbid uid=b2
	send-every 300 $T/sa.tmpl
	expect uid=r1 within=10000
	expect grep=to-red2 within=10000
	wait-file $T/r2-go
	EOF
	cot_place r1 0 $(subj_args red1) --script "$T/r1.script" --uid r1 \
	    --callsign RED1
	cot_place b1 0 $(subj_args blue1) --script "$T/b1.script" --uid b1 \
	    --callsign BLUE1
	cot_place b2 1 $(subj_args blue2) --script "$T/b2.script" --uid b2 \
	    --callsign BLUE2
	cot_place r2 1 $(subj_args red2) --script "$T/r2.script" --uid r2 \
	    --callsign RED2
	wait_for 15 test -e "$T/b1-ok" || { diag_file "$T/b1.out" 40;
	    fail "blue1 did not get blue2's SA and chats"; }
	# A newcomer's replay: blue only.
	expect_client 0 $(subj_args blue3) --expect-uid b1 --expect-uid b2 \
	    --forbid uid=r1 --forbid uid=r2 --wait 5
	# What takctl shows while all four are there.
	"$TAKCTL" -c "$CFG" clients --json >"$T/clients.json" 2>&1 ||
	    { diag_file "$T/clients.json"; fail "takctl clients --json"; }
	grep -qF "\"in\":[\"$BLUE\"],\"out\":[\"$BLUE\"]" "$T/clients.json" &&
	    grep -qF "\"in\":[\"$RED\"],\"out\":[\"$RED\"]" "$T/clients.json" ||
	    { diag_file "$T/clients.json"; fail "takctl clients: no groups"; }
	wait_for 5 prom_has "takd_group_sessions{group=\"$BLUE\"} 2" &&
	    prom_has "takd_group_sessions{group=\"$RED\"} 2" ||
	    { grep group_sessions "$T/prom" | sed 's/^/#   /';
	    fail "takd_group_sessions: Blue 2, Red 2 wanted"; }
	touch "$T/r2-go"
	cot_wait r2 0
	wait_for 10 test -e "$T/r1-ok" || { diag_file "$T/r1.out" 40;
	    fail "red1 was not told that red2 left"; }
	sleep 1	# for a late notice to reach blue (it must not)
	touch "$T/done"
	cot_wait b1 0
	cot_wait b2 0
	cot_wait r1 0
	takd_status
	n=$(wsum withheld.directed)
	[ "$n" -ge 1 ] || fail "withheld.directed is $n, not >= 1"
	n=$(wsum withheld.notice)
	[ "$n" -ge 2 ] || fail "withheld.notice is $n, not >= 2"
	n=$(wsum withheld.replay)
	[ "$n" -ge 2 ] || fail "withheld.replay is $n, not >= 2"
	n=$(wsum withheld.broadcast)
	[ "$n" -ge 10 ] || fail "withheld.broadcast is $n, not >= 10"
}

tcp_group() {
	local port
	setup tcp.listen=127.0.0.1:0 "tcp.group=$BLUE"
	port=$(listener_port tcp)
	[ -n "$port" ] && [ "$port" != 0 ] || fail "no tcp listener port"
	cat >"$T/b1.script" <<-EOF
	forbid uid=r1
	send-every 300 $T/sa.tmpl
	expect uid=p1 within=10000
	touch $T/b1-ok
	wait-file $T/done
	EOF
	cat >"$T/r1.script" <<-EOF
	forbid uid=p1
	forbid uid=b1
	send-every 300 $T/sa.tmpl
	wait-file $T/done
	EOF
	cat >"$T/p1.script" <<-EOF
	forbid uid=r1
	send-every 300 $T/sa.tmpl
	expect uid=b1 within=10000
	wait-file $T/done
	EOF
	cot_place r1 0 $(subj_args red1) --script "$T/r1.script" --uid r1 \
	    --callsign RED1
	cot_place b1 1 $(subj_args blue1) --script "$T/b1.script" --uid b1 \
	    --callsign BLUE1
	cot_spawn p1 "$TAKCLIENT" --connect "127.0.0.1:$port" --plain \
	    --verbose --script "$T/p1.script" --uid p1 --callsign PAPA
	wait_for 15 test -e "$T/b1-ok" || { diag_file "$T/b1.out" 40;
	    fail "blue1 did not see the plain client"; }
	sleep 1
	touch "$T/done"
	cot_wait p1 0
	cot_wait b1 0
	cot_wait r1 0
	log_has "every session in group \"$BLUE\"" ||
	    fail "no log line naming the plain listener's group"
}

run_case ou_isolated
run_case tcp_group
finish
