#!/usr/bin/env bash
# Groups from the users file (issue 15, docs/groups.md): users written
# with `takctl user add` before takd starts, each client certificate's CN
# naming its user ([auth] user_rdn), real TLS clients over two workers.
# Every client forbids, for its whole session, every uid (positions,
# chats) and every disconnect notice the IN/OUT rule keeps from it: a
# client never receives a byte of a group it may not see.
#
#   six_clients    blue1, blue2 (Blue), red1, red2 (Red), hq (Blue, Red
#                  and HQ) and watch (OUT-only Blue and Red), three a
#                  worker; then gate (IN-only Red) and a late blue3: each
#                  gets exactly the positions, broadcast chats and chats
#                  directed by callsign and by uid the rule gives it; blue3's
#                  replay at connect holds Blue and HQ only; the notices of
#                  red2 and gate reach red1 and hq, that of blue2 blue1 and
#                  hq, that of watch (no IN group) nobody; takctl clients
#                  shows USER, IN and OUT, --json user and groups
#   reload_moves   `takctl user groups` then `takctl reload` moves a live
#                  client from Blue to Red: within 1 s of the reload it has
#                  a t-x-g-c linking its uid, then the position of a red
#                  client that only the replay can bring, and after the
#                  t-x-g-c not one event of Blue; Blue stops getting its
#                  positions, Red starts; Red's chat reaches it
#   user_deleted   `takctl user del` then reload closes the user's session
#                  (the client sees the server close, closed.user_deleted,
#                  a log line); its disconnect notice reaches its team
#                  mate, not the other team
#   bad_file       a malformed line (named FILE:LINE), a file others or its
#                  group may write, a link in its place, each holding a
#                  change that would move a client: each reload exits 1
#                  naming the file, takctl status (JSON and summary) shows
#                  the error, the generation in force and the routing
#                  stay; the file made right again, the reload takes it
#   start_refused  takd -t and takd exit 78 naming FILE:LINE on a malformed
#                  file, and on a file others may write or a link in its
#                  place; the same file made right starts
#   file_created   with no users file every session is __ANON__; a file
#                  written while takd runs is in force at the next SIGHUP
#                  (both clients get t-x-g-c and stop seeing each other)
#   cn_twice       a certificate whose subject has CN=alice and CN=bob is
#                  closed at once (closed.groups, a log line), never put in
#                  __ANON__: the anonymous clients see none of it, it gets
#                  nothing of theirs
. "$(dirname "$0")/lib.sh"

ctl() {
	"$TAKCTL" -c "$CFG" "$@"
}

# user_add NAME ARGS...: `takctl user add NAME ARGS --no-password` and a
# client certificate CN=NAME.
user_add() {
	local name=$1
	shift
	ctl user add "$name" "$@" --no-password >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl user add $name $*"; }
	subj_cert "$name" "/CN=$name"
}

# setup [section.key=value...]: the PKI, a config ([auth] users is
# STATE_DIR/users, in USERS) and an SA template; the caller adds users.
setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" server.workers=2 "$@"
	USERS=$T/state/users
	cot_sa_tmpl "$T/sa.tmpl"
}

# place NAME WORKER: client NAME (certificate, uid and callsign from its
# name) on that worker, running $T/NAME.script, printing what it gets.
place() {
	cot_place "$1" "$2" $(subj_args "$1") --script "$T/$1.script" \
	    --uid "$1" --callsign "${1^^}" --print
}

# wait_files SECONDS WHAT FILE...: every file appears, else fail naming
# the first missing and showing its client's output (FILE is
# $T/CLIENT-STEP).
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

# running NAME...: the clients are all still connected; else the output
# of the first that ended is shown and the case fails.
running() {
	local n
	for n in "$@"; do
		[ -e "$T/$n.rc" ] || continue
		cot_wait "$n" running
	done
}

