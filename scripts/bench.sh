#!/bin/bash
# make bench: drive a release takd with tests/load/takload and write the
# figures into docs/performance.md (between its bench markers).
#
#   scripts/bench.sh [BUILD_DIR]     (default build/rel; `make bench` builds it)
#
# Every scenario gets a fresh takd on 127.0.0.1 with its own config, state
# and log in a temp dir, and a throwaway PKI made with takctl.  Knobs, for
# trying things out (the defaults are what docs/performance.md reports):
#   BENCH_DURATION=10         seconds of each measured phase
#   BENCH_HOLD=10000          idle sessions of the hold scenario
#   BENCH_FANOUT="100 200 500 1000"
#   BENCH_CHAT=200            clients of the chat scenario (10 % chat lines)
#   BENCH_SLOW=200            clients of the slow-arrival fan-out (20/s)
#   BENCH_V1=500              clients of the TAK protocol v1 fan-outs
#   BENCH_API=200             clientEndPoints requests (BENCH_HOLD clients)
#   BENCH_ENROLL=200          enrollments (fewer when the signer limits)
#   BENCH_ENROLL_CONNS=4      their connections (one user each)
#   BENCH_PKG_SMALL=200       data packages of 1 MiB uploaded and downloaded
#   BENCH_PKG_LARGE=5         data packages of 100 MiB
#   BENCH_ONLY="hs hold fanout fanout1 slow chat groups v1 api enroll packages cluster"
#   BENCH_CLUSTER=250         clients of each of the 2 nodes of `cluster`
#   BENCH_CLUSTER_WORKERS=1   workers of each node (and of its baseline)
#   BENCH_OUT=docs/performance.md         BENCH_OUT=- : no file, stdout only
#   BENCH_KEEP=1              keep the temp dir (configs, logs, JSON)
#   BENCH_PERF=1              perf record the workers of each scenario
#   BENCH_CONF="[cot]\nflush_delay = 20ms"   appended to every takd config
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/rel}
case "$B" in /*) ;; *) B="$REPO/$B" ;; esac
TAKD=$B/bin/takd
TAKCTL=$B/bin/takctl
LOAD=$B/tests/load/takload
HTTP=$B/tests/load/takhttp
DURATION=${BENCH_DURATION:-10}
DRAIN=20	# fan-out: how long deliveries may trail the last SA sent
HOLD=${BENCH_HOLD:-10000}
FANOUT=${BENCH_FANOUT:-100 200 500 1000}
CHATN=${BENCH_CHAT:-200}
CHAT_PCT=10	# share of the chat scenario's events that are chat lines
SLOW=${BENCH_SLOW:-200}
SLOW_RATE=20	# connections a second of the slow-arrival fan-out
V1N=${BENCH_V1:-500}
API_REQ=${BENCH_API:-200}
ENROLL=${BENCH_ENROLL:-200}
ENROLL_CONNS=${BENCH_ENROLL_CONNS:-4}
PKG_SMALL=${BENCH_PKG_SMALL:-200}
PKG_LARGE=${BENCH_PKG_LARGE:-5}
ONLY=" ${BENCH_ONLY:-hs hold fanout fanout1 slow chat groups v1 api enroll packages cluster} "
# Fan-out with groups: TEAMS teams of TEAM_SIZE clients and HQ clients in
# every team, then the same deliveries without groups.
TEAMS=5
TEAM_SIZE=100
HQ=1
GCLIENTS=$((TEAMS * TEAM_SIZE + HQ))
OUT=${BENCH_OUT:-$REPO/docs/performance.md}
# One certificate per fan-out client, two at least (the shared one, and
# the api scenario's requester).
NCERTS=2
case "$ONLY" in *" fanout "*|*" fanout1 "*)
	for n in $FANOUT; do
		if [ "$n" -gt "$NCERTS" ]; then NCERTS=$n; fi
	done
esac
case "$ONLY" in *" slow "*)
	if [ "$SLOW" -gt "$NCERTS" ]; then NCERTS=$SLOW; fi
esac
case "$ONLY" in *" chat "*)
	if [ "$CHATN" -gt "$NCERTS" ]; then NCERTS=$CHATN; fi
esac
case "$ONLY" in *" groups "*)
	if [ "$GCLIENTS" -gt "$NCERTS" ]; then NCERTS=$GCLIENTS; fi
esac
case "$ONLY" in *" v1 "*)
	if [ "$V1N" -gt "$NCERTS" ]; then NCERTS=$V1N; fi
esac
# --- cluster (issue 19): its knobs and certificates ---
CL_NODES=2
CL_PER=${BENCH_CLUSTER:-250}
CL_N=$((CL_NODES * CL_PER))
CL_W=${BENCH_CLUSTER_WORKERS:-1}
NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
case "$ONLY" in *" cluster "*)
	if [ "$CL_N" -gt "$NCERTS" ]; then NCERTS=$CL_N; fi
	[ -x "$NATS_SERVER" ] ||
	    { echo "bench: no nats-server (scripts/deps.sh installs it)" >&2; exit 1; }
esac
# --- end cluster ---

for f in "$TAKD" "$TAKCTL" "$LOAD" "$HTTP"; do
	[ -x "$f" ] || { echo "bench: $f missing: run make bench" >&2; exit 1; }
done

# tmpfs if there is one: takctl fsyncs every file it writes.
TMP=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && TMP=/dev/shm
T=$(mktemp -d "$TMP/takd-bench.XXXXXX")
chmod 755 "$T"	# takd's workers run as nobody
TAKD_PID=
BG_PID=		# a takload holding sessions in the background (api)
CL_PIDS=	# the cluster scenario's other takd and nats-server
cleanup() {
	[ -z "$BG_PID" ] || { kill -TERM "$BG_PID" 2>/dev/null; wait "$BG_PID"; } || true
	for p in $CL_PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p"; done || true
	[ -z "$TAKD_PID" ] || stop_takd
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }

# The generator holds BENCH_HOLD sockets; takd raises its own limit.
ulimit -n $((HOLD + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# jf FILE KEY: a value of takload's one-line JSON (flat: no nesting).
jf() {
	grep -o "\"$2\":[^,}]*" "$1" | head -1 | cut -d: -f2- | tr -d '"'
}

# --- PKI: a CA, the server and NCERTS clients (c0000 ...) ------------------
make_pki() {
	local cfg=$T/pki.ini i t0
	printf '[server]\nstate_dir = %s\n[pki]\ndir = %s\nclient_password = bench\n' \
	    "$T/pki-state" "$T/pki" >"$cfg"
	"$TAKCTL" -c "$cfg" pki init-ca --cn "takd bench CA" >>"$T/pki.log" 2>&1 ||
	    die "takctl pki init-ca failed: $(tail -3 "$T/pki.log")"
	"$TAKCTL" -c "$cfg" pki server --cn localhost >>"$T/pki.log" 2>&1 ||
	    die "takctl pki server failed"
	t0=$(date +%s)
	for ((i = 0; i < NCERTS; i++)); do
		"$TAKCTL" -c "$cfg" pki client "$(printf 'c%04d' "$i")" \
		    >>"$T/pki.log" 2>&1 || die "takctl pki client $i failed"
	done
	say "PKI: CA, server and $i client certificates in $(( $(date +%s) - t0 )) s"
}

# --- users: the groups of the groups scenario ---------------------------------
# Client i (certificate cNNNN, NNNN = i, whose CN names user cNNNN) of
# the first TEAMS * TEAM_SIZE is in group G(i % TEAMS + 1), both halves;
# the HQ clients after them are in every group: takload --teams TEAMS --hq
# HQ counts by the same rule.  Written by takctl, as an operator would.
USERS=$T/auth/users
make_users() {
	local cfg=$T/auth.ini i all t0 g
	mkdir -m 755 "$T/auth"
	{
		printf '[server]\nstate_dir = %s\n' "$T/auth/state"
		[ "$(id -u)" -ne 0 ] || printf 'user = nobody\n'
		printf '[auth]\nusers = %s\n' "$USERS"
	} >"$cfg"
	all=$(seq -s, -f 'G%g' 1 "$TEAMS")
	t0=$(date +%s)
	for ((i = 0; i < GCLIENTS; i++)); do
		g=$all
		[ "$i" -ge $((TEAMS * TEAM_SIZE)) ] || g=G$((i % TEAMS + 1))
		"$TAKCTL" -c "$cfg" user add "$(printf 'c%04d' "$i")" \
		    --groups "$g" --no-password >>"$T/users.log" 2>&1 ||
		    die "takctl user add $i failed: $(tail -3 "$T/users.log")"
	done
	say "users: $i in $TEAMS groups in $(( $(date +%s) - t0 )) s"
}

# --- takd ------------------------------------------------------------------
# start_takd NAME WORKERS: a fresh takd; sets TAKD_PID, PORT, CFG, DIR.
start_takd() {
	local name=$1 workers=$2 i
	DIR=$T/$name
	CFG=$DIR/takd.ini
	mkdir -p "$DIR"
	chmod 755 "$DIR"
	{
		printf '[server]\n'
		[ "$(id -u)" -ne 0 ] || printf 'user = nobody\n'
		printf 'workers = %s\nstate_dir = %s\nlog = %s\n' "$workers" \
		    "$DIR/state" "$DIR/takd.log"
		printf 'log_level = info\nnofile = 65536\nmax_sessions = 20000\n'
		# One address and one certificate for every connection.
		printf '[tls]\nlisten = 127.0.0.1:0\n'
		printf 'max_handshakes_per_address = 0\n'
		printf 'max_sessions_per_cert = 0\n[pki]\ndir = %s\n' "$T/pki"
		# The users file, when the scenario gives one (groups).
		[ -z "${TAKD_USERS:-}" ] ||
		    printf '[auth]\nusers = %s\n' "$TAKD_USERS"
		# The api process (api, enroll): its [api] lines.
		[ -z "${TAKD_API:-}" ] ||
		    printf '[api]\nenabled = yes\n%b\n' "$TAKD_API"
		# A node of the cluster scenario: its [cluster] lines.
		[ -z "${TAKD_CLUSTER:-}" ] ||
		    printf '[cluster]\n%b\n' "$TAKD_CLUSTER"
		[ -z "${BENCH_CONF:-}" ] || printf '%b\n' "$BENCH_CONF"
	} >"$CFG"
	"$TAKD" -f -c "$CFG" >"$DIR/takd.stderr" 2>&1 </dev/null &
	TAKD_PID=$!
	# Up: a port, and every worker answered the status (its loop runs).
	for i in $(seq 100); do
		if "$TAKCTL" -c "$CFG" status >"$DIR/status0.json" 2>/dev/null; then
			PORT=$(grep -o '"port":[0-9]*' "$DIR/status0.json" |
			    head -1 | cut -d: -f2)
			[ -n "$PORT" ] && [ "$PORT" != 0 ] &&
			    grep -q '"responding":true' "$DIR/status0.json" &&
			    ! grep -q '"responding":false' "$DIR/status0.json" &&
			    return 0
		fi
		kill -0 "$TAKD_PID" 2>/dev/null ||
		    die "takd exited: $(tail -5 "$DIR/takd.stderr")"
		sleep 0.1
	done
	die "takd did not come up: $(tail -5 "$DIR/takd.stderr")"
}

stop_takd() {
	"$TAKCTL" -c "$CFG" status >"$DIR/status.json" 2>/dev/null || true
	kill -TERM "$TAKD_PID" 2>/dev/null || true
	wait "$TAKD_PID" 2>/dev/null || true
	TAKD_PID=
}

# Sessions each worker accepted, "a/b": how the kernel spread them over the
# workers' SO_REUSEPORT sockets.
spread() {
	# The worker's own "accepted", not its takp object's (negotiations).
	grep -o '"accepted":[0-9]*,"rejected_full"' "$1/status.json" \
	    2>/dev/null | cut -d: -f2 | cut -d, -f1 | paste -sd/ -
}

# ssum DIR KEY: a counter of takd's status summed over the workers.
ssum() {
	grep -o "\"$2\":[0-9]*" "$1/status.json" 2>/dev/null |
	    awk -F: '{ s += $2 } END { print s + 0 }'
}

# withheld DIR: the broadcast deliveries takd's groups withheld, summed
# over the workers.
withheld() {
	grep -o '"withheld":{"broadcast":[0-9]*' "$1/status.json" 2>/dev/null |
	    awk -F: '{ s += $3 } END { print s + 0 }'
}

# perf record of the workers while takload runs (BENCH_PERF=1).
PERF_PID=
perf_start() {
	local pids
	[ "${BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null || return 0
	pids=$(cat /proc/"$TAKD_PID"/task/*/children | tr ' ' ',' | sed 's/,$//')
	perf record -q -F 499 -g -p "$pids" -o "$DIR/perf.data" \
	    >/dev/null 2>&1 &
	PERF_PID=$!
}
perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null || true
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=
	perf report -i "$DIR/perf.data" --no-children --sort symbol \
	    --percent-limit 1 2>/dev/null | grep '%' >"$DIR/perf.txt" || true
	say "  profile: $DIR/perf.txt"
}

