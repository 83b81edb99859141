#!/usr/bin/env bash
# Channels (ATAK 4.4+; docs/groups.md "Channels"): PUT
# /Marti/api/groups/active on 8443 with curl and the client certificate,
# the streaming sessions real TLS clients (takclient) over two workers.
#
#   on_off          alice (A and B) turns B off as ATAK does (TAK Server's
#                   Group objects, B's IN and OUT "active":false): from the
#                   200 on she gets nothing of bonly (B) and bfix (B), bonly
#                   nothing of her, while A still flows both ways with
#                   aonly; her other session (alice-2) gets a t-x-g-c, the
#                   session that asked none; groups/all shows B inactive,
#                   groupCacheEnabled true; she turns B on again: bfix's
#                   one stored position comes back to her (only the
#                   replay can bring it) and bonly gets her again
#   refusals        another user's clientUid, a uid nobody holds, no
#                   clientUid: 403, 403, 400; a group alice is not in
#                   turned on 403, turned off taken; malformed JSON,
#                   names instead of objects, a bad direction, nothing on:
#                   400; 40 KB of body 413; a certificate of no user 403;
#                   each counted and logged; nothing changed (groups/all)
#   reconnect_reload
#                   alice (A, B, C) turns C off; she reconnects: still no
#                   C (no replay of conly, no live event), A and B flow; a
#                   reload takes B from her: t-x-g-c, B stops, C stays off
#                   (the choice holds over the new users file), groups/all
#                   shows A on and C off
. "$(dirname "$0")/lib.sh"

ctl() {
	"$TAKCTL" -c "$CFG" "$@" >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl $*"; }
}

# user_add NAME ARGS...: a user of the users file and a certificate CN=NAME.
user_add() {
	local name=$1
	shift
	ctl user add "$name" "$@" --no-password
	subj_cert "$name" "/CN=$name"
}

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" server.workers=2 api.enabled=yes \
	    api.listen=127.0.0.1:0 api.enroll_listen=127.0.0.1:0 "$@"
	cot_sa_tmpl "$T/sa.tmpl"
}

started() {
	start_takd
	APORT=$(listener_port https)
	[ -n "$APORT" ] || fail "no https listener in status"
}

# place NAME WORKER [CERT]: client NAME (uid and callsign from its name) of
# certificate CERT (default NAME) on that worker, running $T/NAME.script.
place() {
	cot_place "$1" "$2" $(subj_args "${3:-$1}") --script "$T/$1.script" \
	    --uid "$1" --callsign "${1^^}" --print
}

# acurl NAME OUT PATH [CURL ARGS...]: a request to 8443 as certificate
# NAME; head in $T/OUT.head, body in $T/OUT.
acurl() {
	local who=$1 out=$2 path=$3
	shift 3
	curl -sS --max-time 10 --cacert "$T/pki/ca.pem" \
	    --resolve "localhost:$APORT:127.0.0.1" \
	    --cert "$T/pki/clients/$who.pem" --key "$T/pki/clients/$who.key" \
	    -D "$T/$out.head" -o "$T/$out" "$@" \
	    "https://localhost:$APORT$path" 2>"$T/$out.err"
}

# put NAME OUT QUERY BODY: PUT /Marti/api/groups/active?QUERY with BODY,
# as ATAK sends it; the status echoed.
put() {
	printf '%s' "$4" >"$T/$2.body"
	acurl "$1" "$2" "/Marti/api/groups/active${3:+?$3}" -X PUT \
	    -H 'Content-Type: application/json' --data-binary "@$T/$2.body"
	http_status "$T/$2.head"
}

# expect_put NAME OUT QUERY BODY CODE: the PUT answered CODE.
expect_put() {
	local got
	got=$(put "$1" "$2" "$3" "$4")
	[ "$got" = "$5" ] && return 0
	diag_file "$T/$2"
	fail "PUT $3 $4 as $1: $got, expected $5"
}

# groups_of NAME: groups/all as NAME, "name/direction=active ..." sorted.
groups_of() {
	acurl "$1" ga /Marti/api/groups/all ||
	    { diag_file "$T/ga.err"; fail "groups/all as $1"; }
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted("%s/%s=%s" % (g["name"], g["direction"],
    str(g["active"]).lower()) for g in d["data"])))' "$T/ga" ||
	    fail "groups/all: not the JSON expected"
}

# group NAME DIR ACTIVE: one Group object as ATAK sends it back.
group() {
	printf '{"name":"%s","direction":"%s","created":"2024-05-01",' "$1" "$2"
	printf '"type":"SYSTEM","bitpos":0,"active":%s,"description":""}' "$3"
}

wait_files() {
	local secs=$1 what=$2 f c
	shift 2
	for f in "$@"; do
		cot_poll "$secs" test -e "$T/$f" && continue
		c=${f%-*}
		grep -v '^<event' "$T/$c.out" 2>/dev/null | tail -n 20 |
		    sed 's/^/#   /'
		fail "$c did not reach $f: $what"
	done
}