# reload_to FILE: takctl reload, its JSON reply in FILE and FILE.flat.
reload_to() {
	ctl reload >"$1" 2>&1
	RELOAD_RC=$?
	json_flat "$1" >"$1.flat"
}

# --- the rule, as docs/groups.md states it ----------------------------------

# IN and OUT of each client (its user's groups), set by the case.
declare -A IN OUT

# sees D S: some group has S in its IN half and D in its OUT half (and D
# is not S: nobody gets its own events back).
sees() {
	local g
	[ "$1" != "$2" ] || return 1
	for g in ${IN[$2]//,/ }; do
		case ",${OUT[$1]}," in
		*",$g,"*) return 0 ;;
		esac
	done
	return 1
}

# CHATS: "ID SENDER [cs:NAME|uid:NAME]..." (no dest: to everybody).
CHATS=()

# chat_reaches D CHAT: the chat reaches client D by the rule: D is named
# (or nobody is: a broadcast) and sees the sender.
chat_reaches() {
	local d=$1 x named=0 hit=0
	set -- $2
	for x in "${@:3}"; do
		named=1
		[ "${x#*:}" = "$d" ] && hit=1
	done
	[ "$named" = 0 ] || [ "$hit" = 1 ] || return 1
	sees "$d" "$2"
}

# --- six clients, three groups, two workers -------------------------------

# forbids NAME ALL...: the script lines that forbid client NAME every
# client of ALL it may not see (positions, notices) and every chat that
# must not reach it.
forbids() {
	local n=$1 x c
	shift
	for x in "$@"; do
		[ "$x" = "$n" ] && continue
		sees "$n" "$x" && continue
		echo "forbid uid=$x"
		echo "forbid 'grep=<link uid=\"$x\"'"
	done
	for c in "${CHATS[@]}"; do
		chat_reaches "$n" "$c" || echo "forbid uid=${c%% *}"
	done
}

# seen NAME CANDIDATE...: the candidates client NAME sees, as uid= terms.
seen() {
	local n=$1 x out=""
	shift
	for x in "$@"; do
		sees "$n" "$x" && out="$out uid=$x"
	done
	echo "$out"
}

# chats_to NAME SENDER...: the chats of those senders that reach NAME, as
# uid= terms.
chats_to() {
	local n=$1 c out=""
	local senders=" ${*:2} "
	for c in "${CHATS[@]}"; do
		set -- $c
		case "$senders" in
		*" $2 "*) chat_reaches "$n" "$c" && out="$out uid=$1" ;;
		esac
	done
	echo "$out"
}

# chat_files: $T/ID.ev of every chat, to its dests by callsign (the name
# in capitals) or uid.
chat_files() {
	local c x
	local -a dests
	for c in "${CHATS[@]}"; do
		dests=()
		set -- $c
		for x in "${@:3}"; do
			case "$x" in
			cs:*) x=${x#cs:}; dests+=("callsign=\"${x^^}\"") ;;
			uid:*) dests+=("uid=\"${x#uid:}\"") ;;
			esac
		done
		cot_chat "$T/$1.ev" "$1" "text of $1" "${dests[@]}"
	done
}

