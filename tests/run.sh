#!/bin/sh
# tests/run.sh BUILD_DIR: run every unit test binary of BUILD_DIR, then every
# tests/integ/test_*.sh against BUILD_DIR/bin/takd, print one line per suite
# and, as the very last line, "N passed, N failed".  Exit 1 if any failed.
# `make test` calls it as `tests/run.sh build/san` after building.
#
# Extra arguments select suites by name (test_tls: the unit test binary
# and/or the integration script of that name) and, after "--", cases inside
# the integration scripts.  UNIT=0, INTEG=0 or FUZZ=0 skips a part (the
# fuzz suites are fuzz_cot_frame, fuzz_cot_parse, fuzz_ipc, fuzz_json,
# fuzz_takp_frame, fuzz_takp, fuzz_basic_auth, fuzz_query, fuzz_accept,
# fuzz_csr_body, fuzz_sign and fuzz_multipart).
set -u

if [ $# -lt 1 ]; then
	echo "usage: tests/run.sh BUILD_DIR [SUITE...] [-- CASE...]" >&2
	exit 2
fi
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" 2>/dev/null && pwd) || {
	echo "tests/run.sh: no build directory $1" >&2
	exit 2
}
shift
SUITES=""
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	SUITES="$SUITES $1"
	shift
done
[ $# -gt 0 ] && shift	# what remains names cases

# Sanitizers: a unit test binary that trips ASan ends with a report and a
# non-zero status, which counts as a failure (abort_on_error=0: no core
# dumps); UBSan stops a process at its first finding.  Leak checking is on
# everywhere, takd's privilege-dropped workers included: LSan works there
# (tests/integ/lib.sh sends every report of a case to a directory the
# workers can write to, and fails the case when one shows up).
# Options already in the environment come last, so they win.
asan="abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1"
ubsan="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="$asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="$ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

export TAKD="$BUILD/bin/takd"
export TAKCTL="$BUILD/bin/takctl"
export TOOLS="$BUILD/tests/tools"
export REPO
TESTDATA=$REPO/tests/data
export TESTDATA

PASSED=0
FAILED=0
START=$(date +%s)
OUT=$(mktemp "${TMPDIR:-/tmp}/takd-run.XXXXXX") || exit 2
# The test PKIs (tests/integ/lib.sh, use_pki), made once for all scripts.
PKI_CACHE=$(mktemp -d "${TMPDIR:-/tmp}/takd-pki.XXXXXX") || exit 2
export PKI_CACHE
trap 'rm -rf "$OUT" "$OUT.rc" "$PKI_CACHE"' EXIT

# Sum the N of every line "PREFIX N test(s)" of cmocka's output.
cmocka_count() {
	sed -n "s/^\[  $1  \] \([0-9][0-9]*\) test(s).*/\1/p" "$OUT" |
	    awk '{ s += $1 } END { print s + 0 }'
}

# Suites named on the command line, or all of them.
selected() {
	[ -z "$SUITES" ] && return 0
	case " $SUITES " in *" $1 "*) return 0 ;; esac
	return 1
}

suite_line() {
	printf '%-6s %-28s %4d passed, %d failed%s\n' "$1" "$2" "$3" "$4" "$5"
	PASSED=$((PASSED + $3))
	FAILED=$((FAILED + $4))
}

if [ "${UNIT:-1}" != 0 ]; then
	for t in "$BUILD"/tests/unit/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		case "$t" in *.o | *.d) continue ;; esac
		name=$(basename "$t")
		selected "$name" || continue
		timeout -k 10 300 "$t" >"$OUT" 2>&1
		rc=$?
		p=$(cmocka_count PASSED)
		f=$(cmocka_count FAILED)
		note=""
		# A crash, a leak report at exit or a timeout counts once; the
		# cases that passed before a crash still count.
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			note=" (exit status $rc)"
			ok=$(grep -c '^\[       OK \] ' "$OUT")
			[ "$ok" -gt "$p" ] && p=$ok
		fi
		suite_line unit "$name" "$p" "$f" "$note"
		if [ "$f" -ne 0 ]; then
			sed 's/^/    /' "$OUT"
		fi
	done
fi

