#!/usr/bin/env bash
# takctl user add / passwd / del / list / groups and takctl group list on
# the users file ([auth] users), without a running takd: the file's text,
# mode and owner; passwords from stdin and from a terminal (asked twice, no
# echo), never from argv; concurrent changes that all land; bad input and a
# bad existing file refused with nothing changed; a directory takd cannot
# trust refused before anything is written.
. "$(dirname "$0")/lib.sh"

# setup [section.key=value...]: a config; [auth] users is $T/etc/users
# unless given (auth.users=@default: STATE_DIR/users).
setup() {
	local users=$T/etc/users kv
	local -a rest=()
	for kv in "$@"; do
		case "$kv" in
		auth.users=*) users=${kv#auth.users=} ;;
		*) rest+=("$kv") ;;
		esac
	done
	write_config "$T/takd.ini" "${rest[@]}"
	if [ "$users" = @default ]; then
		USERS=$T/state/users
	else
		USERS=$users
		printf '[auth]\nusers = %s\n' "$users" >>"$T/takd.ini"
	fi
}

ctl() {
	"$TAKCTL" -c "$CFG" "$@"
}

# ctl_in INPUT WANT ARGS...: takctl with INPUT on stdin exits WANT.
ctl_in() {
	local input=$1 want=$2 rc
	shift 2
	printf '%s' "$input" | "$TAKCTL" -c "$CFG" "$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		diag "command: takctl $*"
		diag_file "$T/out" 20
		fail "exit status $rc, expected $want"
	fi
}

# The field F (1-based) of NAME's line.
ufield() {
	awk -F: -v n="$1" -v f="$2" '$1 == n { print $f }' "$USERS"
}

# hash_ok PASSWORD HASH: libcrypt (Python's crypt) agrees.
hash_ok() {
	/usr/bin/python3 -W ignore -c 'import crypt, sys
sys.exit(0 if crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2] else 1)' \
	    "$1" "$2"
}

# snapshot / expect_unchanged: the file's bytes, inode and mode are what
# they were, and no temporary file was left beside it.
snapshot() {
	cp -p "$USERS" "$T/users.before"
	stat -c '%i %a %U %G' "$USERS" >"$T/users.stat"
}

expect_unchanged() {
	expect_bytes "$T/users.before" "$USERS" "the users file changed: $*"
	expect_eq "$(stat -c '%i %a %U %G' "$USERS")" "$(cat "$T/users.stat")" \
	    "inode, mode and owner after: $*"
	expect_eq "$(find "$(dirname "$USERS")" -name '.*' -type f | wc -l)" \
	    0 "temporary files left after: $*"
}