# stored UID: the store has UID's position (for a replay to bring it).
stored() {
	"$TAKCTL" -c "$CFG" sa list --json 2>/dev/null |
	    grep -qF "\"uid\":\"$1\""
}

# --- cases --------------------------------------------------------------------

on_off() {
	local n
	setup
	user_add alice --groups A,B
	user_add aonly --groups A
	user_add bonly --groups B
	user_add bfix --groups B
	# alice asked: she never gets a t-x-g-c.  B off: nothing of B after
	# the change; B on: bfix's one position, which only the replay brings
	# (the mark is made while B is off: the replay may come before she
	# sees go-on).
	cat >"$T/alice.script" <<-EOF
	forbid type=t-x-g-c
	send-every 300 $T/sa.tmpl
	expect uid=aonly uid=bonly uid=bfix within=10000
	touch $T/alice-a
	wait-file $T/go-off
	sleep 300
	mark
	expect-none uid=bonly uid=bfix within=1500
	expect uid=aonly within=2000
	mark
	touch $T/alice-b
	wait-file $T/go-on
	expect uid=bfix within=1500
	expect uid=bonly within=2000
	touch $T/alice-c
	wait-file $T/done
	EOF
	# alice's other session: told, with a t-x-g-c linking its uid.
	cat >"$T/alice-2.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=bonly within=10000
	touch $T/alice-2-a
	wait-file $T/go-off
	expect type=t-x-g-c 'grep=<link uid="alice-2" relation="p-p"' within=2000
	sleep 300
	mark
	expect-none uid=bonly within=1000
	touch $T/alice-2-b
	wait-file $T/done
	EOF
	cat >"$T/bonly.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=alice uid=alice-2 within=10000
	touch $T/bonly-a
	wait-file $T/go-off
	sleep 300
	mark
	expect-none uid=alice uid=alice-2 within=1500
	mark
	touch $T/bonly-b
	wait-file $T/go-on
	expect uid=alice within=2000
	touch $T/bonly-c
	wait-file $T/done
	EOF
	cat >"$T/aonly.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=alice within=10000
	touch $T/aonly-a
	wait-file $T/go-off
	sleep 300
	mark
	expect uid=alice uid=alice-2 within=2000
	touch $T/aonly-b
	wait-file $T/done
	EOF
	cat >"$T/bfix.script" <<-EOF
	send $T/sa.tmpl
	wait-file $T/done
	EOF
	started
	place alice 0
	place alice-2 1 alice
	place aonly 1
	place bonly 0
	place bfix 1
	wait_files 15 "the positions before the change" alice-a alice-2-a \
	    aonly-a bonly-a
	cot_poll 5 stored bfix || fail "bfix's position is not stored"
	expect_eq "$(groups_of alice)" \
	    "A/IN=true A/OUT=true B/IN=true B/OUT=true" "groups/all before"
	# B off, as ATAK sends it: every entry of groups/all, B's inactive.
	expect_put alice p1 clientUid=alice "[$(group A IN true),$(group A \
	    OUT true),$(group B IN false),$(group B OUT false)]" 200
	touch "$T/go-off"
	wait_files 10 "B off" alice-b alice-2-b bonly-b aonly-b
	expect_eq "$(groups_of alice)" \
	    "A/IN=true A/OUT=true B/IN=false B/OUT=false" "groups/all, B off"
	acurl alice gc /Marti/api/groups/groupCacheEnabled
	/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["type"] == "java.lang.Boolean" and d["data"] is True, d' \
	    "$T/gc" || { diag_file "$T/gc"; fail "groupCacheEnabled"; }
	log_has 'channels of user "alice" recorded \(asked by uid "alice"\)' ||
	    fail "no log line of the change"
	# B on again.
	expect_put alice p2 clientUid=alice "[$(group A IN true),$(group A \
	    OUT true),$(group B IN true),$(group B OUT true)]" 200
	touch "$T/go-on"
	wait_files 10 "B on again" alice-c bonly-c
	expect_eq "$(groups_of alice)" \
	    "A/IN=true A/OUT=true B/IN=true B/OUT=true" "groups/all, B on"
	touch "$T/done"
	for n in alice alice-2 aonly bonly bfix; do
		cot_wait "$n" 0
	done
	takd_status
	expect_eq "$(sget api.api.channels_set)" 2 "status channels_set"
}

