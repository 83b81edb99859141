"""A TAK client that speaks TAK protocol v1 the way ATAK does, written
without takd's code: Python's ssl, Debian's python3-protobuf on the classes
protoc made from proto/, ElementTree for the XML.  tests/integ/
test_takproto.sh runs it with /usr/bin/python3 and PYTHONPATH at protoc's
output, placed on a worker like takclient (it prints the same "local
address" and "handshake ok" lines).

    v1client.py --connect HOST:PORT [--cert C --key K --pass P --ca CA |
                --plain] --uid U --callsign CS --script FILE

The script, one step a line ('#' comments):

    negotiate V [false]   wait for the offer (t-x-takp-v), ask for version
                          V, wait for the answer; true: both directions
                          switch to v1 frames (fails when it says false,
                          or when it says true and "false" is given)
    send-sa [REMARKS]     our position, in the session's encoding
    send-chat DEST TEXT   a b-t-f; DEST callsign=X or uid=Y
    send-ping             a t-x-c-t
    send-raw HEX          bytes as they are (hostile frames)
    expect TERM... [within=MS]
                          wait for an event matching every TERM: enc=xml|v1
                          uid= type= callsign= group= lat= lon= (numbers
                          compared as numbers) link= (its <link uid>)
                          grep= (a substring of its <detail>, as XML)
    forbid TERM...        from now on, no event may match
    expect-closed [within=MS]
                          the server closes the session
    sleep MS
    touch FILE
    wait-file FILE [within=MS]

Every event received is printed as one line: "event ENC uid=.. type=..
callsign=.. group=.. lat=.. lon=.. link=.. detail=..".  Exit status 0: the
script ran to its end; 3: the server closed the session before; 4: an
expectation was not met or a forbidden event came; 2: usage or setup.
"""
import argparse
import os
import select
import shlex
import socket
import ssl
import sys
import time
import uuid
import xml.etree.ElementTree as ET

import takmessage_pb2

EXIT_CLOSED, EXIT_UNMET, EXIT_USAGE = 3, 4, 2
WAIT_MS = 10000


def now_ms():
    return int(time.time() * 1000)


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + \
        ".%03dZ" % (ms % 1000)


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class Closed(Exception):
    pass


class Unmet(Exception):
    pass


class Event:
    """What a received event says, whichever its encoding."""

    def __init__(self, enc, uid, type_, callsign, group, lat, lon, link,
                 detail, status=None):
        self.enc, self.uid, self.type = enc, uid, type_
        self.callsign, self.group = callsign, group
        self.lat, self.lon, self.link = lat, lon, link
        self.detail, self.status = detail, status

    def line(self):
        return ("event %s uid=%s type=%s callsign=%s group=%s lat=%s lon=%s "
                "link=%s detail=%s" % (self.enc, self.uid, self.type,
                                       self.callsign, self.group,
                                       repr(self.lat), repr(self.lon),
                                       self.link, self.detail))

    def match(self, terms):
        for t in terms:
            k, _, v = t.partition("=")
            if k in ("lat", "lon"):
                got = getattr(self, k)
                if got is None or abs(got - float(v)) > 1e-9:
                    return False
            elif k == "grep":
                if v not in self.detail:
                    return False
            elif k == "type":
                if self.type != v:
                    return False
            elif k in ("enc", "uid", "callsign", "group", "link"):
                if getattr(self, k) != v:
                    return False
            else:
                raise SystemExit("unknown term " + t)
        return True


def from_xml(text):
    ev = ET.fromstring(text)
    point = ev.find("point")
    detail = ev.find("detail")
    contact = detail.find("contact") if detail is not None else None
    group = detail.find("__group") if detail is not None else None
    link = detail.find("link") if detail is not None else None
    resp = detail.find("TakControl/TakResponse") \
        if detail is not None else None
    inner = ""
    if detail is not None:
        inner = "".join(ET.tostring(c, encoding="unicode") for c in detail)
    return Event("xml", ev.get("uid"), ev.get("type"),
                 contact.get("callsign") if contact is not None else "",
                 group.get("name") if group is not None else "",
                 float(point.get("lat")) if point is not None else None,
                 float(point.get("lon")) if point is not None else None,
                 link.get("uid") if link is not None else "", inner,
                 resp.get("status") if resp is not None else None)


def from_v1(payload):
    m = takmessage_pb2.TakMessage()
    m.ParseFromString(payload)
    if not m.HasField("cotEvent"):
        raise Unmet("a v1 frame without cotEvent")
    e = m.cotEvent
    d = e.detail
    # xmlDetail is a fragment: read it inside a wrapper.
    frag = ET.fromstring("<detail>" + d.xmlDetail + "</detail>")
    callsign = d.contact.callsign if d.HasField("contact") else ""
    if frag.find("contact") is not None:
        callsign = frag.find("contact").get("callsign")
    group = d.group.name if d.HasField("group") else ""
    if frag.find("__group") is not None:
        group = frag.find("__group").get("name")
    link = frag.find("link")
    detail = d.xmlDetail
    if d.HasField("contact"):
        detail += '<contact callsign="%s" endpoint="%s"/>' % (
            d.contact.callsign, d.contact.endpoint)
    if d.HasField("group"):
        detail += '<__group name="%s" role="%s"/>' % (d.group.name,
                                                      d.group.role)
    return Event("v1", e.uid, e.type, callsign, group, e.lat, e.lon,
                 link.get("uid") if link is not None else "", detail)


