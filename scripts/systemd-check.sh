#!/bin/bash
# systemd-check.sh [BUILD]: run etc/takd.service under a real systemd.
#
# Boots a minimal Debian 12 (debootstrap) with systemd-nspawn --boot, the
# takd binaries of BUILD (default build/rel: make BUILD=... BIN=BUILD/bin
# all tools) and etc/takd.service bind-mounted read-only into it, then from
# the host checks that systemctl starts takd (active, a TLS client gets in),
# reloads it (a new CRL generation that shuts the revoked client out) and
# stops it (exit 0, pidfile and admin socket gone).  One PASS or FAIL line
# per step, exit status 1 if any failed.
#
# Run it by hand, as root, from the top of the tree; it is not part of
# `make test`.  It installs systemd-container and debootstrap with apt-get
# when they are missing and downloads a ~300 MB root file system the first
# time (kept in $ROOTFS, default /var/tmp/takd-systemd-rootfs, for the next
# runs; the container writes to a throw-away overlay on top of it).
# KEEP=1 keeps the work directory (journal, outputs) for a look afterwards;
# UNIT=FILE checks another unit file than etc/takd.service.
set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build/rel}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
UNIT=${UNIT:-$REPO/etc/takd.service}
ROOTFS=${ROOTFS:-/var/tmp/takd-systemd-rootfs}
SUITE=bookworm
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MACHINE=takd-check-$$
BOOT_TIMEOUT=${BOOT_TIMEOUT:-90}

npass=0
nfail=0
leader=
nspawn_pid=
W=

pass() { echo "PASS  $*"; npass=$((npass + 1)); }
fail() { echo "FAIL  $*"; nfail=$((nfail + 1)); }
note() { echo "      $*"; }
die() { echo "systemd-check: $*" >&2; exit 2; }

# ctr CMD...: run CMD inside the booted container, as root, in every one of
# its namespaces (systemctl there talks to the container's systemd).
ctr() {
	nsenter --target "$leader" --all --root --wd -- "$@"
}

# in_sh SCRIPT: a shell script inside the container.
in_sh() {
	ctr /bin/sh -c "$1"
}