refusals() {
	local body n
	setup
	user_add alice --groups A,B
	user_add bob --groups B
	subj_cert nobody "/CN=nobody"
	started
	cot_bg alice $(subj_args alice) --uid alice-1 --callsign ALICE-1 \
	    --send "$T/sa.tmpl" --hold 60
	cot_bg bob $(subj_args bob) --uid bob-1 --callsign BOB-1 \
	    --send "$T/sa.tmpl" --hold 60
	_bound() {
		"$TAKCTL" -c "$CFG" clients --json 2>/dev/null >"$T/clients" &&
		    grep -qF '"uid":"alice-1"' "$T/clients" &&
		    grep -qF '"uid":"bob-1"' "$T/clients"
	}
	wait_for 10 _bound || fail "the two sessions are not bound"
	body="[$(group A IN true),$(group A OUT true),$(group B IN false),$(group B OUT false)]"
	# Whose session: another user's, nobody's, none given.
	expect_put alice r1 clientUid=bob-1 "$body" 403
	expect_grep 'not a live session of user "alice"' "$T/r1"
	log_has 'clientUid "bob-1" is a session of user "bob"' ||
	    fail "no log line naming bob's session"
	expect_put alice r2 clientUid=ghost "$body" 403
	expect_put alice r3 "" "$body" 400
	expect_put alice r4 "clientUid=a%2" "$body" 400
	# Groups: one she is not in, a half she lacks (C), turned on.
	expect_put alice r5 clientUid=alice-1 "[$(group A IN true),$(group Z \
	    IN true)]" 403
	expect_grep 'has no IN half of group "Z"' "$T/r5"
	# Bodies.
	expect_put alice r6 clientUid=alice-1 '[{"name":"A","direction":"IN"' \
	    400
	expect_put alice r7 clientUid=alice-1 '["A","B"]' 400
	expect_put alice r8 clientUid=alice-1 \
	    '[{"name":"A","direction":"BOTH"}]' 400
	expect_put alice r9 clientUid=alice-1 "[$(group A IN false)]" 400
	expect_grep 'at least one must stay on' "$T/r9"
	expect_put alice r10 clientUid=alice-1 '[]' 400
	body=$(printf '{"name":"A","direction":"IN","description":"%01000d"},' \
	    $(seq 1 40))
	expect_put alice r11 clientUid=alice-1 "[${body%,}]" 413
	# A certificate whose CN is no user of the file.
	expect_put nobody r12 clientUid=alice-1 "[$(group A IN true)]" 403
	expect_put bob r13 clientUid=alice-1 "[$(group B IN true)]" 403
	# Nothing changed.
	expect_eq "$(groups_of alice)" \
	    "A/IN=true A/OUT=true B/IN=true B/OUT=true" "groups/all after"
	# What she may do: a group she lacks turned off is passed over.
	expect_put alice ok clientUid=alice-1 "[$(group A IN true),$(group A \
	    OUT true),$(group Z OUT false)]" 200
	expect_eq "$(groups_of alice)" \
	    "A/IN=true A/OUT=true B/IN=false B/OUT=false" "groups/all, B off"
	takd_status
	expect_eq "$(sget api.api.channels_forbidden)" 5 "channels_forbidden"
	expect_eq "$(sget api.api.channels_bad_request)" 8 \
	    "channels_bad_request"
	expect_eq "$(sget api.api.channels_set)" 1 "channels_set"
	n=$(grep -c 'channels: 127.0.0.1:[0-9]*: user "[a-z]*": .*refused' \
	    "$T/takd.log")
	[ "$n" = 13 ] || fail "$n refusals logged, not 13"
	kill "$(cat "$T/alice.cpid")" "$(cat "$T/bob.cpid")"
}

reconnect_reload() {
	local n
	setup
	user_add alice --groups A,B,C
	user_add aonly --groups A
	user_add bonly --groups B
	user_add conly --groups C
	for n in aonly bonly conly; do
		cat >"$T/$n.script" <<-EOF
		send-every 300 $T/sa.tmpl
		wait-file $T/done
		EOF
	done
	cat >"$T/alice.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=aonly uid=bonly uid=conly within=10000
	touch $T/alice-a
	wait-file $T/go-off
	sleep 300
	mark
	expect-none uid=conly within=1000
	EOF
	# Again, with C still off: no replay of conly, nothing live of it.
	cat >"$T/alice2.script" <<-EOF
	forbid uid=conly
	send-every 300 $T/sa.tmpl
	expect uid=aonly uid=bonly within=5000
	touch $T/alice2-a
	wait-file $T/go-reload
	expect type=t-x-g-c 'grep=<link uid="alice" relation="p-p"' within=3000
	sleep 300
	mark
	expect-none uid=bonly within=1000
	expect uid=aonly within=2000
	touch $T/alice2-b
	wait-file $T/done
	EOF
	started
	place alice 0
	place aonly 1
	place bonly 0
	place conly 1
	wait_files 15 "the positions before the change" alice-a
	expect_put alice p1 clientUid=alice "[$(group A IN true),$(group A \
	    OUT true),$(group B IN true),$(group B OUT true),$(group C IN \
	    false),$(group C OUT false)]" 200
	touch "$T/go-off"
	cot_wait alice 0
	cot_place alice2 0 $(subj_args alice) --script "$T/alice2.script" \
	    --uid alice --callsign ALICE --print
	wait_files 10 "reconnected" alice2-a
	# The reload takes B from her.
	ctl user groups alice A,C
	ctl reload
	touch "$T/go-reload"
	wait_files 10 "after the reload" alice2-b
	expect_eq "$(groups_of alice)" \
	    "A/IN=true A/OUT=true C/IN=false C/OUT=false" "groups/all"
	touch "$T/done"
	for n in alice2 aonly bonly conly; do
		cot_wait "$n" 0
	done
}

run_case on_off
run_case refusals
run_case reconnect_reload
finish
