#!/usr/bin/env bash
# Budgets (issue 12, findings 6 and 10), with real TLS clients and takd's
# defaults.
#
# flood_readers: one client sends 20 events of 60 KB a second while two
# readers drain 100 kB/s each: the readers stay connected and get every
# position of a well-behaved client, the flooder's excess is dropped and
# counted ([cot] max_bytes_per_second), a chat over max_chat_bytes is
# dropped, a smaller one passes.  Before the budgets, the readers' queues
# filled within seconds and both were disconnected as slow consumers.
#
# memory_budget: 40 sessions each hold an unfinished event of 900 KB under
# [cot] max_buffered_bytes = 8M: the worker closes the biggest holders
# until it is back under its budget (counted), its peak RSS grows by less
# than the budget and a margin, and a well-behaved pair keeps exchanging
# positions.  Before, the worker held all 36 MB.
. "$(dirname "$0")/lib.sh"

PY=python3

# The TLS client of these cases (Python's ssl, OpenSSL underneath):
#   reader PORT CERT KEY RATE STOP OUT: read RATE bytes/s (a small receive
#     buffer: the server's writes back up) until STOP exists, then read
#     what is left; write "UID COUNT" per uid of the events read to OUT.
#     Exit 3 when the server closes the connection.
#   holders PORT CERT KEY N SIZE READY GO SENT STOP OUT: N sessions; touch
#     READY once all are up; after GO, send each the first SIZE bytes of
#     an event that never ends; touch SENT; at STOP write "closed K of N"
#     (K: sessions the server closed) to OUT.
write_client() {
	cat >"$T/client.py" <<-'EOF'
	import os, re, socket, ssl, sys, time

	def connect(port, cert, key, rcvbuf=0):
	    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
	    ctx.check_hostname = False
	    ctx.verify_mode = ssl.CERT_NONE
	    ctx.load_cert_chain(cert, key, password="test")
	    s = socket.socket()
	    if rcvbuf:
	        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
	    s.connect(("127.0.0.1", int(port)))
	    return ctx.wrap_socket(s)

	def touch(path):
	    open(path, "w").close()

	def wait_file(path, secs):
	    end = time.time() + secs
	    while not os.path.exists(path):
	        if time.time() > end:
	            sys.exit("no " + path)
	        time.sleep(0.02)

	def reader(port, cert, key, rate, stop, out):
	    s = connect(port, cert, key, rcvbuf=8192)
	    s.settimeout(0.05)
	    rate, got, buf, counts = int(rate), 0, b"", {}
	    start, idle_since, closed = time.time(), None, None
	    while True:
	        stopping = os.path.exists(stop)
	        want = 16384
	        if not stopping:
	            want = int(rate * (time.time() - start)) - got
	            if want < 1024:
	                time.sleep(0.01)
	                continue
	            want = min(want, 16384)
	        try:
	            d = s.recv(want)
	        except (socket.timeout, ssl.SSLWantReadError):
	            if stopping:
	                idle_since = idle_since or time.time()
	                if time.time() - idle_since > 0.5:
	                    break
	            continue
	        except (ssl.SSLError, OSError) as e:
	            closed = str(e)
	            break
	        if not d:
	            closed = "EOF"
	            break
	        idle_since = None
	        got += len(d)
	        buf += d
	        while True:
	            i = buf.find(b"</event>")
	            if i < 0:
	                break
	            m = re.search(rb'<event [^>]*?uid="([^"]*)"', buf[:i])
	            uid = m.group(1).decode() if m else "?"
	            counts[uid] = counts.get(uid, 0) + 1
	            buf = buf[i + 8:]
	    with open(out, "w") as f:
	        for uid, n in sorted(counts.items()):
	            f.write("%s %d\n" % (uid, n))
	        f.write("bytes %d\n" % got)
	    if closed:
	        print("closed by server after %.1f s: %s" %
	              (time.time() - start, closed))
	        sys.exit(3)

	def holders(port, cert, key, n, size, ready, go, sent, stop, out):
	    socks = [connect(port, cert, key) for i in range(int(n))]
	    touch(ready)
	    wait_file(go, 60)
	    closed = set()
	    for i, s in enumerate(socks):
	        head = ('<event version="2.0" uid="hold-%d" type="u-d-f" '
	                'how="h-e" time="2026-11-23T08:00:00Z" '
	                'start="2026-11-23T08:00:00Z" '
	                'stale="2099-01-01T00:00:00Z"><detail><remarks>'
	                % i).encode()
	        s.settimeout(10)
	        try:
	            s.sendall(head + b"x" * (int(size) - len(head)))
	        except (ssl.SSLError, OSError):
	            closed.add(i)
	    touch(sent)
	    wait_file(stop, 60)
	    for i, s in enumerate(socks):
	        s.settimeout(0.2)
	        try:
	            while True:
	                if not s.recv(65536):
	                    closed.add(i)
	                    break
	        except (socket.timeout, ssl.SSLWantReadError):
	            pass
	        except (ssl.SSLError, OSError):
	            closed.add(i)
	    with open(out, "w") as f:
	        f.write("closed %d of %d\n" % (len(closed), len(socks)))

	{"reader": reader, "holders": holders}[sys.argv[1]](*sys.argv[2:])
	EOF
}

