# Shared helpers for the integration tests; sourced by tests/integ/test_*.sh.
#
# A test script defines one shell function per case and ends with
#
#	run_case NAME [FUNCTION]	(per case; FUNCTION defaults to NAME)
#	finish
#
# Every case runs in a subshell of its own, with its own temp dir ($T) and a
# watchdog.  When the case ends, any takd it started is stopped, sanitizer
# reports are collected, and on failure the daemon's logs are printed.  A
# case fails by calling fail (or any helper that does); it passes when its
# function returns.  Output is TAP-like: "ok NAME in S s" / "not ok NAME in
# S s" per case (S: its wall time in seconds),
# diagnostics on lines starting with "# ".
#
# Environment (tests/run.sh sets all of these; defaults suit a `make test`
# tree): TAKD, TAKCTL, TOOLS, REPO, TESTDATA (tests/data: sample events); KEEP=1 keeps every temp dir,
# KEEP=failed only those of failed cases; CASE_TIMEOUT (seconds, default 120).
# Arguments given to a test script select cases by name.

set -u

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TAKD=${TAKD:-$REPO/build/san/bin/takd}
TAKCTL=${TAKCTL:-$REPO/build/san/bin/takctl}
TOOLS=${TOOLS:-$REPO/build/san/tests/tools}
TESTDATA=${TESTDATA:-$REPO/tests/data}
TAKCLIENT=$TOOLS/takclient
CASE_TIMEOUT=${CASE_TIMEOUT:-120}
START_TIMEOUT=${START_TIMEOUT:-20}	# seconds for takd to answer status
# The service user a root takd drops to: the dedicated account of
# production (scripts/deps.sh test creates it).
TAKD_USER=${TAKD_USER:-takd}
KEEP=${KEEP:-}
export TAKD TAKCTL TOOLS REPO TESTDATA TAKD_USER
if [ "$(id -u)" -eq 0 ] && ! id -u "$TAKD_USER" >/dev/null 2>&1; then
	printf '# no account %s: create it with scripts/deps.sh test\n' \
	    "$TAKD_USER"
fi

for _bin in "$TAKD" "$TAKCTL" "$TAKCLIENT"; do
	[ -x "$_bin" ] || printf '# missing %s: build with make test first\n' \
	    "$_bin"
done

SUITE=$(basename "$0" .sh)
SUITE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/takd-$SUITE.XXXXXX") || exit 1
chmod 755 "$SUITE_DIR"	# the daemon reads below it after dropping root
# Where use_pki keeps the PKIs it made: tests/run.sh gives every script of
# a run the same directory; a script run alone makes its own.
PKI_CACHE=${PKI_CACHE:-$SUITE_DIR}
ONLY=" $* "
N_PASS=0
N_FAIL=0
_suite_exit() {
	if [ "$KEEP" = 1 ] || { [ -n "$KEEP" ] && [ "$N_FAIL" -gt 0 ]; }; then
		diag "kept $SUITE_DIR"
	else
		rm -rf "$SUITE_DIR"
	fi
}
trap _suite_exit EXIT

# Set inside a case.
T=
CFG=
TAKD_PID=
TAKD_PORT=
TAKD_EXIT=

# --- reporting ------------------------------------------------------------

diag() {
	printf '# %s\n' "$*"
}

# Print a file as diagnostics (the last LINES lines, default 60).
diag_file() {
	[ -s "$1" ] || return 0
	diag "--- $1 (last ${2:-60} lines)"
	tail -n "${2:-60}" "$1" | sed 's/^/#   /'
}

fail() {
	diag "FAIL: $*"
	exit 1
}

# expect_rc WANT CMD...: run CMD, output in $T/out; fail unless it exits WANT.
expect_rc() {
	local want=$1 rc
	shift
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		diag "command: $*"
		diag_file "$T/out" 20
		fail "exit status $rc, expected $want"
	fi
	return 0
}