# run NAME WORKERS TAKLOAD-ARGS...: one scenario; its JSON in $T/NAME.json.
run() {
	local name=$1 workers=$2
	shift 2
	say "$name: takd with $workers worker(s); takload $*"
	start_takd "$name" "$workers"
	perf_start
	"$LOAD" --connect "127.0.0.1:$PORT" --takd-pid "$TAKD_PID" "$@" \
	    >"$T/$name.json" 2>"$T/$name.err" ||
	    { perf_stop; stop_takd; cat "$T/$name.err" >&2;
	      die "$name: takload failed"; }
	perf_stop
	stop_takd
	spread "$DIR" >"$T/$name.spread"
	echo "$(ssum "$DIR" superseded) superseded, $(ssum "$DIR" slow_consumer) slow" \
	    >"$T/$name.drops"
	echo "$(ssum "$DIR" xml_to_v1) / $(ssum "$DIR" v1_to_xml)" \
	    >"$T/$name.conv"
	withheld "$DIR" >"$T/$name.withheld"
	say "  $(cut -c1-400 "$T/$name.json")..."
}

# --- the api process ----------------------------------------------------------
# api_port PROTO: the port of takd's api listener PROTO (https, enroll)
# in the status of the running takd.
api_port() {
	grep -o "\"proto\":\"$1\",\"address\":\"[^\"]*\",\"port\":[0-9]*" \
	    "$DIR/status0.json" | head -1 | grep -o '[0-9]*$'
}

