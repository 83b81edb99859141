#!/bin/sh
# scripts/fuzz.sh [-d DIR] [-s SECONDS] [-c CORPUS] [TARGET...]
#     Fuzz each target (cot_frame, cot_parse, ipc, json, takp_frame,
#     takp, basic_auth, query, accept, csr_body, sign, multipart; default
#     all) for SECONDS
#     (default $FUZZ_SECONDS, else 600; 0: until a finding or Ctrl-C),
#     one after the other.
# scripts/fuzz.sh -r [-d DIR] [TARGET...]
#     Run every regression input of tests/fuzz/regress/TARGET/ once.
#
# DIR (default build/fuzz) holds the binaries (`make fuzzers`) and, made
# or kept here:
#   DIR/seeds/T      seed corpus, made afresh from $TESTDATA/cot (the CoT
#                    samples, hostile ones included), by DIR/ipc_seeds, or
#                    from tests/fuzz/seeds/T (takp_frame: with prefixes)
#   DIR/corpus/T     working corpus, grows from run to run (-c: another
#                    directory instead, e.g. a temporary one)
#   DIR/findings/T   inputs that crashed, leaked, hung or ran out of memory
#   DIR/logs/T.log   libFuzzer's output of the latest run
# Exit status: 0 nothing found, 1 a finding (or a regression input failed),
# 2 usage or setup error.  `make fuzz` runs this; tests/run.sh runs short
# rounds and the regression inputs.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=$REPO/build/fuzz
SECS=${FUZZ_SECONDS:-600}
CORPUS=""
REGRESS=0
usage() {
	echo "usage: scripts/fuzz.sh [-d DIR] [-s SECONDS] [-c CORPUS] [-r]" \
	    "[TARGET...]" >&2
	exit 2
}
while getopts d:s:c:r opt; do
	case $opt in
	d) DIR=$OPTARG ;;
	s) SECS=$OPTARG ;;
	c) CORPUS=$OPTARG ;;
	r) REGRESS=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
case $SECS in '' | *[!0-9]*) usage ;; esac
mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd) || exit 2
TESTDATA=${TESTDATA:-$REPO/tests/data}
TARGETS=${*:-cot_frame cot_parse ipc json takp_frame takp basic_auth query accept csr_body sign multipart}

# Per target: the longest input tried (the framer needs room for more than
# one COT_FRAME_FEED_MAX feed, the parser for the 35 KB nesting sample).
max_len() {
	case $1 in
	cot_frame) echo 40000 ;;
	cot_parse) echo 40000 ;;
	takp) echo 40000 ;;
	ipc) echo 8192 ;;
	json) echo 4096 ;;
	takp_frame) echo 40000 ;;
	# The enrollment port's caps, and a little past them.
	basic_auth) echo 1100 ;;
	query) echo 2100 ;;
	accept) echo 2100 ;;
	csr_body) echo 16500 ;;
	sign) echo 20000 ;;	# past CSR_CHECK_INPUT_MAX, a request's 8 KiB CSR
	# Past a part's header cap (4 KiB) and the preamble's.
	multipart) echo 12000 ;;
	esac
}

dict() {
	case $1 in
	cot_frame | cot_parse | takp) echo "-dict=$REPO/tests/fuzz/cot.dict" ;;
	json) echo "-dict=$REPO/tests/fuzz/json.dict" ;;
	takp_frame) echo "-dict=$REPO/tests/fuzz/takp.dict" ;;
	esac
}

# The CoT samples, one file a line.
samples() {
	find "$TESTDATA/cot" -type f ! -name README.md | sort
}

# fuzz_cot_frame's first two bytes pick the event cap and the cutting
# (tests/fuzz/fuzz_cot_frame.c): byte-a-time with a 64 KiB cap, 1..64 byte
# feeds with the largest cap, 1..1024 with the smallest, two feeds split in
# the middle with 4096.
FRAME_PREFIXES='\061\132 \073\132 \004\132 \056\200'

# fuzz_takp_frame's first two bytes (tests/fuzz/fuzz_takp_frame.c):
# byte-a-time with a 64 KiB cap, 1..64 byte feeds with the largest cap,
# 1..1024 with the smallest, two feeds split in the middle with 16 KiB and
# the buffer trimmed after every drain.
TAKP_PREFIXES='\061\132 \073\132 \004\132 \156\200'