cleanup() {
	if [ -n "$leader" ] && kill -0 "$leader" 2>/dev/null; then
		# SIGRTMIN+4 asks the container's systemd to power off
		# cleanly; nspawn exits when its init does.
		kill -s SIGRTMIN+4 "$leader" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$nspawn_pid" 2>/dev/null || break
			sleep 0.2
		done
	fi
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		kill -KILL "$nspawn_pid" 2>/dev/null
		wait "$nspawn_pid" 2>/dev/null
	fi
	if [ -n "$W" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "work directory kept: $W"
		else
			rm -rf "$W"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

[ "$(id -u)" = 0 ] || die "run me as root"
for f in bin/takd bin/takctl tests/tools/takclient; do
	[ -x "$BUILD/$f" ] || die "$BUILD/$f missing: make BUILD=$BUILD" \
	    "BIN=$BUILD/bin all tools"
done

# Tools.
need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v nsenter >/dev/null || need+=(util-linux)
if [ "${#need[@]}" -gt 0 ]; then
	echo "installing ${need[*]}"
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q "${need[@]}"; } >/dev/null ||
	    die "apt-get install ${need[*]} failed"
fi

W=$(mktemp -d /tmp/takd-systemd-check.XXXXXX) || die "mktemp failed"

# The root file system: what a takd host needs to run it, plus systemd.
# The marker holds the package list: one made for another list (a library
# takd took on since) is ours to make again.
PKGS=systemd,systemd-sysv,dbus,libssl3,libxml2,liblmdb0,libinih1,libzip4
PKGS=$PKGS,libprotobuf-c1,libevent-core-2.1-7,libevent-extra-2.1-7
PKGS=$PKGS,libevent-openssl-2.1-7,openssl,procps
# Since the cluster, CRL fetching and the console's QR codes (issues 19,
# 20, 22): what takd, takctl and their helpers link.
PKGS=$PKGS,libnats3.4,libcurl4,libqrencode4,libpng16-16
if [ -f "$ROOTFS/.takd-check" ] &&
    [ "$(cat "$ROOTFS/.takd-check")" != "$PKGS" ]; then
	echo "$ROOTFS was made for other packages: making it again"
	rm -rf "$ROOTFS"
fi
if [ ! -f "$ROOTFS/.takd-check" ]; then
	# Never remove a directory this script did not make.
	[ ! -e "$ROOTFS" ] || [ -z "$(ls -A "$ROOTFS")" ] ||
	    die "$ROOTFS exists but is not a finished root file system of" \
	    "$0 (a debootstrap that failed?): remove it or set ROOTFS"
	echo "debootstrap $SUITE into $ROOTFS (a few minutes)"
	if ! debootstrap --variant=minbase \
	    --include="$PKGS" \
	    "$SUITE" "$ROOTFS" "$MIRROR" >"$W/debootstrap.log" 2>&1; then
		tail -n 20 "$W/debootstrap.log" >&2
		die "debootstrap failed (remove $ROOTFS before the next run)"
	fi
	# The machine-id is made at each boot (in the overlay).
	: >"$ROOTFS/etc/machine-id"
	echo "$PKGS" >"$ROOTFS/.takd-check"
fi

# --volatile=overlay: the container writes to a tmpfs over ROOTFS, so that
# each run starts from the same clean system.  --private-network: its own
# loopback, so that 8089 there collides with nothing on the host.
# --register=no --keep-unit: no systemd (machined, system bus) needed on
# the host.
systemd-nspawn --quiet --directory="$ROOTFS" --machine="$MACHINE" \
    --register=no --keep-unit --private-network --volatile=overlay \
    --bind-ro="$BUILD/bin/takd:/usr/sbin/takd" \
    --bind-ro="$BUILD/bin/takctl:/usr/bin/takctl" \
    --bind-ro="$BUILD/tests/tools/takclient:/usr/local/bin/takclient" \
    --bind-ro="$UNIT:/etc/systemd/system/takd.service" \
    --boot </dev/null >"$W/console.log" 2>&1 &
nspawn_pid=$!

# The container's init is the child of nspawn running systemd.
for _ in $(seq 1 50); do
	leader=$(pgrep -P "$nspawn_pid" -x systemd | head -n 1)
	[ -n "$leader" ] && break
	kill -0 "$nspawn_pid" 2>/dev/null || break
	sleep 0.2
done
if [ -z "$leader" ]; then
	cat "$W/console.log" >&2
	die "systemd-nspawn did not start the container"
fi
# Until its systemd listens, systemctl there fails at once: ask again.
deadline=$(( $(date +%s) + BOOT_TIMEOUT ))
while :; do
	state=$(timeout "$BOOT_TIMEOUT" nsenter --target "$leader" --all -- \
	    systemctl is-system-running --wait 2>/dev/null)
	case $state in running|degraded) break ;; esac
	if [ "$(date +%s)" -ge "$deadline" ] ||
	    ! kill -0 "$leader" 2>/dev/null; then
		break
	fi
	sleep 0.5
done
case $state in
running)
	pass "boot: container systemd is running ($(ctr systemctl --version |
	    head -n 1))" ;;
degraded)
	pass "boot: container systemd is degraded (not takd's doing)"
	note "failed units: $(ctr systemctl --failed --no-legend --plain |
	    awk '{print $1}' | tr '\n' ' ')" ;;
*)
	fail "boot: container systemd is \"$state\" after ${BOOT_TIMEOUT}s"
	tail -n 20 "$W/console.log"
	exit 1 ;;
esac

# shellcheck disable=SC2016	# expanded inside the container
# The installation of docs/operations.md, with the PKI of takctl.  Enabled
# as there, which also keeps the unit loaded once stopped, so that its
# ExecMain* properties still say how takd exited.
in_sh '
set -e
useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin takd
install -d -m 0755 /etc/takd
cat >/etc/takd/takd.ini <<EOF
[server]
user = takd
state_dir = /var/lib/takd
run_dir = /run/takd
log = stderr
workers = 2
[tls]
listen = 127.0.0.1:8089
[pki]
server_host = localhost
EOF
chgrp takd /etc/takd/takd.ini
chmod 0640 /etc/takd/takd.ini
C="takctl -c /etc/takd/takd.ini"
$C pki init-ca
$C pki server --cn localhost
$C pki client alice --password test
$C pki client bob --password test
systemctl enable takd.service
' >"$W/setup.log" 2>&1 || {
	fail "setup: takd user, /etc/takd/takd.ini and PKI"
	cat "$W/setup.log"
	exit 1
}
pass "setup: takd user, /etc/takd/takd.ini, CA, server and 2 clients"

