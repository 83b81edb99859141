#!/usr/bin/env bash
# takctl packages list / rm / gc on a data package store ([api]
# packages_dir), without a running takd: packages are stored by
# tests/tools/pkgput through shared/pkgstore.c as the api process would,
# as the service user; takctl (root) lists them in a table and as JSON
# (parsed by Python), removes one, collects what is left over, and never
# leaves a file the service user cannot open.
. "$(dirname "$0")/lib.sh"

PKGPUT=$TOOLS/pkgput
PY=/usr/bin/python3

# setup: a config, and an empty packages_dir of the service user's (what
# the api process makes when it starts); $P is its path.
setup() {
	write_config "$T/takd.ini"
	P=$T/state/packages
	mkdir -m 755 "$T/state"
	mkdir -m 700 "$P"
	[ "$(id -u)" -ne 0 ] || chown "$TAKD_USER:" "$P"
}

# as_service CMD...: CMD as the service user (as ourselves when not root).
as_service() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid "$TAKD_USER" --regid "$(id -g "$TAKD_USER")" \
		    --clear-groups "$@"
	else
		"$@"
	fi
}

# put FILE NAME USER GROUPS [public] [MS]: store FILE; sets H to its hash.
put() {
	local out
	chmod 644 "$1"
	out=$(as_service "$PKGPUT" "$P" "$@") || fail "pkgput $*: $out"
	H=${out%% *}
}

ctl() {
	"$TAKCTL" -c "$CFG" "$@"
}

# ctl_json ARGS...: takctl exits 0; its stdout alone in $T/out (the JSON),
# its stderr in $T/err.
ctl_json() {
	"$TAKCTL" -c "$CFG" "$@" >"$T/out" 2>"$T/err" || {
		diag_file "$T/err" 20
		fail "takctl $*: exit status $?"
	}
}

# jq_py EXPR < JSON: a Python expression over the parsed document d.
jq_py() {
	"$PY" -c 'import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

# Root-owned entries in the store (none may be there).
root_files() {
	find "$P" -user 0 | wc -l
}

# list, then rm; JSON and table; the same bytes twice are one package.
list_rm() {
	local h1 h2 h3
	setup
	printf 'route one' >"$T/a"
	printf 'overlay two, larger' >"$T/b"
	printf 'photo three' >"$T/c"
	put "$T/b" overlay.kml bob Red public 2000
	h2=$H
	put "$T/a" route.zip alice Blue "" 1000
	h1=$H
	put "$T/c" photo.jpg alice Blue "" 3000
	h3=$H
	# The same bytes by another user: nothing new, groups joined.
	put "$T/a" "copy of route.zip" carol HQ
	expect_eq "$H" "$h1" "the hash of the same bytes"
	expect_eq "$(as_service "$PKGPUT" "$P" "$T/a" again dave HQ |
	    cut -d' ' -f2)" existed "a second upload"
	expect_eq "$(find "$P/objects" -type f | wc -l)" 3 "files stored"

	ctl_json packages list --json
	expect_eq "$(jq_py 'd["count"]' <"$T/out")" 3 "count"
	expect_eq "$(jq_py 'd["bytes"]' <"$T/out")" $((9 + 19 + 11)) "bytes"
	expect_eq "$(jq_py 'd["quota"]' <"$T/out")" $((10 << 30)) "quota"
	expect_eq "$(jq_py '" ".join(p["name"] for p in d["packages"])' \
	    <"$T/out")" "route.zip overlay.kml photo.jpg" \
	    "names, oldest first"
	expect_eq "$(jq_py 'd["packages"][0]["groups"]' <"$T/out")" \
	    "Blue,HQ" "groups of the package uploaded twice"
	expect_eq "$(jq_py 'd["packages"][0]["user"]' <"$T/out")" alice \
	    "the first uploader keeps it"
	expect_eq "$(jq_py 'd["packages"][1]["tool"]' <"$T/out")" public \
	    "tool"
	expect_eq "$(jq_py 'd["packages"][2]["hash"]' <"$T/out")" "$h3" "hash"
	expect_eq "$(jq_py 'd["packages"][0]["submitted"]' <"$T/out")" \
	    1970-01-01T00:00:01Z "submitted"
	expect_rc 0 ctl packages list
	expect_grep "^HASH +NAME +BYTES +USER +GROUPS +TOOL +SUBMITTED" "$T/out"
	expect_grep "^$h2 overlay.kml +19 +bob +Red +public " "$T/out"
	expect_grep '^3 packages$' "$T/out"

	expect_rc 0 ctl packages rm "$(echo "$h2" | tr a-f A-F)"
	expect_grep "^$h2 removed \(\"overlay.kml\", 19 bytes\)$" "$T/out"
	[ ! -e "$P/objects/${h2:0:2}/$h2" ] || fail "the file is still there"
	ctl_json packages list --json
	expect_eq "$(jq_py 'd["count"], d["bytes"]' <"$T/out")" "(2, 20)" \
	    "count and bytes after rm"
	expect_rc 1 ctl packages rm "$h2"
	expect_grep "no such package" "$T/out"
	expect_rc 64 ctl packages rm ../../etc/passwd
	expect_grep "is not a SHA-256" "$T/out"
	expect_rc 64 ctl packages frobnicate
	expect_eq "$(root_files)" 0 "root-owned files in the store"
}

