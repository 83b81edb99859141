#!/usr/bin/env bash
# Identities are bound to certificates, and stored positions cannot be
# poisoned (issue 12, findings 2 and 5): with real TLS clients and two
# certificates, alice and mallory, on two workers.
#
#   impostor         mallory binding alice's live uid or callsign is refused:
#                    she gets none of alice's directed messages, alice's
#                    stored SA stays alice's, alice's disconnect notice is
#                    still sent; mallory's forged t-x-d-d for alice, pongs
#                    and t-x-takp-* reach nobody
#   takeover         alice reconnecting with the same certificate on the
#                    other worker takes her uid over: the old session is
#                    closed, nobody is told she left
#   stale_clamped    stale="9999-..." is cut to sa_max_stale in the replay
#   flood_capped     60 sessions of one certificate with a new uid each: 30
#                    (sa_uids_per_cert) are kept; a gateway (relay_certs)
#                    stores 150 tracks; a newcomer's replay, newest first,
#                    still has alice though the junk sorts first
#   takctl_sa        takctl sa list / purge UID / --cert NAME / --all
#   revoked_purged   a revoked certificate's stored SA is gone after reload
#   full_state_dir   takd starts and serves with a full state_dir
. "$(dirname "$0")/lib.sh"

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" server.workers=2 "$@"
	expect_ctl 0 pki client mallory --password test
	start_takd
	cot_sa_tmpl "$T/sa.tmpl"
}

# ev FILE UID TYPE [DETAIL]: a one-line event with a fixed uid.
ev() {
	printf '<event version="2.0" uid="%s" type="%s" how="h-g-i-g-o" time="@NOW@" start="@NOW@" stale="@STALE@"><point lat="1" lon="2" hae="0" ce="9" le="9"/><detail>%s</detail></event>\n' \
	    "$2" "$3" "${4:-}" >"$1"
}

# sa FILE UID CALLSIGN REMARKS [STALE]: an identity SA with fixed values
# (FILE "-": to stdout).
sa() {
	local f=$1
	shift
	if [ "$f" = - ]; then
		_sa "$@"
	else
		_sa "$@" >"$f"
	fi
}

_sa() {
	printf '<event version="2.0" uid="%s" type="a-f-G-U-C" how="m-g" time="@NOW@" start="@NOW@" stale="%s"><point lat="1" lon="2" hae="0" ce="9" le="9"/><detail><contact callsign="%s" endpoint="*:-1:stcp"/><remarks>%s</remarks></detail></event>\n' \
	    "$1" "${4:-@STALE@}" "$2" "$3"
}

sa_list() {
	"$TAKCTL" -c "$CFG" sa list --json >"$T/sa.json" 2>"$T/sa.err" ||
	    { diag_file "$T/sa.err"; fail "takctl sa list --json"; }
	json_flat <"$T/sa.json" >"$T/sa.flat"
}

# sa_field UID KEY: KEY of UID's stored SA (last sa_list); 1 when absent.
sa_field() {
	awk -F '\t' -v uid="$1" -v k="$2" '
	    $1 ~ /\.uid$/ && $2 == uid { split($1, p, "."); want = p[1] }
	    { v[$1] = $2 }
	    END { if (want == "") exit 1; print v[want "." k] }' "$T/sa.flat"
}