# api_pid: the api process's pid; signer_pid: takd-signer's (a child of
# the supervisor by that name), empty when there is none.
api_pid() {
	grep -o '"api":{"state":"[a-z]*","pid":[0-9]*' "$DIR/status0.json" |
	    grep -o '[0-9]*$'
}
signer_pid() {
	local p
	for p in $(cat /proc/"$TAKD_PID"/task/*/children 2>/dev/null); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" != takd-signer ] ||
		    { echo "$p"; return; }
	done
}

# api: BENCH_HOLD sessions of one certificate (user c0000), each sending
# one SA (takload --register) so that the registry lists it with a uid
# and a callsign, held while c0001 asks for clientEndPoints BENCH_API
# times.  c0000 publishes to group Fleet and receives nothing (--in);
# c0001 receives from Fleet (--out): c0001 sees every held client, and
# no SA fans out to the other held sessions (which would make the ramp a
# 10,000 x 10,000 fan-out, not what is measured here).
api_scenario() {
	local cfg=$T/api-auth.ini users=$T/api-auth/users port pid up t0 rc=0
	mkdir -m 755 "$T/api-auth"
	{
		printf '[server]\nstate_dir = %s\n' "$T/api-auth/state"
		printf '[auth]\nusers = %s\n' "$users"
	} >"$cfg"
	"$TAKCTL" -c "$cfg" user add c0000 --in Fleet --no-password \
	    >>"$T/users.log" 2>&1 &&
	"$TAKCTL" -c "$cfg" user add c0001 --out Fleet --no-password \
	    >>"$T/users.log" 2>&1 ||
	    die "takctl user add failed: $(tail -3 "$T/users.log")"
	chmod 644 "$users"
	say "api: takd with the api on; takload --mode hold --register" \
	    "--clients $HOLD; takhttp get --requests $API_REQ"
	TAKD_USERS=$users TAKD_API='listen = 127.0.0.1:0\nenroll_listen =' \
	    start_takd api auto
	port=$(api_port https)
	pid=$(api_pid)
	[ -n "$port" ] && [ -n "$pid" ] ||
	    die "api: no https listener or api process in takctl status"
	"$LOAD" --connect "127.0.0.1:$PORT" --takd-pid "$TAKD_PID" \
	    --mode hold --register "${CERT[@]}" --clients "$HOLD" --rate 0 \
	    --duration 3600 --settle 1 --ready-file "$DIR/ready" \
	    >"$T/api_hold.json" 2>"$T/api_hold.err" &
	BG_PID=$!
	t0=$(date +%s)
	while [ ! -s "$DIR/ready" ]; do
		kill -0 "$BG_PID" 2>/dev/null || {
			wait "$BG_PID" || true; BG_PID=
			cat "$T/api_hold.err" >&2; die "api: takload failed"; }
		[ $(( $(date +%s) - t0 )) -lt 600 ] ||
		    die "api: sessions not up after 600 s"
		sleep 0.2
	done
	up=$(cat "$DIR/ready")
	echo "$up" >"$T/api.up"
	"$HTTP" get --connect "127.0.0.1:$port" --ca "$T/pki/ca.pem" \
	    --cert "$T/pki/clients/c0001.pem" --key "$T/pki/clients/c0001.key" \
	    --requests "$API_REQ" --expect "$up" --wait 30 --pid "api=$pid" \
	    >"$T/api.json" 2>"$T/api.err" || rc=$?
	kill -USR1 "$BG_PID" 2>/dev/null || true
	wait "$BG_PID" || true
	BG_PID=
	stop_takd
	[ "$rc" = 0 ] || { cat "$T/api.err" >&2; die "api: takhttp failed"; }
	say "  $(cut -c1-400 "$T/api.json")..."
}

# enroll: BENCH_ENROLL enrollments (POST signClient/v2) over
# BENCH_ENROLL_CONNS connections, one user each (takctl user add
# --password), CSRs made beforehand.  The signer signs at most 60 a
# minute after a burst of 20 unless [api] enroll_rate says otherwise:
# where the key exists the bench sets it high, else it asks for the
# burst only and the report says why.
ENROLL_PW=bench-enroll-pw
enroll_scenario() {
	local cfg=$T/enroll-auth.ini users=$T/enroll-auth/users port code i
	local api sig v n=$ENROLL extra='' args=()
	mkdir -m 755 "$T/enroll-auth"
	{
		printf '[server]\nstate_dir = %s\n' "$T/enroll-auth/state"
		printf '[auth]\nusers = %s\n' "$users"
	} >"$cfg"
	for ((i = 0; i < ENROLL_CONNS; i++)); do
		printf '%s\n' "$ENROLL_PW" | "$TAKCTL" -c "$cfg" user add \
		    "$(printf 'e%02d' "$i")" --groups Bench >>"$T/users.log" 2>&1 ||
		    die "takctl user add failed: $(tail -3 "$T/users.log")"
		args+=(--user "$(printf 'e%02d' "$i"):$ENROLL_PW")
	done
	chmod 644 "$users"
	if grep -q '"enroll_rate"' "$REPO/shared/config_keys.c"; then
		# The documented example's form, its first number made high.
		v=$(sed -n 's/^; *enroll_rate *= *//p' "$REPO/etc/takd.ini" |
		    head -1 | sed 's/[0-9][0-9]*/100000/')
		extra="\nenroll_rate = ${v:-100000}"
		echo "[api] enroll_rate = ${v:-100000}" >"$T/enroll.limit"
	else
		[ "$n" -le 20 ] || n=20
		echo "the signer's default limit (60 a minute after a burst of 20; no [api] enroll_rate key in this build): $n enrollments, the burst" \
		    >"$T/enroll.limit"
	fi
	say "enroll: takd with the api on; takhttp enroll --requests $n" \
	    "over $ENROLL_CONNS connections"
	TAKD_USERS=$users TAKD_API="listen =\nenroll_listen = 127.0.0.1:0\ncert_o = TAK\ncert_ou = Bench$extra" \
	    start_takd enroll auto
	port=$(api_port enroll)
	api=$(api_pid)
	[ -n "$port" ] && [ -n "$api" ] ||
	    die "enroll: no enroll listener or api process in takctl status"
	# Wired or not: a GET of the POST-only route is 405 once it exists.
	code=$("$HTTP" status --connect "127.0.0.1:$port" --ca "$T/pki/ca.pem" \
	    --path /Marti/api/tls/signClient/v2 2>>"$T/enroll.err")
	if [ "$code" = 404 ]; then
		stop_takd
		echo "not run: enrollment endpoints answer 404 (POST /Marti/api/tls/signClient/v2 is not served by this build)" \
		    >"$T/enroll.skip"
		say "  $(cat "$T/enroll.skip")"
		return 0
	fi
	sig=$(signer_pid)
	"$HTTP" enroll --connect "127.0.0.1:$port" --ca "$T/pki/ca.pem" \
	    --requests "$n" --o TAK --ou Bench "${args[@]}" --pid "api=$api" \
	    ${sig:+--pid "signer=$sig"} >"$T/enroll.json" 2>>"$T/enroll.err" ||
	    { stop_takd; cat "$T/enroll.err" >&2; die "enroll: takhttp failed"; }
	[ -n "$sig" ] || echo "no takd-signer process found" >>"$T/enroll.limit"
	stop_takd
	say "  $(cut -c1-400 "$T/enroll.json")..."
}

# packages: data packages as ATAK shares them (issue 18): takhttp
# packages uploads a file BENCH_PKG_SMALL times (1 MiB) or
# BENCH_PKG_LARGE times (100 MiB) with POST /Marti/sync/missionupload
# (multipart, streamed from the file, each upload 32 bytes of its own
# ahead of it so that every one is stored), one after the other on one
# keep-alive connection, then downloads each (GET
# /Marti/sync/content?hash=); the api process's CPU over each phase.  A
# fresh takd for each size; [api] max_upload = 128M lets the 100 MiB
# file in with its multipart framing.  The store is in the temp dir
# (tmpfs when there is one): the disk's speed is not in the figures.
packages_scenario() {
	local size n name port pid
	head -c 1M /dev/urandom >"$T/pkg_1.bin"
	head -c 100M /dev/urandom >"$T/pkg_100.bin"
	stat -f -c %T "$T" >"$T/packages.fs"
	for size in 1 100; do
		n=$PKG_SMALL
		[ "$size" = 1 ] || n=$PKG_LARGE
		[ "$n" -gt 0 ] || continue
		name=packages_$size
		say "$name: takd with the api on; takhttp packages --requests $n" \
		    "of $size MiB"
		TAKD_API='listen = 127.0.0.1:0\nenroll_listen =\nmax_upload = 128M' \
		    start_takd "$name" auto
		port=$(api_port https)
		pid=$(api_pid)
		[ -n "$port" ] && [ -n "$pid" ] ||
		    die "$name: no https listener or api process in takctl status"
		"$HTTP" packages --connect "127.0.0.1:$port" --ca "$T/pki/ca.pem" \
		    "${CERT[@]}" --file "$T/pkg_$size.bin" --requests "$n" \
		    --pid "api=$pid" >"$T/$name.json" 2>"$T/$name.err" ||
		    { stop_takd; cat "$T/$name.err" >&2;
		      die "$name: takhttp failed"; }
		stop_takd
		# Give the tmpfs back: up to BENCH_PKG_LARGE x 100 MiB.
		rm -rf "$DIR/state/packages"
		say "  $(cut -c1-400 "$T/$name.json")..."
	done
	rm -f "$T/pkg_1.bin" "$T/pkg_100.bin"
}

# --- cluster (issue 19) ---------------------------------------------------------
# cluster: a nats-server on loopback and CL_NODES takd nodes of CL_W
# workers linked through it (docs/cluster.md), CL_PER clients on each,
# everyone seeing everyone at 1 SA/s (client i on node i % CL_NODES);
# against one node of the same workers holding all CL_N clients (the
# fanout scenario's figure when it ran with those workers, else a run made
# here).  takload measures each node's CPU against the deliveries to its
# own clients, the latency of what crossed nodes, and the CPU of the
# cluster processes and of nats-server.
CL_NATS_PID=
cl_nats_start() {
	local d=$T/nats i
	mkdir -p "$d"
	"$NATS_SERVER" -a 127.0.0.1 -p -1 --ports_file_dir "$d" \
	    -l "$d/nats.log" >"$d/stderr" 2>&1 </dev/null &
	CL_NATS_PID=$!
	CL_PIDS="$CL_PIDS $CL_NATS_PID"
	for i in $(seq 100); do
		CL_URL=$(grep -o 'nats://127.0.0.1:[0-9]*' \
		    "$d/nats-server_$CL_NATS_PID.ports" 2>/dev/null | head -1)
		[ -z "$CL_URL" ] || return 0
		kill -0 "$CL_NATS_PID" 2>/dev/null ||
		    die "nats-server exited: $(tail -3 "$d/stderr")"
		sleep 0.1
	done
	die "nats-server did not come up: $(tail -3 "$d/nats.log")"
}

