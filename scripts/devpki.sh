#!/bin/sh
# Development PKI for `make run`: a CA, a server certificate for this host and one
# client package, created under ./var/pki on first start only.
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