impostor() {
	local n
	setup
	sa "$T/m-alice.ev" id-a ALICE forged-uid
	sa "$T/m-cs.ev" id-m ALICE forged-callsign
	sa "$T/m-own.ev" id-m MALLORY mallory-real
	ev "$T/m-marker.ev" id-a a-h-G '<remarks>forged-marker</remarks>'
	ev "$T/m-dd.ev" dd-1 t-x-d-d \
	    '<link uid="id-a" type="a-f-G-U-C" relation="p-p"/><remarks>forged-dd</remarks>'
	ev "$T/m-pong.ev" takPong t-x-c-t-r '<remarks>forged-pong</remarks>'
	ev "$T/m-takp.ev" tp-1 t-x-takp-v '<remarks>forged-takp</remarks>'
	ev "$T/c-chat.ev" chat-1 b-t-f \
	    '<remarks>to-alice</remarks><marti><dest callsign="ALICE"/></marti>'
	ev "$T/c-chat2.ev" chat-2 b-t-f \
	    '<remarks>to-alice-uid</remarks><marti><dest uid="id-a"/></marti>'
	cat >"$T/a.script" <<-EOF
	forbid grep=forged
	send-every 300 $T/sa.tmpl
	expect grep=to-alice< within=10000
	expect grep=to-alice-uid< within=10000
	wait-file $T/a-leave
	EOF
	cat >"$T/c.script" <<-EOF
	forbid grep=forged
	expect uid=id-a within=5000
	touch $T/a-seen
	expect uid=id-m grep=mallory-real within=10000
	send $T/c-chat.ev
	send $T/c-chat2.ev
	wait-file $T/a-leave
	expect type=t-x-d-d 'grep=<link uid="id-a"' within=5000
	EOF
	cat >"$T/m.script" <<-EOF
	forbid grep=to-alice
	wait-file $T/a-seen
	send $T/m-alice.ev
	send $T/m-cs.ev
	send $T/m-marker.ev
	sleep 300
	send $T/m-own.ev
	sleep 300
	send $T/m-dd.ev
	send $T/m-pong.ev
	send $T/m-takp.ev
	sleep 300
	touch $T/m-sent
	wait-file $T/a-leave
	sleep 500
	EOF
	cot_place c 1 $(client_args carol) --script "$T/c.script"
	cot_place a 0 $(client_args alice) --script "$T/a.script" \
	    --uid id-a --callsign ALICE
	cot_place m 1 $(client_args mallory) --script "$T/m.script"
	wait_for 15 test -e "$T/m-sent" ||
	    { diag_file "$T/m.out"; fail "mallory did not send everything"; }
	# A newcomer's replay: alice's own SA, nothing of mallory's forgeries.
	expect_client 0 $(client_args bob) --expect-uid id-a --wait 5 \
	    --forbid grep=forged
	sa_list
	sa_field id-a owner | grep -q 'CN=alice' ||
	    fail "id-a stored as $(sa_field id-a owner)"
	touch "$T/a-leave"
	cot_wait a 0
	cot_wait c 0
	cot_wait m 0
	takd_status
	n=$(wsum dropped.identity_refused)
	[ "$n" -ge 3 ] || fail "dropped.identity_refused is $n, not >= 3"
	n=$(wsum dropped.server_only)
	[ "$n" -ge 3 ] || fail "dropped.server_only is $n, not >= 3"
	log_has 'its uid belongs to another certificate \(held by "CN=alice' ||
	    fail "no log line naming both subjects"
}

takeover() {
	setup
	cat >"$T/c.script" <<-EOF
	forbid 'grep=<link uid="id-a"'
	expect uid=id-a within=5000
	touch $T/a1-seen
	wait-file $T/done
	EOF
	cat >"$T/a1.script" <<-EOF
	send-every 300 $T/sa.tmpl
	wait-file $T/never within=20000
	EOF
	cat >"$T/a2.script" <<-EOF
	send-every 300 $T/sa.tmpl
	wait-file $T/a2-leave
	EOF
	cot_place c 1 $(client_args carol) --script "$T/c.script"
	cot_place a1 0 $(client_args alice) --script "$T/a1.script" \
	    --uid id-a --callsign ALICE
	wait_for 10 test -e "$T/a1-seen" || fail "carol did not see alice"
	cot_place a2 1 $(client_args alice) --script "$T/a2.script" \
	    --uid id-a --callsign ALICE
	# The old session is closed by the server.
	cot_wait a1 3 10
	grep -q 'closed by server' "$T/a1.out" ||
	    { diag_file "$T/a1.out"; fail "a1 not closed by takd"; }
	log_has 'uid "id-a" taken over by a new session of the same' ||
	    fail "no takeover log line"
	sleep 1
	touch "$T/done"
	cot_wait c 0
	touch "$T/a2-leave"
	cot_wait a2 0
	takd_status
	expect_eq "$(wsum closed.taken_over)" 1 "closed.taken_over"
}

