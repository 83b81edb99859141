#!/usr/bin/python3
"""A data package client for tests/integ/test_datapkg.sh, written against
Python's ssl, http.client and hashlib only (nothing of takd's).

  dp_client.py get PORT CA CERT KEY PATH OUT
      GET PATH into the file OUT; prints "STATUS SIZE SHA256" (sha256 of
      the body as received).
  dp_client.py upload PORT CA CERT KEY PATH FILE [FIELD [FILENAME]]
      POST FILE to PATH with Content-Length, as ATAK does (multipart with
      the file in part FIELD named FILENAME) or, with FIELD "-", as the raw
      body (iTAK); prints "STATUS BODY".
  dp_client.py stall PORT CA CERT KEY PATH SIZE SENT WAIT_S
      Announce SIZE bytes, send SENT of them, then nothing: prints
      "closed after MS" when the server closes within WAIT_S seconds (ms
      from the last byte sent), else "still open".
  dp_client.py abort PORT CA CERT KEY PATH SIZE SENT
      Announce SIZE bytes, send SENT, close the connection; prints "sent".
  dp_client.py twice PORT CA CERT KEY PATH FILE
      Two connections upload FILE (multipart) at once, their bodies
      interleaved piece by piece; prints both statuses and bodies.

CERT and KEY are PEM files (the key's pass phrase is "test"); the
server's name is checked as "localhost".
"""
import hashlib
import http.client
import os
import select
import socket
import ssl
import sys
import time

BOUNDARY = "----takdtest7MA4YWxkTrZu0gW"
PIECE = 64 * 1024


def context(ca, cert, key):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key, password="test")
    return ctx


def conn(port, ctx):
    return http.client.HTTPSConnection("localhost", port, context=ctx,
                                       timeout=60)


def multipart_parts(field, filename, ctype="application/x-zip-compressed"):
    head = ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
            "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n" %
            (BOUNDARY, field, filename, ctype)).encode()
    tail = ("\r\n--%s--\r\n" % BOUNDARY).encode()
    return head, tail


def file_pieces(path):
    with open(path, "rb") as f:
        while True:
            b = f.read(PIECE)
            if not b:
                return
            yield b


def get(port, ca, cert, key, path, out):
    c = conn(port, context(ca, cert, key))
    c.request("GET", path)
    r = c.getresponse()
    h = hashlib.sha256()
    n = 0
    with open(out, "wb") as f:
        while True:
            b = r.read(PIECE)
            if not b:
                break
            h.update(b)
            n += len(b)
            f.write(b)
    print(r.status, n, h.hexdigest())
    return 0


def upload(port, ca, cert, key, path, fpath, field="assetfile",
           filename=None):
    c = conn(port, context(ca, cert, key))
    size = os.path.getsize(fpath)
    if field == "-":
        c.putrequest("POST", path)
        c.putheader("Content-Type", "application/octet-stream")
        c.putheader("Content-Length", str(size))
        c.endheaders()
        for b in file_pieces(fpath):
            c.send(b)
    else:
        head, tail = multipart_parts(field, filename or
                                     os.path.basename(fpath))
        c.putrequest("POST", path)
        c.putheader("Content-Type",
                    "multipart/form-data; boundary=" + BOUNDARY)
        c.putheader("Content-Length", str(len(head) + size + len(tail)))
        c.endheaders()
        c.send(head)
        for b in file_pieces(fpath):
            c.send(b)
        c.send(tail)
    r = c.getresponse()
    print(r.status, r.read().decode(errors="replace").strip())
    return 0


def raw_start(port, ctx, path, size):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    tls = ctx.wrap_socket(sock, server_hostname="localhost")
    tls.sendall(("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                 "application/octet-stream\r\nContent-Length: %d\r\n\r\n" %
                 (path, size)).encode())
    return tls


def stall(port, ca, cert, key, path, size, sent, wait_s):
    tls = raw_start(port, context(ca, cert, key), path, size)
    tls.sendall(b"x" * sent)
    t0 = time.monotonic()
    end = t0 + wait_s
    while time.monotonic() < end:
        r, _, _ = select.select([tls], [], [], 0.05)
        if not r:
            continue
        try:
            data = tls.recv(4096)
        except (ssl.SSLError, OSError):
            data = b""
        if data == b"":
            print("closed after %d" % ((time.monotonic() - t0) * 1000))
            return 0
    print("still open")
    return 1


def abort(port, ca, cert, key, path, size, sent):
    tls = raw_start(port, context(ca, cert, key), path, size)
    tls.sendall(b"y" * sent)
    time.sleep(0.2)
    tls.close()
    print("sent")
    return 0


def twice(port, ca, cert, key, path, fpath):
    ctx = context(ca, cert, key)
    size = os.path.getsize(fpath)
    head, tail = multipart_parts("assetfile", os.path.basename(fpath))
    cs = [conn(port, ctx), conn(port, ctx)]
    for c in cs:
        c.putrequest("POST", path)
        c.putheader("Content-Type",
                    "multipart/form-data; boundary=" + BOUNDARY)
        c.putheader("Content-Length", str(len(head) + size + len(tail)))
        c.endheaders()
        c.send(head)
    for b in file_pieces(fpath):
        for c in cs:
            c.send(b)
    for c in cs:
        c.send(tail)
    for c in cs:
        r = c.getresponse()
        print(r.status, r.read().decode(errors="replace").strip())
    return 0


def main(argv):
    if len(argv) < 7:
        print(__doc__, file=sys.stderr)
        return 2
    op, port, ca, cert, key, path = argv[1], int(argv[2]), argv[3], \
        argv[4], argv[5], argv[6]
    if op == "get":
        return get(port, ca, cert, key, path, argv[7])
    if op == "upload":
        return upload(port, ca, cert, key, path, *argv[7:10])
    if op == "stall":
        return stall(port, ca, cert, key, path, int(argv[7]), int(argv[8]),
                     float(argv[9]))
    if op == "abort":
        return abort(port, ca, cert, key, path, int(argv[7]), int(argv[8]))
    if op == "twice":
        return twice(port, ca, cert, key, path, argv[7])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
