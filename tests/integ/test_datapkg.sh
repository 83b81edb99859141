#!/usr/bin/env bash
# Data packages over HTTPS (docs/datapackages.md, the HTTP half): the
# api process on 8443 driven by clients written without takd's code (curl
# with the client certificate; Python's ssl + http.client,
# api/dp_client.py) and the CoT session of tests/tools/takclient.
#
#   share      alice (Blue) uploads as ATAK does (multipart, hash=) and
#              tells bob (Blue) with a b-f-t-r over the streaming session;
#              bob downloads with his own certificate: the same bytes.
#              bob uploads as iTAK does (raw body): the official server's
#              JSON.  search, missionquery 200/404; carol (Red) gets 404
#              and does not see it in search until alice makes it public,
#              and again once private; frank (Blue in his IN half only)
#              neither; an admin (dave) sees all and deletes bob's;
#              bob may not change or delete alice's package (403), alice
#              may; a revoked certificate gets nothing; counters in
#              takctl status and /metrics
#   refusals   hash mismatch, over max_upload (with and without waiting
#              for 100 Continue), over user_quota (413) and over quota
#              (507), a path for a file name (the
#              query's and the part's), invalid multipart, a stalled
#              upload (closed at [api] timeout, its temp file removed
#              while it stalled and after), an upload broken off, two
#              uploads of the same file at once (both 200, one copy);
#              after each refusal nothing is left in tmp/ or objects/;
#              a temp file left by a stop is removed at the next start
#   announce   b-f-t-r over the streaming session whose senderUrl points
#              at this server: for a hash the store does not hold (and
#              for a URL of ours that names no package) a log line with
#              the sender's uid and subject, counted; for a stored hash
#              (by host name or loopback address, either case) and for
#              another server's URL nothing; every one delivered
#   large      200 MiB uploaded (max_upload raised) and downloaded back:
#              the api process's peak RSS grows by at most 8 MiB
. "$(dirname "$0")/lib.sh"

DP=$REPO/tests/integ/api/dp_client.py
PY=/usr/bin/python3

setup() {
	use_pki "$T/pki"
	write_config "$T/takd.ini" api.enabled=yes api.listen=127.0.0.1:0 \
	    api.enroll_listen= metrics.listen=127.0.0.1:0 \
	    pki.server_host=localhost "$@"
}

started() {
	start_takd
	APORT=$(listener_port https)
	MPORT=$(listener_port metrics)
	[ -n "$APORT" ] && [ -n "$MPORT" ] ||
	    fail "api listeners missing from status"
	API_PID=$(sget api.pid)
	proc_alive "$API_PID" || fail "no api process"
	PKG=$T/state/packages
}

# acurl NAME OUT PATH [CURL ARGS...]: a request to 8443 as client NAME of
# $T/pki; head in OUT.head, body in OUT; curl's exit status.
acurl() {
	local who=$1 out=$2 path=$3 d=$T/pki/clients
	shift 3
	curl -sS --max-time 20 --cacert "$T/pki/ca.pem" \
	    --resolve "localhost:$APORT:127.0.0.1" --cert "$d/$who.pem" \
	    --key "$d/$who.key" --pass test -D "$T/$out.head" -o "$T/$out" \
	    "$@" "https://localhost:$APORT$path" 2>"$T/$out.err"
}

code() {
	http_status "$T/$1.head"
}

# expect_code OUT WANT WHAT
expect_code() {
	[ "$(code "$1")" = "$2" ] && return 0
	diag_file "$T/$1.head" 5
	diag_file "$T/$1" 5
	fail "$3: status $(code "$1"), expected $2"
}

# dp OP NAME ARGS...: dp_client.py OP as client NAME.
dp() {
	local op=$1 who=$2
	shift 2
	"$PY" "$DP" "$op" "$APORT" "$T/pki/ca.pem" \
	    "$T/pki/clients/$who.pem" "$T/pki/clients/$who.key" "$@"
}

json() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$T/$1" "$2" || fail "$1: not the JSON expected"
}