if ctr systemd-analyze verify /etc/systemd/system/takd.service \
    >"$W/verify.log" 2>&1 && [ ! -s "$W/verify.log" ]; then
	pass "systemd-analyze verify takd.service: no complaint"
else
	fail "systemd-analyze verify takd.service"
	sed 's/^/      /' "$W/verify.log"
fi

# The container may lack CAP_SYS_RESOURCE (a container host that dropped
# it): then no process there can raise its hard open-file limit, systemd
# included, and LimitNOFILE= above that limit fails the start (205/LIMITS).
# That is the host's doing, not the unit's: lower it with a drop-in, as an
# operator would.
hard=$(in_sh 'ulimit -Hn')
if ! in_sh 'ulimit -Hn 65536' 2>/dev/null; then
	note "the container cannot raise its open-file limit above $hard" \
	    "(no CAP_SYS_RESOURCE): drop-in LimitNOFILE=$hard"
	in_sh "mkdir -p /etc/systemd/system/takd.service.d &&
	    printf '[Service]\\nLimitNOFILE=$hard\\n' \
	    >/etc/systemd/system/takd.service.d/nofile.conf"
fi

# status_json: `takctl status`; crl_generation: the "generation" of its
# "crl" object.
status_json() {
	ctr takctl -c /etc/takd/takd.ini status 2>&1
}
crl_generation() {
	status_json | tr -d '\n ' |
	    sed -n 's/.*"crl":{[^}]*"generation":\([0-9]*\).*/\1/p'
}
client() {	# client NAME [takclient options]: connect as NAME
	local name=$1
	shift
	ctr takclient --connect 127.0.0.1:8089 \
	    --cert "/var/lib/takd/pki/clients/$name.pem" \
	    --key "/var/lib/takd/pki/clients/$name.key" --pass test \
	    --ca /var/lib/takd/pki/ca.pem --servername localhost \
	    --timeout 5 "$@"
}
show() {	# show PROPERTY: of takd.service
	ctr systemctl show -P "$1" takd.service
}

# Start.
ctr systemctl daemon-reload
t0=$(date +%s%N)
if ctr systemctl start takd.service >"$W/start.log" 2>&1; then
	t1=$(date +%s%N)
	pass "systemctl start takd: exit 0 after" \
	    "$(( (t1 - t0) / 1000000 )) ms"
else
	fail "systemctl start takd"
	cat "$W/start.log"
	ctr journalctl -u takd --no-pager -n 30
	exit 1
fi
state=$(ctr systemctl is-active takd.service)
mainpid=$(show MainPID)
if [ "$state" = active ] && [ "$(show SubState)" = running ]; then
	pass "systemctl is-active takd: active (running), MainPID $mainpid," \
	    "status \"$(show StatusText)\""
else
	fail "systemctl is-active takd: $state/$(show SubState)"
fi
pidfile=$(ctr cat /run/takd/takd.pid 2>/dev/null)
if [ "$pidfile" = "$mainpid" ] && ctr test -S /run/takd/takd.sock; then
	pass "/run/takd/takd.pid is MainPID ($pidfile), /run/takd/takd.sock" \
	    "is a socket"
else
	fail "/run/takd: pidfile \"$pidfile\" (MainPID $mainpid)," \
	    "socket $(ctr test -S /run/takd/takd.sock && echo present ||
	    echo missing)"
fi
user=$(ctr ps -o user= --ppid "$mainpid" | sort -u | tr '\n' ' ')
suser=$(ctr ps -o user= -p "$mainpid")
if [ "$user" = "takd " ] && [ "$suser" = takd ]; then
	pass "supervisor and workers run as takd"
else
	fail "users: supervisor \"$suser\", workers \"$user\""
fi
if status_json >"$W/status1.json" && grep -q '"crl"' "$W/status1.json"; then
	gen1=$(crl_generation)
	pass "takctl status: JSON, CRL generation $gen1"
else
	gen1=
	fail "takctl status"
	cat "$W/status1.json"
fi
if client alice >"$W/alice1.log" 2>&1; then
	pass "takclient alice: TLS session established"
