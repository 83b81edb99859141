#!/usr/bin/env bash
# Metrics (docs/metrics.md): the Prometheus endpoint on [metrics] listen
# (format, HEAD, bearer token, 404/405/400/431/503, timeouts, a slow client,
# descriptors running out, a stalled worker), the numbers moving with real
# traffic and refused handshakes, the CRL and state store metrics, and
# takctl stats (table and --prometheus).
#
# HTTP is spoken with bash's /dev/tcp: no curl needed.
. "$(dirname "$0")/lib.sh"

COT=$TESTDATA/cot
TOKEN=s3cret-Token_42

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" metrics.listen=127.0.0.1:0 "$@"
}

# get OUT [PATH [HEADER...]]: GET PATH (default /metrics) of the metrics
# listener.
get() {
	local out=$1 path=${2:-/metrics} h
	shift 2 2>/dev/null || shift
	{
		printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n' "$path"
		for h in "$@"; do
			printf '%s\r\n' "$h"
		done
		printf '\r\n'
	} | http_send "$MPORT" "$out"
}

# body FILE OUT: what follows the blank line ending the head.
body() {
	awk 'b { print; next } /^\r?$/ { b = 1 }' "$1" >"$2"
}

# header FILE NAME: the value of a header of the reply.
header() {
	tr -d '\r' <"$1" | awk -v h="$2" 'NR > 1 && /^$/ { exit }
	    tolower(substr($0, 1, length(h) + 1)) == tolower(h) ":" {
		sub(/^[^:]*:[ \t]*/, ""); print; exit }'
}

# scrape: GET /metrics into $T/m.http and its body into $T/m; fails unless
# 200 with a valid exposition.
scrape() {
	get "$T/m.http" || fail "GET /metrics: no reply"
	[ "$(http_status "$T/m.http")" = 200 ] ||
	    { diag_file "$T/m.http" 10; fail "GET /metrics: not 200"; }
	body "$T/m.http" "$T/m"
	check_exposition "$T/m"
}

# check_exposition FILE: text format 0.0.4 as takd writes it: HELP then
# TYPE once per family, its samples right after, counters named _total,
# no series twice.
check_exposition() {
	awk '
	function bad(why) { printf "line %d: %s: %s\n", NR, why, $0; err = 1 }
	/^# HELP takd_[a-z0-9_]+ [^ ]/ {
		if ($3 in help) bad("second HELP")
		help[$3] = 1; cur = ""; next }
	/^# TYPE / {
		if (!($3 in help)) bad("TYPE without HELP")
		if ($3 in type) bad("second TYPE")
		if ($4 != "counter" && $4 != "gauge") bad("unknown type")
		if ($4 == "counter" && $3 !~ /_total$/) bad("counter not _total")
		type[$3] = $4; cur = $3; n++; next }
	/^#/ { bad("stray comment"); next }
	{
		if ($0 !~ /^takd_[a-z0-9_]+(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? -?[0-9]+$/)
			bad("not a sample")
		name = $1; sub(/\{.*/, "", name)
		if (name != cur) bad("sample outside its family")
		if (seen[$1]++) bad("series twice")
	}
	END { if (n < 20) { print "only " n " families"; err = 1 }
	    exit err }' "$1" >"$T/expo.err" ||
	    { diag_file "$T/expo.err" 20; fail "$1: not a valid exposition"; }
}

# mget FILE SERIES: the value of one series ('takd_sessions{worker="0"}').
mget() {
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }' "$1"
}

