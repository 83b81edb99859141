#!/usr/bin/env bash
# scripts/soak.sh DURATION [INTERVAL]: run takd under steady connection churn
# on loopback for DURATION (seconds, or with a unit: 90s, 10m, 2h; at most
# 24h) and print each worker's descriptors and RSS every INTERVAL (default
# 10s).  The load, in rounds: 400 clean sessions, 400 handshakes aborted
# half-way, 200 with a certificate of another CA, 200 revoked, 20 raw
# connections that never handshake (closed by handshake_timeout), and four
# CoT clients that exchange positions for a round and reconnect.
#
# A warm-up (the first minute, or the first third of a shorter run) ends
# with the load stopped and every session gone: the baseline.  The same
# quiet point after the last round is compared with it: exit 1 when a
# worker's descriptors differ by more than 2 or its RSS grew by more than
# 2 MB plus 2 %.  Not part of `make test`: run it by hand, on a release
# build (`make`, the default: bin/takd, and the test client from build/rel)
# or on any build with TAKD, TAKCTL and TAKCLIENT set.  Only 127.0.0.1 is
# used.
set -u

usage() {
	echo "usage: scripts/soak.sh DURATION [INTERVAL]  (e.g. 10m 30s)" >&2
	exit 64
}

# seconds ARG: "90", "90s", "10m", "2h" in seconds, or nothing.
seconds() {
	case "$1" in
	*[!0-9smh]* | "" | [smh]*) return 1 ;;
	*h) echo $(( ${1%h} * 3600 )) ;;
	*m) echo $(( ${1%m} * 60 )) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
DURATION=$(seconds "$1") || usage
INTERVAL=$(seconds "${2:-10}") || usage
[ "$DURATION" -ge 30 ] && [ "$DURATION" -le 86400 ] ||
    { echo "soak.sh: DURATION from 30s to 24h" >&2; exit 64; }
[ "$INTERVAL" -ge 1 ] || usage

REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${TAKD:-}" ]; then
	make -C "$REPO" --no-print-directory all tools >/dev/null ||
	    { echo "soak.sh: make failed" >&2; exit 1; }
fi
TAKD=${TAKD:-$REPO/bin/takd}
TAKCTL=${TAKCTL:-$REPO/bin/takctl}
TAKCLIENT=${TAKCLIENT:-$REPO/build/rel/tests/tools/takclient}
for b in "$TAKD" "$TAKCTL" "$TAKCLIENT"; do
	[ -x "$b" ] || { echo "soak.sh: no $b" >&2; exit 1; }
done

D=$(mktemp -d "${TMPDIR:-/tmp}/takd-soak.XXXXXX") || exit 1
chmod 755 "$D"
TAKD_PID=
cleanup() {
	local p
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null
	done
	[ -n "$TAKD_PID" ] && kill -TERM "$TAKD_PID" 2>/dev/null && sleep 1
	wait 2>/dev/null
	if [ "${KEEP:-}" = 1 ]; then
		echo "kept $D"
	else
		rm -rf "$D"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- PKI and configuration ---------------------------------------------------

pki() {	# pki DIR CA_NAME CLIENT...
	local dir=$1 cn=$2 name
	shift 2
	printf '[server]\nstate_dir = %s/state-pki\n[pki]\ndir = %s\n' \
	    "$D" "$dir" >"$dir.ini"
	{
		"$TAKCTL" -c "$dir.ini" pki init-ca --cn "$cn" &&
		"$TAKCTL" -c "$dir.ini" pki server --cn localhost &&
		for name in "$@"; do
			"$TAKCTL" -c "$dir.ini" pki client "$name" \
			    --password soak || exit 1
		done
	} >>"$D/pki.log" 2>&1 || { cat "$D/pki.log" >&2; exit 1; }
}
pki "$D/pki" "soak CA" alice bob carol dave erin frank
pki "$D/other" "soak other CA" alice
"$TAKCTL" -c "$D/pki.ini" revoke carol --no-reload >>"$D/pki.log" 2>&1 ||
    { cat "$D/pki.log" >&2; exit 1; }

user=
[ "$(id -u)" -eq 0 ] && user="user = nobody"
cat >"$D/takd.ini" <<EOF
[server]
$user
workers = 2
state_dir = $D/state
log = $D/takd.log
log_level = info
[tls]
listen = 127.0.0.1:0
handshake_timeout = 2s
; every client comes from 127.0.0.1, 400 at a time with one certificate
max_handshakes_per_address = 0
max_sessions_per_cert = 0
[pki]
dir = $D/pki
EOF

"$TAKD" -f -c "$D/takd.ini" >"$D/takd.stderr" 2>&1 &
TAKD_PID=$!
status() {
	"$TAKCTL" -c "$D/takd.ini" status 2>/dev/null
}
# A JSON number or string after "KEY": in the status, one per line.
field() {
	grep -o "\"$1\":[^,}]*" | sed 's/^[^:]*://; s/"//g'
}
# Up: a port, and every worker answered the status (its loop runs).
up=
for i in $(seq 100); do
	s=$(status)
	PORT=$(echo "$s" | field port | head -n 1)
	[ -n "$PORT" ] && [ "$PORT" != 0 ] &&
	    echo "$s" | grep -q '"responding":true' &&
	    ! echo "$s" | grep -q '"responding":false' && up=1 && break
	kill -0 "$TAKD_PID" 2>/dev/null ||
	    { cat "$D/takd.stderr" >&2; echo "soak.sh: takd died" >&2; exit 1; }
	sleep 0.1
done
[ -n "$up" ] || { echo "soak.sh: takd does not answer" >&2; exit 1; }
WORKERS=$(echo "$s" | field pid | sed 1d)

# --- load ----------------------------------------------------------------------

client() {
	"$TAKCLIENT" --connect "127.0.0.1:$PORT" "$@" --quiet >/dev/null 2>&1
}
certs() {	# certs NAME [PKIDIR]: its takclient options, in CERTS
	local d=${2:-$D/pki}/clients
	CERTS=(--cert "$d/$1.pem" --key "$d/$1.key" --pass soak)
}

printf '%s\n%s%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
    '<event version="2.0" uid="@UID@" type="a-f-G-U-C" how="m-g" time="@NOW@" start="@NOW@" stale="@STALE@">' \
    '<point lat="38.8895" lon="-77.0353" hae="21.4" ce="9.9" le="9999999.0"/><detail><contact callsign="@CALLSIGN@"/><__group name="Cyan" role="Team Member"/><remarks>seq=@SEQ@</remarks></detail></event>' \
    >"$D/sa.tmpl"

round() {
	local pids="" n
	certs alice
	client "${CERTS[@]}" --count 400 --window 16 & pids="$pids $!"
	certs bob
	client "${CERTS[@]}" --abort-handshake --count 400 --window 16 &
	pids="$pids $!"
	certs alice "$D/other"
	client "${CERTS[@]}" --count 200 --window 8 & pids="$pids $!"
	certs carol
	client "${CERTS[@]}" --count 200 --window 8 & pids="$pids $!"
	client --raw --count 20 --parallel --hold 3 & pids="$pids $!"
	for n in dave erin frank alice; do
		certs "$n"
		client "${CERTS[@]}" --uid "soak-$n" --callsign "$n" \
		    --send "$D/sa.tmpl" --send-every 500 --hold 3 &
		pids="$pids $!"
	done
	wait $pids
}

# load UNTIL: rounds until the clock passes UNTIL, in the background.
load() {
	(
		while [ "$(date +%s)" -lt "$1" ]; do
			round
		done
	) &
	LOAD=$!
}

# --- samples --------------------------------------------------------------------

rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
fds() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}
WARM=$(( DURATION / 3 < 60 ? DURATION / 3 : 60 ))
T0=$(date +%s)
printf '%6s %8s %10s' time sessions handshakes
for p in $WORKERS; do
	printf ' %15s' "w$p fd/RSS"