if [ "${INTEG:-1}" != 0 ]; then
	for t in "$REPO"/tests/integ/test_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		selected "$name" || continue
		t0=$(date +%s)
		# Cases print as they go (sed -u: into a pipe or a CI log
		# too); run.sh adds the suite line.
		{
			timeout -k 10 600 bash "$t" "$@" 2>&1
			echo "$?" >"$OUT.rc"
		} | tee "$OUT" | sed -u 's/^/    /'
		rc=$(cat "$OUT.rc")
		p=$(grep -c '^ok ' "$OUT")
		f=$(grep -c '^not ok ' "$OUT")
		# The seconds of each script: what to look at when make
		# test nears its 15 minutes.
		note=" in $(( $(date +%s) - t0 )) s"
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			note="$note (exit status $rc)"
		fi
		suite_line integ "$name" "$p" "$f" "$note"
	done
fi

# Fuzzing (tests/fuzz/, docs/testing.md "Fuzzing"): every regression input
# of tests/fuzz/regress/TARGET/ through its target, one passed or failed
# each, then a short round of each target from its seeds (FUZZ_SECONDS,
# default 20; 0 skips the rounds).  The fuzzers are clang builds in FUZZ_DIR
# (default build/fuzz; `make fuzzers`, which `make test` runs).  FUZZ=0
# skips all of it.
# The timed rounds run FUZZ_JOBS at a time (default: one per core): they
# are independent, and one at a time they were a third of make test.
fuzz_round() {
	local corpus

	corpus=$(mktemp -d "${TMPDIR:-/tmp}/takd-fuzz.XXXXXX") || {
		echo 2 >"$2.rc"
		return
	}
	timeout -k 10 $((FUZZ_SECS + 300)) "$REPO/scripts/fuzz.sh" \
	    -d "$FUZZ_DIR" -s "$FUZZ_SECS" -c "$corpus" "$1" >"$2" 2>&1
	echo "$?" >"$2.rc"
	rm -rf "$corpus"
}

# fuzz_regress T BIN INPUT...: the regression inputs of target T through
# BIN; p and f count them.  All of them go through one process first
# (libFuzzer runs every file it is given, each once): one process each cost
# 0.04 to 0.15 s an input by the machine's load, 2.5 to 10 s of make test
# for the 69 inputs, against 0.3 s.  Only when that fails do they
# run one process each, so that every failing input is named and counted.
fuzz_regress() {
	local t=$1 bin=$2 input

	shift 2
	p=0
	f=0
	[ -f "$1" ] || return 0
	if timeout -k 10 300 "$bin" -timeout=10 -rss_limit_mb=2048 "$@" \
	    >"$OUT" 2>&1; then
		p=$#
		return 0
	fi
	for input in "$@"; do
		if timeout -k 10 120 "$bin" -timeout=10 \
		    -rss_limit_mb=2048 "$input" >"$OUT" 2>&1; then
			p=$((p + 1))
			continue
		fi
		f=$((f + 1))
		echo "    $t regression input $(basename "$input") failed:"
		grep -v '^\(INFO:\|\*\*\*\)' "$OUT" | head -40 |
		    sed 's/^/      /'
	done
}

if [ "${FUZZ:-1}" != 0 ]; then
	FUZZ_DIR=${FUZZ_DIR:-$REPO/build/fuzz}
	FUZZ_SECS=${FUZZ_SECONDS:-20}
	FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
	rounds=""
	for t in cot_frame cot_parse ipc json takp_frame takp basic_auth \
	    query accept csr_body sign multipart; do
		name=fuzz_$t
		selected "$name" || continue
		bin=$FUZZ_DIR/$name
		if [ ! -x "$bin" ]; then
			suite_line fuzz "$name" 0 1 " (no $bin: make fuzzers)"
			continue
		fi
		fuzz_regress "$t" "$bin" "$REPO/tests/fuzz/regress/$t"/*
		suite_line fuzz "$name/regress" "$p" "$f" ""
		rounds="$rounds $t"
	done
	if [ "$FUZZ_SECS" != 0 ]; then
		running=0
		for t in $rounds; do
			fuzz_round "$t" "$OUT.round.$t" &
			running=$((running + 1))
			# Every round lasts FUZZ_SECS: batches lose nothing.
			if [ "$running" -ge "$FUZZ_JOBS" ]; then
				wait
				running=0
			fi
		done
		wait
		for t in $rounds; do
			rc=$(cat "$OUT.round.$t.rc")
			sed 's/^/    /' "$OUT.round.$t"
			rm -f "$OUT.round.$t" "$OUT.round.$t.rc"
			if [ "$rc" -eq 0 ]; then
				suite_line fuzz "fuzz_$t/${FUZZ_SECS}s" 1 0 ""
			else
				suite_line fuzz "fuzz_$t/${FUZZ_SECS}s" 0 1 \
				    " (exit status $rc)"
			fi
		done
	fi
fi

echo "# $(( $(date +%s) - START )) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