# gc: a file without a record, a record without a file, a stale temp
# file, a link planted in objects/; a fresh temp file stays.
gc() {
	local keep lost orphan
	setup
	printf 'kept' >"$T/k"
	printf 'lost' >"$T/l"
	printf 'orphan' >"$T/o"
	put "$T/k" kept.txt alice Blue
	keep=$H
	put "$T/l" lost.txt bob Blue
	lost=$H
	put "$T/o" orphan.txt bob Blue
	orphan=$H
	# The orphan loses its record behind the store's back (a crash
	# between the rename and the commit leaves the same).
	cp -p "$P/objects/${orphan:0:2}/$orphan" "$T/orphan.file"
	expect_rc 0 ctl packages rm "$orphan"
	as_service cp -p "$T/orphan.file" "$P/objects/${orphan:0:2}/$orphan"
	rm "$P/objects/${lost:0:2}/$lost"
	as_service touch -d '2 days ago' "$P/tmp/up.stale"
	as_service touch "$P/tmp/up.fresh"
	as_service ln -s /etc/passwd "$P/objects/${keep:0:2}/planted"

	ctl_json packages gc --json
	expect_eq "$(jq_py '(d["orphan_files"], d["orphan_bytes"],
	    d["orphan_records"], d["stale_tmp"], d["foreign"])' <"$T/out")" \
	    "(1, 6, 1, 1, 1)" "gc report"
	[ ! -e "$P/objects/${orphan:0:2}/$orphan" ] || fail "orphan file kept"
	[ ! -e "$P/tmp/up.stale" ] || fail "stale temp file kept"
	[ -e "$P/tmp/up.fresh" ] || fail "fresh temp file removed"
	[ ! -L "$P/objects/${keep:0:2}/planted" ] || fail "link kept"
	[ -s /etc/passwd ] || fail "the link's target was touched"
	ctl_json packages list --json
	expect_eq "$(jq_py '[p["name"] for p in d["packages"]], d["bytes"]' \
	    <"$T/out")" "(['kept.txt'], 4)" "what is left"
	expect_rc 0 ctl packages gc
	expect_grep '^removed: 0 files without a record \(0 bytes\), 0 records without a file, 0 stale temp files, 0 foreign entries$' \
	    "$T/out"
}

# takctl runs as root, the store is the service user's: whatever takctl
# does there (LMDB makes lock.mdb on any open), the service user can still
# open it afterwards; a store that does not exist is not created.
ownership() {
	local h
	[ "$(id -u)" -eq 0 ] || { diag "not root: nothing to check"; return 0; }
	setup
	rmdir "$P"
	expect_rc 1 ctl packages list
	expect_grep "no package store yet" "$T/out"
	expect_rc 1 ctl packages gc
	[ ! -e "$P" ] || fail "takctl created the store"

	mkdir -m 700 "$P"
	chown "$TAKD_USER:" "$P"
	printf 'bytes' >"$T/f"
	put "$T/f" f.txt alice Blue
	h=$H
	# A fresh lock file, as after a reboot that cleared it.
	rm "$P/lock.mdb"
	expect_rc 0 ctl packages list
	expect_rc 0 ctl packages gc
	expect_rc 0 ctl packages rm "$h"
	expect_eq "$(root_files)" 0 "root-owned files in the store"
	expect_eq "$(stat -c %U "$P/lock.mdb")" "$TAKD_USER" "lock.mdb owner"
	# The api process (the service user) still uses it.
	put "$T/f" f.txt alice Blue
	ctl_json packages list --json
	expect_eq "$(jq_py 'd["count"]' <"$T/out")" 1 "count"

	# A store another user may write to is refused, not used.
	chmod 770 "$P"
	expect_rc 1 ctl packages list
	expect_grep "writable by others" "$T/out"
}

run_case list_rm
run_case gc
run_case ownership
finish