six_clients() {
	local n c x late=blue3 t
	local -a six=(blue1 blue2 red1 red2 hq watch) all stay
	setup
	IN=([blue1]=Blue [blue2]=Blue [red1]=Red [red2]=Red [hq]=Blue,Red,HQ
	    [watch]= [gate]=Red [blue3]=Blue)
	OUT=([blue1]=Blue [blue2]=Blue [red1]=Red [red2]=Red [hq]=Blue,Red,HQ
	    [watch]=Blue,Red [gate]= [blue3]=Blue)
	all=("${six[@]}" gate blue3)
	user_add blue1 --groups Blue
	user_add blue2 --groups Blue
	user_add red1 --groups Red
	user_add red2 --groups Red
	user_add hq --groups Blue,HQ --groups Red
	user_add watch --out Blue,Red
	user_add gate --in Red
	user_add blue3 --groups Blue
	CHATS=(
	    "c-blue2-all blue2"
	    "c-red2-all red2"
	    "c-hq-dir hq cs:red1 uid:blue2"
	    "c-blue1-dir blue1 uid:red1 cs:hq"
	    "c-red1-dir red1 cs:watch uid:red2"
	    "c-red2-x red2 cs:blue1"
	    "c-watch-dir watch cs:blue1 uid:hq"
	    "c-gate-all gate")
	chat_files
	# Departures, in three steps: watch; then red2 and gate; then blue2.
	for n in "${six[@]}"; do
		{
			forbids "$n" "${all[@]}"
			echo "send $T/sa.tmpl"
			echo "expect $(seen "$n" "${six[@]}") within=10000"
			echo "touch $T/$n-a"
			echo "wait-file $T/go-b"
			for c in "${CHATS[@]}"; do
				set -- $c
				[ "$2" = "$n" ] && echo "send $T/$1.ev"
			done
			echo "expect $(chats_to "$n" "${six[@]}")" \
			    "within=10000"
			echo "touch $T/$n-b"
			sees "$n" gate &&
			    echo "expect uid=gate uid=c-gate-all within=10000"
			echo "touch $T/$n-c"
			if [ "$n" = watch ]; then
				echo "wait-file $T/go-d1"
				continue
			fi
			if [ "$n" = red2 ]; then
				echo "wait-file $T/go-d2"
				continue
			fi
			for x in red2 gate; do
				sees "$n" "$x" && echo "expect type=t-x-d-d" \
				    "'grep=<link uid=\"$x\"' within=10000"
			done
			echo "touch $T/$n-d2"
			if [ "$n" = blue2 ]; then
				echo "wait-file $T/go-d3"
				continue
			fi
			sees "$n" blue2 && echo "expect type=t-x-d-d" \
			    "'grep=<link uid=\"blue2\"' within=10000"
			echo "touch $T/$n-d3"
			echo "wait-file $T/done"
		} >"$T/$n.script"
	done
	{
		# Nothing reaches an IN-only client, not a byte.
		echo "forbid grep=<event"
		echo "send $T/sa.tmpl"
		echo "send $T/c-gate-all.ev"
		echo "wait-file $T/go-d2"
	} >"$T/gate.script"
	{
		forbids "$late" "${all[@]}"
		echo "expect $(seen "$late" "${all[@]}") within=5000"
		echo "sleep 500"
	} >"$T/$late.script"
	start_takd
	for n in blue1 red1 hq; do
		place "$n" 0
	done
	for n in blue2 red2 watch; do
		place "$n" 1
	done
	wait_files 15 "the positions of the groups it sees" \
	    $(printf '%s-a ' "${six[@]}")
	running "${six[@]}"
	clients_shown
	touch "$T/go-b"
	wait_files 10 "the chats the rule gives it" \
	    $(printf '%s-b ' "${six[@]}")
	place gate 1
	wait_files 10 "gate's position and chat" $(printf '%s-c ' "${six[@]}")
	# A newcomer's replay: the latest positions of Blue and HQ only (nobody
	# sends any more, so a position can come from the replay alone).
	place "$late" 0
	cot_wait "$late" 0 10
	touch "$T/go-d1"
	cot_wait watch 0
	touch "$T/go-d2"
	cot_wait red2 0
	cot_wait gate 0
	stay=(blue1 blue2 red1 hq)
	wait_files 10 "the notices of red2 and gate" \
	    $(printf '%s-d2 ' "${stay[@]}")
	touch "$T/go-d3"
	cot_wait blue2 0
	stay=(blue1 red1 hq)
	wait_files 10 "the notice of blue2" $(printf '%s-d3 ' "${stay[@]}")
	sleep 0.5	# for a notice that must not come (watch's) to come
	touch "$T/done"
	for n in "${stay[@]}"; do
		cot_wait "$n" 0
	done
	# Each chat came once to each client it reaches.
	for n in "${six[@]}"; do
		for c in $(chats_to "$n" "${six[@]}" gate); do
			t=$(printed "$n" | grep -c "^<event [^>]*uid=\"${c#uid=}\"")
			[ "$t" = 1 ] || fail "$n got chat ${c#uid=} $t times"
		done
	done
	takd_status
	t=$(wsum withheld.directed)
	# c-blue1-dir to red1, c-red2-x to blue1, c-watch-dir to blue1 and hq.
	[ "$t" -ge 4 ] || fail "withheld.directed is $t, not >= 4"
	t=$(wsum withheld.replay)
	# blue3's replay: red1, red2 and gate (watch's position has no IN).
	[ "$t" -ge 3 ] || fail "withheld.replay is $t, not >= 3"
}