# py NAME MODE ARGS...: the client in the background (cot_spawn).
py() {
	local name=$1
	shift
	cot_spawn "$name" "$PY" "$T/client.py" "$@"
}

pem() {
	echo "$T/pki/clients/$1.pem $T/pki/clients/$1.key"
}

# count FILE UID: events of UID a reader wrote in FILE.
count() {
	awk -v u="$2" '$1 == u { print $2; f = 1 } END { if (!f) print 0 }' \
	    "$1"
}

# --- a flood and two slow readers --------------------------------------------

flood_readers() {
	local i r n passed dropped
	use_pki "$T/pki"
	write_client
	write_config "$T/takd.ini" server.workers=1
	start_takd
	# 60,000 bytes: under max_event_bytes, no class cap (a drawing).
	{
		printf '%s' '<event version="2.0" uid="flood" type="u-d-f"' \
		    ' how="h-e" time="@NOW@" start="@NOW@" stale="@STALE@">' \
		    '<point lat="1" lon="2" hae="0" ce="9" le="9"/><detail>' \
		    '<remarks>@SEQ@ '
		head -c 60000 /dev/zero | tr '\0' x
		printf '</remarks></detail></event>'
	} | head -c 59973 >"$T/flood.xml"
	printf '</remarks></detail></event>' >>"$T/flood.xml"
	expect_eq "$(wc -c <"$T/flood.xml")" 60000 "size of the flood event"
	cot_sa_tmpl "$T/sa.tmpl"
	# Chat: 10 KB (over max_chat_bytes, 8k) and 6 KB.
	for n in 10000 6000; do
		{
			printf '%s' '<event version="2.0" uid="chat-'"$n"'"' \
			    ' type="b-t-f" how="h-g-i-g-o" time="@NOW@"' \
			    ' start="@NOW@" stale="@STALE@"><point lat="1"' \
			    ' lon="2" hae="0" ce="9" le="9"/><detail><remarks>'
			head -c "$n" /dev/zero | tr '\0' c
			printf '</remarks></detail></event>'
		} | head -c "$((n - 27))" >"$T/chat-$n.xml"
		printf '</remarks></detail></event>' >>"$T/chat-$n.xml"
	done

	for r in r1 r2; do
		py "$r" reader "$TAKD_PORT" $(pem alice) 100000 "$T/stop" \
		    "$T/$r.count"
	done
	wait_for 10 status_sum_is sessions 2 ||
	    fail "readers not connected: $(cat "$T/r1.out" "$T/r2.out")"
	# 35 positions, one every 200 ms; 120 floods, one every 50 ms: 7 MB,
	# more than a reader's queue (1 MiB) and what the kernel buffers for
	# it on loopback (up to 4 MB) take.
	printf 'send-every 200 %s count=35\nsleep 7300\n' "$T/sa.tmpl" \
	    >"$T/good.script"
	printf 'send-every 50 %s count=120\nsleep 6300\n' "$T/flood.xml" \
	    >"$T/flooder.script"
	cot_bg good $(client_args bob) --uid good --callsign GOOD \
	    --script "$T/good.script"
	cot_bg flooder --verbose $(client_args carol) \
	    --script "$T/flooder.script"
	cot_bg chat $(client_args bob) --send "$T/chat-10000.xml" \
	    --send "$T/chat-6000.xml" --hold 1
	cot_wait flooder 0 30
	cot_wait chat 0 30
	cot_wait good 0 30
	touch "$T/stop"
	cot_wait r1 0 20
	cot_wait r2 0 20

	takd_status
	dropped=$(wsum dropped.byte_budget)
	passed=$((120 - dropped))
	diag "flood: 120 sent, $passed passed, $dropped dropped;" \
	    "readers read $(count "$T/r1.count" bytes) and" \
	    "$(count "$T/r2.count" bytes) bytes"
	[ "$passed" -ge 1 ] && [ "$passed" -le 3 ] ||
	    fail "$passed of 120 flood events passed a byte budget of 8 KiB/s"
	for r in r1 r2; do
		expect_eq "$(count "$T/$r.count" good)" 35 \
		    "positions of the well-behaved client read by $r"
		expect_eq "$(count "$T/$r.count" flood)" "$passed" \
		    "flood events read by $r"
		expect_eq "$(count "$T/$r.count" chat-10000)" 0 \
		    "chat over max_chat_bytes read by $r"
		expect_eq "$(count "$T/$r.count" chat-6000)" 1 \
		    "chat under max_chat_bytes read by $r"
	done
	expect_eq "$(wsum dropped.class_size)" 1 "dropped.class_size"
	expect_eq "$(wsum closed.slow_consumer)" 0 "closed.slow_consumer"
	expect_eq "$(wsum dropped.rate_limited)" 0 "dropped.rate_limited"
	log_line_has "$(cot_addr flooder)" \
	    'more than 8192 bytes/s .*dropping the excess' ||
	    fail "no log line names the flooder"
	log_has 'chat event of [0-9]+ bytes .*over \[cot\] max_chat_bytes' ||
	    fail "no log line for the chat over max_chat_bytes"
}

