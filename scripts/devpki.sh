#!/bin/sh
# Development PKI for `make run`: a CA, a server certificate for this host and one
# client package, created under ./var/pki on first start only; and an admin user
# of the console (docs/console.md) with a random password in ./var.
set -eu
TAKCTL=${TAKCTL:-bin/takctl}
pki=var/pki

if [ ! -f "$pki/ca.pem" ]; then
	"$TAKCTL" pki init-ca
fi
if [ ! -f "$pki/server.pem" ]; then
	"$TAKCTL" pki server --cn "$(hostname -f 2>/dev/null || hostname)"
fi
if [ ! -f "$pki/clients/atak.p12" ]; then
	"$TAKCTL" pki client atak
fi
echo
echo "Client certificate for ATAK/WinTAK/iTAK:"
echo "  PKCS#12 bundle: $(pwd)/$pki/clients/atak.p12"
if [ -f "$pki/clients/atak.p12.password" ]; then
	echo "  its password:   $(pwd)/$pki/clients/atak.p12.password"
fi
echo "  CA certificate: $(pwd)/$pki/ca.pem"
echo "  more clients:   $TAKCTL pki client NAME"
echo

# The admin console: an admin of the users file, its password kept beside.
pwfile=var/console-admin.password
if [ ! -f "$pwfile" ]; then
	umask 077
	pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$pw" | "$TAKCTL" user add admin --role admin >/dev/null
	printf '%s\n' "$pw" >"$pwfile"
fi
host=$(hostname -f 2>/dev/null || hostname)
echo "Admin console (the server's certificate is the dev CA's: accept it, or"
echo "import $(pwd)/$pki/ca.pem into the browser):"
echo "  URL:            https://$host:8443/  (or https://localhost:8443/)"
echo "  user:           admin"
echo "  password:       $(cat "$pwfile")  (in $(pwd)/$pwfile)"
echo "  map without internet: [console] tiles = (empty) in etc/takd-dev.ini"
echo