# takctl clients, table and --json, while the six are connected.
clients_shown() {
	local row HQ='"Blue","HQ","Red"'
	ctl clients >"$T/clients.txt" 2>&1 ||
	    { diag_file "$T/clients.txt"; fail "takctl clients"; }
	head -n 1 "$T/clients.txt" | grep -Eq 'USER +IN +OUT ' ||
	    { diag_file "$T/clients.txt"; fail "takctl clients: no USER IN OUT"; }
	for row in 'HQ +hq +[01] +hq +Blue,HQ,Red +Blue,HQ,Red ' \
	    'WATCH +watch +[01] +watch +- +Blue,Red ' \
	    'BLUE1 +blue1 +0 +blue1 +Blue +Blue '; do
		grep -Eq -- "$row" "$T/clients.txt" ||
		    { diag_file "$T/clients.txt";
		    fail "takctl clients: no row /$row/"; }
	done
	ctl clients --json >"$T/clients.json" 2>&1 ||
	    { diag_file "$T/clients.json"; fail "takctl clients --json"; }
	for row in '"user":"watch","groups":{"in":[],"out":["Blue","Red"]}' \
	    '"user":"red2","groups":{"in":["Red"],"out":["Red"]}' \
	    "\"user\":\"hq\",\"groups\":{\"in\":[$HQ],\"out\":[$HQ]}"; do
		grep -qF -- "$row" "$T/clients.json" ||
		    { diag_file "$T/clients.json";
		    fail "takctl clients --json: no $row"; }
	done
}

# --- live changes -------------------------------------------------------------

# events_of NAME: the events client NAME printed, one a line, numbered
# (grep -n), in $T/NAME.ev.txt.
events_of() {
	printed "$1" | grep -n '' >"$T/$1.ev.txt"
}

# first_line FILE ERE: the number of the first line of FILE matching ERE
# (empty when none).
first_line() {
	grep -E -m 1 -- "$2" "$1" | cut -d: -f1
}