else
	fail "takclient alice (exit $?)"
	sed 's/^/      /' "$W/alice1.log"
fi

# Reload: revoke bob without telling takd, then systemctl reload.  The
# reload is asynchronous (ExecReload sends SIGHUP and returns), so wait for
# the new generation for a while.
if ctr takctl -c /etc/takd/takd.ini revoke bob --no-reload \
    >"$W/revoke.log" 2>&1; then
	:
else
	fail "takctl revoke bob --no-reload"
	cat "$W/revoke.log"
fi
gen2=
if ctr systemctl reload takd.service >"$W/reload.log" 2>&1; then
	for _ in $(seq 1 50); do
		gen2=$(crl_generation)
		[ -n "$gen1" ] && [ -n "$gen2" ] && [ "$gen2" -gt "$gen1" ] &&
		    break
		sleep 0.1
	done
	if [ -n "$gen1" ] && [ -n "$gen2" ] && [ "$gen2" -gt "$gen1" ]; then
		pass "systemctl reload takd: CRL generation $gen1 -> $gen2," \
		    "status \"$(show StatusText)\""
	else
		fail "systemctl reload takd: CRL generation $gen1 -> $gen2"
	fi
else
	fail "systemctl reload takd"
	cat "$W/reload.log"
fi
line=
[ -n "$gen2" ] && line=$(ctr journalctl -u takd.service --no-pager -o cat |
    grep "CRL generation $gen2 active" | tail -n 1)
if [ -n "$line" ]; then
	pass "journal: $line"
else
	fail "journal has no \"CRL generation $gen2 active\" line"
fi
if [ "$(ctr systemctl is-active takd.service)" = active ] &&
    [ "$(show MainPID)" = "$mainpid" ]; then
	pass "after reload: still active, same MainPID $mainpid"
else
	fail "after reload: $(ctr systemctl is-active takd.service)," \
	    "MainPID $(show MainPID) (was $mainpid)"
fi
client bob >"$W/bob.log" 2>&1
rc=$?
if [ "$rc" != 0 ] && client alice >"$W/alice2.log" 2>&1 &&
    ctr journalctl -u takd.service --no-pager -o cat |
    grep -q 'handshake failed: certificate verify failed: certificate revoked'
then
	pass "revoked bob is refused (takclient exit $rc, \"certificate" \
	    "revoked\" in the journal), alice still gets in"
else
	fail "after reload: bob exit $rc (want non-zero), alice" \
	    "$(client alice >/dev/null 2>&1 && echo in || echo refused)"
fi

# Stop, with a client connected: SIGTERM to the supervisor alone
# (KillMode=mixed), which has the workers close the session and exit.
client alice --hold 60 >"$W/held.log" 2>&1 &
held=$!
for _ in $(seq 1 50); do
	status_json | tr -d '\n ' | grep -q '"sessions":1}$' && break
	sleep 0.1
done
workers=$(ctr ps -o pid= --ppid "$mainpid" | tr -d ' ' | tr '\n' ' ')
t0=$(date +%s%N)
if ctr systemctl stop takd.service >"$W/stop.log" 2>&1; then
	t1=$(date +%s%N)
	pass "systemctl stop takd: exit 0 after $(( (t1 - t0) / 1000000 ))" \
	    "ms with a session open"
else
	fail "systemctl stop takd"
	cat "$W/stop.log"
fi
wait "$held"
rc=$?
# 3: the server closed the session before the hold time was over.
if [ "$rc" = 3 ]; then
	pass "the held session was closed by takd:" \
	    "$(grep -m 1 'closed by server' "$W/held.log")"
else
	fail "held takclient exit $rc (want 3, closed by the server)"
	sed 's/^/      /' "$W/held.log"
fi
st=$(show ExecMainStatus)
res=$(show Result)
epid=$(show ExecMainPID)
code=$(show ExecMainCode)
if [ "$st" = 0 ] && [ "$code" = 1 ] && [ "$res" = success ] &&
    [ "$epid" = "$mainpid" ]; then
	pass "takd exited 0 (ExecMainPID=$epid ExecMainCode=1 (exited)" \
	    "ExecMainStatus=0 Result=success)"
else
	fail "takd: ExecMainPID=$epid ExecMainCode=$code" \
	    "ExecMainStatus=$st Result=$res"