# Add, list, change groups and passwords, delete; the file as takd reads it.
lifecycle() {
	local h1 h2 group
	setup auth.users=@default
	ctl_in $'s3cret pass\n' 0 user add alice --groups Blue,HQ --in Red \
	    --out Cyan
	expect_grep '^.*/state/users: added alice \(user; groups: Blue, HQ, Red \(in\), Cyan \(out\); password set\)$' \
	    "$T/out"
	expect_grep '^`takctl reload` puts the change in force$' "$T/out"
	expect_ctl 0 user add bob --role admin --no-password
	expect_ctl 0 user add "Carol Smith" --in Blue,HQ --no-password
	# The file: the version line, one user a line, sorted by name.
	cat >"$T/want" <<-EOF
	# takd users 1
	Carol Smith:!:user::Blue,HQ:
	alice:$(ufield alice 2):user:Blue,HQ:Red:Cyan
	bob:!:admin:::
	EOF
	expect_bytes "$T/want" "$USERS" "users file"
	h1=$(ufield alice 2)
	case "$h1" in '$y$'*) ;; *) fail "not a yescrypt hash: $h1" ;; esac
	hash_ok 's3cret pass' "$h1" || fail "the hash is not of the password"
	! hash_ok 's3cret pass ' "$h1" || fail "a wrong password verifies"
	if [ "$(id -u)" -eq 0 ]; then
		group=$(id -gn "$TAKD_USER")
		expect_eq "$(stat -c '%a %U %G' "$USERS")" "640 root $group" \
		    "mode and owner of the users file"
		expect_eq "$(stat -c '%a %U' "$T/state")" "755 root" \
		    "the directory takctl made"
	fi

	expect_ctl 0 user list
	expect_grep '^USER +ROLE +PASSWORD +GROUPS' "$T/out"
	expect_grep '^alice +user +yes +Blue, HQ, Red \(in\), Cyan \(out\) *$' \
	    "$T/out"
	expect_grep '^bob +admin +no +- *$' "$T/out"
	expect_grep '^3 users$' "$T/out"
	expect_ctl 0 user list --json
	expect_grep '^\[\{"name":"Carol Smith","role":"user","password":false,"groups":\[\{"name":"Blue","in":true,"out":false\},' \
	    "$T/out"
	expect_grep '\{"name":"Cyan","in":false,"out":true\}\]\}' "$T/out"
	! grep -q 'y\$' "$T/out" || fail "user list shows a hash"
	expect_ctl 0 group list
	expect_grep '^Blue +Carol Smith \(in\), alice *$' "$T/out"
	expect_grep '^Cyan +alice \(out\) *$' "$T/out"
	expect_grep '^4 groups$' "$T/out"
	expect_ctl 0 group list --json
	expect_grep '^\[\{"name":"Blue","members":\[\{"user":"Carol Smith","in":true,"out":false\},\{"user":"alice","in":true,"out":true\}\]\},' \
	    "$T/out"

	# groups replaces them all; "" is none.
	expect_ctl 0 user groups alice Green --out HQ
	expect_eq "$(grep '^alice:' "$USERS" | cut -d: -f3-)" "user:Green::HQ" \
	    "alice after user groups"
	expect_ctl 0 user groups bob ""
	expect_ctl 0 user groups bob "" --in Red
	expect_eq "$(grep '^bob:' "$USERS")" "bob:!:admin::Red:" "bob"
	# passwd: a new hash; --no-password takes it away.
	ctl_in 'other pass' 0 user passwd alice
	h2=$(ufield alice 2)
	[ "$h2" != "$h1" ] || fail "user passwd did not change the hash"
	hash_ok 'other pass' "$h2" || fail "the new hash is not of the password"
	expect_ctl 0 user passwd alice --no-password
	expect_eq "$(ufield alice 2)" '!' "hash after --no-password"
	expect_ctl 0 user del bob
	expect_grep 'deleted user bob' "$T/out"
	! grep -q '^bob:' "$USERS" || fail "bob is still there"
	expect_ctl 0 user list
	expect_grep '^2 users$' "$T/out"
	# An empty file is the version line alone.
	expect_ctl 0 user del alice
	expect_ctl 0 user del "Carol Smith"
	printf '# takd users 1\n' >"$T/want"
	expect_bytes "$T/want" "$USERS" "users file with nobody"
	expect_ctl 0 group list
	expect_grep '^0 groups$' "$T/out"
}

# The password is never an argument: there is no option for it, and an
# extra argument is a usage error.  stdin gives one line.
password_not_argv() {
	setup
	expect_ctl 64 user add alice --password secret
	expect_grep 'unknown option "--password"' "$T/out"
	expect_ctl 64 user passwd alice secret
	expect_ctl 64 user add alice secret
	[ ! -e "$USERS" ] || fail "a usage error wrote the file"
	"$TAKCTL" -h >"$T/help"
	! grep -E '^ +user .*password [A-Z]' "$T/help" ||
	    fail "takctl -h shows a password argument"
	# One line of stdin, what follows it ignored, a CRLF line end too.
	ctl_in $'first line\nsecond line\n' 0 user add alice
	hash_ok 'first line' "$(ufield alice 2)" ||
	    fail "the hash is not of the first line"
	ctl_in $'crlf pass\r\n' 0 user add bob
	hash_ok 'crlf pass' "$(ufield bob 2)" || fail "CR kept in the password"
	# Empty: refused, use --no-password.
	snapshot
	ctl_in $'\n' 1 user add carol
	expect_grep 'empty password; nothing changed' "$T/out"
	ctl_in '' 1 user passwd alice
	expect_unchanged "empty passwords"
}