reload_moves() {
	local ms first_gc first_red n
	setup
	user_add blue1 --groups Blue
	user_add red1 --groups Red
	user_add mover --groups Blue
	cot_chat "$T/red-after.ev" red-after red-after
	# The mover: Blue's positions until the reload, then Red's.
	cat >"$T/mover.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=blue1 within=10000
	touch $T/mover-a
	wait-file $T/go-move
	mark
	touch $T/mover-armed
	expect uid=red1 within=1000
	touch $T/mover-moved
	expect uid=red-after within=5000
	wait-file $T/done
	EOF
	cat >"$T/blue1.script" <<-EOF
	forbid uid=red1
	forbid uid=red-after
	send-every 300 $T/sa.tmpl
	expect uid=mover within=10000
	touch $T/blue1-a
	wait-file $T/mover-moved
	sleep 400
	mark
	expect-none uid=mover within=1200
	touch $T/blue1-b
	wait-file $T/done
	EOF
	# red1 sends one position: after the move only the replay can bring it.
	cat >"$T/red1.script" <<-EOF
	forbid uid=blue1
	send $T/sa.tmpl
	wait-file $T/mover-a
	expect-none uid=mover within=700
	touch $T/red1-a
	wait-file $T/mover-moved
	mark
	send $T/red-after.ev
	expect uid=mover within=3000
	touch $T/red1-b
	wait-file $T/done
	EOF
	start_takd
	place mover 0
	place blue1 1
	place red1 1
	wait_files 15 "before the move" mover-a blue1-a red1-a
	# red1's position is stored, for the replay.
	_red1_stored() {
		ctl sa list --json 2>/dev/null | grep -qF '"uid":"red1"'
	}
	cot_poll 5 _red1_stored || fail "red1's position is not stored"
	ctl user groups mover Red >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl user groups mover Red"; }
	touch "$T/go-move"
	wait_files 5 "armed" mover-armed
	reload_to "$T/reload.json"
	[ "$RELOAD_RC" = 0 ] || { diag_file "$T/reload.json";
	    fail "takctl reload: exit status $RELOAD_RC"; }
	expect_eq "$(jget users.sessions_changed "$T/reload.json.flat")" 1 \
	    "reload: users.sessions_changed"
	expect_eq "$(jget users.generation "$T/reload.json.flat")" 2 \
	    "reload: users.generation"
	wait_files 5 "t-x-g-c and red1's position" mover-moved
	ms=$(sed -n 's/^expect ok after \([0-9]*\) ms: uid=red1 .*/\1/p' \
	    "$T/mover.out")
	diag "the mover had t-x-g-c and red1's position $ms ms after it was" \
	    "armed, before the reload began"
	ctl clients --json >"$T/clients.json" 2>&1
	grep -qF '"user":"mover","groups":{"in":["Red"],"out":["Red"]}' \
	    "$T/clients.json" || { diag_file "$T/clients.json";
	    fail "takctl clients: the mover not in Red"; }
	wait_files 10 "after the move" blue1-b red1-b
	touch "$T/done"
	cot_wait mover 0
	cot_wait blue1 0
	cot_wait red1 0
	# The mover's stream: one t-x-g-c linking it, red1 only after it, Blue
	# not once after it.
	events_of mover
	n=$(grep -c 'type="t-x-g-c"' "$T/mover.ev.txt")
	expect_eq "$n" 1 "t-x-g-c events the mover got"
	grep 'type="t-x-g-c"' "$T/mover.ev.txt" |
	    grep -qF '<link uid="mover" relation="p-p"' ||
	    fail "the t-x-g-c does not link the mover's uid"
	first_gc=$(first_line "$T/mover.ev.txt" 'type="t-x-g-c"')
	first_red=$(first_line "$T/mover.ev.txt" '^[0-9]+:<event [^>]*uid="red1"')
	[ -n "$first_red" ] && [ "$first_red" -gt "$first_gc" ] ||
	    fail "red1's position came before the t-x-g-c (line $first_red," \
	    "t-x-g-c line $first_gc)"
	awk -F: -v g="$first_gc" '$1 > g' "$T/mover.ev.txt" |
	    grep -E '^[0-9]+:<event [^>]*uid="blue1"' | head -n 3 >"$T/leak"
	[ ! -s "$T/leak" ] || { diag_file "$T/leak";
	    fail "the mover got Blue's events after its t-x-g-c"; }
	takd_status
	expect_eq "$(wsum events.groups_changed)" 1 "events.groups_changed"
}