fi
if [ "$(ctr systemctl is-active takd.service)" = inactive ]; then
	pass "systemctl is-active takd: inactive"
else
	fail "systemctl is-active takd: $(ctr systemctl is-active takd.service)"
fi
# ExecStopPost= removes them: takd, no longer root, cannot (run_dir is
# root's, docs/security.md).
if ! ctr test -e /run/takd/takd.pid && ! ctr test -e /run/takd/takd.sock; then
	pass "pidfile and admin socket removed"
else
	fail "left in /run/takd: $(ctr ls /run/takd | tr '\n' ' ')"
fi
left=
for p in $mainpid $workers; do
	ctr kill -0 "$p" 2>/dev/null && left="$left $p"
done
if [ -z "$left" ] && ! ctr journalctl -u takd.service --no-pager -o cat |
    grep -qi 'killing process\|left-over process\|SIGKILL'; then
	pass "supervisor and workers ($workers) gone, none killed by systemd"
else
	fail "after stop: processes$left left or killed by systemd"
	ctr journalctl -u takd.service --no-pager -o cat |
	    grep -i 'killing process\|left-over process\|SIGKILL'
fi

# A second start: /run/takd and /var/lib/takd must still be root's and the
# store the service user's (systemd must not have taken it back), and the
# state is kept.  The pidfile and the admin socket are root's: takd makes
# them before the drop.
if ctr systemctl start takd.service >"$W/start2.log" 2>&1 &&
    [ "$(ctr systemctl is-active takd.service)" = active ]; then
	pass "systemctl start takd (second time): active"
else
	fail "systemctl start takd (second time)"
	cat "$W/start2.log"
fi
notmine=$(ctr find /var/lib/takd/store ! -user takd -print | tr '\n' ' ')
notroot=$(ctr find /run/takd /var/lib/takd -path /var/lib/takd/store -prune \
    -o ! -user root -print | tr '\n' ' ')
if [ -z "$notmine" ] && [ -z "$notroot" ]; then
	pass "/run/takd, /var/lib/takd and the PKI are root's, the store" \
	    "in /var/lib/takd/store belongs to takd"
else
	fail "not takd's: $notmine; not root's: $notroot"
fi
# A crash: Restart=on-failure starts takd again (RestartSec=2s) over the
# pidfile and socket the dead one left.
pid2=$(show MainPID)
ctr systemctl kill -s KILL --kill-who=main takd.service
pid3=
for _ in $(seq 1 100); do
	pid3=$(show MainPID)
	[ "$pid3" != 0 ] && [ "$pid3" != "$pid2" ] &&
	    [ "$(ctr systemctl is-active takd.service)" = active ] && break
	pid3=
	sleep 0.1
done
if [ -n "$pid3" ] && [ "$(ctr cat /run/takd/takd.pid)" = "$pid3" ] &&
    status_json >/dev/null && client alice >/dev/null 2>&1; then
	pass "SIGKILL of takd: restarted by systemd (MainPID $pid2 ->" \
	    "$pid3), takctl status and alice get in"
else
	fail "SIGKILL of takd: not restarted and serving (MainPID $pid2 ->" \
	    "$(show MainPID), $(ctr systemctl is-active takd.service))"
fi
ctr systemctl stop takd.service
# Every warning or error takd logged in the three runs but the refusal of bob
# and the open-file limit (this host's, see above).
warn=$(ctr journalctl -u takd.service --no-pager -o cat |
    grep -E '(warning|error): ' | grep -v ' nofile: asked ' |
    grep -v 'handshake failed: certificate verify failed: certificate revoked')
if [ -z "$warn" ]; then
	pass "journal: no warning or error from takd in three runs"
else
	fail "journal: takd warned"
	echo "$warn" | sed 's/^/      /'
fi

# Hardening, as systemd rates it.
if ctr systemd-analyze security takd.service --no-pager \
    >"$W/security.log" 2>&1; then
	note "systemd-analyze security takd.service:" \
	    "$(grep -i 'overall exposure' "$W/security.log" |
	    sed 's/.*: *//')"
else
	note "systemd-analyze security takd.service failed:" \
	    "$(tail -n 1 "$W/security.log")"
fi

ctr journalctl -u takd.service --no-pager -o short-precise >"$W/journal.log"
echo
echo "takd journal:"
sed 's/^/  /' "$W/journal.log"
echo
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