class Client:
    def __init__(self, a):
        self.a = a
        self.v1 = False
        self.buf = b""
        self.events = []      # received, in order
        self.seen = 0         # events looked at by expect
        self.forbid = []
        self.closed = False
        host, port = a.connect.rsplit(":", 1)
        raw = socket.create_connection((host, int(port)), timeout=10)
        print("local address %s:%d" % raw.getsockname()[:2], flush=True)
        if a.plain:
            self.s = raw
            # What cot_placed waits for, as takclient --plain says it.
            print("handshake ok (plain TCP)", flush=True)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.load_verify_locations(a.ca)
            ctx.load_cert_chain(a.cert, a.key, password=a.password)
            self.s = ctx.wrap_socket(raw, server_hostname="localhost")
            print("handshake ok %s" % self.s.version(), flush=True)
        self.s.setblocking(False)

    # -- sending --

    def send_event(self, xml_text, msg):
        if self.v1:
            body = msg.SerializeToString()
            self.sendall(b"\xbf" + varint(len(body)) + body)
        else:
            self.sendall(b'<?xml version="1.0" encoding="UTF-8" '
                         b'standalone="yes"?>\n' + xml_text.encode())

    def sendall(self, data):
        self.s.setblocking(True)
        try:
            self.s.sendall(data)
        except OSError:
            raise Closed()
        finally:
            self.s.setblocking(False)

    def event(self, uid, type_, how, detail_xml, contact=None, stale_s=300):
        t = now_ms()
        lat, lon, hae, ce, le = 38.8895, -77.0353, 21.4, 9.9, 9999999.0
        m = takmessage_pb2.TakMessage()
        e = m.cotEvent
        e.uid, e.type, e.how = uid, type_, how
        e.sendTime, e.startTime, e.staleTime = t, t, t + stale_s * 1000
        e.lat, e.lon, e.hae, e.ce, e.le = lat, lon, hae, ce, le
        e.detail.xmlDetail = detail_xml
        xml_detail = detail_xml
        if contact is not None:
            e.detail.contact.callsign = contact
            e.detail.contact.endpoint = "*:-1:stcp"
            e.detail.group.name, e.detail.group.role = "Cyan", "Team Member"
            xml_detail = ('<contact callsign="%s" endpoint="*:-1:stcp"/>'
                          '<__group name="Cyan" role="Team Member"/>' %
                          contact) + detail_xml
        x = ('<event version="2.0" uid="%s" type="%s" how="%s" time="%s" '
             'start="%s" stale="%s"><point lat="%r" lon="%r" hae="%r" '
             'ce="%r" le="%r"/><detail>%s</detail></event>' %
             (uid, type_, how, iso(t), iso(t), iso(t + stale_s * 1000),
              lat, lon, hae, ce, le, xml_detail))
        return x, m

    # -- receiving --

    def pump(self, until_ms):
        """Read what comes until until_ms or one read's worth."""
        wait = max(0, until_ms - now_ms()) / 1000
        # Bytes OpenSSL already decrypted never make the socket readable.
        if not isinstance(self.s, ssl.SSLSocket) or self.s.pending() == 0:
            r, _, _ = select.select([self.s], [], [], wait)
            if not r:
                return
        try:
            data = self.s.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            raise Closed()
        self.buf += data
        self.cut()

    def cut(self):
        while self.buf:
            if self.v1:
                if self.buf[0] != 0xBF:
                    raise Unmet("not a v1 frame: byte %#x" % self.buf[0])
                n, shift, i = 0, 0, 1
                while True:
                    if i >= len(self.buf):
                        return
                    b = self.buf[i]
                    n |= (b & 0x7F) << shift
                    shift += 7
                    i += 1
                    if not b & 0x80:
                        break
                if len(self.buf) < i + n:
                    return
                ev = from_v1(self.buf[i:i + n])
                self.buf = self.buf[i + n:]
            else:
                end = self.buf.find(b"</event>")
                if end < 0:
                    return
                text = self.buf[:end + 8].decode("utf-8").strip()
                if not text.startswith("<event"):
                    raise Unmet("not an XML event: %r" % text[:40])
                ev = from_xml(text)
                self.buf = self.buf[end + 8:]
                # The answer "true" is the last XML: v1 from the next byte.
                if ev.type == "t-x-takp-r" and ev.status == "true":
                    self.v1 = True
            print(ev.line(), flush=True)
            self.events.append(ev)
            for f in self.forbid:
                if ev.match(f):
                    raise Unmet("forbidden event (%s): %s" %
                                (" ".join(f), ev.line()))

    def wait_for(self, terms, within):
        end = now_ms() + within
        while True:
            for i in range(self.seen, len(self.events)):
                if self.events[i].match(terms):
                    self.seen = i + 1
                    return self.events[i]
            if now_ms() >= end:
                raise Unmet("expect %s: not within %d ms" %
                            (" ".join(terms), within))
            self.pump(end)