user_deleted() {
	setup
	user_add blue1 --groups Blue
	user_add blue2 --groups Blue
	user_add red1 --groups Red
	cat >"$T/blue1.script" <<-EOF
	forbid uid=red1
	send $T/sa.tmpl
	expect uid=blue2 within=10000
	touch $T/blue1-a
	expect type=t-x-d-d 'grep=<link uid="blue2"' within=10000
	touch $T/blue1-b
	wait-file $T/done
	EOF
	cat >"$T/blue2.script" <<-EOF
	forbid uid=red1
	send $T/sa.tmpl
	expect uid=blue1 within=10000
	touch $T/blue2-a
	wait-file $T/never within=20000
	EOF
	cat >"$T/red1.script" <<-EOF
	forbid uid=blue1
	forbid uid=blue2
	forbid 'grep=<link uid="blue2"'
	send $T/sa.tmpl
	touch $T/red1-a
	wait-file $T/done
	EOF
	start_takd
	place blue1 0
	place red1 0
	place blue2 1
	wait_files 15 "before the deletion" blue1-a blue2-a red1-a
	ctl user del blue2 >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl user del blue2"; }
	reload_to "$T/reload.json"
	[ "$RELOAD_RC" = 0 ] || { diag_file "$T/reload.json";
	    fail "takctl reload: exit status $RELOAD_RC"; }
	expect_eq "$(jget users.sessions_closed "$T/reload.json.flat")" 1 \
	    "reload: users.sessions_closed"
	cot_wait blue2 3 5
	expect_grep '^closed by server after' "$T/blue2.out"
	expect_log_line "$(cot_addr blue2)" \
	    'user "blue2" is no longer in the users file'
	wait_files 10 "blue2's disconnect notice" blue1-b
	wait_sum 5 closed.user_deleted 1
	sleep 0.3	# for a notice that must not reach red1 to come
	touch "$T/done"
	cot_wait blue1 0
	cot_wait red1 0
}

# --- a users file takd must not take ----------------------------------------

# bad_reload WANT: takctl reload exits 1 with an error holding WANT; the
# users generation in force stays 1 and takctl status (JSON and the
# summary at a terminal) shows the error.
bad_reload() {
	reload_to "$T/reload.json"
	[ "$RELOAD_RC" = 1 ] || { diag_file "$T/reload.json";
	    fail "takctl reload: exit status $RELOAD_RC, expected 1 ($1)"; }
	grep -qF -- "$1" <<<"$(jget error "$T/reload.json.flat")" ||
	    { diag_file "$T/reload.json"; fail "reload error without '$1'"; }
	expect_eq "$(jget users.ok "$T/reload.json.flat")" false "users.ok"
	expect_eq "$(jget users.generation "$T/reload.json.flat")" 1 \
	    "users generation after a refused reload"
	takd_status || fail "takctl status"
	expect_eq "$(sget users.generation)" 1 "status users.generation"
	grep -qF -- "$1" <<<"$(sget users.last_error)" ||
	    { diag_file "$T/status.json" 3;
	    fail "status users.last_error without '$1'"; }
	script -qec "$TAKCTL -c $CFG status" /dev/null >"$T/tty" 2>&1 ||
	    { diag_file "$T/tty"; fail "takctl status at a terminal"; }
	grep -F 'users file: last reload refused: ' "$T/tty" | grep -qF -- "$1" ||
	    { diag_file "$T/tty" 10; fail "takctl status: no refused users file"; }
}