# At a terminal: asked twice, never echoed; two that differ change nothing.
tty_password() {
	setup
	cat >"$T/term.py" <<-'EOF'
	import os, pty, select, sys, time
	pw1, pw2 = sys.argv[1], sys.argv[2]
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(sys.argv[3], sys.argv[3:])
	out = b''
	def read(until):
	    global out
	    end = time.time() + 20
	    while until not in out and time.time() < end:
	        r, _, _ = select.select([fd], [], [], 0.1)
	        if r:
	            try:
	                d = os.read(fd, 1024)
	            except OSError:
	                return
	            if not d:
	                return
	            out += d
	read(b'password for ')
	os.write(fd, pw1.encode() + b'\n')
	read(b'again: ')
	os.write(fd, pw2.encode() + b'\n')
	read(b'\x00')
	_, st = os.waitpid(pid, 0)
	sys.stdout.write(out.decode(errors='replace'))
	sys.exit(os.waitstatus_to_exitcode(st))
	EOF
	/usr/bin/python3 "$T/term.py" 'tty pass 1' 'tty pass 1' "$TAKCTL" \
	    -c "$CFG" user add alice >"$T/out" 2>&1 ||
	    { diag_file "$T/out"; fail "user add at a terminal failed"; }
	expect_grep '^password for alice: ' "$T/out"
	expect_grep '^again: ' "$T/out"
	! grep -q 'tty pass' "$T/out" || fail "the password was echoed"
	hash_ok 'tty pass 1' "$(ufield alice 2)" ||
	    fail "the hash is not of the password typed"
	snapshot
	/usr/bin/python3 "$T/term.py" 'tty pass 2' 'tty pass 3' "$TAKCTL" \
	    -c "$CFG" user passwd alice >"$T/out" 2>&1 &&
	    fail "two different passwords were taken"
	expect_grep 'the passwords differ; nothing changed' "$T/out"
	expect_unchanged "passwords that differ"
}

# Concurrent changes: every one lands (the lock), the file stays whole.
concurrent() {
	local i n=8
	setup
	expect_ctl 0 user add seed --no-password
	for i in $(seq $n); do
		printf 'pass %s\n' "$i" | "$TAKCTL" -c "$CFG" user add "u$i" \
		    --groups "G$i" >"$T/add.$i" 2>&1 &
	done
	for i in $(seq $n); do
		"$TAKCTL" -c "$CFG" user groups seed "S$i" >"$T/grp.$i" 2>&1 &
	done
	wait
	for i in $(seq $n); do
		grep -q "^u$i:" "$USERS" || { diag_file "$T/add.$i";
		    diag_file "$USERS"; fail "user u$i was lost"; }
		hash_ok "pass $i" "$(ufield "u$i" 2)" ||
		    fail "u$i has another user's hash"
	done
	expect_eq "$(grep -c . "$USERS")" $((n + 2)) "lines of the file"
	grep -Eq '^seed:!:user:S[0-9]::$' "$USERS" ||
	    fail "seed's groups: $(grep '^seed:' "$USERS")"
	expect_ctl 0 user list
	expect_grep "^$((n + 1)) users\$" "$T/out"
}

# expect_refused WANT ERE ARGS...: takctl ARGS exits WANT saying ERE, and
# the file is as it was.
expect_refused() {
	local want=$1 ere=$2
	shift 2
	ctl_in '' "$want" "$@"
	expect_grep "$ere" "$T/out"
	expect_unchanged "takctl $*"
}

bad_input() {
	setup
	expect_ctl 0 user add alice --groups Blue --no-password
	ctl_in 'pw' 0 user add bob --in Blue
	snapshot
	expect_refused 1 'user "alice" exists' user add alice --no-password
	expect_refused 1 'no user "nobody"' user passwd nobody --no-password
	expect_refused 1 'no user "nobody"' user del nobody
	expect_refused 1 'no user "nobody"' user groups nobody Blue
	expect_refused 1 'group "": empty' user add carol --groups 'A,,B' \
	    --no-password
	expect_refused 1 'group "A ": a blank' user add carol --in 'A ' \
	    --no-password
	expect_refused 1 "group \"#A\": starts with '#'" user groups alice '#A'
	expect_refused 1 "group \"A:B\": a ':'" user groups alice 'A:B'
	expect_refused 1 'group "A" given twice' user add carol --groups A \
	    --in A --no-password
	expect_refused 1 'user "alice": group "A" given twice' user groups \
	    alice A,A
	expect_refused 1 'group "A" given twice' user groups alice "" --in A \
	    --out A
	expect_refused 1 'user name "x:y"' user add x:y --no-password
	expect_refused 1 'user name " x"' user add ' x' --no-password
	expect_refused 1 'longer than 63 bytes' user add \
	    "$(printf 'n%.0s' $(seq 64))" --no-password
	expect_refused 1 'more than 64 groups' user groups alice \
	    "$(seq -s, -f 'g%.0f' 65)"
	expect_refused 64 'expected admin or user' user add carol --role root
	expect_refused 64 'unknown option "--json"' user add carol --json
	expect_refused 64 'expected 2 arguments' user groups alice
	expect_refused 64 'unknown user subcommand' user rename alice
	# A name the file takes (UTF-8, blanks inside) is fine.
	expect_ctl 0 user add "José García" --groups "Équipe 1" --no-password
	expect_grep 'added José García' "$T/out"
}

