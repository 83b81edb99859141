#!/usr/bin/python3
# enroll_client.py PORT CAFILE USER PASSWORD PATH ACCEPT BODYFILE OUTFILE:
# POST BODYFILE to https://localhost:PORT/PATH (connected to 127.0.0.1,
# the server's certificate checked against CAFILE for "localhost") with
# HTTP Basic and that Accept, as a phone would; the reply's body into
# OUTFILE, "STATUS CONTENT-TYPE" on stdout.  Python's ssl + http.client
# only: nothing of takd's.
import base64
import http.client
import socket
import ssl
import sys


def main():
    port, ca, user, pw, path, accept, body, out = sys.argv[1:9]
    ctx = ssl.create_default_context(cafile=ca)
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    conn = http.client.HTTPSConnection("localhost", int(port), context=ctx,
                                       timeout=10)
    conn.sock = ctx.wrap_socket(sock, server_hostname="localhost")
    cred = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
    with open(body, "rb") as f:
        data = f.read()
    conn.request("POST", path, body=data, headers={
        "Authorization": "Basic " + cred, "Accept": accept,
        "Content-Type": "text/plain"})
    r = conn.getresponse()
    with open(out, "wb") as f:
        f.write(r.read())
    print("%d %s" % (r.status, r.getheader("Content-Type", "")))
    conn.close()
    return 0


sys.exit(main())