bad_file() {
	local line
	setup
	user_add blue1 --groups Blue
	user_add blue2 --groups Blue
	user_add red1 --groups Red
	for n in blue1 blue2; do
		cat >"$T/$n.script" <<-EOF
		send-every 300 $T/sa.tmpl
		expect uid=$([ $n = blue1 ] && echo blue2 || echo blue1) within=10000
		touch $T/$n-a
		wait-file $T/bad-done
		expect-none uid=red1 within=700
		mark
		expect uid=$([ $n = blue1 ] && echo blue2 || echo blue1) within=2000
		touch $T/$n-b
		wait-file $T/go-fix
		mark
		expect uid=red1 within=3000
		touch $T/$n-c
		wait-file $T/done
		EOF
	done
	cat >"$T/red1.script" <<-EOF
	send-every 300 $T/sa.tmpl
	touch $T/red1-a
	wait-file $T/bad-done
	expect-none uid=blue1 within=700
	expect-none uid=blue2 within=1
	expect-none type=t-x-g-c within=1
	touch $T/red1-b
	wait-file $T/go-fix
	mark
	touch $T/red1-armed
	expect type=t-x-g-c within=2000
	expect uid=blue1 uid=blue2 within=2000
	touch $T/red1-c
	wait-file $T/done
	EOF
	start_takd
	place blue1 0
	place red1 1
	place blue2 1
	wait_files 15 "before the bad reloads" blue1-a blue2-a red1-a
	# A change that would move red1 into Blue, in every file refused.
	ctl user groups red1 Blue >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl user groups red1 Blue"; }
	cp -p "$USERS" "$T/users.good"
	echo 'carol:!:user:Blue' >>"$USERS"
	line=$(wc -l <"$USERS")
	bad_reload "$USERS:$line: "
	cp -p "$T/users.good" "$USERS"
	chmod 0666 "$USERS"
	bad_reload "$USERS is writable by others"
	chmod 0660 "$USERS"	# the group is the service account's
	bad_reload "$USERS is writable by its group"
	chmod 0640 "$USERS"
	mv "$USERS" "$USERS.real"
	ln -s users.real "$USERS"
	bad_reload "$USERS: is a symbolic link"
	# Gone: a file removed by mistake must not free every user.
	rm "$USERS"
	bad_reload "$USERS: no longer there"
	ln -s users.real "$USERS"
	# Nothing changed: Blue and Red still apart, Blue still together.
	touch "$T/bad-done"
	wait_files 10 "routing unchanged after the refused files" \
	    blue1-b blue2-b red1-b
	# The file made right: the change is in force.
	rm "$USERS"
	mv "$USERS.real" "$USERS"
	touch "$T/go-fix"
	wait_files 5 "armed" red1-armed
	reload_to "$T/reload.json"
	[ "$RELOAD_RC" = 0 ] || { diag_file "$T/reload.json";
	    fail "takctl reload of the fixed file: exit status $RELOAD_RC"; }
	expect_eq "$(jget users.generation "$T/reload.json.flat")" 2 \
	    "users generation after the fix"
	expect_eq "$(jget users.sessions_changed "$T/reload.json.flat")" 1 \
	    "sessions changed by the fixed file"
	takd_status
	expect_eq "$(sget users.last_error)" "" "status users.last_error"
	wait_files 10 "the fixed file in force" red1-c blue1-c blue2-c
	touch "$T/done"
	cot_wait blue1 0
	cot_wait blue2 0
	cot_wait red1 0
}

# takd_refuses WANT: takd -t and takd (in the foreground) exit 78 with
# WANT on stderr.
takd_refuses() {
	local rc mode
	for mode in -t -f; do
		timeout 10 env --default-signal=INT "$TAKD" "$mode" -c "$CFG" \
		    >"$T/start.out" 2>&1 </dev/null
		rc=$?
		[ "$rc" = 78 ] || { diag_file "$T/start.out";
		    fail "takd $mode: exit status $rc, expected 78 ($1)"; }
		grep -qF -- "$1" "$T/start.out" || { diag_file "$T/start.out";
		    fail "takd $mode: no '$1' on stderr"; }
	done
}

start_refused() {
	local line
	setup
	user_add alice --groups Blue
	cp -p "$USERS" "$T/users.good"
	echo 'bob:!:chief:Blue::' >>"$USERS"
	line=$(wc -l <"$USERS")
	takd_refuses "$USERS:$line: "
	cp -p "$T/users.good" "$USERS"
	chmod 0666 "$USERS"
	takd_refuses "$USERS is writable by others"
	chmod 0640 "$USERS"
	mv "$USERS" "$USERS.real"
	ln -s users.real "$USERS"
	takd_refuses "$USERS: is a symbolic link"
	rm "$USERS"
	mv "$USERS.real" "$USERS"
	start_takd
	expect_eq "$(sget users.count)" 1 "users in force"
}