def split_within(args, default=WAIT_MS):
    within, terms = default, []
    for t in args:
        if t.startswith("within="):
            within = int(t[7:])
        else:
            terms.append(t)
    return terms, within


def run(c, a, steps):
    for lineno, words in steps:
        cmd, args = words[0], words[1:]
        if cmd == "negotiate":
            offer = c.wait_for(["type=t-x-takp-v"], WAIT_MS)
            x = ('<event version="2.0" uid="%s" type="t-x-takp-q" '
                 'time="%s" start="%s" stale="%s" how="m-g"><point '
                 'lat="0.0" lon="0.0" hae="0.0" ce="999999" le="999999"/>'
                 '<detail><TakControl><TakRequest version="%s"/>'
                 '</TakControl></detail></event>' %
                 (offer.uid, iso(now_ms()), iso(now_ms()),
                  iso(now_ms() + 60000), args[0]))
            c.sendall(x.encode())
            ans = c.wait_for(["type=t-x-takp-r"], 60000)
            want = "false" if args[1:] == ["false"] else "true"
            if ans.status != want or c.v1 != (want == "true"):
                raise Unmet("negotiate %s: answer %s, wanted %s" %
                            (args[0], ans.status, want))
            print("negotiated %s: %s" % (args[0], ans.status), flush=True)
        elif cmd == "send-sa":
            x, m = c.event(a.uid, "a-f-G-U-C", "m-g",
                           "<remarks>%s</remarks>" % " ".join(args),
                           contact=a.callsign)
            c.send_event(x, m)
        elif cmd == "send-chat":
            k, _, v = args[0].partition("=")
            detail = ('<remarks>%s</remarks><marti><dest %s="%s"/></marti>'
                      '<link uid="%s" relation="p-p" type="a-f-G-U-C"/>' %
                      (" ".join(args[1:]), k, v, a.uid))
            x, m = c.event("GeoChat.%s.%s" % (a.uid, uuid.uuid4()), "b-t-f",
                           "h-g-i-g-o", detail)
            c.send_event(x, m)
        elif cmd == "send-ping":
            x, m = c.event(a.uid + "-ping", "t-x-c-t", "m-g", "", stale_s=20)
            c.send_event(x, m)
        elif cmd == "send-raw":
            c.sendall(bytes.fromhex("".join(args)))
        elif cmd == "expect":
            terms, within = split_within(args)
            ev = c.wait_for(terms, within)
            print("expect ok: %s" % " ".join(terms), flush=True)
        elif cmd == "forbid":
            c.forbid.append(args)
            for ev in c.events:
                if ev.match(args):
                    raise Unmet("forbidden event came before: " + ev.line())
        elif cmd == "expect-closed":
            _, within = split_within(args)
            end = now_ms() + within
            try:
                while now_ms() < end:
                    c.pump(end)
            except Closed:
                print("closed by the server, as expected", flush=True)
                continue
            raise Unmet("the server did not close the session")
        elif cmd == "sleep":
            end = now_ms() + int(args[0])
            while now_ms() < end:
                c.pump(end)
        elif cmd == "touch":
            open(args[0], "a").close()
        elif cmd == "wait-file":
            _, within = split_within(args[1:], 30000)
            end = now_ms() + within
            while not os.path.exists(args[0]):
                if now_ms() >= end:
                    raise Unmet("wait-file %s: not within %d ms" %
                                (args[0], within))
                c.pump(min(end, now_ms() + 20))
        else:
            print("line %d: unknown step %s" % (lineno, cmd))
            sys.exit(EXIT_USAGE)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--connect", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--pass", dest="password")
    p.add_argument("--ca")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--uid", default="py-v1")
    p.add_argument("--callsign", default="PYV1")
    p.add_argument("--script", required=True)
    a = p.parse_args()
    steps = []
    with open(a.script) as f:
        for n, line in enumerate(f, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                steps.append((n, shlex.split(line)))
    try:
        c = Client(a)
    except (OSError, ssl.SSLError) as e:
        print("handshake failed: %s" % e, flush=True)
        return 1
    try:
        run(c, a, steps)
    except Closed:
        print("closed by the server before the script ended", flush=True)
        return EXIT_CLOSED
    except Unmet as e:
        print("FAIL: %s" % e, flush=True)
        return EXIT_UNMET
    print("script done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