# upload_atak NAME OUT FILE [QUERY]: curl -F, as ATAK posts a package.
upload_atak() {
	local who=$1 out=$2 f=$3 q=${4:-}
	acurl "$who" "$out" "/Marti/sync/missionupload?$q" \
	    -F "assetfile=@$f;filename=$(basename "$f");type=application/x-zip-compressed"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# left: files in tmp/ and in objects/ (what a refusal must not change).
left() {
	echo "tmp=$(find "$PKG/tmp" -type f | wc -l)" \
	    "objects=$(find "$PKG/objects" -type f | wc -l)"
}

counter() {
	takd_status
	sget "api.api.$1"
}

users() {
	local u
	for u in "$@"; do
		"$TAKCTL" -c "$CFG" user add ${u%%:*} --groups ${u#*:} \
		    --no-password >>"$T/takctl.log" 2>&1 ||
		    { diag_file "$T/takctl.log"; fail "takctl user add $u"; }
	done
}

# --- cases --------------------------------------------------------------------

share() {
	local h u url hi
	setup
	users alice:Blue bob:Blue carol:Red
	# dave: an admin (of Red); frank: Blue in his IN half only.
	subj_cert dave "/CN=dave"
	subj_cert frank "/CN=frank"
	"$TAKCTL" -c "$CFG" user add dave --groups Red --role admin \
	    --no-password >>"$T/takctl.log" 2>&1 &&
	"$TAKCTL" -c "$CFG" user add frank --in Blue --no-password \
	    >>"$T/takctl.log" 2>&1 ||
	    { diag_file "$T/takctl.log"; fail "takctl user add dave, frank"; }
	subj_cert eve "/CN=eve"
	make_crl "$T/pki" "$T/pki/crl.pem" eve
	started
	cot_sa_tmpl "$T/sa.tmpl"
	# bob's ATAK: its position, then the file transfer request it waits for.
	cot_bg bob $(client_args bob) --uid B-1 --callsign BOB \
	    --send "$T/sa.tmpl" --expect-type b-f-t-r --wait 30 --print
	wait_sum 10 sessions 1

	head -c 300000 /dev/urandom >"$T/pkg.zip"
	h=$(sha "$T/pkg.zip")
	upload_atak alice up "$T/pkg.zip" \
	    "hash=$h&filename=pkg.zip&creatorUid=ANDROID-A"
	expect_code up 200 "ATAK upload"
	url=$(cat "$T/up")
	expect_eq "$url" "https://localhost:$APORT/Marti/sync/content?hash=$h" \
	    "the URL ATAK gets"
	grep -qi '^content-type: text/plain' "$T/up.head" ||
	    fail "the URL is not text/plain"
	expect_eq "$(left)" "tmp=0 objects=1" "stored"

	# alice's ATAK tells bob over the streaming session.
	printf '<event version="2.0" uid="FT-1" type="b-f-t-r" how="h-e" time="@NOW@" start="@NOW@" stale="@STALE@"><point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/><detail><fileshare filename="pkg.zip" senderUrl="%s" sizeInBytes="300000" sha256="%s" senderUid="A-1" senderCallsign="ALICE" name="pkg"/><ackrequest uid="AR-1" ackrequested="true" tag="pkg"/><marti><dest callsign="BOB"/></marti></detail></event>\n' \
	    "$url" "$h" >"$T/bftr.xml"
	expect_client 0 $(client_args alice) --uid A-1 --callsign ALICE \
	    --send "$T/sa.tmpl" --send "$T/bftr.xml" --hold 1
	cot_wait bob 0 30 || fail "bob got no b-f-t-r"
	u=$(printed bob | grep 'b-f-t-r' | sed -n 's/.*senderUrl="\([^"]*\)".*/\1/p')
	expect_eq "$u" "$url" "senderUrl bob got"
	# bob downloads it with his own certificate: the same bytes.
	expect_eq "$(dp get bob "${u#https://localhost:$APORT}" "$T/got")" \
	    "200 300000 $h" "bob's download"
	cmp -s "$T/pkg.zip" "$T/got" || fail "bob got other bytes"

	# iTAK's upload: the raw body, the official server's JSON.
	head -c 5000 /dev/urandom >"$T/photo.jpg"
	hi=$(sha "$T/photo.jpg")
	acurl bob it "/Marti/sync/upload?name=photo.jpg&keywords=a,b&creatorUid=IOS-B" \
	    -H 'Content-Type: image/jpeg' --data-binary "@$T/photo.jpg"
	expect_code it 200 "iTAK upload"
	expect_eq "$(json it '(d["Hash"], d["UID"], d["Name"], d["Size"], d["MIMEType"], d["Keywords"], d["SubmissionUser"], d["CreatorUid"])')" \
	    "('$hi', '$hi', 'photo.jpg', '5000', 'image/jpeg', ['a', 'b'], 'bob', 'IOS-B')" \
	    "iTAK's answer"

	# search and missionquery.
	acurl bob s "/Marti/sync/search?keywords=missionpackage"
	expect_code s 200 search
	expect_eq "$(json s '(d["resultCount"], [(r["Hash"], r["Name"], r["SubmissionUser"], r["Tool"]) for r in d["results"]])')" \
	    "(1, [('$h', 'pkg.zip', 'alice', 'private')])" "bob's search"
	acurl bob s2 "/Marti/sync/search"
	expect_eq "$(json s2 'd["resultCount"]')" 2 "bob's search of all"
	acurl bob q "/Marti/sync/missionquery?hash=$h"
	expect_code q 200 "missionquery"
	expect_eq "$(cat "$T/q")" "$url" "missionquery's URL"
	acurl bob q "/Marti/sync/missionquery?hash=$(echo "$h" | tr 0-9a-f a-f0-9)"
	expect_code q 404 "missionquery of another hash"

	# carol (Red) does not see Blue's package: 404, not in search.
	acurl carol c "/Marti/sync/content?hash=$h"
	expect_code c 404 "carol's download"
	acurl carol q "/Marti/sync/missionquery?hash=$h"
	expect_code q 404 "carol's missionquery"
	acurl carol s "/Marti/sync/search"
	expect_eq "$(json s 'd["resultCount"]')" 0 "carol's search"
	# Only the uploader changes the flag: bob sees it but may not.
	acurl bob t "/Marti/api/sync/metadata/$h/tool" -X PUT \
	    --data-binary public
	expect_code t 403 "bob making alice's package public"
	acurl carol t "/Marti/api/sync/metadata/$h/tool" -X PUT \
	    --data-binary public
	expect_code t 404 "carol making it public"
	acurl alice t "/Marti/api/sync/metadata/$h/tool" -X PUT \
	    --data-binary public
	expect_code t 200 "alice making it public"
	acurl carol s "/Marti/sync/search?tool=public"
	expect_eq "$(json s '[r["Hash"] for r in d["results"]]')" "['$h']" \
	    "carol's search of public packages"
	expect_eq "$(dp get carol "/Marti/sync/content?hash=$h" "$T/got2")" \
	    "200 300000 $h" "carol's download of a public package"
	acurl alice t "/Marti/api/sync/metadata/$h/tool" -X PUT \
	    --data-binary private
	expect_code t 200 "alice making it private"
	acurl carol c "/Marti/sync/content?hash=$h"
	expect_code c 404 "carol's download once private"
	# What Blue shares reaches Blue's OUT half: not frank (IN only).
	acurl frank c "/Marti/sync/content?hash=$h"
	expect_code c 404 "frank's download (Blue in his IN half only)"
	acurl frank s "/Marti/sync/search"
	expect_eq "$(json s 'd["resultCount"]')" 0 "frank's search"
	# An admin sees every package, private or not.
	acurl dave s "/Marti/sync/search"
	expect_eq "$(json s 'd["resultCount"]')" 2 "an admin's search"

	# A revoked certificate gets nothing, not even a handshake.
	! acurl eve r "/Marti/sync/content?hash=$h" ||
	    fail "a revoked certificate was served"
	! acurl eve r "/Marti/sync/search" || fail "revoked: search served"

	# Delete: not bob's, alice's.
	acurl bob d "/Marti/sync/delete?hash=$h" -X DELETE
	expect_code d 403 "bob deleting alice's package"
	acurl alice d "/Marti/sync/delete?hash=$h" -X DELETE
	expect_code d 200 "alice deleting her package"
	acurl bob c "/Marti/sync/content?hash=$h"
	expect_code c 404 "a deleted package"
	expect_eq "$(left)" "tmp=0 objects=1" "the file went with it"

	expect_eq "$(counter pkg_uploads)" 2 "api.pkg_uploads"
	expect_eq "$(counter pkg_downloads)" 2 "api.pkg_downloads"
	expect_eq "$(counter pkg_bytes_out)" 600000 "api.pkg_bytes_out"
	expect_eq "$(counter pkg_refused_forbidden)" 2 "forbidden"
	expect_eq "$(counter pkg_store_count)" 1 "api.pkg_store_count"
	printf 'GET /metrics HTTP/1.0\r\n\r\n' | http_send "$MPORT" "$T/m"
	grep -q '^takd_api_packages_uploads_total 2$' "$T/m" ||
	    fail "no takd_api_packages_uploads_total 2 in /metrics"
	grep -q '^takd_api_packages_refused_total{reason="not_found"} [1-9]' \
	    "$T/m" || fail "no refusals by reason in /metrics"
	log_has 'datapkg: .* user "bob" .*403: only its uploader' ||
	    fail "no log line for bob's refusal"
	# An admin deletes another user's package.
	acurl dave d "/Marti/sync/delete?hash=$hi" -X DELETE
	expect_code d 200 "an admin deleting bob's package"
	expect_eq "$(left)" "tmp=0 objects=0" "bob's file went with it"
}

refusals() {
	local h r
	setup api.max_upload=1M api.quota=2M api.user_quota=1M api.timeout=2s
	users alice:Blue bob:Blue carol:Blue
	started
	head -c 700000 /dev/urandom >"$T/a.zip"
	h=$(sha "$T/a.zip")

	# A hash that is not the body's.
	upload_atak alice r "$T/a.zip" \
	    "hash=$(echo "$h" | tr 0-9a-f a-f0-9)&filename=a.zip"
	expect_code r 400 "hash mismatch"
	grep -q 'hash mismatch' "$T/r" || fail "no reason given"
	expect_eq "$(left)" "tmp=0 objects=0" "after a hash mismatch"

	# Over max_upload: refused from Content-Length, with or without
	# waiting for 100 Continue.
	head -c 1100000 /dev/urandom >"$T/big.zip"
	upload_atak alice r "$T/big.zip" "filename=big.zip"
	expect_code r 413 "over max_upload"
	upload_atak alice r "$T/big.zip" "filename=big.zip" -H 'Expect:'
	expect_code r 413 "over max_upload without 100 Continue"
	expect_eq "$(left)" "tmp=0 objects=0" "after 413"

	# Paths for names, in the query and in the part.
	acurl alice r "/Marti/sync/missionupload?filename=../../etc/passwd" \
	    -F "assetfile=@$T/a.zip;filename=a.zip"
	expect_code r 400 "a path in filename="
	acurl alice r "/Marti/sync/missionupload" \
	    -F "assetfile=@$T/a.zip;filename=../../etc/passwd"
	expect_code r 400 "a path in the part's filename"
	acurl alice r "/Marti/sync/upload?name=..%2F..%2Fetc%2Fpasswd" \
	    --data-binary "@$T/a.zip"
	expect_code r 400 "a path in iTAK's name="
	# Invalid multipart: no assetfile, a body cut short, not multipart.
	acurl alice r "/Marti/sync/missionupload?filename=a.zip" \
	    -F "other=hello"
	expect_code r 400 "no assetfile part"
	grep -q 'no part named assetfile' "$T/r" || fail "no reason given"
	printf -- '--XX\r\nContent-Disposition: form-data; name="assetfile"\r\n\r\nabc' \
	    >"$T/cut"
	acurl alice r "/Marti/sync/missionupload?filename=a.zip" \
	    -H 'Content-Type: multipart/form-data; boundary=XX' \
	    --data-binary "@$T/cut"
	expect_code r 400 "a body cut short"
	acurl alice r "/Marti/sync/missionupload?filename=a.zip" \
	    --data-binary "@$T/a.zip"
	expect_code r 400 "not multipart"
	expect_eq "$(left)" "tmp=0 objects=0" "after the bad requests"

	# Two uploads of the same file at once: both stored, one copy.
	r=$(dp twice alice "/Marti/sync/missionupload?hash=$h&filename=a.zip" \
	    "$T/a.zip" | cut -d' ' -f1 | tr '\n' ' ')
	expect_eq "$r" "200 200 " "two uploads at once"
	expect_eq "$(left)" "tmp=0 objects=1" "one copy"

	# Over [api] user_quota (1M, alice holds 700000): 413, refused
	# before the body by Content-Length, and nothing left; bob's share is
	# his own.
	head -c 400000 /dev/urandom >"$T/b.zip"
	upload_atak alice r "$T/b.zip" "filename=b.zip"
	expect_code r 413 "over user_quota"
	grep -q 'user_quota' "$T/r" || fail "no reason given"
	expect_eq "$(left)" "tmp=0 objects=1" "after over user_quota"
	upload_atak bob r "$T/b.zip" "filename=b.zip"
	expect_code r 200 "bob's upload, under his share"
	# Over [api] quota (2M, 1,100,000 stored), within carol's share:
	# 507, and nothing left.
	head -c 1000000 /dev/urandom >"$T/c.zip"
	upload_atak carol r "$T/c.zip" "filename=c.zip"
	expect_code r 507 "over quota"
	grep -q '\[api\] quota' "$T/r" || fail "no reason given"
	expect_eq "$(left)" "tmp=0 objects=2" "after over quota"

	# A stalled upload: its temp file exists while it stalls (streamed
	# to disk), then the connection is closed and the file removed.
	dp stall alice "/Marti/sync/upload?name=s.bin" 200000 100000 6 \
	    >"$T/stall" &
	r=$!
	_tmp_one() { [ "$(find "$PKG/tmp" -type f | wc -l)" = 1 ]; }
	wait_for 3 _tmp_one || fail "no temp file while the upload comes"
	wait "$r"
	grep -q '^closed after' "$T/stall" || fail "stalled upload: $(cat "$T/stall")"
	expect_eq "$(left)" "tmp=0 objects=2" "after a stalled upload"
	# One broken off.
	dp abort alice "/Marti/sync/upload?name=s.bin" 200000 150000 >/dev/null
	wait_for 3 test "$(find "$PKG/tmp" -type f | wc -l)" = 0 ||
	    fail "temp file left by an upload broken off"
	expect_eq "$(left)" "tmp=0 objects=2" "after an abort"

	expect_eq "$(counter pkg_refused_hash)" 1 "hash_mismatch counted"
	expect_eq "$(counter pkg_refused_too_large)" 2 "too_large counted"
	expect_eq "$(counter pkg_refused_quota)" 1 "quota counted"
	expect_eq "$(counter pkg_refused_user_quota)" 1 "user_quota counted"
	expect_eq "$(counter pkg_refused_stalled)" 1 "stalled counted"
	expect_eq "$(counter pkg_refused_aborted)" 1 "aborted counted"
	expect_eq "$(counter pkg_refused_bad_request)" 6 "bad requests counted"
	log_has 'upload stalled after 100000 bytes' ||
	    fail "no log line for the stalled upload"

	# An upload cut by a stop leaves a temp file: gone at the next start.
	stop_takd
	head -c 1000 /dev/urandom >"$PKG/tmp/up.0123456789abcdef01234567"
	chown --reference="$PKG/tmp" "$PKG/tmp/up.0123456789abcdef01234567"
	started
	expect_eq "$(left)" "tmp=0 objects=2" "temp files after a restart"
	log_has 'data package store: 1 unfinished upload removed' ||
	    fail "no log line for the temp file removed at start"
}

# bftr FILE UID URL HASH: a b-f-t-r from ALICE to BOB announcing URL.
bftr() {
	printf '<event version="2.0" uid="%s" type="b-f-t-r" how="h-e" time="@NOW@" start="@NOW@" stale="@STALE@"><point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/><detail><fileshare filename="p.zip" senderUrl="%s" sizeInBytes="1000" sha256="%s" senderUid="A-1" senderCallsign="ALICE" name="p"/><marti><dest callsign="BOB"/></marti></detail></event>\n' \
	    "$2" "$3" "$4" >"$1"
}

announce() {
	local h hx
	setup
	users alice:Blue bob:Blue
	started
	head -c 1000 /dev/urandom >"$T/p.zip"
	h=$(sha "$T/p.zip")
	upload_atak alice up "$T/p.zip" "hash=$h&filename=p.zip"
	expect_code up 200 "upload"
	hx=$(echo "$h" | tr 0-9a-f a-f0-9)
	cot_sa_tmpl "$T/sa.tmpl"
	cot_bg bob $(client_args bob) --uid B-1 --callsign BOB \
	    --send "$T/sa.tmpl" --expect-type b-f-t-r --expect-count 5 \
	    --wait 30 --print
	wait_sum 10 sessions 1
	# Held: the URL the upload got, and by loopback address in capitals.
	bftr "$T/f1" FT-HELD "$(cat "$T/up")" "$h"
	bftr "$T/f2" FT-HELD2 \
	    "https://127.0.0.1:$APORT/Marti/sync/content?hash=$(echo "$h" | tr a-f A-F)" "$h"
	# Not held: a hash nobody uploaded; a URL of ours that names none.
	bftr "$T/f3" FT-GONE "https://localhost:$APORT/Marti/sync/content?hash=$hx" "$hx"
	bftr "$T/f4" FT-NOHASH "https://localhost:$APORT/Marti/sync/search" "$hx"
	# Another server's, and this host on another port: not ours to check.
	bftr "$T/f5" FT-ELSE "https://tak.example.org:$APORT/Marti/sync/content?hash=$hx" "$hx"
	expect_client 0 $(client_args alice) --uid A-1 --callsign ALICE \
	    --send "$T/sa.tmpl" --send "$T/f1" --send "$T/f2" --send "$T/f3" \
	    --send "$T/f4" --send "$T/f5" --hold 1
	cot_wait bob 0 30 || fail "bob did not get the five b-f-t-r"

	wait_sum 5 fileshare.unknown 2
	expect_eq "$(wsum fileshare.held)" 2 "b-f-t-r of a package held"
	expect_eq "$(wsum fileshare.unchecked)" 0 "b-f-t-r not checked"
	log_has "file transfer request \"FT-GONE\" from uid \"A-1\": its senderUrl [^ ]*hash=$hx points .*does not hold that package.*subject \"[^\"]*CN=alice" ||
	    fail "no log line for the unknown package"
	log_has 'file transfer request "FT-NOHASH" from uid "A-1": .*names no data package' ||
	    fail "no log line for the URL naming no package"
	! log_has 'file transfer request "FT-(HELD|HELD2|ELSE)"' ||
	    fail "a b-f-t-r of a package held or elsewhere was logged"
	printf 'GET /metrics HTTP/1.0\r\n\r\n' | http_send "$MPORT" "$T/m"
	grep -q '^takd_fileshare_requests_total{worker="[0-9]*",package="unknown"} [12]$' \
	    "$T/m" || fail "no takd_fileshare_requests_total in /metrics"
}

large() {
	local h before_rss before_hwm after_hwm after_rss
	# ASan's quarantine keeps 256 MiB of freed memory by default: what
	# the program holds is measured without it.
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
	setup api.max_upload=300M
	users alice:Blue
	started
	head -c 100000 /dev/urandom >"$T/warm.bin"
	dp upload alice "/Marti/sync/upload?name=warm.bin" "$T/warm.bin" - \
	    >/dev/null
	head -c 200M /dev/urandom >"$T/big.bin"
	h=$(sha "$T/big.bin")
	before_rss=$(proc_kb "$API_PID" VmRSS)
	before_hwm=$(proc_kb "$API_PID" VmHWM)
	r=$(dp upload alice "/Marti/sync/missionupload?hash=$h&filename=big.bin" \
	    "$T/big.bin")
	expect_eq "${r%% *}" 200 "200 MiB upload"
	expect_eq "$(dp get alice "/Marti/sync/content?hash=$h" "$T/back")" \
	    "200 209715200 $h" "200 MiB download"
	rm -f "$T/back" "$T/big.bin"
	after_hwm=$(proc_kb "$API_PID" VmHWM)
	after_rss=$(proc_kb "$API_PID" VmRSS)
	diag "api process: VmRSS ${before_rss} -> ${after_rss} kB, VmHWM" \
	    "${before_hwm} -> ${after_hwm} kB"
	[ "$after_hwm" -le $((before_hwm > before_rss ? before_hwm + 8192 : \
	    before_rss + 8192)) ] ||
	    fail "peak RSS grew by $((after_hwm - before_hwm)) kB"
	[ "$after_rss" -le $((before_rss + 8192)) ] ||
	    fail "RSS grew by $((after_rss - before_rss)) kB"
}

run_case share
run_case refusals
run_case announce
run_case large
finish
