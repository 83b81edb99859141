#!/bin/sh
# Install the Debian packages takd needs, or say which are missing.
#   scripts/deps.sh        packages to build and run
#   scripts/deps.sh test   also what `make test` needs
set -eu

# protobuf-c: TAK protocol v1 (proto/*.proto compiled at build time).
# libevent-dev (evhttp, libevent-openssl): the api process (docs/api.md).
# libcurl4-openssl-dev: takd-crlfetch, the HTTP client of [tls] crl_url
# (fetch/crlfetch.c, docs/revocation.md); takd itself does not link it.
# libqrencode-dev: the enrollment QR codes of takctl and the console;
# libpng-dev: takctl's PNG ones (docs/pki.md).
pkgs="gcc make pkg-config openssl libssl-dev libxml2-dev liblmdb-dev libinih-dev libzip-dev libcrypt-dev protobuf-c-compiler libprotobuf-c-dev libqrencode-dev libpng-dev libevent-dev libcurl4-openssl-dev"
# libnats-dev: the cluster process's NATS client (docs/cluster.md).
pkgs="$pkgs libnats-dev"
# libjs-leaflet: the admin console's map, served by takd (docs/console.md).
pkgs="$pkgs libjs-leaflet"
if [ "${1:-}" = test ]; then
	pkgs="$pkgs libcmocka-dev clang libclang-rt-dev procps unzip"
	# test_api drives the HTTPS ports with curl (and Python's ssl).
	pkgs="$pkgs curl"
	# test_ocsp runs openssl's OCSP responder in the past (libfaketime).
	pkgs="$pkgs faketime"
	# test_enroll_package decodes the QR codes takctl draws.
	pkgs="$pkgs zbar-tools"
	# test_takp_python checks the v1 codec against Python's protobuf
	# (Debian's, for /usr/bin/python3) and protoc.
	pkgs="$pkgs python3-protobuf protobuf-compiler"
	# test_cluster links takd nodes through real NATS servers.
	pkgs="$pkgs nats-server"
	# test_console drives the admin console in a headless Chromium
	# through Debian's Selenium and chromedriver (docs/console.md).
	pkgs="$pkgs chromium chromium-driver python3-selenium"
	# The interop test runs @tak-ps/node-tak; a node from elsewhere will do.
	command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
	# test_sec_tls's Java client stands for ATAK's TLS stack (JSSE).
	command -v java >/dev/null 2>&1 || pkgs="$pkgs default-jdk-headless"
fi

# The account takd runs as once started as root ([server] user, default
# takd): a system account of its own that owns nothing takd trusts.
takd_user() {
	id -u takd >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "takd runs as the system account takd when started as" \
		    "root; create it with: sudo useradd --system --home-dir" \
		    "/nonexistent --shell /usr/sbin/nologin takd" >&2
		return 0
	fi
	echo "creating the system account takd"
	useradd --system --home-dir /nonexistent --no-create-home \
	    --shell /usr/sbin/nologin --user-group takd
}
takd_user

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "takd needs these Debian packages:$missing" >&2
	echo "install them with:  sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once before installing.
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