# No users file: every session in __ANON__; the file written later is in
# force at the next reload.
file_created() {
	setup
	[ ! -e "$USERS" ] || fail "$USERS is there already"
	subj_cert alice /CN=alice
	subj_cert bob /CN=bob
	cat >"$T/alice.script" <<-EOF
	send-every 300 $T/sa.tmpl
	expect uid=bob within=10000
	touch $T/alice-a
	wait-file $T/go
	mark
	touch $T/alice-armed
	expect type=t-x-g-c within=2000
	sleep 300
	mark
	expect-none uid=bob within=1000
	touch $T/alice-b
	wait-file $T/done
	EOF
	sed 's/bob/BOB/g; s/alice/bob/g; s/BOB/alice/g' "$T/alice.script" \
	    >"$T/bob.script"
	start_takd
	expect_eq "$(sget users.present)" false "status users.present"
	place alice 0
	place bob 1
	wait_files 15 "both in __ANON__" alice-a bob-a
	ctl clients --json >"$T/clients.json"
	grep -qF '"user":"","groups":{"in":["__ANON__"],"out":["__ANON__"]}' \
	    "$T/clients.json" || { diag_file "$T/clients.json";
	    fail "takctl clients: not __ANON__"; }
	ctl user add alice --groups Blue --no-password >>"$T/takctl.log" 2>&1 &&
	    ctl user add bob --groups Red --no-password >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl user add"; }
	touch "$T/go"
	wait_files 5 "armed" alice-armed bob-armed
	kill -HUP "$TAKD_PID"	# SIGHUP reads it as takctl reload does
	wait_status 5 users.generation 2
	expect_eq "$(sget users.present)" true "status users.present"
	wait_for 5 log_has \
	    "users generation 2 active in 2 of 2 workers .*; 2 live sessions changed" ||
	    fail "no log line: users generation 2 in both workers, 2 changed"
	wait_files 10 "apart after the reload" alice-b bob-b
	touch "$T/done"
	cot_wait alice 0
	cot_wait bob 0
}

# --- certificates ------------------------------------------------------------

cn_twice() {
	local n
	setup
	user_add alice --groups Blue
	user_add bob --groups Blue
	subj_cert twice "/CN=alice/CN=bob"
	subj_cert anon1 /CN=anon1
	subj_cert anon2 /CN=anon2
	cat >"$T/alice.script" <<-EOF
	forbid uid=twice
	forbid uid=anon1
	forbid uid=anon2
	send-every 300 $T/sa.tmpl
	touch $T/alice-a
	wait-file $T/done
	EOF
	for n in anon1 anon2; do
		cat >"$T/$n.script" <<-EOF
		forbid uid=twice
		forbid uid=alice
		send-every 300 $T/sa.tmpl
		expect uid=$([ $n = anon1 ] && echo anon2 || echo anon1) within=10000
		touch $T/$n-a
		wait-file $T/done
		EOF
	done
	# In __ANON__ it would get the others' positions at once.
	cat >"$T/twice.script" <<-EOF
	forbid uid=alice
	forbid uid=anon1
	forbid uid=anon2
	send-every 100 $T/sa.tmpl
	wait-file $T/never within=10000
	EOF
	start_takd
	place alice 0
	place anon1 0
	place anon2 1
	wait_files 15 "before the double CN" alice-a anon1-a anon2-a
	cot_steer 1
	cot_bg twice $(subj_args twice) --verbose --script "$T/twice.script" \
	    --uid twice --callsign TWICE --print
	cot_wait twice 3 10
	cot_cont
	expect_grep '^closed by server after' "$T/twice.out"
	expect_log_line "$(cot_addr twice)" \
	    'user_rdn CN is given more than once'
	wait_sum 5 closed.groups 1
	sleep 0.5	# the others go on, without it
	touch "$T/done"
	cot_wait alice 0
	cot_wait anon1 0
	cot_wait anon2 0
}

run_case six_clients
run_case reload_moves
run_case user_deleted
run_case bad_file
run_case start_refused
run_case file_created
run_case cn_twice
finish