# expect_grep ERE FILE [WHAT]: fail unless FILE has a line matching ERE.
expect_grep() {
	grep -Eq -- "$1" "$2" 2>/dev/null && return 0
	diag_file "$2" 20
	fail "${3:-$2 has no line matching /$1/}"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

# expect_bytes EXPECTED GOT WHAT...: the files are the same bytes; else
# both are shown (cat -A: line ends and control bytes visible) and the case
# fails with WHAT.
expect_bytes() {
	local exp=$1 got=$2
	shift 2
	cmp -s "$exp" "$got" && return 0
	diag "expected (cat -A):"
	cat -A "$exp" | cut -c1-200 | sed 's/^/#   /'
	diag "received (cat -A):"
	cat -A "$got" | cut -c1-200 | sed 's/^/#   /'
	fail "$* ($(cmp "$exp" "$got" 2>&1))"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s (POLL_STEP); 0 once it
# succeeds, 1 on timeout.
wait_for() {
	local end=$(( $(date +%s%N) / 1000000 + ${1%.*} * 1000 ))
	shift
	while ! "$@"; do
		[ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ] || return 1
		sleep "${POLL_STEP:-0.1}"
	done
	return 0
}

now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# --- processes and descriptors ----------------------------------------------

# A live process: /proc entry present and not a zombie.
proc_alive() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
	    "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

proc_gone() {
	! proc_alive "$1"
}

# proc_field PID FIELD: the value of FIELD in /proc/PID/status ("Uid" gives
# "real effective saved fs").
proc_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null |
	    tr -s ' \t' '  '
}

# Children of a process (the workers of the supervisor).
proc_children() {
	cat /proc/"$1"/task/*/children 2>/dev/null
}

fd_count() {
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# expect_fds PID BASE: PID holds BASE descriptors, give or take 2 (what
# it may hold for a moment: a connection being accepted, a log reopened).
expect_fds() {
	local now
	now=$(fd_count "$1")
	[ "$now" -ge $(($2 - 2)) ] && [ "$now" -le $(($2 + 2)) ] && return 0
	ls -l "/proc/$1/fd" | sed 's/^/#   /'
	fail "process $1 has $now descriptors, baseline $2"
}

# proc_kb PID FIELD [FILE]: a figure in kB of /proc/PID/FILE (default
# status: VmRSS, VmHWM; smaps_rollup: Rss, Pss).
proc_kb() {
	awk -v f="$2:" '$1 == f { print $2; exit }' \
	    "/proc/$1/${3:-status}" 2>/dev/null
}

# cpu_ticks PID: user + system time of a process, in clock ticks.
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# proc_stop PID: SIGSTOP it; cot_cont (and so the end of the case, should
# it fail first) resumes it.
proc_stop() {
	kill -STOP "$1"
	COT_STOPPED="$COT_STOPPED $1"
}

# --- JSON (no jq or python): flatten into "path<TAB>value" lines -------------

# {"a":[{"b":1}]} gives "a.0.b	1".  Strings lose their quotes, escapes stay
# as written, null prints as an empty value, empty containers print nothing.
# POSIX awk (mawk will do).
json_flat() {
	awk '
	function path(	i, p) {
		p = ""
		for (i = 1; i <= d; i++)
			p = p (i > 1 ? "." : "") key[i]
		return p
	}
	{ s = s $0 "\n" }
	END {
		n = length(s); d = 0; i = 1
		while (i <= n) {
			c = substr(s, i, 1)
			if (c == "{" || c == "[") {
				d++; typ[d] = c; wantkey[d] = (c == "{")
				key[d] = (c == "[") ? 0 : ""
				i++
			} else if (c == "}" || c == "]") {
				d--; i++
			} else if (c == ",") {
				if (typ[d] == "[") key[d]++; else wantkey[d] = 1
				i++
			} else if (c == ":") {
				wantkey[d] = 0; i++
			} else if (c == "\"") {
				v = ""
				for (j = i + 1; j <= n; j++) {
					ch = substr(s, j, 1)
					if (ch == "\\") {
						v = v substr(s, j, 2); j++
						continue
					}
					if (ch == "\"")
						break
					v = v ch
				}
				i = j + 1
				if (typ[d] == "{" && wantkey[d]) key[d] = v
				else print path() "\t" v
			} else if (c ~ /[ \t\r\n]/) {
				i++
			} else {
				for (j = i; j <= n; j++)
					if (substr(s, j, 1) ~ /[],} \t\r\n]/)
						break
				v = substr(s, i, j - i)
				print path() "\t" (v == "null" ? "" : v)
				i = j
			}
		}
	}' "$@"
}

# jget PATH FLATFILE: the value at PATH ("" and status 1 when absent).
jget() {
	awk -F '\t' -v p="$1" '$1 == p { print $2; found = 1; exit }
	    END { exit !found }' "$2"
}

# jcount PREFIX FLATFILE: the number of elements of the array at PREFIX.
jcount() {
	awk -F '\t' -v p="$1." 'index($1, p) == 1 {
		    r = substr($1, length(p) + 1)
		    sub(/\..*/, "", r)
		    seen[r] = 1 }
	    END { n = 0; for (k in seen) n++; print n }' "$2"
}

# --- takd status ------------------------------------------------------------

# takd_status [CFG]: `takctl status` into $T/status.json and $T/status.flat.
takd_status() {
	"$TAKCTL" -c "${1:-$CFG}" status >"$T/status.json" 2>"$T/status.err" ||
	    return 1
	json_flat "$T/status.json" >"$T/status.flat"
}

# sget PATH: a field of the last status ("crl.generation", "workers.0.pid").
sget() {
	jget "$1" "$T/status.flat"
}

# wfield SLOT FIELD: FIELD of the worker whose id is SLOT, last status.
wfield() {
	awk -F '\t' -v id="$1" -v f="$2" '
	    $1 ~ /^workers\.[0-9]+\.id$/ && $2 == id {
		    split($1, p, "."); want = "workers." p[2] "." f }
	    { v[$1] = $2 }
	    END { if (want != "" && (want in v)) print v[want] }' \
	    "$T/status.flat"
}

n_workers() {
	jcount workers "$T/status.flat"
}

# wsum FIELD [FLAT]: FIELD summed over every worker of the last status (or
# of a copy of it, FLAT).
wsum() {
	awk -F '\t' -v f="$1" '$1 ~ "^workers\\.[0-9]+\\." f "$" { s += $2 }
	    END { print s + 0 }' "${2:-$T/status.flat}"
}

worker_pids() {
	awk -F '\t' '$1 ~ /^workers\.[0-9]+\.pid$/ { print $2 }' \
	    "$T/status.flat"
}

# status_is PATH VALUE: a fresh status has PATH equal to VALUE (for wait_for).
status_is() {
	takd_status && [ "$(sget "$1")" = "$2" ]
}

# status_sum_is FIELD VALUE: a fresh status sums FIELD over workers to VALUE.
status_sum_is() {
	takd_status && [ "$(wsum "$1")" = "$2" ]
}

# wait_status SECONDS PATH VALUE: wait until a fresh status has PATH equal
# to VALUE; fail, saying what it is, if it does not in time.
wait_status() {
	wait_for "$1" status_is "$2" "$3" && return 0
	diag_file "$T/status.json" 5
	fail "status $2 is '$(sget "$2")' after $1 s, expected '$3'"
}

# wait_sum SECONDS FIELD [-ge] VALUE [WHAT]: wait until FIELD summed over
# the workers of a fresh status is VALUE (with -ge: at least VALUE); fail,
# saying what it is (and WHAT it was about), if it does not in time:
# wait_sum 10 sessions 4.
wait_sum() {
	local secs=$1 field=$2 op=-eq want
	shift 2
	[ "$1" = -ge ] && { op=-ge; shift; }
	want=$1
	_sum_cmp() {
		takd_status && [ "$(wsum "$field")" "$op" "$want" ]
	}
	wait_for "$secs" _sum_cmp && return 0
	[ "$op" = -ge ] && want="at least $want"
	fail "${2:+$2: }$field (summed over the workers) is" \
	    "$(wsum "$field") after $secs s, expected $want"
}