# A broken or untrusted existing file is refused, with its line, and kept.
bad_file() {
	setup
	expect_ctl 0 user add alice --groups Blue --no-password
	printf 'bob:!:boss:::\n' >>"$USERS"
	snapshot
	expect_refused 1 'users:3: user "bob": role "boss": expected user or admin' \
	    user add carol --no-password
	expect_refused 1 'users:3: user "bob": role "boss".*\(nothing changed\)' \
	    user del alice
	expect_refused 1 'users:3: user "bob": role "boss"' user list
	expect_refused 1 'users:3: user "bob": role "boss"' group list
	printf '# takd users 1\nalice:!:user:::\nalice:!:admin:::\n' >"$USERS"
	snapshot
	expect_refused 1 'users:3: user "alice" given twice \(first on line 2\)' \
	    user del alice
	printf '# takd users 2\n' >"$USERS"
	snapshot
	expect_refused 1 'users:1: format version "2" unknown' user list
	# Who can write it decides who sees whom: others may not.
	printf '# takd users 1\nalice:!:user:::\n' >"$USERS"
	chmod 0666 "$USERS"
	snapshot
	expect_refused 1 'is writable by others' user add carol --no-password
	chmod 0640 "$USERS"
	# A link in its place is not followed.
	mv "$USERS" "$T/elsewhere"
	ln -s "$T/elsewhere" "$USERS"
	expect_ctl 1 user add carol --no-password
	expect_grep 'is a symbolic link' "$T/out"
	[ -L "$USERS" ] || fail "the link was replaced"
	expect_eq "$(grep -c carol "$T/elsewhere")" 0 "the link's target"
}

# The directory goes through the trust walk before anything is written.
untrusted_dir() {
	[ "$(id -u)" -eq 0 ] || { diag "skipped: needs root"; return 0; }
	setup auth.users="$T/svc/users"
	mkdir -m 0755 "$T/svc"
	chown "$TAKD_USER" "$T/svc"
	expect_ctl 1 user add alice --no-password
	expect_grep "$T/svc is owned by $TAKD_USER" "$T/out"
	expect_eq "$(ls -A "$T/svc" | wc -l)" 0 "files written in $T/svc"
	# A file of root's in it changes nothing: the directory is refused.
	printf '# takd users 1\nalice:!:user:::\n' >"$USERS"
	chmod 0640 "$USERS"
	snapshot
	expect_refused 1 "$T/svc is owned by $TAKD_USER" user groups alice X
	expect_refused 1 "$T/svc is owned by $TAKD_USER" user del alice
	rm "$USERS"
	chown root "$T/svc"
	chmod 0777 "$T/svc"
	expect_ctl 1 user add alice --no-password
	expect_grep "$T/svc is writable by others" "$T/out"
	chmod 0755 "$T/svc"
	expect_ctl 0 user add alice --no-password
}

# takd started as root refuses a users file in a directory its service user
# cannot search (no reload could read it again), and only warns when there
# is no file there yet.
takd_unsearchable() {
	local rc
	[ "$(id -u)" -eq 0 ] || { diag "skipped: needs root"; return 0; }
	use_pki "$T/pki"
	setup auth.users="$T/priv/users"
	mkdir -m 0750 "$T/priv"
	expect_ctl 0 user add alice --no-password
	timeout 20 "$TAKD" -f -c "$CFG" >"$T/stderr" 2>&1
	rc=$?
	[ "$rc" -eq 78 ] || { diag_file "$T/stderr" 20;
	    fail "takd: exit status $rc, expected 78"; }
	expect_grep "\\[auth\\] users $T/priv/users: its directory $T/priv \\(mode 0750, group 0\\) is not searchable by the service user" "$T/stderr"
	rm "$USERS"
	start_takd
	log_has "no file yet, and its directory $T/priv" ||
	    fail "no warning about the directory"
	chmod 0755 "$T/priv"
	expect_ctl 0 user add alice --no-password
	expect_ctl 0 reload
	expect_grep '"users":{"ok":true' "$T/out"
	expect_grep '"count":1' "$T/out"
}

# The file's group: [server] group when set; no service account, no file.
service_group() {
	[ "$(id -u)" -eq 0 ] || { diag "skipped: needs root"; return 0; }
	setup server.group=nogroup
	expect_ctl 0 user add alice --no-password
	expect_eq "$(stat -c '%a %U %G' "$USERS")" "640 root nogroup" \
	    "mode and owner with [server] group"
	setup server.user=takd-no-such-user
	snapshot
	expect_refused 1 'user takd-no-such-user: no such user' user add bob \
	    --no-password
}

