#!/usr/bin/env bash
# Interop with a third-party TAK client: @tak-ps/node-tak 8.9.0 from npm
# (tests/integ/interop/) connects with a client certificate, waits for
# takd's pong before it calls the connection open, and exchanges SA with
# our takclient.
#
# The Node modules are installed once with `npm ci` from the committed
# package-lock.json into build/node-interop (NODE_CACHE), and again when the
# lock file changes.  When npm cannot reach its registry the case says
# "skipped" and passes; any other install failure fails it.
. "$(dirname "$0")/lib.sh"

INTEROP=$REPO/tests/integ/interop
NODE_CACHE=${NODE_CACHE:-$REPO/build/node-interop}

# _npm_install: npm ci into NODE_CACHE unless it was done there with the
# same package.json and lock file (NODE_CACHE/.installed is written last);
# under a lock, as several test runs may share the cache.
_npm_install() {
	(
		flock 9 || exit 1
		cd "$NODE_CACHE" || exit 1
		if [ -e .installed ] &&
		    cmp -s "$INTEROP/package.json" package.json &&
		    cmp -s "$INTEROP/package-lock.json" package-lock.json; then
			exit 0
		fi
		rm -rf .installed node_modules
		cp "$INTEROP/package.json" "$INTEROP/package-lock.json" . &&
		    timeout 300 npm ci --no-audit --no-fund --loglevel=error \
		    </dev/null && touch .installed
	) 9>"$NODE_CACHE.lock"
}

# node_deps: 0 when client.mjs can run, 1 when the npm registry is
# unreachable (skip); fails the case otherwise.
node_deps() {
	command -v node >/dev/null && command -v npm >/dev/null ||
	    fail "node and npm are needed: scripts/deps.sh test installs them"
	mkdir -p "$NODE_CACHE" || fail "cannot create $NODE_CACHE"
	if ! _npm_install >"$T/npm.log" 2>&1; then
		if ! timeout 60 npm ping >"$T/npm-ping.log" 2>&1; then
			diag "skipped: the npm registry is unreachable:" \
			    "$(grep -m1 -i 'err' "$T/npm-ping.log")"
			return 1
		fi
		diag_file "$T/npm.log" 30
		fail "npm ci of tests/integ/interop failed"
	fi
	# ES modules resolve packages from the importing file's directory.
	cp "$INTEROP/client.mjs" "$NODE_CACHE/client.mjs" ||
	    fail "cannot copy client.mjs to $NODE_CACHE"
}

node_tak() {
	local c=$T/pki/clients
	use_pki "$T/pki"
	node_deps || return 0
	write_config "$T/takd.ini" server.workers=2
	start_takd
	cot_sa_tmpl "$T/sa.tmpl"
	# node's tls.connect gets the key as PEM text, without a pass phrase.
	openssl pkey -in "$c/bob.key" -passin pass:test -out "$T/bob-plain.key" \
	    2>"$T/pkey.err" || { diag_file "$T/pkey.err"; fail "openssl pkey"; }
	cat >"$T/k.script" <<-EOF
	forbid type=t-x-c-t
	send-every 500 $T/sa.tmpl
	expect uid=node-1 'grep=<contact callsign="NODE"' within=15000
	wait-file $T/node-done within=30000
	EOF
	cot_place k 0 $(client_args alice) --script "$T/k.script" \
	    --uid tk-1 --callsign KILO --print
	# node-tak on the other worker: the events cross the fan-out.
	cot_stop_others 1
	cot_spawn node node "$NODE_CACHE/client.mjs" "$TAKD_PORT" \
	    "$c/bob.pem" "$T/bob-plain.key" node-1 NODE tk-1 15
	wait_for 10 grep -Eq '^(open|closed|error|timeout)' "$T/node.out"
	cot_cont
	cot_wait node 0 30
	touch "$T/node-done"
	cot_wait k 0
	# The library calls the connection open only after takd's pong, and
	# sends nothing of ours before.
	expect_eq "$(grep -m1 -E '^(open|sent)' "$T/node.out")" open \
	    "node-tak's first step"
	expect_grep '^cot tk-1 a-f-G-U-C$' "$T/node.out" \
	    "node-tak did not get takclient's SA"
	# takd logged the library's session, with our certificate, on worker 1.
	log_has 'worker 1\[[0-9]+\].* established: .*subject "[^"]*CN=bob' ||
	    fail "no session of CN=bob (node-tak) on worker 1 in takd's log"
}

run_case node_tak
finish