stale_clamped() {
	setup
	sa "$T/forever.ev" id-f FOREVER seq-1 9999-12-31T23:59:59Z
	expect_client 0 $(client_args mallory "$T/pki") --send "$T/forever.ev" \
	    --hold 1
	expect_client 0 $(client_args bob) --expect-uid id-f --wait 5 \
	    --forbid grep=9999-12-31 --print
	grep -q 'uid="id-f"' "$T/client.out" || fail "id-f not replayed"
	sa_list
	expect_eq "$(sa_field id-f stale_clamped)" true "stale_clamped"
	takd_status
	expect_eq "$(wsum sa_store.stale_clamped)" 1 "sa_store.stale_clamped"
}

flood_capped() {
	local i n
	setup cot.max_queue_bytes=64k cot.sa_uids_per_cert=30 \
	    cot.relay_certs=bob cot.relay_max_uids=200
	# Alice, live: her position before and after the junk.
	cat >"$T/a.script" <<-EOF
	send $T/sa.tmpl
	wait-file $T/junk-done
	send $T/sa.tmpl
	sleep 300
	touch $T/a-sent
	wait-file $T/done
	EOF
	cot_bg a $(client_args alice) --script "$T/a.script" --uid zz-alice \
	    --callsign ALICE
	# Mallory: one session per new uid (in parallel), uids that sort
	# first, 1.6 KB each: the 30 she keeps fill more than half of a
	# newcomer's 64 KiB queue, the replay's budget.
	for i in $(seq 10 69); do
		sa "$T/j$i.ev" "0000-junk-$i" "J$i" "$(head -c 1500 /dev/zero |
		    tr '\0' x)"
		cot_bg "j$i" $(client_args mallory) --send "$T/j$i.ev" --hold 1
	done
	for i in $(seq 10 69); do
		cot_wait "j$i" 0
	done
	# Bob, a gateway (relay_certs), publishes 150 small tracks at once.
	for i in $(seq 100 249); do
		sa - "0001-gw-$i" "G$i" "track"
	done >"$T/gw.ev"
	expect_client 0 $(client_args bob) --send "$T/gw.ev" --hold 1
	touch "$T/junk-done"
	wait_for 5 test -e "$T/a-sent" || fail "alice did not send again"
	sa_list
	n=$(grep -c '0000-junk' "$T/sa.flat")
	expect_eq "$n" 30 "junk SAs kept (sa_uids_per_cert)"
	n=$(grep -c '0001-gw' "$T/sa.flat")
	expect_eq "$n" 150 "gateway SAs kept (relay_max_uids)"
	# Newest first: alice's latest position is replayed, though 180
	# entries that sort first fill more than the replay's budget.
	expect_client 0 $(client_args carol) --expect-uid zz-alice \
	    --expect-grep 'seq=2<' --wait 3
	touch "$T/done"
	cot_wait a 0
	takd_status
	expect_eq "$(wsum sa_store.evicted)" 30 "sa_store.evicted"
}