# msum FILE NAME [LABEL]: NAME's samples summed over the workers, only those
# whose labels contain LABEL ('class="sa"') when given.
msum() {
	awk -v n="$2" -v l="${3:-}" '/^#/ { next }
	    { b = $1; sub(/\{.*/, "", b) }
	    b == n && (l == "" || index($1, l) > 0) { s += $2 }
	    END { print s + 0 }' "$1"
}

expect_ge() {
	[ "$1" -ge "$2" ] 2>/dev/null || fail "${3:-value}: $1, expected >= $2"
}

# check_store: the state store's samples in $T/m are sane: no failure, no
# write lost, no map growth (the map of 256 MiB is far from full), every
# process maps the same size, the file's pages in use within it.
check_store() {
	local w max size used
	max=$(mget "$T/m" takd_store_map_max_bytes) ||
	    fail "no takd_store_map_max_bytes"
	size=$(mget "$T/m" takd_supervisor_store_map_size_bytes) ||
	    fail "no takd_supervisor_store_map_size_bytes"
	used=$(mget "$T/m" takd_store_used_bytes) ||
	    fail "no takd_store_used_bytes"
	expect_eq "$size" $(( 256 << 20 )) "supervisor's map size"
	expect_eq "$max" $(( 16 * size )) "map size limit"
	expect_ge "$used" 8192 "store bytes used"
	[ "$used" -le "$size" ] || fail "store bytes used $used > map $size"
	for w in 0 1; do
		expect_eq "$(mget "$T/m" "takd_store_map_size_bytes{worker=\"$w\"}")" \
		    "$size" "worker $w's map size"
		expect_eq "$(mget "$T/m" "takd_store_commit_failures_total{worker=\"$w\"}")" \
		    0 "worker $w's commit failures"
		expect_eq "$(mget "$T/m" "takd_store_ops_dropped_total{worker=\"$w\"}")" \
		    0 "worker $w's writes dropped"
		expect_eq "$(mget "$T/m" "takd_store_map_grows_total{worker=\"$w\"}")" \
		    0 "worker $w's map grows"
	done
}

started() {
	start_takd
	MPORT=$(listener_port metrics)
	[ -n "$MPORT" ] && [ "$MPORT" != 0 ] ||
	    fail "no metrics listener in status: $(tr '\n' ' ' <"$T/status.json")"
}

# --- cases --------------------------------------------------------------------

# No [metrics] listen: nothing listens, yet takctl stats --prometheus works.
off_by_default() {
	use_pki "$T/pki"
	write_config "$T/takd.ini"
	start_takd
	[ -z "$(listener_port metrics)" ] ||
	    fail "a metrics listener without [metrics] listen"
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/m" 2>"$T/err" ||
	    { diag_file "$T/err"; fail "takctl stats --prometheus"; }
	check_exposition "$T/m"
	expect_grep '^takd_info\{version="[0-9.]+"\} 1$' "$T/m"
	expect_eq "$(mget "$T/m" 'takd_worker_up{worker="1"}')" 1 "worker 1 up"
}

# The endpoint: a valid exposition with the CRL metrics and both workers,
# HEAD, a query string, and the same numbers as status.
endpoint() {
	local len
	setup
	started
	scrape
	expect_eq "$(header "$T/m.http" Content-Type)" \
	    "text/plain; version=0.0.4; charset=utf-8" "Content-Type"
	len=$(wc -c <"$T/m")
	expect_eq "$(header "$T/m.http" Content-Length)" "$len" \
	    "Content-Length"
	expect_eq "$(mget "$T/m" 'takd_worker_up{worker="0"}')" 1 "worker 0 up"
	expect_eq "$(mget "$T/m" 'takd_worker_up{worker="1"}')" 1 "worker 1 up"
	expect_eq "$(mget "$T/m" takd_crl_generation)" \
	    "$(sget crl.generation)" "CRL generation"
	expect_eq "$(mget "$T/m" takd_crl_entries)" 0 "CRL entries"
	expect_eq "$(mget "$T/m" takd_crl_stale)" 0 "CRL stale flag"
	expect_ge "$(mget "$T/m" takd_crl_seconds_to_next_update)" 3600 \
	    "seconds to nextUpdate"
	expect_ge "$(mget "$T/m" takd_crl_loaded_timestamp_seconds)" 1 \
	    "CRL load time"
	expect_eq "$(mget "$T/m" 'takd_worker_crl_generation{worker="1"}')" \
	    "$(sget crl.generation)" "worker 1's CRL generation"
	expect_ge "$(mget "$T/m" 'takd_open_fds{worker="0"}')" 5 "open fds"
	expect_eq "$(mget "$T/m" 'takd_worker_restarts_total{worker="0"}')" 0 \
	    "restarts"
	expect_eq "$(msum "$T/m" takd_sessions)" 0 "sessions"
	expect_eq "$(msum "$T/m" takd_handshake_failures_total)" 0 "failures"
	expect_eq "$(mget "$T/m" 'takd_events_in_total{worker="0",class="unparsed"}')" \
	    0 "unparsed events"
	# The state store: nothing connected yet, so no worker wrote; the
	# supervisor emptied the registry and purged SA at start.
	expect_eq "$(msum "$T/m" takd_store_commits_total)" 0 "worker commits"
	expect_ge "$(mget "$T/m" takd_supervisor_store_commits_total)" 2 \
	    "supervisor commits"
	expect_eq "$(mget "$T/m" takd_supervisor_store_commit_failures_total)" \
	    0 "supervisor commit failures"
	check_store
	# HEAD: the head of a GET, no body.
	printf 'HEAD /metrics HTTP/1.0\r\n\r\n' | http_send "$MPORT" "$T/h.http"
	expect_eq "$(http_status "$T/h.http")" 200 "HEAD"
	body "$T/h.http" "$T/h"
	[ ! -s "$T/h" ] || fail "HEAD reply has a body"
	expect_ge "$(header "$T/h.http" Content-Length)" 1000 "HEAD length"
	get "$T/q.http" '/metrics?name[]=takd_sessions'
	expect_eq "$(http_status "$T/q.http")" 200 "GET with a query"
	# A slow client: the head in pieces, split inside its empty line.
	slow_get "$T/s.http" 'GET /metrics HT' 'TP/1.1\r\nHost: x\r\n\r' '\n'
	expect_eq "$(http_status "$T/s.http")" 200 "a head in pieces (CRLF)"
	slow_get "$T/s.http" 'GET /metrics HTTP/1.0\n' '\n'
	expect_eq "$(http_status "$T/s.http")" 200 "a head in pieces (LF)"
}

# slow_get OUT PIECE...: send each printf format 0.2 s after the previous.
slow_get() {
	local out=$1
	shift
	timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 7
	    shift; for p in "$@"; do printf "$p" >&3; sleep 0.2; done
	    cat <&3' _ "$MPORT" "$@" >"$out"
}

# Traffic moves the numbers: two clients on both workers exchange SA, a
# ping and a chat; sessions, handshakes, events by class (across workers:
# the class of a relayed event travels with it on the mesh), bytes and the queue
# high-water mark all show it.  takd_sessions falls back to 0 after.
traffic() {
	setup
	started
	cot_sa_tmpl "$T/sa.tmpl"
	cat >"$T/r.script" <<-EOF
	wait-file $T/go
	send $T/sa.tmpl
	expect uid=s-1 type=a-f-G-U-C within=5000
	expect type=b-t-f within=5000
	touch $T/r-done
	wait-file $T/done within=30000
	EOF
	cat >"$T/s.script" <<-EOF
	wait-file $T/go
	send $T/sa.tmpl
	expect uid=r-1 within=5000
	send $COT/ping.xml
	expect type=t-x-c-t-r within=5000
	send $COT/chat-all.xml
	wait-file $T/done within=30000
	EOF
	cot_place s 0 $(client_args alice) --script "$T/s.script" --uid s-1 \
	    --callsign SIERRA
	cot_place r 1 $(client_args bob) --script "$T/r.script" --uid r-1 \
	    --callsign ROMEO
	touch "$T/go"
	cot_poll 10 test -e "$T/r-done" || { cot_wait r 0 1; fail "r"; }
	scrape
	expect_eq "$(mget "$T/m" 'takd_sessions{worker="0"}')" 1 "sessions 0"
	expect_eq "$(mget "$T/m" 'takd_sessions{worker="1"}')" 1 "sessions 1"
	expect_eq "$(msum "$T/m" takd_handshakes_ok_total)" 2 "handshakes ok"
	expect_eq "$(msum "$T/m" takd_connections_accepted_total)" 2 "accepted"
	expect_eq "$(mget "$T/m" 'takd_events_in_total{worker="0",class="sa"}')" \
	    1 "SA in at worker 0"
	expect_eq "$(mget "$T/m" 'takd_events_in_total{worker="1",class="sa"}')" \
	    1 "SA in at worker 1"
	expect_eq "$(mget "$T/m" 'takd_events_in_total{worker="0",class="ping"}')" \
	    1 "ping in"
	expect_eq "$(mget "$T/m" 'takd_events_in_total{worker="0",class="chat"}')" \
	    1 "chat in"
	expect_eq "$(mget "$T/m" 'takd_events_out_total{worker="0",class="ping"}')" \
	    1 "pong out"
	expect_eq "$(mget "$T/m" 'takd_events_out_total{worker="1",class="chat"}')" \
	    1 "chat out at worker 1 (relayed from worker 0)"
	expect_ge "$(msum "$T/m" takd_events_out_total 'class="sa"')" 2 "SA out"
	expect_eq "$(msum "$T/m" takd_events_in_total 'class="other"')" 0 \
	    "other in"
	expect_eq "$(msum "$T/m" takd_pongs_total)" 1 "pongs"
	expect_ge "$(msum "$T/m" takd_bytes_in_total)" \
	    "$(( $(wc -c <"$COT/chat-all.xml") + $(wc -c <"$COT/ping.xml") ))" \
	    "bytes in"
	expect_ge "$(mget "$T/m" 'takd_bytes_out_total{worker="1"}')" \
	    "$(wc -c <"$COT/chat-all.xml")" "bytes out at worker 1"
	expect_ge "$(msum "$T/m" takd_outq_high_water_bytes)" 100 \
	    "queue high-water mark"
	expect_eq "$(msum "$T/m" takd_handshakes_resumed_total)" 0 "resumed"
	# Each worker recorded its client and its SA in the store, in at
	# least one commit, and lost nothing.
	expect_ge "$(mget "$T/m" 'takd_store_commits_total{worker="0"}')" 1 \
	    "worker 0's store commits"
	expect_ge "$(mget "$T/m" 'takd_store_commits_total{worker="1"}')" 1 \
	    "worker 1's store commits"
	check_store
	# status carries the same counters.
	takd_status
	expect_eq "$(wsum events_in.chat)" 1 "status events_in.chat"
	expect_eq "$(wsum events_out.ping)" 1 "status events_out.ping"
	expect_ge "$(wsum bytes.out)" 1 "status bytes.out"
	expect_ge "$(wsum outq.high_water_bytes)" 100 "status high-water"
	expect_ge "$(wsum store.commits)" 2 "status store.commits"
	expect_eq "$(wsum store.commit_failures)" 0 "status store.commit_failures"
	expect_eq "$(wsum store.ops_dropped)" 0 "status store.ops_dropped"
	expect_eq "$(sget workers.1.store.map_size_bytes)" $(( 256 << 20 )) \
	    "status worker 1's store.map_size_bytes"
	expect_eq "$(sget store.open)" true "status store.open"
	expect_ge "$(sget store.commits)" 2 "status supervisor's store.commits"
	expect_eq "$(sget store.commit_failures)" 0 \
	    "status supervisor's store.commit_failures"
	expect_ge "$(sget store.used_bytes)" 8192 "status store.used_bytes"
	touch "$T/done"
	cot_wait s 0
	cot_wait r 0
	_no_sessions() {
		scrape && [ "$(msum "$T/m" takd_sessions)" = 0 ]
	}
	wait_for 5 _no_sessions || fail "sessions still $(msum "$T/m" \
	    takd_sessions) after both left"
	expect_ge "$(msum "$T/m" takd_disconnect_notices_total)" 1 \
	    "disconnect notices"
}

# Every refusal lands under its reason: no certificate, another CA (also
# one named like ours), a revoked certificate, a silent connection
# (timeout), one that hangs up; a resumed session counts as resumed.
handshake_reasons() {
	setup tls.handshake_timeout=1s
	use_pki "$T/other" other
	use_pki "$T/twin" twin
	make_crl "$T/pki" "$T/pki/crl.pem" carol
	started
	expect_client 1 --no-cert
	expect_client 1 $(client_args alice "$T/other")
	expect_client 1 $(client_args alice "$T/twin")
	expect_client 1 $(client_args carol)
	expect_client 3 --raw --hold 5
	expect_client 0 --raw --count 3
	S_CLIENT_DONE=1 S_CLIENT_HOLD=5 s_client bob bob1 -tls1_3 \
	    -sess_out "$T/bob.sess"
	[ -s "$T/bob.sess" ] || { diag_file "$T/bob1.s"; fail "no ticket"; }
	S_CLIENT_DONE=1 S_CLIENT_HOLD=5 s_client bob bob2 -tls1_3 \
	    -sess_in "$T/bob.sess"
	expect_grep '^Reused, TLSv1\.3' "$T/bob2.s" "bob's session not resumed"
	_counted() {
		scrape && [ "$(msum "$T/m" takd_handshakes_ok_total)" = 2 ]
	}
	wait_for 5 _counted || fail "handshakes ok: $(msum "$T/m" \
	    takd_handshakes_ok_total), expected 2"
	local r
	for r in no_certificate:1 unknown_ca:2 revoked:1 timeout:1 \
	    closed_by_peer:3 expired:0 crl:0 other_verify:0 protocol:0; do
		expect_eq "$(msum "$T/m" takd_handshake_failures_total \
		    "reason=\"${r%:*}\"")" "${r#*:}" "failures, ${r%:*}"
	done
	expect_eq "$(msum "$T/m" takd_handshakes_resumed_total)" 1 "resumed"
	expect_eq "$(msum "$T/m" takd_revoked_refused_total)" 1 \
	    "revoked refused"
	expect_eq "$(mget "$T/m" takd_crl_entries)" 1 "CRL entries"
	takd_status
	expect_eq "$(wsum handshake_failures.unknown_ca)" 2 "status unknown_ca"
	expect_eq "$(wsum handshake_failures.timeout)" 1 "status timeout"
	expect_eq "$(wsum handshakes_resumed)" 1 "status resumed"
}

# [metrics] token: 401 (with WWW-Authenticate) without it or with a wrong
# one, whatever the path; 200 with it, the scheme in any case.
token() {
	setup metrics.token=$TOKEN
	started
	get "$T/a.http"
	expect_eq "$(http_status "$T/a.http")" 401 "no token"
	expect_eq "$(header "$T/a.http" WWW-Authenticate)" \
	    'Bearer realm="takd"' "WWW-Authenticate"
	! grep -q takd_sessions "$T/a.http" || fail "401 with the metrics"
	get "$T/a.http" /metrics "Authorization: Bearer ${TOKEN}x"
	expect_eq "$(http_status "$T/a.http")" 401 "longer token"
	get "$T/a.http" /metrics "Authorization: Bearer ${TOKEN%?}"
	expect_eq "$(http_status "$T/a.http")" 401 "shorter token"
	get "$T/a.http" /metrics "Authorization: Basic $TOKEN"
	expect_eq "$(http_status "$T/a.http")" 401 "Basic scheme"
	get "$T/a.http" /other
	expect_eq "$(http_status "$T/a.http")" 401 "other path, no token"
	get "$T/a.http" /metrics "X-Other: 1" "authorization: bearer $TOKEN"
	expect_eq "$(http_status "$T/a.http")" 200 "right token"
	body "$T/a.http" "$T/m"
	check_exposition "$T/m"
	get "$T/a.http" /other "Authorization: Bearer $TOKEN"
	expect_eq "$(http_status "$T/a.http")" 404 "other path with the token"
	wait_for 5 log_has 'metrics: 127\.0\.0\.1:[0-9]+: request without the right bearer token refused' ||
	    fail "no log line for the refused request"
	! takd_logs | grep -qF -- "$TOKEN" || fail "the token was logged"
}

# Bad requests get their answer and cost nothing: 404, 405, 400 (at once
# for binary), 431; a silent connection is closed after the read timeout;
# silent connections cannot keep a scrape out (docs/security.md): past 8
# of one address, each new one closes the oldest silent one.  takd is
# unharmed.
bad_requests() {
	local t0 ms i
	setup
	started
	get "$T/r.http" /
	expect_eq "$(http_status "$T/r.http")" 404 "GET /"
	get "$T/r.http" /metricsx
	expect_eq "$(http_status "$T/r.http")" 404 "GET /metricsx"
	printf 'POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n' |
	    http_send "$MPORT" "$T/r.http"
	expect_eq "$(http_status "$T/r.http")" 405 "POST"
	expect_eq "$(header "$T/r.http" Allow)" "GET, HEAD" "Allow"
	printf 'GET /metrics\r\n\r\n' | http_send "$MPORT" "$T/r.http"
	expect_eq "$(http_status "$T/r.http")" 400 "no HTTP version"
	printf 'GET /metrics HTTP/2.0\r\n\r\n' | http_send "$MPORT" "$T/r.http"
	expect_eq "$(http_status "$T/r.http")" 400 "HTTP/2.0"
	# A TLS ClientHello's first bytes: refused at once, not at the timeout.
	t0=$(now_ms)
	printf '\026\003\001\002\000\001\000\001\374\003\003' |
	    http_send "$MPORT" "$T/r.http"
	ms=$(( $(now_ms) - t0 ))
	expect_eq "$(http_status "$T/r.http")" 400 "binary garbage"
	[ "$ms" -lt 2000 ] || fail "binary garbage answered after $ms ms"
	head -c 9000 /dev/zero | tr '\0' a | { printf 'GET /metrics HTTP/1.1\r\nX: '; cat; } |
	    http_send "$MPORT" "$T/r.http"
	expect_eq "$(http_status "$T/r.http")" 431 "9000-byte head"
	# 16 silent connections from one address: it keeps 8
	# (METRICS_PER_PEER_MAX), each newer one closing the oldest; a scrape
	# then gets its 200 at once, closing one more.  The 7 left are closed
	# after METRICS_READ_MS (5 s) without a reply.  Each prints how long
	# it was held after what it received.
	for i in $(seq 16); do
		cot_spawn "idle$i" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" ||
		    exit 1; t0=$(date +%s%N); cat <&3
		    echo "held $(( ($(date +%s%N) - t0) / 1000000 ))"' _ "$MPORT"
	done
	sleep 0.5
	t0=$(now_ms)
	scrape_ok || { diag_file "$T/ok.http" 5;
	    fail "a scrape next to 16 silent connections"; }
	diag "scrape next to 16 silent connections: 200 in $(( $(now_ms) - t0 )) ms"
	local made_room=0 timed_out=0
	for i in $(seq 16); do
		cot_wait "idle$i" 0 10
		ms=$(sed -n 's/^held \([0-9]*\)$/\1/p' "$T/idle$i.out")
		[ "$(wc -l <"$T/idle$i.out")" = 1 ] && [ -n "$ms" ] ||
		    { diag_file "$T/idle$i.out"; fail "a reply to a silent" \
		    "connection"; }
		if [ "$ms" -lt 4000 ]; then
			made_room=$((made_room + 1))
		elif [ "$ms" -ge 4500 ] && [ "$ms" -lt 7000 ]; then
			timed_out=$((timed_out + 1))
		else
			fail "silent connection closed after $ms ms"
		fi
	done
	expect_eq "$made_room $timed_out" "9 7" \
	    "silent connections closed for newer ones, and at the timeout"
	takd_status
	expect_eq "$(sget admin.metrics_idle_closed)" 9 "metrics_idle_closed"
	diag "silent connections closed after ~$ms ms"
	wait_for 10 scrape_ok || fail "no 200 once the idle ones timed out"
	takd_status
	expect_eq "$(wsum restarts)" 0 "worker restarts"
	proc_alive "$TAKD_PID" || fail "takd died"
}

scrape_ok() {
	get "$T/ok.http" && [ "$(http_status "$T/ok.http")" = 200 ]
}

# nofile_soft PID N: set the soft descriptor limit of a process of takd.  As
# the supervisor's user: root without CAP_SYS_RESOURCE may not touch another
# user's limits.
nofile_soft() {
	local uid gid
	uid=$(proc_field "$1" Uid | cut -d ' ' -f 1)
	gid=$(proc_field "$1" Gid | cut -d ' ' -f 1)
	if [ "$(id -u)" = 0 ] && [ "$uid" != 0 ]; then
		setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		    prlimit --pid "$1" --nofile="$2":
	else
		prlimit --pid "$1" --nofile="$2":
	fi
}

# Out of descriptors, a connection left in the backlog keeps a listener
# readable: the process must pause accepting, not spin on EMFILE (nor log
# each attempt), and take the waiting connections once descriptors are
# free.  The metrics listener is the api process's (docs/api.md), the admin
# socket the supervisor's: the api process's limit is lowered to two
# descriptors more than it holds, the supervisor's to what it holds; of
# four metrics connections two then wait, and a takctl status.
emfile() {
	local fds afds ticks aticks i api
	setup
	started
	api=$(sget api.pid)
	[ -n "$api" ] && proc_alive "$api" || fail "no api process in status"
	fds=$(fd_count "$TAKD_PID")
	afds=$(fd_count "$api")
	nofile_soft "$TAKD_PID" "$fds" || fail "prlimit"
	nofile_soft "$api" $((afds + 2)) || fail "prlimit"
	for i in 1 2 3 4; do
		cot_spawn "idle$i" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" ||
		    exit 1; cat <&3' _ "$MPORT"
	done
	cot_spawn st "$TAKCTL" -c "$CFG" status
	wait_for 5 log_has 'metrics: accept: .*Too many open files' ||
	    fail "no EMFILE at the metrics listener"
	wait_for 5 log_has 'admin: accept: .*Too many open files' ||
	    fail "no EMFILE at the admin socket"
	ticks=$(cpu_ticks "$TAKD_PID")
	aticks=$(cpu_ticks "$api")
	sleep 1
	ticks=$(( $(cpu_ticks "$TAKD_PID") - ticks ))
	aticks=$(( $(cpu_ticks "$api") - aticks ))
	diag "out of descriptors: supervisor $ticks ticks, api $aticks" \
	    "ticks in 1 s, $(takd_logs | grep -c 'accept: .*Too many open files')" \
	    "log lines"
	[ "$ticks" -le 20 ] || fail "the supervisor spins: $ticks ticks in 1 s"
	[ "$aticks" -le 20 ] || fail "the api process spins: $aticks ticks in 1 s"
	[ "$(takd_logs | grep -c 'accept: .*Too many open files')" -le 6 ] ||
	    fail "every failed accept logged"
	# Descriptors back: the waiting connections are served.
	nofile_soft "$TAKD_PID" 1024 || fail "prlimit"
	nofile_soft "$api" 1024 || fail "prlimit"
	cot_wait st 0 10
	expect_grep '"ok":true' "$T/st.out"
	wait_for 5 scrape_ok || fail "no scrape once descriptors are back"
	proc_alive "$TAKD_PID" || fail "takd died"
}

# A stopped worker does not stall the scrape: answered after the 2 s wait
# with takd_worker_up 0 and no samples for it.  A killed worker's restart
# is counted.
stalled_worker() {
	local t0 ms pid0 pid1
	setup
	started
	pid0=$(sget workers.0.pid)
	pid1=$(sget workers.1.pid)
	proc_stop "$pid1"
	t0=$(now_ms)
	scrape
	ms=$(( $(now_ms) - t0 ))
	kill -CONT "$pid1"
	diag "scrape with worker 1 stopped took $ms ms"
	[ "$ms" -ge 1800 ] && [ "$ms" -lt 4000 ] ||
	    fail "scrape took $ms ms, expected ~2000"
	expect_eq "$(mget "$T/m" 'takd_worker_up{worker="1"}')" 0 "worker 1 up"
	expect_eq "$(mget "$T/m" 'takd_worker_up{worker="0"}')" 1 "worker 0 up"
	! grep -q 'worker="1",' "$T/m" || fail "samples of a silent worker"
	grep -q '^takd_sessions{worker="1"}' "$T/m" &&
	    fail "sessions of a silent worker"
	scrape
	expect_eq "$(mget "$T/m" 'takd_worker_up{worker="1"}')" 1 \
	    "worker 1 up again"
	kill -KILL "$pid0"
	_respawned() {
		scrape &&
		    [ "$(mget "$T/m" 'takd_worker_restarts_total{worker="0"}')" = 1 ] &&
		    [ "$(mget "$T/m" 'takd_worker_up{worker="0"}')" = 1 ]
	}
	wait_for 10 _respawned || fail "restart of worker 0 not shown"
}

# A worker that stops reading the mesh: the worker sending to it drops what
# its queue for that peer cannot hold (8 MiB), and says so under its
# fan-out counters in takctl status and /metrics.
fanout_stalled_peer() {
	local pid1 i pad
	# One sender stands for many: its budgets would drop most of this.
	setup cot.max_events_per_second=0 cot.max_bytes_per_second=off \
	    cot.max_chat_bytes=off
	started
	pad=$(head -c 49152 /dev/zero | tr '\0' x)
	{
		printf '<event version="2.0" uid="big-@SEQ@" type="b-t-f" '
		printf 'how="h-g-i-g-o" time="@NOW@" start="@NOW@" '
		printf 'stale="@STALE@"><point lat="1" lon="2" hae="0" '
		printf 'ce="9" le="9"/><detail><remarks>%s</remarks>' "$pad"
		printf '</detail></event>\n'
	} >"$T/big.xml"
	cat >"$T/s.script" <<-EOF
	wait-file $T/go
	send-every 2 $T/big.xml count=400
	sleep 2000
	touch $T/sent
	wait-file $T/done within=30000
	EOF
	cot_place s 0 $(client_args alice) --script "$T/s.script" --uid s-1 \
	    --callsign SIERRA
	takd_status
	pid1=$(wfield 1 pid)
	proc_stop "$pid1"
	touch "$T/go"
	cot_poll 20 test -e "$T/sent" || { kill -CONT "$pid1"; fail "sender"; }
	kill -CONT "$pid1"
	takd_status
	i=$(wfield 0 fanout.dropped_full)
	diag "worker 0 dropped $i events for its stopped peer"
	expect_ge "$i" 1 "status workers.0.fanout.dropped_full"
	expect_eq "$(wfield 0 fanout.peers)" 1 "fanout.peers"
	scrape
	expect_eq "$(mget "$T/m" \
	    'takd_fanout_events_dropped_total{worker="0",reason="peer_queue_full"}')" \
	    "$i" "metrics: fan-out drops, peer queue full"
	expect_eq "$(mget "$T/m" \
	    'takd_fanout_events_dropped_total{worker="0",reason="peer_down"}')" \
	    0 "metrics: fan-out drops, peer down"
	touch "$T/done"
	cot_wait s 0
}

# takctl stats: the table (per worker and total) and --prometheus, the same
# families as the HTTP endpoint.
takctl_stats() {
	setup
	started
	cot_bg held $(client_args alice) --hold 30
	wait_for 8 status_sum_is sessions 1 || fail "no session"
	"$TAKCTL" -c "$CFG" stats >"$T/table" 2>"$T/err" ||
	    { diag_file "$T/err"; fail "takctl stats"; }
	expect_grep '^takd [0-9.]+, pid [0-9]+, up ' "$T/table"
	expect_grep '^CRL generation 1, 0 entries, next update [0-9T:-]+Z \(in [0-9]+d [0-9]+h\), not stale$' \
	    "$T/table"
	expect_grep '^ +worker 0 +worker 1 +total$' "$T/table"
	expect_grep '^  sessions +[01] +[01] +1$' "$T/table"
	expect_grep '^  ok +[01] +[01] +1$' "$T/table"
	expect_grep '^  state +running +running$' "$T/table"
	expect_grep '^  failed: timeout +0 +0 +0$' "$T/table"
	expect_grep '^  high-water mark \(bytes\) +[0-9]+ +[0-9]+ +[0-9]+$' \
	    "$T/table"
	# The store: alice's worker wrote her; nothing failed or was lost.
	expect_grep '^State store [0-9]+ (bytes|KiB|MiB) used, map 256 MiB \(grows up to 4 GiB\); supervisor [0-9]+ commits, 0 failed$' \
	    "$T/table"
	expect_grep '^state store$' "$T/table"
	expect_grep '^  commits +[0-9]+ +[0-9]+ +[1-9][0-9]*$' "$T/table"
	expect_grep '^  commit failures +0 +0 +0$' "$T/table"
	expect_grep '^  writes dropped +0 +0 +0$' "$T/table"
	expect_grep '^  map grows +0 +0 +0$' "$T/table"
	expect_grep '^  map size \(bytes\) +268435456 +268435456 +268435456$' \
	    "$T/table"
	"$TAKCTL" -c "$CFG" stats --prometheus >"$T/p" 2>"$T/err" ||
	    { diag_file "$T/err"; fail "takctl stats --prometheus"; }
	check_exposition "$T/p"
	expect_eq "$(msum "$T/p" takd_sessions)" 1 "sessions (--prometheus)"
	expect_ge "$(msum "$T/p" takd_store_commits_total)" 1 \
	    "store commits (--prometheus)"
	expect_eq "$(msum "$T/p" takd_store_commit_failures_total)" 0 \
	    "store commit failures (--prometheus)"
	scrape
	grep '^# TYPE' "$T/p" >"$T/p.fam"
	grep '^# TYPE' "$T/m" >"$T/m.fam"
	cmp -s "$T/p.fam" "$T/m.fam" || { diff "$T/p.fam" "$T/m.fam" |
	    sed 's/^/# /'; fail "takctl and HTTP differ in families"; }
	expect_ctl 64 stats --bogus
	kill "$(cat "$T/held.cpid")"
	stop_takd
	expect_ctl 1 stats
}

# takctl against a takd that closes the connection early (a stand-in on the
# admin socket): a reply cut short is an error, never taken for a whole one.
_fake_takd() {
	rm -f "$T/fake.rc"
	cot_spawn fake perl -MIO::Socket::UNIX -MSocket -e '
	    my ($path, $reply) = @ARGV;
	    unlink $path;
	    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM,
		Local => $path, Listen => 5) or die "listen $path: $!\n";
	    while (my $c = $s->accept) {
		my $line = <$c>;
		print $c $reply;
		close $c;
	    }' "$T/state/run/takd.sock" "$1"
	wait_for 5 test -S "$T/state/run/takd.sock" ||
	    { diag_file "$T/fake.out"; fail "the stand-in does not listen"; }
}

