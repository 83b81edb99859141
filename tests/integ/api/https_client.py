#!/usr/bin/python3
"""An HTTPS client for tests/integ/test_api.sh, written against Python's
ssl and http.client only (nothing of takd's).

  https_client.py keepalive PORT CA CERT KEY PATH WAIT_S
      One TLS connection: GET PATH, print "first STATUS"; then wait up to
      WAIT_S seconds for the server to close the connection and print
      "closed after MS" (ms from the first reply), or "still open".
  https_client.py idle PORT CA CERT KEY WAIT_S
      One TLS connection that sends nothing after its handshake: prints
      "closed after MS" (from the handshake's end) when the server closes
      it within WAIT_S seconds, else "still open".
  https_client.py cycles PORT CA CERT KEY N
      N connections one after the other, each of a kind in turn: a GET of
      /Marti/api/version answered, a TCP connection closed before any TLS
      byte, a TLS handshake left half-way, a connection closed right after
      its handshake.  Prints "ok N" and the count of each kind.

CERT and KEY are PEM files (KEY's pass phrase is "test", or none); the
server's name is checked as "localhost".
"""
import http.client
import select
import socket
import ssl
import sys
import time


def context(ca, cert, key):
    ctx = ssl.create_default_context(cafile=ca)
    if cert != "-":
        ctx.load_cert_chain(cert, key, password="test")
    return ctx


def wait_closed(sock, t0, wait_s):
    end = t0 + wait_s
    while time.monotonic() < end:
        r, _, _ = select.select([sock], [], [], 0.05)
        if not r:
            continue
        try:
            data = sock.recv(1)
        except (ssl.SSLError, OSError):
            data = b""
        if data == b"":
            print("closed after %d" % ((time.monotonic() - t0) * 1000),
                  flush=True)
            return 0
    print("still open", flush=True)
    return 1


def idle(port, ca, cert, key, wait_s):
    ctx = context(ca, cert, key)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    tls = ctx.wrap_socket(sock, server_hostname="localhost")
    return wait_closed(tls, time.monotonic(), wait_s)


def keepalive(port, ca, cert, key, path, wait_s):
    ctx = context(ca, cert, key)
    conn = http.client.HTTPSConnection("localhost", port, context=ctx,
                                       timeout=10)
    # The certificate names localhost; we connect to 127.0.0.1.
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sock = ctx.wrap_socket(sock, server_hostname="localhost")
    conn.request("GET", path)
    resp = conn.getresponse()
    resp.read()
    t0 = time.monotonic()
    print("first %d" % resp.status, flush=True)
    return wait_closed(conn.sock, t0, wait_s)


def cycles(port, ca, cert, key, n):
    ctx = context(ca, cert, key)
    kinds = [0, 0, 0, 0]
    for i in range(n):
        kind = i % 4
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if kind == 0:
            tls = ctx.wrap_socket(sock, server_hostname="localhost")
            tls.sendall(b"GET /Marti/api/version HTTP/1.1\r\n"
                        b"Host: localhost\r\nConnection: close\r\n\r\n")
            got = b""
            while True:
                b = tls.recv(4096)
                if not b:
                    break
                got += b
            if not got.startswith(b"HTTP/1.1 200"):
                print("bad reply %r" % got[:40], flush=True)
                return 1
            tls.close()
        elif kind == 1:
            sock.close()
        elif kind == 2:
            # A ClientHello's first bytes, then nothing more.
            sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
            sock.close()
        else:
            tls = ctx.wrap_socket(sock, server_hostname="localhost")
            tls.close()
        kinds[kind] += 1
    print("ok %d: %d served, %d closed before TLS, %d mid-handshake, "
          "%d after the handshake" % (n, *kinds), flush=True)
    return 0


def main(argv):
    if len(argv) == 8 and argv[1] == "keepalive":
        return keepalive(int(argv[2]), argv[3], argv[4], argv[5], argv[6],
                         float(argv[7]))
    if len(argv) == 7 and argv[1] == "idle":
        return idle(int(argv[2]), argv[3], argv[4], argv[5], float(argv[6]))
    if len(argv) == 7 and argv[1] == "cycles":
        return cycles(int(argv[2]), argv[3], argv[4], argv[5], int(argv[6]))
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