make_seeds() {
	s=$DIR/seeds/$1
	rm -rf "$s"
	mkdir -p "$s" || return 1
	case $1 in
	cot_frame)
		[ -n "$(samples)" ] || {
			echo "fuzz.sh: no CoT samples in $TESTDATA/cot" >&2
			return 1
		}
		samples | while read -r f; do
			n=0
			for p in $FRAME_PREFIXES; do
				n=$((n + 1))
				{ printf "$p"; cat "$f"; } \
				    >"$s/$(basename "$f").$n"
			done
		done
		;;
	cot_parse)
		[ -n "$(samples)" ] || {
			echo "fuzz.sh: no CoT samples in $TESTDATA/cot" >&2
			return 1
		}
		samples | while read -r f; do
			cp "$f" "$s/"
		done
		;;
	takp)
		# XML events (the samples) and v1 payloads (theirs, made by
		# takp_from_xml, in tests/fuzz/seeds/takp).
		samples | while read -r f; do
			cp "$f" "$s/"
		done
		cp "$REPO"/tests/fuzz/seeds/takp/* "$s/" || return 1
		;;
	ipc)
		"$DIR/ipc_seeds" "$s" || return 1
		;;
	json)
		# takd's status and a FreeTAKServer CRL in its JSON form.
		cp "$REPO"/tests/fuzz/seeds/json/* "$s/" || return 1
		;;
	basic_auth | query | accept | csr_body | multipart)
		# What clients send the enrollment port (docs/enrollment.md),
		# and ATAK's upload body (docs/datapackages.md).
		cp "$REPO"/tests/fuzz/seeds/$1/* "$s/" || return 1
		;;
	sign)
		# CSRs made by openssl req (DER, base64, PEM asking for CA
		# powers) and sign request/reply payloads around one.
		cp "$REPO"/tests/fuzz/seeds/sign/* "$s/" || return 1
		;;
	takp_frame)
		# v1 streams of TakMessages made by Python's protobuf
		# (docs/testing.md), each behind every prefix.
		for f in "$REPO"/tests/fuzz/seeds/takp_frame/*; do
			[ -f "$f" ] || return 1
			n=0
			for p in $TAKP_PREFIXES; do
				n=$((n + 1))
				{ printf "$p"; cat "$f"; } \
				    >"$s/$(basename "$f").$n"
			done
		done
		;;
	esac
}

binary() {
	b=$DIR/fuzz_$1
	if [ ! -x "$b" ]; then
		echo "fuzz.sh: no $b (make fuzzers)" >&2
		return 1
	fi
	echo "$b"
}

# Every regression input of a target, once each.
regress() {
	b=$(binary "$1") || return 2
	r=$REPO/tests/fuzz/regress/$1
	set -- "$r"/*
	[ -f "$1" ] || return 0
	"$b" -timeout=10 -rss_limit_mb=2048 "$@" \
	    >"$DIR/logs/regress.log" 2>&1 && return 0
	sed 's/^/    /' "$DIR/logs/regress.log" | tail -60
	return 1
}

# libFuzzer's final figures, on one line.
summary() {
	awk '
	/^stat::number_of_executed_units:/ { runs = $2 }
	/^stat::average_exec_per_sec:/ { rate = $2 }
	/^stat::peak_rss_mb:/ { rss = $2 }
	/^#[0-9]+[ \t]+(DONE|pulse|NEW|REDUCE|INITED)/ {
		cov = ""
		for (i = 1; i < NF; i++) {
			if ($i == "cov:") cov = cov " cov " $(i + 1)
			if ($i == "ft:") cov = cov ", ft " $(i + 1)
			if ($i == "corp:") cov = cov ", corpus " $(i + 1)
		}
		if (cov != "") last = cov
	}
	END {
		printf "%s runs (%s/s),%s, peak RSS %s MB\n", runs + 0,
		    rate + 0, last, rss + 0
	}' "$1"
}

fuzz_one() {
	t=$1
	b=$(binary "$t") || return 2
	make_seeds "$t" || return 2
	c=${CORPUS:-$DIR/corpus/$t}
	f=$DIR/findings/$t
	log=$DIR/logs/$t.log
	mkdir -p "$c" "$f" || return 2
	extra=""
	r=$REPO/tests/fuzz/regress/$t
	[ -d "$r" ] && extra=$r
	start=$(date +%s)
	# -timeout: one input running 10 s is a finding (a hang); the
	# working corpus comes first, so new inputs are written there.
	"$b" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$(max_len "$t")" $(dict "$t") -print_final_stats=1 \
	    -artifact_prefix="$f/" "$c" "$DIR/seeds/$t" $extra >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$t: $took s, $(summary "$log"), no findings"
		return 0
	fi
	echo "fuzz_$t: FINDING after $took s (exit status $rc), log $log"
	sed -n 's/^.*Test unit written to \(.*\)$/    input: \1/p' "$log"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_|.*runtime error)' "$log" |
	    head -20 | sed 's/^/    /'
	return 1
}

mkdir -p "$DIR/logs" || exit 2
status=0
for t in $TARGETS; do
	case $t in
	cot_frame | cot_parse | ipc | json | takp_frame | takp | sign) ;;
	basic_auth | query | accept | csr_body | multipart) ;;
	*) echo "fuzz.sh: unknown target $t" >&2; exit 2 ;;
	esac
	if [ "$REGRESS" = 1 ]; then
		regress "$t"
	else
		fuzz_one "$t"
	fi
	rc=$?
	[ "$rc" -gt "$status" ] && status=$rc
done
exit "$status"