# cl_linked CFG: the node of CFG is on NATS and hears every other node.
cl_linked() {
	local st
	st=$("$TAKCTL" -c "$1" status 2>/dev/null) || return 1
	case "$st" in *'"nats_connected":true'*) ;; *) return 1 ;; esac
	[ "$(echo "$st" | grep -o '"last_heard_ms_ago"' | wc -l)" = \
	    $((CL_NODES - 1)) ]
}

# cl_stat DIR KEY: a number of the cluster's report in the node's status.
cl_stat() {
	grep -o "\"$2\":[0-9]*" "$1/status.json" 2>/dev/null | head -1 |
	    cut -d: -f2
}

cluster_scenario() {
	local k base name args=() pids=() cfgs=() dirs=() ok i cpid
	base=fanout_${CL_N}_w$CL_W
	if [ ! -s "$T/$base.json" ]; then
		run "$base" "$CL_W" --mode fanout --cert-dir "$T/pki/clients" \
		    --clients "$CL_N" --rate 1000 --sa-rate 1 \
		    --duration "$DURATION" --drain "$DRAIN" --settle 1
	fi
	cl_nats_start
	say "cluster: nats-server $CL_URL; $CL_NODES takd nodes of $CL_W" \
	    "worker(s), $CL_PER clients each"
	for ((k = 0; k < CL_NODES; k++)); do
		TAKD_CLUSTER="nats = $CL_URL\nname = bench\nnode = n$k" \
		    start_takd "cluster_n$k" "$CL_W"
		pids+=("$TAKD_PID") cfgs+=("$CFG") dirs+=("$DIR")
		CL_PIDS="$CL_PIDS $TAKD_PID"
		TAKD_PID=
		args+=(--connect "127.0.0.1:$PORT" --takd-pid "${pids[k]}")
		cpid=$(grep -o '"cluster":{[^}]*"pid":[0-9]*' \
		    "$DIR/status0.json" | grep -o '[0-9]*$')
		[ -n "$cpid" ] || die "cluster: node $k has no cluster process"
		args+=(--pid "cluster$k=$cpid")
	done
	for i in $(seq 200); do
		ok=1
		for ((k = 0; k < CL_NODES; k++)); do
			cl_linked "${cfgs[k]}" || ok=0
		done
		[ "$ok" = 0 ] || break
		sleep 0.1
	done
	[ "$ok" = 1 ] || die "cluster: the nodes do not hear each other"
	"$LOAD" "${args[@]}" --pid "nats=$CL_NATS_PID" --mode fanout \
	    --cert-dir "$T/pki/clients" --clients "$CL_N" --rate 1000 \
	    --sa-rate 1 --duration "$DURATION" --drain "$DRAIN" --settle 1 \
	    >"$T/cluster.json" 2>"$T/cluster.err" ||
	    { cat "$T/cluster.err" >&2; die "cluster: takload failed"; }
	for ((k = 0; k < CL_NODES; k++)); do
		TAKD_PID=${pids[k]} CFG=${cfgs[k]} DIR=${dirs[k]}
		stop_takd
		echo "$(cl_stat "$DIR" published) / $(cl_stat "$DIR" received)" \
		    >"$T/cluster_n$k.pubrecv"
		echo "$(cl_stat "$DIR" drop_slow) slow, $(cl_stat "$DIR" drop_mesh) mesh, $(cl_stat "$DIR" publish_failed) publish failed, $(ssum "$DIR" dropped_full) worker queue full, $(ssum "$DIR" superseded) superseded" \
		    >"$T/cluster_n$k.drops"
		spread "$DIR" >"$T/cluster_n$k.spread"
	done
	kill -TERM "$CL_NATS_PID" 2>/dev/null || true
	wait "$CL_NATS_PID" 2>/dev/null || true
	CL_PIDS=
	say "  $(cut -c1-400 "$T/cluster.json")..."
}

cluster_report() {
	local b=fanout_${CL_N}_w$CL_W c=cluster k cpu one
	[ -s "$T/$c.json" ] || return 0
	echo "### Two nodes over NATS ($CL_NODES takd nodes of $CL_W worker(s) × $CL_PER clients, one nats-server, 1 SA event/s each, ${DURATION} s, every event to every other client on either node)"
	echo
	echo "| scenario | events sent | deliveries / expected | missing | dup | latency p50 / p99 / max ms | across nodes: deliveries, p50 / p99 / max ms | takd CPU s (all nodes) | takload CPU s |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '| %s | %s | %s / %s | %s | %s | %s / %s / %s | %s, %s / %s / %s | %s | %s |\n' \
	    "$CL_NODES nodes × $CL_PER" "$(v $c events_sent)" \
	    "$(v $c deliveries)" "$(v $c deliveries_expected)" \
	    "$(v $c deliveries_missing)$([ "$(v $c drain_timeout)" != true ] || echo ", drain timed out (${DRAIN} s)")" \
	    "$(v $c deliveries_dup)" "$(v $c lat_p50_ms)" "$(v $c lat_p99_ms)" \
	    "$(v $c lat_max_ms)" "$(v $c deliveries_x)" "$(v $c lat_x_p50_ms)" \
	    "$(v $c lat_x_p99_ms)" "$(v $c lat_x_max_ms)" "$(v $c takd_cpu_s)" \
	    "$(v $c gen_cpu_s)"
	printf '| %s | %s | %s / %s | %s | %s | %s / %s / %s | - | %s | %s |\n' \
	    "one node × $CL_N" "$(v $b events_sent)" "$(v $b deliveries)" \
	    "$(v $b deliveries_expected)" "$(v $b deliveries_missing)" \
	    "$(v $b deliveries_dup)" "$(v $b lat_p50_ms)" "$(v $b lat_p99_ms)" \
	    "$(v $b lat_max_ms)" "$(v $b takd_cpu_s)" "$(v $b gen_cpu_s)"
	echo
	one=$(v $b cpu_us_per_delivery)
	echo "| node | its clients' deliveries | takd CPU s | takd CPU µs / delivery | vs one node of $CL_N | of which its cluster process, CPU s | NATS messages published / received | drops |"
	echo "|---|---|---|---|---|---|---|---|"
	for ((k = 0; k < CL_NODES; k++)); do
		cpu=$(v $c node${k}_cpu_us_per_delivery)
		printf '| n%s | %s | %s | **%s** | %s | %s | %s | %s |\n' "$k" \
		    "$(v $c node${k}_deliveries)" "$(v $c node${k}_cpu_s)" \
		    "$cpu" "$(awk -v a="$cpu" -v b="$one" 'BEGIN { if (b > 0) printf "%+.0f %%", (a / b - 1) * 100; else print "-" }')" \
		    "$(v $c cpu_s_cluster$k)" "$(cat "$T/cluster_n$k.pubrecv")" \
		    "$(cat "$T/cluster_n$k.drops")"
	done
	printf '| one node | %s | %s | **%s** | | | | %s |\n' \
	    "$(v $b deliveries)" "$(v $b takd_cpu_s)" "$one" \
	    "$(cat "$T/$b.drops")"
	echo
	echo "nats-server CPU: **$(v $c cpu_s_nats) s** in the window of $(v $c window_s) s ($(awk -v a="$(v $c cpu_s_nats)" -v n="$(v $c events_sent)" 'BEGIN { if (n > 0) printf "%.1f", a * 1e6 / n; else print "-" }') µs per event sent, each received once and sent to the other node once)."
	echo
	echo "| target (issue 19) | measured | verdict |"
	echo "|---|---|---|"
	echo "| every event delivered on both nodes, none twice | $(v $c deliveries) of $(v $c deliveries_expected), $(v $c deliveries_dup) dup | $(verdict "$(v $c deliveries_missing) == 0 && $(v $c deliveries_dup) == 0") |"
	echo "| p99 latency across nodes < 50 ms (the one-node target) | $(v $c lat_x_p99_ms) ms | $(verdict "$(v $c lat_x_p99_ms) < 50") |"
	echo
}

