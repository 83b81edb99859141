#!/usr/bin/env bash
# TAK protocol v1 against an implementation takd's code did not write:
# protoc compiles proto/*.proto for Python, and Debian's python3-protobuf
# (/usr/bin/python3: the python3 first on PATH lacks Debian's packages)
# writes messages for takd's codec (tests/tools/takp_conv) to read and
# reads what it writes from every sample (tests/integ/takp/takp_check.py).
# No takd is started.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CONV=$TOOLS/takp_conv

# protoc's Python classes of our .proto files, into $T/py.
py_protos() {
	command -v protoc >/dev/null ||
	    fail "protoc is needed: scripts/deps.sh test installs it"
	"$PY" -c 'import google.protobuf' 2>"$T/py.err" || {
		diag_file "$T/py.err"
		fail "python3-protobuf is needed: scripts/deps.sh test"
	}
	[ -x "$CONV" ] || fail "no $CONV: make tools"
	mkdir -p "$T/py"
	protoc --proto_path="$REPO/proto" --python_out="$T/py" \
	    "$REPO"/proto/*.proto 2>"$T/protoc.err" || {
		diag_file "$T/protoc.err"
		fail "protoc --python_out failed"
	}
}

check() {
	py_protos
	PYTHONPATH=$T/py "$PY" "$REPO/tests/integ/takp/takp_check.py" \
	    "$CONV" "$@" >"$T/check.out" 2>&1
	local rc=$?
	sed 's/^/# /' "$T/check.out"
	[ "$rc" -eq 0 ] || fail "takp_check.py $1 exited $rc"
}

# Python writes, takd reads: decode into the view, and to XML.
python_to_takd() {
	check to-takd
}

# takd writes every sample's frame, Python reads it.
takd_to_python() {
	check from-takd "$TESTDATA/cot"
}

run_case python_to_takd
run_case takd_to_python
finish