# --- many sessions holding unfinished events ----------------------------------

memory_budget() {
	local w rss0 hwm grew hw budget=$((8 << 20)) closed
	use_pki "$T/pki"
	write_client
	write_config "$T/takd.ini" server.workers=1 cot.max_buffered_bytes=8M \
	    cot.max_event_bytes=1M
	# Freed memory under ASan waits in a quarantine (256 MB by default)
	# before it is reused or unmapped: keep it small, or the peak RSS
	# would count every buffer ever freed.
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=2"
	start_takd
	w=$(worker_pids)
	cot_sa_tmpl "$T/sa.tmpl"
	for p in p q; do
		cat >"$T/$p.script" <<-EOF
		send-every 200 $T/sa.tmpl
		expect uid=$([ $p = p ] && echo q || echo p) count=3 within=5000
		touch $T/$p-ready
		wait-file $T/sent within=60000
		mark
		expect uid=$([ $p = p ] && echo q || echo p) count=5 within=5000
		touch $T/$p-done
		wait-file $T/$([ $p = p ] && echo q || echo p)-done within=10000
		EOF
	done
	cot_bg p $(client_args alice) --uid p --callsign PAPA \
	    --script "$T/p.script"
	cot_bg q $(client_args bob) --uid q --callsign QUEBEC \
	    --script "$T/q.script"
	wait_for 10 test -e "$T/p-ready" -a -e "$T/q-ready" ||
	    fail "P and Q are not exchanging positions"
	py holders holders "$TAKD_PORT" $(pem carol) 40 900000 "$T/ready" \
	    "$T/go" "$T/sent" "$T/stop" "$T/holders.count"
	wait_for 30 test -e "$T/ready" ||
	    fail "holders did not connect: $(cat "$T/holders.out")"
	# The sessions are up: what grows now is what they send.
	sleep 0.5
	rss0=$(proc_kb "$w" VmRSS)
	echo 5 >"/proc/$w/clear_refs"	# VmHWM := VmRSS
	touch "$T/go"
	wait_for 30 test -e "$T/sent" ||
	    fail "holders did not send: $(cat "$T/holders.out")"
	cot_wait p 0 20
	cot_wait q 0 20
	touch "$T/stop"
	cot_wait holders 0 20
	hwm=$(proc_kb "$w" VmHWM)
	grew=$((hwm - rss0))
	takd_status
	closed=$(wsum closed.memory_budget)
	hw=$(wsum memory.high_water_bytes)
	diag "40 x 900 KB held under a budget of 8 MiB: $closed closed," \
	    "$(cat "$T/holders.count"); the worker's buffers peaked at" \
	    "$hw bytes, its RSS at +$grew kB"
	expect_eq "$(cat "$T/holders.count")" "closed $closed of 40" \
	    "sessions the holders saw closed"
	[ "$closed" -ge 30 ] && [ "$closed" -le 36 ] ||
	    fail "$closed of 40 holders closed, expected 30 to 36"
	[ "$hw" -le $((budget + (1 << 20))) ] ||
	    fail "buffers peaked at $hw bytes, over the budget and a buffer"
	[ "$(wsum memory.buffered_bytes)" -le "$budget" ] ||
	    fail "buffered now: $(wsum memory.buffered_bytes) bytes"
	expect_eq "$(wsum memory.budget_bytes)" "$budget" "memory.budget_bytes"
	# The budget, a quarantine of 2 MB and some slack.
	[ "$grew" -le $(( (budget >> 10) + 8192 )) ] ||
	    fail "the worker's RSS grew by $grew kB"
	expect_eq "$(wsum closed.slow_consumer)" 0 "closed.slow_consumer"
	log_has 'closing it, it holds [0-9]+ bytes of an unfinished event' ||
	    fail "no log line for the memory budget"
}

run_case flood_readers
run_case memory_budget
finish