# --- scenarios ---------------------------------------------------------------
T_START=$(date +%s)
LOADAVG0=$(cut -d' ' -f1-3 /proc/loadavg)
make_pki
CERT=(--cert "$T/pki/clients/c0000.pem" --key "$T/pki/clients/c0000.key")
NW=$(nproc)
case "$ONLY" in *" hs "*)
	run hs_full auto --mode handshake "${CERT[@]}" --concurrency 16 \
	    --duration "$DURATION"
	run hs_resumed auto --mode handshake "${CERT[@]}" --concurrency 16 \
	    --duration "$DURATION" --resume
esac
case "$ONLY" in *" hold "*)
	run hold auto --mode hold "${CERT[@]}" --clients "$HOLD" --rate 0 \
	    --duration 5 --settle 2
esac
case "$ONLY" in *" fanout "*)
	for n in $FANOUT; do
		run "fanout_${n}_w$NW" auto --mode fanout --cert-dir \
		    "$T/pki/clients" --clients "$n" --rate 1000 --sa-rate 1 \
		    --duration "$DURATION" --drain "$DRAIN" --settle 1
	done
esac
case "$ONLY" in *" fanout1 "*)
	for n in $FANOUT; do
		[ "$NW" != 1 ] || break
		run "fanout_${n}_w1" 1 --mode fanout --cert-dir \
		    "$T/pki/clients" --clients "$n" --rate 1000 --sa-rate 1 \
		    --duration "$DURATION" --drain "$DRAIN" --settle 1
	done
esac
# Clients arriving one by one (20 a second): every worker must get its
# share from the first connection on (one shared socket with EPOLLEXCLUSIVE
# gave them all to one worker), then the same fan-out as above.
case "$ONLY" in *" slow "*)
	for w in $(printf '%s\n' "$NW" 1 | uniq); do
		run "slow_${SLOW}_w$w" "$w" --mode fanout --cert-dir \
		    "$T/pki/clients" --clients "$SLOW" --rate "$SLOW_RATE" \
		    --sa-rate 1 --duration "$DURATION" --drain "$DRAIN" --settle 1
	done
esac
# Latency classes (issue 21): the fan-out with CHAT_PCT % of the events
# GeoChat lines, which must not wait for [cot] sa_flush_delay as SA do.
case "$ONLY" in *" chat "*)
	run "chat_${CHATN}_w$NW" auto --mode fanout --cert-dir \
	    "$T/pki/clients" --clients "$CHATN" --chat "$CHAT_PCT" --rate 1000 \
	    --sa-rate 1 --duration "$DURATION" --drain "$DRAIN" --settle 1
esac
# Fan-out with groups, then the same number of deliveries without groups:
# the same sessions, each sending an SA every TEAMS seconds, so that
# every receiver gets the events a team member gets (docs/performance.md,
# "Fan-out with groups").
case "$ONLY" in *" groups "*)
	make_users
	TAKD_USERS=$USERS run "groups_$GCLIENTS" auto --mode fanout \
	    --cert-dir "$T/pki/clients" --clients "$GCLIENTS" --teams "$TEAMS" \
	    --hq "$HQ" --rate 1000 --sa-rate 1 --duration "$DURATION" \
	    --drain "$DRAIN" --settle 1
	# (one SA each at least, with a short BENCH_DURATION)
	run "nogroups_$GCLIENTS" auto --mode fanout --cert-dir \
	    "$T/pki/clients" --clients "$GCLIENTS" --rate 1000 --sa-rate \
	    "$(awk -v t="$TEAMS" 'BEGIN { print 1 / t }')" --duration \
	    "$(awk -v d="$DURATION" -v t="$TEAMS" 'BEGIN { print d < t ? t : d }')" \
	    --drain "$DRAIN" --settle 1
esac
# TAK protocol v1 (issue 16): the same fan-out with every client on v1,
# then half of them (every other one), against the all-XML figure (the
# fanout scenario's when it ran, else one made here).
case "$ONLY" in *" v1 "*)
	name=fanout_${V1N}_w$NW
	case "$ONLY" in *" fanout "*) case " $FANOUT " in *" $V1N "*) ;;
	    *) name= ;; esac ;; *) name= ;; esac
	[ -n "$name" ] || run "fanout_${V1N}_w$NW" auto --mode fanout \
	    --cert-dir "$T/pki/clients" --clients "$V1N" --rate 1000 \
	    --sa-rate 1 --duration "$DURATION" --drain "$DRAIN" --settle 1
	for p in 100 50; do
		run "v1_${V1N}_$p" auto --mode fanout --cert-dir \
		    "$T/pki/clients" --clients "$V1N" --rate 1000 --sa-rate 1 \
		    --duration "$DURATION" --drain "$DRAIN" --settle 1 --v1 "$p"
	done
esac
# The api process (issue 17): GET /Marti/api/clientEndPoints while
# BENCH_HOLD registered clients are held, and certificate enrollments.
case "$ONLY" in *" api "*) api_scenario ;; esac
case "$ONLY" in *" enroll "*) enroll_scenario ;; esac
case "$ONLY" in *" packages "*) packages_scenario ;; esac
case "$ONLY" in *" cluster "*) cluster_scenario ;; esac
ELAPSED=$(( $(date +%s) - T_START ))
say "done in $ELAPSED s"

# --- the report ----------------------------------------------------------------
# v NAME KEY: a figure of scenario NAME, "-" when it did not run.
v() {
	[ -s "$T/$1.json" ] || { echo -; return; }
	jf "$T/$1.json" "$2"
}

# verdict EXPR: "met" / "**missed**" / "not run" for an awk condition on
# numbers already substituted in ("-" for a figure of a scenario that did
# not run; a negative number is a figure).
verdict() {
	case " $1 " in *" - "*) echo "not run"; return ;; esac
	if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi
}