# takd_quiet [SESSIONS]: a fresh status shows SESSIONS sessions (default
# 0) and no handshake in progress (for wait_for).
takd_quiet() {
	takd_status && [ "$(wsum sessions)" = "${1:-0}" ] &&
	    [ "$(wsum handshaking)" = 0 ]
}

# listener_port PROTO: the port of the listener of PROTO (tls, tcp,
# metrics, https, enroll) in the last status; nothing when there is none.
listener_port() {
	awk -F '\t' -v proto="$1" '
	    $1 ~ /^listeners\.[0-9]+\.proto$/ && $2 == proto {
		    split($1, p, "."); want = "listeners." p[2] ".port" }
	    { v[$1] = $2 }
	    END { if (want in v) print v[want] }' "$T/status.flat"
}

# slot_respawned SLOT OLD_PID: a fresh status shows in slot SLOT a live
# worker other than OLD_PID (for wait_for); its pid in RESPAWNED.
slot_respawned() {
	takd_status || return 1
	RESPAWNED=$(wfield "$1" pid)
	[ -n "$RESPAWNED" ] && [ "$RESPAWNED" != "$2" ] &&
	    [ "$RESPAWNED" != 0 ] && proc_alive "$RESPAWNED"
}

# expect_same_workers PIDS: the supervisor lives and its workers are PIDS
# (as worker_pids printed them before), none of them replaced.
expect_same_workers() {
	proc_alive "$TAKD_PID" || fail "the supervisor died"
	takd_status || fail "no status"
	expect_eq "$(echo $(worker_pids))" "$(echo $1)" "worker pids"
}

# --- PKI ----------------------------------------------------------------------

# make_pki CFG [--cn CA_NAME] CLIENT...: a CA, a server certificate for
# localhost and one client certificate per name, made by takctl in the
# [pki] dir of CFG.
make_pki() {
	local cfg=$1 name
	local -a ca=()
	shift
	if [ "${1:-}" = --cn ]; then
		ca=(--cn "$2")
		shift 2
	fi
	"$TAKCTL" -c "$cfg" pki init-ca "${ca[@]}" >>"$T/pki.log" 2>&1 ||
	    { diag_file "$T/pki.log"; fail "takctl pki init-ca"; }
	"$TAKCTL" -c "$cfg" pki server --cn localhost >>"$T/pki.log" 2>&1 ||
	    { diag_file "$T/pki.log"; fail "takctl pki server"; }
	for name in "$@"; do
		"$TAKCTL" -c "$cfg" pki client "$name" --password test \
		    >>"$T/pki.log" 2>&1 ||
		    { diag_file "$T/pki.log"; fail "takctl pki client $name"; }
	done
}

# use_pki DIR [KIND]: a PKI with clients alice, bob and carol in DIR, made
# once (per run of tests/run.sh, or per script) and copied, so that cases
# may change it freely.  KIND "main" (the default) and "other" have CAs of
# different names; "twin" has a CA of its own with the same name as the
# main one.
use_pki() {
	local dir=$1 kind=${2:-main} cache cfg cn
	cache="$PKI_CACHE/pki-$kind"
	if [ ! -d "$cache" ]; then
		cfg="$PKI_CACHE/pki-$kind.ini"
		rm -rf "$cache.tmp"	# left by a case that failed half-way
		printf '[server]\nstate_dir = %s\n[pki]\ndir = %s\n' \
		    "$PKI_CACHE/state-$kind" "$cache.tmp" >"$cfg"
		cn="takd test CA $kind"
		[ "$kind" = twin ] && cn="takd test CA main"
		make_pki "$cfg" --cn "$cn" alice bob carol
		mv "$cache.tmp" "$cache"
	fi
	cp -a "$cache" "$dir"
}

# client_args NAME [PKIDIR]: takclient options for a client of that PKI.
client_args() {
	local d=${2:-$T/pki}/clients
	echo "--cert $d/$1.pem --key $d/$1.key --pass test"
}

# subj_cert NAME SUBJECT: a client certificate of $T/pki's CA for SUBJECT
# ("/CN=alice/O=takd test/OU=Blue", "/CN=alice/CN=bob": what takctl pki
# client does not make), its key without a pass phrase, in
# $T/pki/clients/NAME.pem and NAME.key; subj_args NAME gives takclient's
# options for it.
subj_cert() {
	local d=$T/pki/clients
	printf 'extendedKeyUsage = clientAuth\nkeyUsage = digitalSignature\n' \
	    >"$T/client.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/$1.key" -subj "$2" \
	    -out "$T/$1.csr" >>"$T/openssl.log" 2>&1 &&
	    openssl x509 -req -in "$T/$1.csr" -CA "$T/pki/ca.pem" \
	    -CAkey "$T/pki/ca.key" -set_serial "0x$(openssl rand -hex 12)" \
	    -days 2 -extfile "$T/client.ext" -out "$d/$1.pem" \
	    >>"$T/openssl.log" 2>&1 ||
	    { diag_file "$T/openssl.log"; fail "cannot make certificate $1"; }
}

subj_args() {
	echo "--cert $T/pki/clients/$1.pem --key $T/pki/clients/$1.key"
}

# serial_of NAME [PKIDIR]: the serial of a client certificate as openssl
# prints it (upper-case hex, an even number of digits): what takctl pki
# list and crl show print and revoke --serial takes.
serial_of() {
	openssl x509 -noout -serial -in "${2:-$T/pki}/clients/$1.pem" |
	    sed 's/^serial=//'
}

# serial_norm: the serial on stdin, colons and leading zeros dropped,
# upper case: serials written in different ways compare equal.
serial_norm() {
	tr -d : | sed 's/^0*//' | tr a-f A-F
}