done
printf '\n'
# sample [NOTE]: one line; sets FD[pid] and RSS[pid].
declare -A FD=() RSS=() BASE_FD=() BASE_RSS=()
sample() {
	local t=$(( $(date +%s) - T0 )) s p line
	s=$(status)
	line=$(printf '%6s %8s %10s' "${t}s" \
	    "$(echo "$s" | field sessions | sed -n '$p')" \
	    "$(echo "$s" | field handshakes_ok | awk '{ n += $1 } END { print n }')")
	for p in $WORKERS; do
		kill -0 "$p" 2>/dev/null ||
		    { echo "soak.sh: worker $p is gone" >&2; exit 1; }
		FD[$p]=$(fds "$p")
		RSS[$p]=$(rss "$p")
		line="$line $(printf ' %5s/%7skB' "${FD[$p]}" "${RSS[$p]}")"
	done
	echo "$line${1:+  $1}"
}
# run_until UNTIL: load until then, a sample every INTERVAL; then wait for
# every session and handshake to end.
run_until() {
	local i s
	load "$1"
	while kill -0 "$LOAD" 2>/dev/null; do
		sample || exit 1
		sleep "$INTERVAL"
	done
	wait "$LOAD"
	for i in $(seq 60); do
		s=$(status)
		[ "$(echo "$s" | field sessions | sed -n '$p')" = 0 ] &&
		    [ "$(echo "$s" | field handshaking |
		    awk '{ n += $1 } END { print n }')" = 0 ] && return 0
		sleep 0.5
	done
	echo "soak.sh: sessions still open 30 s after the load stopped" >&2
	exit 1
}

run_until $(( T0 + WARM ))
sample baseline || exit 1
for p in $WORKERS; do
	BASE_FD[$p]=${FD[$p]}
	BASE_RSS[$p]=${RSS[$p]}
done
run_until $(( T0 + DURATION ))
sample end || exit 1

rc=0
echo
for p in $WORKERS; do
	f0=${BASE_FD[$p]} f1=${FD[$p]}
	r0=${BASE_RSS[$p]} r1=${RSS[$p]}
	verdict=flat
	if [ $((f1 - f0)) -gt 2 ] || [ $((f0 - f1)) -gt 2 ] ||
	    [ "$r1" -gt $((r0 + 2048 + r0 / 50)) ]; then
		verdict=GREW
		rc=1
	fi
	echo "worker $p: descriptors $f0 -> $f1, RSS $r0 -> $r1 kB: $verdict"
done
grep -c 'established' "$D/takd.log" | sed 's/^/sessions established: /'
grep -Ei 'died|fatal|sanitizer' "$D/takd.log" "$D/takd.stderr" && rc=1
exit $rc