# takctl user import-tak: TAK Server's users, bcrypt hashes kept.
import_tak() {
	setup
	cat >"$T/tak.xml" <<-'EOF'
	<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
	<UserAuthenticationFile xmlns="http://bbn.com/marti/xml/bindings">
	    <User identifier="admin" password="$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW" passwordHashed="true" role="ROLE_ADMIN">
	        <groupList>__ANON__</groupList>
	    </User>
	    <User identifier="alpha 1" fingerprint="AB:CD:EF" role="ROLE_ANONYMOUS">
	        <groupList>Blue</groupList>
	        <groupListIN>HQ</groupListIN>
	        <groupListOUT>Cyan</groupListOUT>
	        <groupListIN>Cyan</groupListIN>
	    </User>
	    <User identifier="viewer" password="clear pw" passwordHashed="false" role="ROLE_READONLY">
	        <groupListOUT>Blue</groupListOUT>
	    </User>
	    <!-- a certificate-only user -->
	    <User identifier="gw"/>
	</UserAuthenticationFile>
	EOF
	expect_ctl 0 user import-tak "$T/tak.xml"
	expect_grep 'imported 4 users from .*: 1 bcrypt hashes kept, 1 clear-text passwords hashed, 2 without a password' \
	    "$T/out"
	expect_grep '^1 users had a role other than' "$T/out"
	cat >"$T/want" <<-EOF
	# takd users 1
	admin:\$2a\$05\$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW:admin:__ANON__::
	alpha 1:!:user:Blue,Cyan:HQ:
	gw:!:user:::
	viewer:$(ufield viewer 2):user:::Blue
	EOF
	expect_bytes "$T/want" "$USERS" "users file after the import"
	hash_ok 'U*U' "$(ufield admin 2)" || fail "the bcrypt hash"
	hash_ok 'clear pw' "$(ufield viewer 2)" || fail "the hashed password"
	# All or nothing: a user there already, or anything takd cannot take.
	snapshot
	expect_refused 1 'user "admin" is in .* already; nothing imported' \
	    user import-tak "$T/tak.xml"
	bad_xml() {
		printf '%s\n' "$2" >"$T/bad.xml"
		expect_refused 1 "$1" user import-tak "$T/bad.xml"
	}
	bad_xml 'bad.xml:3: user name "a:b": a' \
	    '<UserAuthenticationFile>
	<User identifier="new"/>
	<User identifier="a:b"/></UserAuthenticationFile>'
	bad_xml 'bad.xml:2: unknown attribute colour' \
	    '<UserAuthenticationFile>
	<User identifier="new" colour="red"/></UserAuthenticationFile>'
	bad_xml 'bad.xml:2: <User> without identifier' \
	    '<UserAuthenticationFile>
	<User role="ROLE_ADMIN"/></UserAuthenticationFile>'
	bad_xml 'bad.xml:2: unexpected <group> in <User>' \
	    '<UserAuthenticationFile>
	<User identifier="new"><group>x</group></User></UserAuthenticationFile>'
	bad_xml 'bad.xml:2: user "new": group "x,y": a' \
	    '<UserAuthenticationFile>
	<User identifier="new"><groupList>x,y</groupList></User></UserAuthenticationFile>'
	bad_xml 'the password hash is not a crypt\(3\) hash' \
	    '<UserAuthenticationFile>
	<User identifier="new" password="5f4dcc3b5aa765d61d8327deb882cf99" passwordHashed="true"/></UserAuthenticationFile>'
	bad_xml 'bad.xml:3: user "new" given twice' \
	    '<UserAuthenticationFile>
	<User identifier="new"/>
	<User identifier="new"/></UserAuthenticationFile>'
	bad_xml 'not a UserAuthenticationFile' '<Users/>'
	bad_xml 'bad.xml:[0-9]+: not well-formed XML: ' \
	    '<UserAuthenticationFile>
	<User identifier="new"></UserAuthenticationFile>'
	# No DTD, no entity: a file's contents never reach the users file.
	bad_xml 'has a DTD' \
	    '<!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/hostname">]>
	<UserAuthenticationFile><User identifier="new"><groupList>&x;</groupList></User></UserAuthenticationFile>'
	bad_xml 'not well-formed XML' \
	    '<UserAuthenticationFile><User identifier="&x;"/></UserAuthenticationFile>'
	expect_refused 1 'nosuch.xml: No such file' user import-tak \
	    "$T/nosuch.xml"
}

run_case lifecycle
run_case password_not_argv
run_case tty_password
run_case concurrent
run_case bad_input
run_case bad_file
run_case untrusted_dir
run_case service_group
run_case takd_unsearchable
run_case import_tak
finish