# ca_scratch PREFIX: a new directory $T/PREFIX.XXXXXX for `openssl ca`, in
# CA_DIR: an empty index, a CRL number, a random serial and ca.cnf whose
# last section, [ tca ], the caller may add keys and sections to.
ca_scratch() {
	local d
	d=$(mktemp -d "$T/$1.XXXXXX") || fail "mktemp -d $T/$1.XXXXXX"
	CA_DIR=$d
	: >"$d/index.txt"
	echo 01 >"$d/crlnumber"
	openssl rand -hex 16 >"$d/serial"
	cat >"$d/ca.cnf" <<-EOF
	[ ca ]
	default_ca = tca
	[ tca ]
	database = $d/index.txt
	crlnumber = $d/crlnumber
	serial = $d/serial
	new_certs_dir = $d
	default_md = sha256
	EOF
}

# make_crl [--dates LAST NEXT] PKIDIR OUT [CLIENT...]: a fresh CRL signed
# by the PKI's CA, listing exactly the named clients, made with `openssl
# ca`; valid 7 days, or from LAST to NEXT (date -d: '2 days ago').
make_crl() {
	local pki out d name
	local -a dates=()
	if [ "$1" = --dates ]; then
		dates=(-crl_lastupdate "$(date -u -d "$2" +%Y%m%d%H%M%SZ)"
		    -crl_nextupdate "$(date -u -d "$3" +%Y%m%d%H%M%SZ)")
		shift 3
	fi
	pki=$1 out=$2
	shift 2
	ca_scratch crlca
	d=$CA_DIR
	[ ${#dates[@]} -gt 0 ] || echo 'default_crl_days = 7' >>"$d/ca.cnf"
	for name in "$@"; do
		openssl ca -batch -config "$d/ca.cnf" -keyfile "$pki/ca.key" \
		    -cert "$pki/ca.pem" -revoke "$pki/clients/$name.pem" \
		    >>"$d/log" 2>&1 ||
		    { diag_file "$d/log"; fail "openssl ca -revoke $name"; }
	done
	openssl ca -batch -config "$d/ca.cnf" -keyfile "$pki/ca.key" \
	    -cert "$pki/ca.pem" -gencrl "${dates[@]}" -out "$out.tmp" \
	    >>"$d/log" 2>&1 ||
	    { diag_file "$d/log"; fail "openssl ca -gencrl"; }
	chmod 644 "$out.tmp"
	mv "$out.tmp" "$out"	# atomically, as an operator should
}

# --- configuration ---------------------------------------------------------

# write_config FILE [section.key=value ...]: a config for a test instance:
# loopback listener on a kernel-chosen port, state, PKI and log in $T, debug
# logging, user $TAKD_USER when root.  Arguments override or add keys; a
# value of @omit drops a default key.  Sets CFG when FILE is $T/takd.ini.
write_config() {
	local file=$1 kv sec key
	declare -A val=()
	local -a order=()
	shift
	_cfg_set() {
		[ -n "${val[$1]+x}" ] || order+=("$1")
		val[$1]=$2
	}
	[ "$(id -u)" -eq 0 ] && _cfg_set server.user "$TAKD_USER"
	_cfg_set server.workers 2
	_cfg_set server.state_dir "$T/state"
	_cfg_set server.log "$T/takd.log"
	_cfg_set server.log_level debug
	_cfg_set tls.listen 127.0.0.1:0
	# Every test client comes from 127.0.0.1 and most cases open many
	# sessions with one certificate: the per-address and per-certificate
	# limits would get in their way.  test_sec_admission.sh tests them.
	_cfg_set tls.max_handshakes_per_address 0
	_cfg_set tls.max_sessions_per_cert 0
	# The cases count and compare what clients get, and expect the
	# latest-SA replay at connect: without the TAK protocol offer (and
	# the replay's wait for its answer).  test_takproto.sh turns it on.
	_cfg_set cot.protocol_offer off
	_cfg_set pki.dir "$T/pki"
	for kv in "$@"; do
		_cfg_set "${kv%%=*}" "${kv#*=}"
	done
	: >"$file"
	for sec in server tls tcp cot pki auth metrics api cluster console ocsp; do
		printf '[%s]\n' "$sec" >>"$file"
		for key in "${order[@]}"; do
			[ "${key%%.*}" = "$sec" ] || continue
			[ "${val[$key]}" = @omit ] && continue
			printf '%s = %s\n' "${key#*.}" "${val[$key]}" >>"$file"
		done
	done
	[ "$file" != "$T/takd.ini" ] || CFG=$file
}

# --- the daemon ------------------------------------------------------------

# All takd output: the log file and what went to stdout/stderr.
takd_logs() {
	cat "$T/takd.log" "$T/takd.stderr" 2>/dev/null
}

# log_has ERE: the daemon logged a line matching ERE.
log_has() {
	takd_logs | grep -Eq -- "$1"
}

# start_takd [CFG]: run `takd -f -c CFG` in the background and wait until
# `takctl status` answers with the listener's port.  Sets TAKD_PID (the
# supervisor) and TAKD_PORT; takd's exit status lands in $T/takd.exit
# (the waiting shell's own "Killed" for a takd killed on purpose does not
# go to the case's output).  SIGINT is reset to its default: bash starts
# background jobs with it ignored, and the daemon must see it.
start_takd() {
	local cfg=${1:-$CFG} end
	rm -f "$T/takd.exit" "$T/takd.pid0"
	(
		env --default-signal=INT "$TAKD" -f -c "$cfg" \
		    >>"$T/takd.stderr" 2>&1 </dev/null &
		echo $! >"$T/takd.pid0"
		wait $!
		echo $? >"$T/takd.exit"
	) 2>/dev/null &
	# A start and a stop are polled every 20 ms (a file, /proc) or 50 ms
	# (takctl status), not 100: every case starts and stops takd, some
	# of them many times, and each poll overshot by 50 ms on average.
	POLL_STEP=0.02 wait_for 5 test -s "$T/takd.pid0" ||
	    fail "takd did not start"
	TAKD_PID=$(cat "$T/takd.pid0")
	echo "$TAKD_PID" >>"$T/takd.pids"
	end=$(( $(now_ms) + START_TIMEOUT * 1000 ))
	while :; do
		if [ -s "$T/takd.exit" ]; then
			diag_file "$T/takd.stderr"
			fail "takd exited with status $(cat "$T/takd.exit")" \
			    "before answering status"
		fi
		if takd_status "$cfg"; then
			TAKD_PORT=$(sget listeners.0.port) &&
			    [ -n "$TAKD_PORT" ] && [ "$TAKD_PORT" != 0 ] &&
			    break
		fi
		if [ "$(now_ms)" -ge "$end" ]; then
			diag_file "$T/status.err" 10
			diag_file "$T/status.json" 10
			fail "takd did not answer status with a listener port" \
			    "within ${START_TIMEOUT}s"
		fi
		sleep 0.05
	done
	# Workers come up after the supervisor answers; wait for all of them.
	POLL_STEP=0.05 wait_for 10 _workers_up "$cfg" ||
	    fail "workers not up: $(tr '\n' ' ' <"$T/status.json")"
	takd_status "$cfg"
}

_workers_up() {
	local pid
	takd_status "$1" || return 1
	[ "$(n_workers)" -ge 1 ] || return 1
	for pid in $(worker_pids); do
		[ "$pid" -gt 0 ] 2>/dev/null && proc_alive "$pid" || return 1
	done
}

# stop_takd [SIGNAL]: signal the supervisor (TERM by default) and wait for it
# to exit; sets TAKD_EXIT.  Fails when it takes more than 10 seconds.
stop_takd() {
	[ -n "$TAKD_PID" ] || return 0
	proc_alive "$TAKD_PID" && kill "-${1:-TERM}" "$TAKD_PID" 2>/dev/null
	wait_takd 10 ||
	    fail "takd ($TAKD_PID) still running 10 s after SIG${1:-TERM}"
}

# wait_takd SECONDS: wait for the supervisor to exit; sets TAKD_EXIT.
wait_takd() {
	POLL_STEP=0.02 wait_for "$1" test -s "$T/takd.exit" || return 1
	TAKD_EXIT=$(cat "$T/takd.exit")
	TAKD_PID=
}

# expect_run_left [RUN_DIR]: after takd stopped, what it leaves in run_dir
# (default $T/state/run).  Run as the invoking user, it removed its pidfile
# and admin socket.  Dropped from root, it could not (run_dir is root's,
# docs/security.md): both stay, root's, for the next start to replace; the
# socket answers nobody.
expect_run_left() {
	local d=${1:-$T/state/run}
	if [ "$(id -u)" -ne 0 ]; then
		[ ! -e "$d/takd.pid" ] || fail "pidfile left behind"
		[ ! -e "$d/takd.sock" ] || fail "admin socket left behind"
		return 0
	fi
	expect_eq "$(stat -c '%U %a' "$d/takd.pid" 2>&1)" "root 644" \
	    "pidfile left by a takd that dropped root"
	expect_eq "$(stat -c '%U %a' "$d/takd.sock" 2>&1)" "root 600" \
	    "admin socket left by a takd that dropped root"
	! "$TAKCTL" -c "$CFG" status >/dev/null 2>&1 ||
	    fail "the admin socket still answers"
}

# log_line_has ADDR ERE: one line of the daemon's logs names the address
# ADDR ("127.0.0.1:40212", not followed by another digit) and matches ERE
# (case-insensitive); the first such line in LOG_LINE.
log_line_has() {
	local re
	re=$(printf '%s' "$1" | sed 's/[].[*^$\\]/\\&/g')
	LOG_LINE=$(takd_logs | grep -E -- "$re([^0-9]|\$)" |
	    grep -Ei -m 1 -- "$2")
	[ -n "$LOG_LINE" ]
}

# expect_log_line ADDR ERE [SECONDS [WHAT]]: within SECONDS (default 5)
# takd logs a line naming ADDR that matches ERE (log_line_has, LOG_LINE);
# else the lines naming ADDR are shown and the case fails (WHAT: what it
# was about).
expect_log_line() {
	wait_for "${3:-5}" log_line_has "$1" "$2" && return 0
	takd_logs | grep -F -- "$1" | sed 's/^/#   /'
	fail "${4:+$4: }no log line naming $1 and matching /$2/"
}

# takclient ARGS...: the C test client against the running takd, output in
# $T/client.out (and also returned as the exit status).
takclient() {
	"$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" "$@" >"$T/client.out" 2>&1
}

# expect_client WANT ARGS...: takclient exits WANT.
expect_client() {
	local want=$1 rc
	shift
	takclient "$@"
	rc=$?
	[ "$rc" -eq "$want" ] && return 0
	diag "takclient $*"
	diag_file "$T/client.out" 20
	fail "takclient exit status $rc, expected $want"
}

# The client's own address from `takclient --verbose` output.
client_addr() {
	sed -n 's/^\(\[[0-9]*\] \)\{0,1\}local address //p' "$T/client.out" |
	    head -n 1
}

# expect_closed_after FILE LOW HIGH: takclient's output FILE says that the
# server closed the session LOW to HIGH ms after it began (the handshake
# done, or with --raw the connection made).
expect_closed_after() {
	local ms
	ms=$(sed -n 's/^closed by server after \([0-9]*\) ms.*/\1/p' "$1" |
	    head -n 1)
	[ -n "$ms" ] || { diag_file "$1" 10;
	    fail "$1: no 'closed by server' line"; }
	diag "$(basename "$1"): closed by the server after $ms ms"
	[ "$ms" -ge "$2" ] && [ "$ms" -le "$3" ] ||
	    fail "$1: closed after $ms ms, expected $2..$3"
}

# expect_accepted NAME: client NAME of $T/pki, verifying the server, gets
# in (TLS 1.2 or 1.3).
expect_accepted() {
	expect_client 0 $(client_args "$1") --ca "$T/pki/ca.pem" \
	    --servername localhost
	expect_grep '^handshake ok TLSv1\.[23]$' "$T/client.out"
}

# expect_refused NAME|--no-cert ERE [PKIDIR]: the client (NAME of PKIDIR,
# default $T/pki, or one without a certificate) is refused at the
# handshake, and a line of takd's log names its address and matches ERE:
# why.
expect_refused() {
	local who=$1 addr
	if [ "$who" = --no-cert ]; then
		expect_client 1 --no-cert --verbose
	else
		expect_client 1 $(client_args "$who" "${3:-$T/pki}") --verbose
	fi
	expect_grep '^handshake failed: ' "$T/client.out"
	addr=$(client_addr)
	[ -n "$addr" ] || fail "takclient did not print its address"
	expect_log_line "$addr" "$2"
}

# expect_ctl WANT ARGS...: takctl ARGS with the case's config exits WANT
# (expect_rc: output in $T/out).
expect_ctl() {
	local want=$1
	shift
	expect_rc "$want" "$TAKCTL" -c "$CFG" "$@"
}

# s_client NAME OUT ARGS...: openssl s_client to takd as client NAME of
# $T/pki, output in $T/OUT.s, its exit status.  stdin stays open
# S_CLIENT_HOLD seconds (default 2) so that a TLS 1.3 session ticket, sent
# after the handshake, is read (and saved with -sess_out).  With
# S_CLIENT_DONE=1, stdin closes as soon as the handshake is done (s_client
# printed "New, " or "Reused, ") and the session of -sess_out, if given,
# is saved: S_CLIENT_HOLD is then only the longest wait.  Either way a
# client that ends first (a refused handshake) is not waited for.
s_client() {
	local name=$1 out=$2 sess="" sess_in="" a prev=""
	shift 2
	for a in "$@"; do
		[ "$prev" = -sess_out ] && sess=$a
		[ "$prev" = -sess_in ] && sess_in=$a
		prev=$a
	done
	# What an earlier client left must not end the wait at once.
	rm -f "$T/$out.s"
	if [ "${S_CLIENT_DONE:-0}" = 1 ] && [ -n "$sess" ]; then
		[ "$sess" = "$sess_in" ] && sess="" || rm -f "$sess"
	fi
	timeout 20 openssl s_client \
	    -connect "127.0.0.1:$TAKD_PORT" -CAfile "$T/pki/ca.pem" \
	    -cert "$T/pki/clients/$name.pem" -key "$T/pki/clients/$name.key" \
	    -pass pass:test -no_ign_eof "$@" >"$T/$out.s" 2>&1 \
	    < <(_s_client_stdin "${S_CLIENT_HOLD:-2}" "$T/$out.s" "$sess")
}

# _s_client_stdin SECONDS OUT SESS: s_client's stdin, open SECONDS, or
# (S_CLIENT_DONE=1) until OUT shows the handshake done and SESS (when not
# empty) is written.
_s_client_stdin() {
	local end
	if [ "${S_CLIENT_DONE:-0}" != 1 ]; then
		exec sleep "$1"
	fi
	end=$(( $(now_ms) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }') ))
	while [ "$(now_ms)" -lt "$end" ]; do
		grep -Eqs '^(New|Reused), ' "$2" &&
		    { [ -z "$3" ] || [ -s "$3" ]; } && return 0
		sleep 0.05
	done
}

# --- HTTP (the metrics listener), with bash's /dev/tcp ------------------------

# http_send PORT OUT: send stdin to 127.0.0.1:PORT, the whole reply into
# OUT (the server closes the connection after it).
http_send() {
	timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 7
	    cat >&3; cat <&3' _ "$1" >"$2"
}

# http_status FILE: "200" of a reply "HTTP/1.1 200 OK".
http_status() {
	head -n 1 "$1" | tr -d '\r' | awk '{ print $2 }'
}

# ecurl OUT PATH [CURL ARGS...]: a request to the enrollment listener
# ($EPORT), without a client certificate: head and body in $T/OUT.head and
# $T/OUT, curl's messages in $T/OUT.err; curl's exit status.  At most
# ECURL_TIMEOUT seconds (10).
ecurl() {
	local out=$1 path=$2
	shift 2
	curl -sS --max-time "${ECURL_TIMEOUT:-10}" --cacert "$T/pki/ca.pem" \
	    --resolve "localhost:$EPORT:127.0.0.1" -D "$T/$out.head" \
	    -o "$T/$out" "$@" "https://localhost:$EPORT$path" 2>"$T/$out.err"
}

# code OUT: the status of a reply written as ecurl writes it.
code() {
	http_status "$T/$1.head"
}

# hval OUT NAME: a header of that reply.
hval() {
	tr -d '\r' <"$T/$1.head" | awk -v h="$2" '
	    tolower(substr($0, 1, length(h) + 1)) == tolower(h) ":" {
		sub(/^[^:]*:[ \t]*/, ""); print; exit }'
}

# --- CoT clients (test_cot*.sh) -----------------------------------------------

# cot_poll SECONDS CMD...: wait_for with a 20 ms step, for the many short
# waits of the CoT cases.
cot_poll() {
	POLL_STEP=0.02 wait_for "$@"
}

# cot_spawn NAME CMD...: run CMD in the background, output in $T/NAME.out,
# its pid in $T/NAME.cpid and, once it ended, its exit status in
# $T/NAME.rc.  A subshell waits for it, so that the case's shell never
# reports a client killed on purpose.
cot_spawn() {
	local name=$1
	shift
	rm -f "$T/$name.cpid" "$T/$name.rc"
	(
		"$@" &
		echo $! >"$T/$name.cpid"
		wait $!
		echo $? >"$T/$name.rc"
	) >"$T/$name.out" 2>&1 </dev/null &
	cot_poll 5 test -s "$T/$name.cpid" || fail "cannot start $name"
}

# cot_bg NAME ARGS...: takclient ARGS against takd, with cot_spawn.
cot_bg() {
	local name=$1
	shift
	cot_spawn "$name" "$TAKCLIENT" --connect "127.0.0.1:$TAKD_PORT" "$@"
}

# Clients of cot_spawn still running when a case ends (it failed) are killed.
_cot_kill_all() {
	local f pid
	for f in "$1"/*.cpid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		proc_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	return 0
}

# cot_wait NAME WANT [SECONDS]: wait (default 30 s) for client NAME to end;
# fail unless it exited with WANT, printing its output (but the events it
# printed).
cot_wait() {
	local name=$1 want=$2 rc
	if ! cot_poll "${3:-30}" test -s "$T/$name.rc"; then
		kill -KILL "$(cat "$T/$name.cpid")" 2>/dev/null
		rc="none: still running after ${3:-30}s"
	else
		rc=$(cat "$T/$name.rc")
		[ "$rc" = "$want" ] && return 0
	fi
	diag "--- $T/$name.out (without the events it printed)"
	grep -v '^<event' "$T/$name.out" | head -n 60 | sed 's/^/#   /'
	fail "client $name: exit status $rc, expected $want"
}

# cot_addr NAME: the local address client NAME printed (--verbose).
cot_addr() {
	sed -n 's/^local address //p' "$T/$1.out" | head -n 1
}

# printed NAME: the events client NAME printed (--print), one a line.
printed() {
	grep '^<event' "$T/$1.out"
}

# cot_uids PREFIX N [SKIP]: the filter terms "uid=PREFIX1 ... uid=PREFIXN"
# without uid=PREFIXSKIP (everybody else of N clients).
cot_uids() {
	local i out=""
	for i in $(seq 1 "$2"); do
		[ "$i" = "${3:-}" ] || out="$out uid=$1$i"
	done
	echo "$out"
}

# cot_worker_of ADDR: the id of the worker whose log says it established a
# session with peer ADDR; status 1 when no such line (yet).
cot_worker_of() {
	local re
	re=$(printf '%s' "$1" | sed 's/[].[*^$\\]/\\&/g')
	takd_logs | sed -n "s/.*worker \\([0-9][0-9]*\\)\\[[0-9]*\\].* established: peer $re\\([^0-9].*\\)\\{0,1\\}\$/\\1/p" |
	    head -n 1 | grep .
}

# cot_steer WORKER: until cot_cont, every new connection lands on the worker
# with id WORKER.  Each worker has a listening socket of its own (a
# SO_REUSEPORT group, one socket per slot, bound in slot order) and the
# kernel picks one by a hash of the connection's addresses and ports:
# takplace attaches to the group a BPF program that picks WORKER's socket
# instead (tests/tools/takplace.c).  Nothing of takd stops or moves.
# cot_cont detaches it.
COT_STOPPED=
COT_STEERED=
TAKPLACE=$TOOLS/takplace
cot_steer() {
	[ -n "$TAKD_PID" ] || fail "cot_steer: no takd"
	"$TAKPLACE" --pid "$TAKD_PID" --slot "$1" >"$T/takplace.out" 2>&1 ||
	    { diag_file "$T/takplace.out"; fail "cannot steer to worker $1"; }
	COT_STEERED=$TAKD_PID
}

# The older name: SIGSTOP no longer steers anything (a stopped worker's
# connections wait in its own backlog), the BPF program does.
cot_stop_others() {
	cot_steer "$@"
}

# cot_cont: undo cot_steer, and resume what a case stopped itself (listed in
# COT_STOPPED).
cot_cont() {
	[ -z "$COT_STOPPED" ] || kill -CONT $COT_STOPPED
	COT_STOPPED=
	[ -n "$COT_STEERED" ] || return 0
	proc_alive "$COT_STEERED" &&
	    ! "$TAKPLACE" --pid "$COT_STEERED" --off >"$T/takplace.out" 2>&1 &&
	    diag_file "$T/takplace.out"
	COT_STEERED=
	return 0
}

# cot_place NAME WORKER ARGS...: like cot_bg with --verbose, but the session
# lands on the worker with id WORKER (cot_steer until the handshake is
# done), and takd's log must say so for the client's address.
cot_place() {
	local name=$1 want=$2
	shift 2
	cot_steer "$want"
	cot_bg "$name" --verbose "$@"
	cot_placed "$want" "$name"
}

# cot_placed WORKER NAME...: after cot_steer WORKER and cot_bg NAME
# --verbose ... for each NAME (several clients placed at once): wait for
# their handshakes, end the steering, check takd's log.
cot_placed() {
	local want=$1 name addr got
	shift
	for name in "$@"; do
		cot_poll 10 grep -Eq '^(handshake ok|handshake failed|closed by)' \
		    "$T/$name.out" && grep -q '^handshake ok' "$T/$name.out" &&
		    continue
		cot_cont
		diag_file "$T/$name.out" 20
		fail "client $name: no handshake"
	done
	cot_cont
	for name in "$@"; do
		addr=$(cot_addr "$name")
		_cot_got() {
			got=$(cot_worker_of "$addr")
		}
		cot_poll 5 _cot_got ||
		    fail "client $name ($addr): no 'established' line in" \
		    "takd's log"
		[ "$got" = "$want" ] ||
		    fail "client $name ($addr) landed on worker $got, not $want"
	done
}

# cot_sa_tmpl FILE [TYPE [STALE]]: an SA (position report) template for
# takclient: uid and callsign from --uid and --callsign, time now, stale
# STALE (default @STALE@, now + 5 min; @PAST@ is a minute ago), type TYPE
# (default a-f-G-U-C), the send number in <remarks>seq=N</remarks>.
cot_sa_tmpl() {
	printf '%s\n%s%s%s%s\n' \
	    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' \
	    "<event version=\"2.0\" uid=\"@UID@\" type=\"${2:-a-f-G-U-C}\"" \
	    " how=\"m-g\" time=\"@NOW@\" start=\"@NOW@\" stale=\"${3:-@STALE@}\">" \
	    '<point lat="38.8895" lon="-77.0353" hae="21.4" ce="9.9" le="9999999.0"/>' \
	    '<detail><contact callsign="@CALLSIGN@" endpoint="*:-1:stcp"/><__group name="Cyan" role="Team Member"/><remarks>seq=@SEQ@</remarks></detail></event>' \
	    >"$1"
}

# cot_chat FILE UID TEXT [DEST...]: a GeoChat-like b-t-f template with
# <remarks>TEXT</remarks> to each DEST ('callsign="X"' or 'uid="Y"', in
# <marti>), or to everybody when no DEST is given (no <marti>).
cot_chat() {
	local file=$1 uid=$2 text=$3 dests="" d
	shift 3
	for d in "$@"; do
		dests="$dests<dest $d/>"
	done
	[ -z "$dests" ] || dests="<marti>$dests</marti>"
	printf '<event version="2.0" uid="%s" type="b-t-f" how="h-g-i-g-o" time="@NOW@" start="@NOW@" stale="@STALE@"><point lat="1" lon="2" hae="0" ce="9" le="9"/><detail><remarks>%s</remarks>%s</detail></event>\n' \
	    "$uid" "$text" "$dests" >"$file"
}

# --- cases -----------------------------------------------------------------

# Stop whatever a case left running: each supervisor it started gets SIGTERM
# (the normal way, so that leak reports get written); whatever is still
# there after 5 s, its workers included, gets SIGKILL.
_kill_leftovers() {
	local pids="" sups="" pid
	[ -s "$1/takd.pids" ] || return 0
	for pid in $(cat "$1/takd.pids"); do
		proc_alive "$pid" || continue
		sups="$sups $pid"
		pids="$pids $pid $(proc_children "$pid")"
	done
	[ -n "$sups" ] || return 0
	kill -TERM $sups 2>/dev/null
	_all_gone() {
		local p
		for p in $pids; do
			proc_alive "$p" && return 1
		done
		return 0
	}
	POLL_STEP=0.02 wait_for 5 _all_gone && return 0
	diag "killing processes still there 5 s after SIGTERM:$pids"
	kill -KILL $pids 2>/dev/null
	return 1
}

# Sanitizer reports of every process of the case (takd, takctl, takclient).
_sanitizer_check() {
	local f bad=0
	for f in "$T"/san/* "$T/takd.stderr"; do
		[ -s "$f" ] || continue
		grep -Eq 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$f" ||
		    continue
		diag "sanitizer report in $f:"
		sed -n '1,80s/^/#   /p' "$f"
		bad=1
	done
	return $bad
}

_case_exit() {
	local rc=$?
	trap - EXIT TERM
	_cot_kill_all "$T"
	cot_cont
	_kill_leftovers "$T" || rc=1
	wait 2>/dev/null
	_sanitizer_check || rc=1
	if [ "$rc" -ne 0 ]; then
		diag_file "$T/takd.log" 80
		diag_file "$T/takd.stderr" 40
	fi
	exit "$rc"
}

_case_main() {
	T=$2
	mkdir -m 1777 "$T/san"	# workers write reports there as $TAKD_USER
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$T/san/asan"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$T/san/ubsan"
	trap _case_exit EXIT
	trap 'diag "case timed out after ${CASE_TIMEOUT}s"; exit 124' TERM
	cd "$T" || exit 1
	"$1"
	exit 0
}

_watchdog() {
	local i
	for i in $(seq "$CASE_TIMEOUT"); do
		sleep 1
		kill -0 "$1" 2>/dev/null || exit 0
	done
	# The case's shell runs its TERM trap once its current command ends:
	# end that command too.
	kill -TERM "$1" $(proc_children "$1") 2>/dev/null
	sleep 10
	kill -KILL "$1" 2>/dev/null
}

# run_case NAME [FUNCTION]: prints "ok NAME in S s" or "not ok NAME in S s",
# S the case's wall time in seconds (one decimal), its stop and clean-up
# included: what to look at when make test grows.
run_case() {
	local name=$1 fn=${2:-$1} dir pid wd rc t0 took
	case "$ONLY" in
	"  ") ;;
	*" $name "*) ;;
	*) return 0 ;;
	esac
	t0=$(now_ms)
	dir=$(mktemp -d "$SUITE_DIR/$name.XXXXXX") || exit 1
	chmod 755 "$dir"
	( _case_main "$fn" "$dir" ) &
	pid=$!
	_watchdog "$pid" >/dev/null 2>&1 </dev/null &
	wd=$!
	wait "$pid"
	rc=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	_kill_leftovers "$dir"
	took=$(( ($(now_ms) - t0 + 50) / 100 ))
	took="in $((took / 10)).$((took % 10)) s"
	if [ "$rc" -eq 0 ]; then
		echo "ok $name $took"
		N_PASS=$((N_PASS + 1))
		[ "$KEEP" = 1 ] || rm -rf "$dir"
	else
		[ "$rc" -lt 124 ] || diag "case ended with status $rc" \
		    "(124: timed out after ${CASE_TIMEOUT}s, 137: killed)"
		echo "not ok $name $took"
		N_FAIL=$((N_FAIL + 1))
		if [ -n "$KEEP" ]; then
			diag "kept $dir"
		else
			rm -rf "$dir"
		fi
	fi
}

finish() {
	diag "$SUITE: $N_PASS passed, $N_FAIL failed"
	[ "$N_FAIL" -eq 0 ]
	exit
}