_fake_stop() {
	kill "$(cat "$T/fake.cpid")"
	wait_for 5 test -s "$T/fake.rc" || fail "the stand-in did not stop"
	rm -f "$T/state/run/takd.sock"
}

takctl_cut_short() {
	setup
	mkdir -p "$T/state/run"
	_fake_takd "$(printf '# HELP takd_info Version.\n# TYPE takd_info gauge\ntakd_info{vers')"
	expect_ctl 1 stats --prometheus
	expect_grep 'in the middle of the metrics' "$T/out"
	grep -q '^# HELP' "$T/out" && fail "a cut exposition was printed"
	_fake_stop
	_fake_takd '{"ok":true,"workers":[{"id":0,"state":"run'
	expect_ctl 1 status
	expect_ctl 1 stats
	expect_ctl 1 clients
	_fake_stop
	_fake_takd ''
	expect_ctl 1 stats --prometheus
	expect_grep 'closed the connection without a reply' "$T/out"
	expect_ctl 1 reload
	_fake_stop
}

run_case off_by_default
run_case endpoint
run_case traffic
run_case handshake_reasons
run_case token
run_case bad_requests
run_case emfile
run_case stalled_worker
run_case fanout_stalled_peer
run_case takctl_stats
run_case takctl_cut_short
finish