# cot_value KEY: the [cot] KEY every takd of the run had: the last such
# line of BENCH_CONF, else the default etc/takd.ini documents ("; KEY =
# VALUE").  Scenarios that set it themselves say so in their own lines.
cot_value() {
	local v
	v=$(printf '%b\n' "${BENCH_CONF:-}" |
	    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" | tail -1)
	[ -n "$v" ] && { echo "$v (BENCH_CONF)"; return; }
	v=$(sed -n "s/^;[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" \
	    "$REPO/etc/takd.ini" | head -1)
	echo "${v:-?} (default)"
}

report() {
	local n w name cpu_model
	cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
	echo "<!-- bench:begin (written by scripts/bench.sh; edit outside the markers) -->"
	echo
	echo "Last run: $(date -u +%Y-%m-%dT%H:%MZ), $ELAPSED s in all, takd $(cat "$T"/*/status0.json 2>/dev/null | grep -o '"version":"[^"]*"' | head -1 | cut -d'"' -f4)"
	echo "on \`$cpu_model\`, $(nproc) CPUs ($(grep -c ^processor /proc/cpuinfo) in /proc/cpuinfo),"
	echo "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM,"
	echo "Linux $(uname -r), $(openssl version | cut -d' ' -f1-2), $(cc --version | head -1)."
	echo "takd build: \`$(basename "$B")\` (-O2, no sanitizers); generator on the same CPUs."
	echo "Load average before the run: $LOADAVG0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "Output delays of every takd: \`[cot] flush_delay\` $(cot_value flush_delay),"
	echo "\`sa_flush_delay\` $(cot_value sa_flush_delay): SA positions wait up to"
	echo "the latter, and a newer position of a uid supersedes a queued one."
	echo "(anything else running on the machine shows up in the latencies and rates,"
	echo "less in the CPU times)."
	if awk -v l="${LOADAVG0%% *}" 'BEGIN { exit !(l > 1.0) }'; then
		echo
		echo "**The machine was busy with other work during this run: latencies, rates and"
		echo "to a lesser degree CPU times are worse than takd's own.**"
	fi
	echo
	echo "### Handshakes (ECDSA P-256 certificates, TLS 1.3, $(v hs_full concurrency) connections at a time, ${DURATION} s)"
	echo
	echo "| kind | handshakes | resumed | handshakes/s | takd CPU µs / handshake | p50 / p99 ms | takd CPU s | takload CPU s | sessions per worker |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for name in hs_full hs_resumed; do
		[ -s "$T/$name.json" ] || continue
		printf '| %s | %s | %s | %s | **%s** | %s / %s | %s | %s | %s |\n' \
		    "${name#hs_}" "$(v $name handshakes)" \
		    "$(v $name handshakes_resumed)" "$(v $name handshakes_per_s)" \
		    "$(v $name cpu_us_per_handshake)" "$(v $name hs_p50_ms)" \
		    "$(v $name hs_p99_ms)" "$(v $name takd_cpu_s)" \
		    "$(v $name gen_cpu_s)" "$(cat "$T/$name.spread")"
	done
	echo
	echo "TLS: $(v hs_full tls_version) $(v hs_full cipher), key exchange $(v hs_full group)."
	echo
	if [ -s "$T/hold.json" ]; then
		echo "### $HOLD idle sessions"
		echo
		echo "| sessions up | failed | ramp | takd RSS before | with the sessions | end of hold | per session | PSS (all processes) | takd CPU µs / session (ramp) |"
		echo "|---|---|---|---|---|---|---|---|---|"
		printf '| %s | %s | %s s (%s/s) | %s MiB | **%s MiB** | %s MiB | %s KiB | %s MiB | %s |\n' \
		    "$(v hold sessions_open)" "$(v hold sessions_failed)" \
		    "$(v hold ramp_s)" "$(awk -v n="$(v hold sessions_established)" \
		    -v s="$(v hold ramp_s)" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')" \
		    "$(v hold takd_rss_base_mib)" "$(v hold takd_rss_mib)" \
		    "$(v hold takd_rss_end_mib)" "$(v hold rss_per_session_kib)" \
		    "$(v hold takd_pss_mib)" "$(v hold ramp_cpu_us_per_session)"
		echo
		echo "Sessions per worker: $(cat "$T/hold.spread")."
		echo
	fi
	echo "### Fan-out (1 SA event/s per client, ${DURATION} s, every event to every other client; sa_flush_delay $(cot_value sa_flush_delay | cut -d' ' -f1))"
	echo
	echo "| clients | workers | events sent | deliveries / expected | missing | dup | takd drops | deliveries/s | latency p50 / p90 / p99 / max ms | takd CPU µs / delivery | takd writes / delivery | takd CPU s | takload CPU s | sessions per worker |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for w in "$NW" 1; do
		for n in $FANOUT; do
			name=fanout_${n}_w$w
			[ -s "$T/$name.json" ] || continue
			printf '| %s | %s | %s | %s / %s | %s | %s | %s | %s | %s / %s / %s / %s | **%s** | %s | %s | %s | %s |\n' \
			    "$n" "$w" "$(v $name events_sent)" \
			    "$(v $name deliveries)" \
			    "$(v $name deliveries_expected)" \
			    "$(v $name deliveries_missing)$([ "$(v $name drain_timeout)" != true ] || echo ", drain timed out (${DRAIN} s)")" \
			    "$(v $name deliveries_dup)" \
			    "$(cat "$T/$name.drops")" \
			    "$(v $name deliveries_per_s)" \
			    "$(v $name lat_p50_ms)" "$(v $name lat_p90_ms)" \
			    "$(v $name lat_p99_ms)" "$(v $name lat_max_ms)" \
			    "$(v $name cpu_us_per_delivery)" \
			    "$(v $name writes_per_delivery)" \
			    "$(v $name takd_cpu_s)" "$(v $name gen_cpu_s)" \
			    "$(cat "$T/$name.spread")"
		done
	done
	echo
	class_report
	slow_report
	groups_report
	v1_report
	api_report
	enroll_report
	packages_report
	cluster_report
	targets
	echo
	echo "<!-- bench:end -->"
}

# Latency by class (issue 21): SA positions may wait for [cot]
# sa_flush_delay, chat lines may not.
class_report() {
	local name rows=""
	for name in $(for n in $FANOUT; do echo "fanout_${n}_w$NW"; done) \
	    "chat_${CHATN}_w$NW"; do
		[ -s "$T/$name.json" ] && rows="$rows $name"
	done
	[ -n "$rows" ] || return 0
	echo "### Latency by class (SA positions, chat lines; ${DURATION} s, $NW workers, sa_flush_delay $(cot_value sa_flush_delay | cut -d' ' -f1))"
	echo
	echo "| scenario | clients | chat % | SA p50 / p99 / max ms | chat deliveries | chat p50 / p99 / max ms | missing | takd drops | takd CPU µs / delivery | takd writes / delivery |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for name in $rows; do
		printf '| %s | %s | %s | %s / %s / %s | %s | %s / %s / %s | %s | %s | **%s** | %s |\n' \
		    "$name" "$(v $name clients)" "$(v $name chat_pct)" \
		    "$(v $name lat_sa_p50_ms)" "$(v $name lat_sa_p99_ms)" \
		    "$(v $name lat_sa_max_ms)" "$(v $name deliveries_chat)" \
		    "$(v $name lat_chat_p50_ms)" "$(v $name lat_chat_p99_ms)" \
		    "$(v $name lat_chat_max_ms)" "$(v $name deliveries_missing)" \
		    "$(cat "$T/$name.drops")" \
		    "$(v $name cpu_us_per_delivery)" \
		    "$(v $name writes_per_delivery)"
	done
	echo
}

slow_report() {
	local w name
	[ -s "$T/slow_${SLOW}_w1.json" ] || [ -s "$T/slow_${SLOW}_w$NW.json" ] ||
	    return 0
	echo "### Fan-out, clients arriving one by one ($SLOW clients at $SLOW_RATE connections/s, 1 SA event/s each, ${DURATION} s)"
	echo
	echo "| workers | ramp | sessions per worker | deliveries / expected | missing | latency p50 / p99 ms | takd CPU µs / delivery | takd CPU s |"
	echo "|---|---|---|---|---|---|---|---|"
	for w in $(printf '%s\n' "$NW" 1 | uniq); do
		name=slow_${SLOW}_w$w
		[ -s "$T/$name.json" ] || continue
		printf '| %s | %s s | %s | %s / %s | %s | %s / %s | **%s** | %s |\n' \
		    "$w" "$(v $name ramp_s)" "$(cat "$T/$name.spread")" \
		    "$(v $name deliveries)" "$(v $name deliveries_expected)" \
		    "$(v $name deliveries_missing)" "$(v $name lat_p50_ms)" \
		    "$(v $name lat_p99_ms)" "$(v $name cpu_us_per_delivery)" \
		    "$(v $name takd_cpu_s)"
	done
	echo
}

groups_report() {
	local g=groups_$GCLIENTS n=nogroups_$GCLIENTS name
	[ -s "$T/$g.json" ] || [ -s "$T/$n.json" ] || return 0
	echo "### Fan-out with groups ($TEAMS groups of $TEAM_SIZE clients and $HQ HQ client in all $TEAMS, 1 SA event/s each, ${DURATION} s; the same deliveries without groups)"
	echo
	echo "| scenario | clients | SA/s per client | events sent | each event reaches | deliveries / expected | missing | foreign | withheld by groups / predicted | deliveries/s | latency p50 / p99 ms | takd CPU µs / delivery | takd writes / delivery | takd CPU s | takload CPU s | sessions per worker |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	for name in "$g" "$n"; do
		[ -s "$T/$name.json" ] || continue
		printf '| %s | %s | %s | %s | %s | %s / %s | %s | %s | %s / %s | %s | %s / %s | **%s** | %s | %s | %s | %s |\n' \
		    "$([ "$name" = "$g" ] && echo "groups: $TEAMS × $TEAM_SIZE + $HQ HQ" || echo "no groups")" \
		    "$(v $name clients)" "$(v $name sa_rate)" \
		    "$(v $name events_sent)" \
		    "$([ "$name" = "$g" ] && echo "$((TEAM_SIZE - 1 + HQ)) (HQ's: $((GCLIENTS - 1)))" || echo $((GCLIENTS - 1)))" \
		    "$(v $name deliveries)" "$(v $name deliveries_expected)" \
		    "$(v $name deliveries_missing)$([ "$(v $name drain_timeout)" != true ] || echo ", drain timed out (${DRAIN} s)")" \
		    "$(v $name deliveries_foreign)" \
		    "$(cat "$T/$name.withheld")" "$(v $name deliveries_excluded)" \
		    "$(v $name deliveries_per_s)" "$(v $name lat_p50_ms)" \
		    "$(v $name lat_p99_ms)" "$(v $name cpu_us_per_delivery)" \
		    "$(v $name writes_per_delivery)" "$(v $name takd_cpu_s)" \
		    "$(v $name gen_cpu_s)" "$(cat "$T/$name.spread")"
	done
	echo
	echo "The same sessions and about the same deliveries a second either way, and"
	echo "every client but HQ receives as many events a second either way; with"
	echo "groups $TEAMS times as many events each reach about 1/$TEAMS as many clients (a"
	echo "group member's event is withheld from the $((TEAM_SIZE * (TEAMS - 1))) clients of the other groups)."
	echo 'Writes per delivery count takd'"'"'s `write` and `pwrite` calls (LMDB'"'"'s, for'
	echo "each event stored), as in the tables above."
	echo
}

v1_report() {
	local p name base
	base=fanout_${V1N}_w$NW
	[ -s "$T/v1_${V1N}_100.json" ] || [ -s "$T/v1_${V1N}_50.json" ] ||
	    return 0
	echo "### Fan-out in TAK protocol v1 ($V1N clients, 1 SA event/s each, ${DURATION} s, $NW workers)"
	echo
	echo "| clients on v1 | deliveries / expected | missing | latency p50 / p99 ms | takd CPU µs / delivery | vs all XML | conversions XML→v1 / v1→XML | takd CPU s |"
	echo "|---|---|---|---|---|---|---|---|"
	for p in 0 50 100; do
		name=v1_${V1N}_$p
		[ "$p" != 0 ] || name=$base
		[ -s "$T/$name.json" ] || continue
		printf '| %s | %s / %s | %s | %s / %s | **%s** | %s | %s | %s |\n' \
		    "$([ "$p" = 0 ] && echo "none (XML)" || echo "$(v $name v1_clients) ($p %)")" \
		    "$(v $name deliveries)" "$(v $name deliveries_expected)" \
		    "$(v $name deliveries_missing)" "$(v $name lat_p50_ms)" \
		    "$(v $name lat_p99_ms)" "$(v $name cpu_us_per_delivery)" \
		    "$(awk -v a="$(v $name cpu_us_per_delivery)" \
		    -v b="$(v $base cpu_us_per_delivery)" \
		    'BEGIN { if (b > 0) printf "%+.0f %%", (a / b - 1) * 100; else print "-" }')" \
		    "$(cat "$T/$name.conv")" "$(v $name takd_cpu_s)"
	done
	echo
}

api_report() {
	local a=api
	[ -s "$T/$a.json" ] || return 0
	echo "### The api process: \`GET /Marti/api/clientEndPoints\` with $(cat "$T/api.up") registered clients held (mutual TLS on 8443's listener, keep-alive)"
	echo
	echo "| requests | entries (min / max) / clients visible | reply bytes | p50 / p99 / max ms | requests/s | api CPU µs / request | takhttp CPU µs / request | cold: connect + handshake + request ms (request alone) | cold: api CPU µs | registry caught up in |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	printf '| %s | %s / %s / %s | %s | %s / %s / %s | %s | **%s** | %s | %s (%s) | %s | %s s (%s polls) |\n' \
	    "$(v $a requests)" "$(v $a entries_min)" "$(v $a entries_max)" \
	    "$(cat "$T/api.up")" "$(v $a bytes)" "$(v $a lat_p50_ms)" \
	    "$(v $a lat_p99_ms)" "$(v $a lat_max_ms)" "$(v $a per_s)" \
	    "$(v $a cpu_us_api_per_req)" "$(v $a client_cpu_us_per_req)" \
	    "$(v $a cold_ms)" "$(v $a cold_request_ms)" \
	    "$(v $a cold_cpu_us_api_per_req)" "$(v $a wait_s)" "$(v $a polls)"
	echo
	echo "Held by takload (\`--mode hold --register\`, one SA each): $(v api_hold sessions_open) sessions up, $(v api_hold sessions_failed) failed, ramp $(v api_hold ramp_s) s; takd RSS with them $(v api_hold takd_rss_mib) MiB."
	echo "Latency is takhttp's, from the request's first byte written to the"
	echo "reply's last byte read: it includes takhttp's own TLS decryption of the"
	echo "reply (its CPU per request, beside)."
	echo
}

enroll_report() {
	local e=enroll
	if [ -s "$T/enroll.skip" ]; then
		echo "### Certificate enrollment"
		echo
		echo "$(cat "$T/enroll.skip")."
		echo
		return 0
	fi
	[ -s "$T/$e.json" ] || return 0
	echo "### Certificate enrollment (\`POST /Marti/api/tls/signClient/v2\`, HTTP Basic, EC P-256 CSRs made beforehand, $(v $e connections) keep-alive connections)"
	echo
	echo "| enrollments | 200 with a certificate | statuses | enrollments/s | p50 / p99 / max ms | api CPU µs / enrollment | takd-signer CPU µs / enrollment | reconnects |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '| %s | %s | %s | %s | %s / %s / %s | **%s** | **%s** | %s |\n' \
	    "$(v $e requests)" "$(v $e ok)" "$(v $e statuses)" "$(v $e per_s)" \
	    "$(v $e lat_p50_ms)" "$(v $e lat_p99_ms)" "$(v $e lat_max_ms)" \
	    "$(v $e cpu_us_api_per_req)" "$(v $e cpu_us_signer_per_req)" \
	    "$(v $e reconnects)"
	echo
	echo "Signer rate: $(cat "$T/enroll.limit")."
	echo
}

packages_report() {
	local size name
	[ -s "$T/packages_1.json" ] || [ -s "$T/packages_100.json" ] ||
	    return 0
	echo "### Data packages (ATAK's upload, \`POST /Marti/sync/missionupload\` multipart, then \`GET /Marti/sync/content\`; one request at a time on one keep-alive connection)"
	echo
	echo "| file | uploads stored | upload MiB/s | api CPU ms / MiB up | upload p50 / max ms | downloads identical | download MiB/s | api CPU ms / MiB down | download p50 / max ms | takhttp CPU ms / MiB up / down |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for size in 1 100; do
		name=packages_$size
		[ -s "$T/$name.json" ] || continue
		printf '| %s MiB | %s of %s | %s | **%s** | %s / %s | %s of %s | %s | **%s** | %s / %s | %s / %s |\n' \
		    "$size" "$(v $name up_ok)" "$(v $name requests)" \
		    "$(v $name up_mib_s)" "$(v $name up_cpu_ms_api_per_mib)" \
		    "$(v $name up_lat_p50_ms)" "$(v $name up_lat_max_ms)" \
		    "$(v $name down_ok)" "$(v $name up_ok)" \
		    "$(v $name down_mib_s)" "$(v $name down_cpu_ms_api_per_mib)" \
		    "$(v $name down_lat_p50_ms)" "$(v $name down_lat_max_ms)" \
		    "$(v $name up_client_cpu_ms_per_mib)" \
		    "$(v $name down_client_cpu_ms_per_mib)"
	done
	echo
	echo "MiB are the packages' bytes; the api process's CPU is its whole CPU time"
	echo "(\`/proc/PID/task/*/schedstat\`) over the phase, TLS included. The store was"
	echo "on $(cat "$T/packages.fs" 2>/dev/null) (the bench's temp dir): every upload is fsync'd, which costs"
	echo "nothing there; on a disk its speed adds to the upload's time, not to the CPU."
	echo "takhttp shares the CPUs: it encrypts what takd decrypts and computes a SHA-256"
	echo "of every upload and download, its CPU per MiB beside."
	echo
}

targets() {
	local f r m lo hi c1 c2 n ok all name ran lim sad
	# sa_flush_delay in ms (0: off), as cot_value gives it.
	sad=$(cot_value sa_flush_delay | cut -d' ' -f1 | awk '
	    /^(off|0)$/ { print 0; exit }
	    /ms$/ { print $0 + 0; exit } /s$/ { print $0 * 1000; exit }
	    { print $0 + 0 }')
	echo "### Targets (2 CPUs, generator on the same CPUs)"
	echo
	echo "| target | measured | verdict |"
	echo "|---|---|---|"
	f=$(v hs_full cpu_us_per_handshake)
	echo "| full mutual-TLS handshake ≤ 300 µs takd CPU | $f µs | $(verdict "$f <= 300") |"
	r=$(v hs_resumed cpu_us_per_handshake)
	m="$(v hs_resumed handshakes_resumed) of $(v hs_resumed handshakes) resumed"
	echo "| resumed handshake ≤ 60 µs, tickets valid in every worker | $r µs, $m (workers: $(cat "$T/hs_resumed.spread" 2>/dev/null)) | $(verdict "$r <= 60 && $(v hs_resumed handshakes_resumed) == $(v hs_resumed handshakes)") |"
	r=$(v hold takd_rss_mib)
	echo "| $HOLD sessions < 300 MiB RSS, all takd processes | $r MiB, $(v hold sessions_open) sessions up | $(verdict "$r < 300 && $(v hold sessions_open) == $HOLD") |"
	name=fanout_500_w$NW
	if [ -s "$T/$name.json" ]; then
		echo "| 500 clients at 1 SA/s: every event delivered | $(v $name deliveries) of $(v $name deliveries_expected), $(v $name deliveries_dup) dup | $(verdict "$(v $name deliveries_missing) == 0 && $(v $name deliveries_dup) == 0") |"
		# Set before the positions could wait for sa_flush_delay.
		[ "$sad" != 0 ] ||
		    echo "| 500 clients: p99 latency < 50 ms (sa_flush_delay off) | $(v $name lat_p99_ms) ms | $(verdict "$(v $name lat_p99_ms) < 50") |"
		echo "| 500 clients: ≤ 2 µs takd CPU per delivery | $(v $name cpu_us_per_delivery) µs | $(verdict "$(v $name cpu_us_per_delivery) <= 2") |"
	fi
	# Issue 21, latency classes: what they are for, with the delay on.
	if [ "$sad" != 0 ]; then
		for n in $FANOUT; do
			name=fanout_${n}_w$NW
			[ -s "$T/$name.json" ] || continue
			case $n in 100) lim=3 ;; 200) lim=1.5 ;; 500) lim=1.0 ;;
			    *) lim= ;; esac
			echo "| $n clients: SA p99 ≤ 150 ms (sa_flush_delay $sad ms) | $(v $name lat_sa_p99_ms) ms | $(verdict "$(v $name lat_sa_p99_ms) <= 150") |"
			[ -z "$lim" ] ||
			    echo "| $n clients: ≤ $lim µs takd CPU per delivery (issue 21) | $(v $name cpu_us_per_delivery) µs | $(verdict "$(v $name cpu_us_per_delivery) <= $lim") |"
		done
		name=chat_${CHATN}_w$NW
		[ ! -s "$T/$name.json" ] ||
		    echo "| $CHATN clients, $CHAT_PCT % chat: chat p99 ≤ 10 ms under SA load | $(v $name lat_chat_p99_ms) ms | $(verdict "$(v $name lat_chat_p99_ms) <= 10") |"
	fi
	lo= hi= all= ran=0
	for n in $FANOUT; do
		c2=$(v "fanout_${n}_w$NW" cpu_us_per_delivery)
		[ "$c2" != - ] || continue
		ran=$((ran + 1))
		all="$all $n: $c2,"
		lo=$(awk -v a="${lo:-$c2}" -v b="$c2" 'BEGIN { print (b < a ? b : a) }')
		hi=$(awk -v a="${hi:-$c2}" -v b="$c2" 'BEGIN { print (b > a ? b : a) }')
	done
	if [ "$ran" -ge 2 ]; then	# flat: over two sizes at least
		echo "| CPU per delivery flat within 25 % from $(echo $FANOUT | cut -d' ' -f1) to $(echo $FANOUT | awk '{ print $NF }') clients | ${all%,} µs (max/min $(awk -v a="$hi" -v b="$lo" 'BEGIN { printf "%.2f", a / b }')) | $(verdict "$hi <= 1.25 * $lo") |"
	fi
	c1=$(v "fanout_${V1N}_w$NW" cpu_us_per_delivery)
	for n in 100 50; do
		name=v1_${V1N}_$n
		[ -s "$T/$name.json" ] || continue
		c2=$(v $name cpu_us_per_delivery)
		echo "| TAK protocol v1, $n % of $V1N clients: CPU per delivery ≤ 15 % above all XML | $c2 µs against $c1 µs ($(awk -v a="$c2" -v b="$c1" 'BEGIN { printf "%+.0f %%", (a / b - 1) * 100 }')), $(v $name deliveries_missing) missing | $(verdict "$c2 <= 1.15 * $c1 && $(v $name deliveries_missing) == 0") |"
	done
	m= ok=1
	for n in $FANOUT; do
		c1=$(v "fanout_${n}_w1" cpu_us_per_delivery)
		c2=$(v "fanout_${n}_w$NW" cpu_us_per_delivery)
		[ "$c1" != - ] && [ "$c2" != - ] || continue
		m="$m $n: $(awk -v a="$c2" -v b="$c1" 'BEGIN { printf "%+.0f %%", (a / b - 1) * 100 }'),"
		awk -v a="$c2" -v b="$c1" 'BEGIN { exit !(a <= 1.15 * b) }' || ok=0
	done
	if [ -n "$m" ]; then
		echo "| $NW workers ≤ 15 % above 1 worker per delivery | ${m%,} | $([ $ok = 1 ] && echo met || echo "**missed**") |"
	fi
	c1=$(v "nogroups_$GCLIENTS" cpu_us_per_delivery)
	c2=$(v "groups_$GCLIENTS" cpu_us_per_delivery)
	if [ "$c1" != - ] && [ "$c2" != - ]; then
		echo "| groups: CPU per delivery within 10 % of the same deliveries without groups | $c2 µs with, $c1 µs without ($(awk -v a="$c2" -v b="$c1" 'BEGIN { printf "%+.0f %%", (a / b - 1) * 100 }')) | $(verdict "$c2 <= 1.10 * $c1") |"
	fi
	if [ -s "$T/api.json" ]; then
		echo "| clientEndPoints: every held client listed, in every reply (no figure set by issue 17) | $(v api entries_min) to $(v api entries_max) of $(cat "$T/api.up") in $(v api requests) replies, $(v api cold_entries) cold | $(verdict "$(v api entries_min) == $(cat "$T/api.up") && $(v api entries_max) == $(cat "$T/api.up") && $(v api cold_entries) == $(cat "$T/api.up") && $(cat "$T/api.up") == $HOLD") |"
	fi
	if [ -s "$T/enroll.json" ]; then
		echo "| enrollment: every request 200 with a certificate (no figure set by issue 17) | $(v enroll ok) of $(v enroll requests) ($(v enroll statuses)) | $(verdict "$(v enroll ok) == $(v enroll requests)") |"
	elif [ -s "$T/enroll.skip" ]; then
		echo "| enrollment: every request 200 with a certificate | $(cut -d'(' -f1 "$T/enroll.skip") | not run |"
	fi
	for name in packages_1 packages_100; do
		[ -s "$T/$name.json" ] || continue
		echo "| data packages of ${name#packages_} MiB: every upload stored, every download the same bytes (no figure set by issue 18) | $(v $name up_ok) of $(v $name requests) stored, $(v $name down_ok) identical$([ -z "$(v $name up_first_error)$(v $name down_first_error)" ] || echo "; $(v $name up_first_error) $(v $name down_first_error)") | $(verdict "$(v $name up_ok) == $(v $name requests) && $(v $name down_ok) == $(v $name requests)") |"
	done
	name=groups_$GCLIENTS
	if [ -s "$T/$name.json" ]; then
		echo "| groups: no event reaches another group; every other one delivered | $(v $name deliveries_foreign) foreign; $(v $name deliveries) of $(v $name deliveries_expected); $(cat "$T/$name.withheld") withheld, $(v $name deliveries_excluded) predicted | $(verdict "$(v $name deliveries_foreign) == 0 && $(v $name deliveries_missing) == 0 && $(v $name deliveries_dup) == 0 && $(cat "$T/$name.withheld") == $(v $name deliveries_excluded)") |"
	fi
}

report >"$T/report.md"
if [ "$OUT" = - ]; then
	cat "$T/report.md"
	exit 0
fi
if [ -f "$OUT" ] && grep -q '^<!-- bench:begin' "$OUT" &&
    grep -q '^<!-- bench:end -->' "$OUT"; then
	awk -v rep="$T/report.md" '
	    /^<!-- bench:begin/ { while ((getline l < rep) > 0) print l; skip = 1; next }
	    /^<!-- bench:end -->/ { skip = 0; next }
	    !skip' "$OUT" >"$T/out.md"
	cat "$T/out.md" >"$OUT"
else
	{ printf '# Performance\n\n'; cat "$T/report.md"; } >"$OUT"
fi
cat "$T/report.md"
say "wrote $OUT"