takctl_sa() {
	local out
	setup
	expect_client 0 $(client_args alice) --send "$T/sa.tmpl" --uid id-a \
	    --callsign ALICE --hold 0.5
	expect_client 0 $(client_args bob) --send "$T/sa.tmpl" --uid id-b \
	    --callsign BOB --hold 0.5
	expect_client 0 $(client_args carol) --send "$T/sa.tmpl" --uid id-c \
	    --callsign CAROL --hold 0.5
	out=$("$TAKCTL" -c "$CFG" sa list) || fail "takctl sa list"
	echo "$out" | grep -q '^id-a .*CN=alice' || fail "sa list: $out"
	echo "$out" | grep -q '3 stored SA events' || fail "sa list: $out"
	out=$("$TAKCTL" -c "$CFG" sa purge id-a) || fail "sa purge id-a"
	expect_eq "$out" "1 stored SA event removed" "sa purge id-a"
	out=$("$TAKCTL" -c "$CFG" sa purge --cert bob) || fail "sa purge bob"
	expect_eq "$out" "1 stored SA event removed" "sa purge --cert bob"
	sa_list
	sa_field id-a uid >/dev/null && fail "id-a still stored"
	sa_field id-b uid >/dev/null && fail "id-b still stored"
	sa_field id-c uid >/dev/null || fail "id-c gone"
	out=$("$TAKCTL" -c "$CFG" sa purge --all) || fail "sa purge --all"
	expect_eq "$out" "1 stored SA event removed" "sa purge --all"
	expect_ctl 64 sa purge
	# A newcomer gets nothing replayed.
	expect_client 0 $(client_args bob) --hold 1 --forbid grep=seq=
}

revoked_purged() {
	setup
	expect_client 0 $(client_args alice) --send "$T/sa.tmpl" --uid id-a \
	    --callsign ALICE --hold 0.5
	expect_client 0 $(client_args bob) --send "$T/sa.tmpl" --uid id-b \
	    --callsign BOB --hold 0.5
	sa_list
	sa_field id-a uid >/dev/null || fail "id-a not stored"
	expect_ctl 0 revoke alice
	sa_list
	sa_field id-a uid >/dev/null && fail "revoked alice's SA still stored"
	sa_field id-b uid >/dev/null || fail "bob's SA gone"
	log_has 'removed 1 SA entry of revoked certificates' ||
	    fail "no purge log line"
}

# takd starts, and serves, when state_dir is full: a small tmpfs, filled.
full_state_dir() {
	mkdir "$T/state"
	mount -t tmpfs -o size=2m,mode=0755 tmpfs "$T/state" ||
	    { echo "# no tmpfs mount (not root?): skipped"; return 0; }
	trap 'rc=$?; umount -l "$T/state" 2>/dev/null; (exit $rc); _case_exit' \
	    EXIT
	# The default layout: run_dir (pidfile, admin socket) is on the full
	# file system too.
	setup
	expect_client 0 $(client_args alice) --send "$T/sa.tmpl" --uid id-a \
	    --callsign ALICE --hold 0.5
	stop_takd
	# (the last pidfile removed first: its page would be the new one's)
	rm -f "$T/state/run/takd.pid"
	dd if=/dev/zero of="$T/state/fill" bs=64k >/dev/null 2>&1
	# and the last pages: not a byte left for the pidfile either.
	i=0
	while [ "$i" -lt 64 ] && printf x >"$T/state/fill$i" 2>/dev/null; do
		i=$((i + 1))
	done
	[ "$(df --output=avail -k "$T/state" | tail -n 1)" -le 4 ] ||
	    fail "state_dir not full"
	start_takd
	cat >"$T/c.script" <<-EOF
	expect uid=id-b within=5000
	EOF
	cot_place c 1 $(client_args carol) --script "$T/c.script"
	cot_place b 0 $(client_args bob) --send "$T/sa.tmpl" --uid id-b \
	    --callsign BOB --hold 1
	cot_wait c 0
	cot_wait b 0
	expect_grep 'no pidfile .*: No space left on device; serving without it' \
	    "$T/takd.log"
	stop_takd
	expect_eq "$TAKD_EXIT" 0 "takd exit status"
}

run_case impostor
run_case takeover
run_case stale_clamped
run_case flood_capped
run_case takctl_sa
run_case revoked_purged
run_case full_state_dir
finish
