"""An implementation of TAK protocol v1 that takd's code did not write:
Debian's python3-protobuf on classes protoc generated from proto/, and
ElementTree for the XML.  tests/integ/test_takp_python.sh runs it with
/usr/bin/python3 and PYTHONPATH at protoc's output.

    takp_check.py CONV to-takd      Python writes TakMessages, takd's codec
                                    (CONV decode and to-xml) reads them
    takp_check.py CONV from-takd DIR takd's codec writes the frame of every
                                    sample DIR/*.xml, Python reads them

Prints "ok: ..." per check and exits 1 at the first failure.
"""
import datetime
import glob
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import takmessage_pb2

CONV = sys.argv[1]
T0 = 1795420800000          # 2026-11-23T08:00:00Z


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def conv(mode, data):
    p = subprocess.run([CONV, mode], input=data, capture_output=True,
                       timeout=30)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def iso_ms(s):
    """ISO 8601 as TAK writes it to Unix ms (Python's own parser)."""
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    if "." in s:
        head, rest = s.split(".", 1)
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        s = head + "." + (digits + "000000")[:6] + rest
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (d - epoch) // datetime.timedelta(milliseconds=1)


def base_event(uid="py-1"):
    m = takmessage_pb2.TakMessage()
    e = m.cotEvent
    e.uid, e.type, e.how = uid, "a-f-G-U-C", "m-g"
    e.sendTime, e.startTime, e.staleTime = T0, T0, T0 + 360000
    e.lat, e.lon, e.hae, e.ce, e.le = 38.8895, -77.0353, 21.4, 9.9, 9999999.0
    return m


def view(payload):
    rc, out, err = conv("decode", payload)
    if rc != 0:
        fail("takd refused a message Python wrote: " + err)
    v = {"dest": []}
    for line in out.decode("utf-8").splitlines():
        k, _, val = line.partition("=")
        if k == "dest":
            v["dest"].append(val)
        else:
            v[k] = val
    return v


def to_xml(payload):
    rc, out, err = conv("to-xml", payload)
    if rc != 0:
        fail("takd's to-xml refused a message Python wrote: " + err)
    try:
        return ET.fromstring(out)
    except ET.ParseError as e:
        fail("takd wrote XML that does not parse: %s: %r" % (e, out))


def child(el, name):
    found = el.findall(name)
    if len(found) != 1:
        fail("%d <%s> in <%s>, expected 1" % (len(found), name, el.tag))
    return found[0]


def expect(what, got, want):
    if got != want:
        fail("%s: takd says %r, Python wrote %r" % (what, got, want))


def to_takd():
    # An SA with every typed message and a little xmlDetail.
    m = base_event("ANDROID-py")
    e = m.cotEvent
    e.access, e.qos, e.opex = "Undefined", "1-r-c", "e-x"
    e.caveat, e.releaseableTo = "FOUO", "USA GBR"
    d = e.detail
    d.xmlDetail = '<uid Droid="PY"/><remarks>a &lt; b &amp; c</remarks>'
    d.contact.callsign, d.contact.endpoint = "PYHAWK", "*:-1:stcp"
    d.group.name, d.group.role = "Cyan", "Team Member"
    d.precisionLocation.geopointsrc = "GPS"
    d.precisionLocation.altsrc = "DTED0"
    d.status.battery = 4294967295
    d.takv.device, d.takv.platform = "Pixel", "ATAK-CIV"
    d.takv.os, d.takv.version = "34", "5.2"
    d.track.speed, d.track.course = 1.4, 359.99999999999994
    payload = m.SerializeToString()
    v = view(payload)
    expect("kind", v["kind"], "event")
    for k, want in (("uid", "ANDROID-py"), ("type", "a-f-G-U-C"),
                    ("how", "m-g"), ("time", str(T0)), ("start", str(T0)),
                    ("stale", str(T0 + 360000)), ("has_point", "1"),
                    ("callsign", "PYHAWK"), ("endpoint", "*:-1:stcp"),
                    ("group_name", "Cyan"), ("group_role", "Team Member"),
                    ("has_contact", "1")):
        expect(k, v[k], want)
    for k, want in (("lat", e.lat), ("lon", e.lon), ("hae", e.hae),
                    ("ce", e.ce), ("le", e.le)):
        expect(k, float(v[k]), want)
    x = to_xml(payload)
    expect("root", x.tag, "event")
    for k, want in (("uid", e.uid), ("type", e.type), ("how", e.how),
                    ("access", e.access), ("qos", e.qos), ("opex", e.opex),
                    ("caveat", e.caveat), ("releasableTo", e.releaseableTo)):
        expect("<event> " + k, x.get(k), want)
    for k, want in (("time", T0), ("start", T0), ("stale", T0 + 360000)):
        expect("<event> " + k, iso_ms(x.get(k)), want)
    p = child(x, "point")
    for k in ("lat", "lon", "hae", "ce", "le"):
        expect("<point> " + k, float(p.get(k)), getattr(e, k))
    det = child(x, "detail")
    expect("<contact>", child(det, "contact").attrib,
           {"callsign": "PYHAWK", "endpoint": "*:-1:stcp"})
    expect("<__group>", child(det, "__group").attrib,
           {"name": "Cyan", "role": "Team Member"})
    expect("<precisionlocation>", child(det, "precisionlocation").attrib,
           {"geopointsrc": "GPS", "altsrc": "DTED0"})
    expect("<status>", child(det, "status").attrib,
           {"battery": "4294967295"})
    expect("<takv>", child(det, "takv").attrib,
           {"device": "Pixel", "platform": "ATAK-CIV", "os": "34",
            "version": "5.2"})
    t = child(det, "track")
    expect("<track> speed", float(t.get("speed")), 1.4)
    expect("<track> course", float(t.get("course")), 359.99999999999994)
    expect("<uid>", child(det, "uid").attrib, {"Droid": "PY"})
    expect("<remarks>", child(det, "remarks").text, "a < b & c")
    print("ok: an SA with every field, decoded and written as XML")

    # xmlDetail wins over a typed message; dests, links from xmlDetail.
    m = base_event("py-chat")
    d = m.cotEvent.detail
    d.xmlDetail = ('<contact callsign="FROM-XML"/><marti><dest uid="U1"/>'
                   '<dest callsign="C2"/></marti><link uid="L" type="a-f" '
                   'relation="p-p"/>')
    d.contact.callsign = "FROM-TYPED"
    v = view(m.SerializeToString())
    expect("callsign", v["callsign"], "FROM-XML")
    expect("dests", v["dest"], ["uid:U1", "callsign:C2"])
    expect("link_uid", v["link_uid"], "L")
    det = child(to_xml(m.SerializeToString()), "detail")
    expect("<contact>", child(det, "contact").attrib,
           {"callsign": "FROM-XML"})
    print("ok: xmlDetail wins, dests and link read from it")

    # Escaping: every string that becomes an attribute.
    nasty = "<a&b\"c'd>\t\n"
    m = base_event("py-<&\"'>")
    e = m.cotEvent
    e.access = e.qos = e.opex = e.caveat = e.releaseableTo = nasty
    e.detail.takv.device = e.detail.takv.os = nasty
    e.detail.precisionLocation.altsrc = nasty
    x = to_xml(m.SerializeToString())
    expect("uid", x.get("uid"), "py-<&\"'>")
    for k in ("access", "qos", "opex", "caveat", "releasableTo"):
        expect(k, x.get(k), nasty)
    det = child(x, "detail")
    expect("takv device", child(det, "takv").get("device"), nasty)
    expect("altsrc", child(det, "precisionlocation").get("altsrc"), nasty)
    print("ok: <&\"'> tab and LF in attributes come back from XML")

    # Unicode.
    m = base_event("py-\u00d1and\u00fa")
    m.cotEvent.detail.contact.callsign = "\u00c9t\u00e9 \U0001f6f0"
    v = view(m.SerializeToString())
    expect("uid", v["uid"], "py-\u00d1and\u00fa")
    expect("callsign", v["callsign"], "\u00c9t\u00e9 \U0001f6f0")
    print("ok: UTF-8 through")

    # A TakControl alone.
    m = takmessage_pb2.TakMessage()
    m.takControl.minProtoVersion = 1
    m.takControl.maxProtoVersion = 1
    m.takControl.contactUid = "ANDROID-py"
    v = view(m.SerializeToString())
    expect("kind", v["kind"], "control")
    expect("control", v["control"], "1-1 ANDROID-py")
    print("ok: a TakControl alone")

    # Unknown fields and the official server's times are ignored.
    m = base_event()
    m.submissionTime = m.creationTime = T0
    payload = m.SerializeToString() + bytes([0xf8, 0x07, 0x01])  # field 127
    expect("uid", view(payload)["uid"], "py-1")
    print("ok: submissionTime, creationTime and unknown fields")

    # What takd refuses, Python can still write.
    bad = []
    m = base_event(); m.cotEvent.lat = math.nan; bad.append(("NaN lat", m))
    m = base_event(); m.cotEvent.hae = math.inf; bad.append(("inf hae", m))
    m = base_event(); m.cotEvent.staleTime = 0; bad.append(("no stale", m))
    m = base_event(); m.cotEvent.uid = ""; bad.append(("no uid", m))
    m = base_event(); m.cotEvent.uid = "a\x00b"; bad.append(("NUL uid", m))
    m = base_event(); m.cotEvent.detail.takv.os = "x\x00"
    bad.append(("NUL in takv os", m))
    m = base_event(); m.cotEvent.detail.xmlDetail = "\x01"
    bad.append(("control character in xmlDetail", m))
    m = base_event(); m.cotEvent.detail.xmlDetail = "<a>"
    bad.append(("unclosed xmlDetail", m))
    m = base_event(); m.cotEvent.detail.xmlDetail = "<!-- </event> -->"
    bad.append(("</event> in xmlDetail", m))
    m = base_event(); m.cotEvent.sendTime = 253402300800000
    bad.append(("year 10000", m))
    m = base_event(); m.cotEvent.startTime = 2**64 - 1000
    bad.append(("negative time as uint64", m))
    m = base_event(); m.cotEvent.detail.contact.callsign = "x" * 128
    bad.append(("128-byte callsign", m))
    m = takmessage_pb2.TakMessage(); m.submissionTime = T0
    bad.append(("no cotEvent", m))
    for what, m in bad:
        payload = m.SerializeToString()
        for mode in ("decode", "to-xml"):
            rc, out, err = conv(mode, payload)
            if rc != 1 or out:
                fail("%s: takd %s exited %d with %r" % (what, mode, rc, out))
    print("ok: %d hostile messages refused by decode and to-xml" % len(bad))


TYPED = {"contact": ("contact", ("callsign", "endpoint")),
         "__group": ("group", ("name", "role")),
         "precisionlocation": ("precisionLocation",
                               ("geopointsrc", "altsrc")),
         "status": ("status", ("battery",)),
         "takv": ("takv", ("device", "platform", "os", "version")),
         "track": ("track", ("speed", "course"))}


def same_value(a, b):
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def same_element(a, b):
    if a.tag != b.tag or (a.text or "").strip() != (b.text or "").strip():
        return False
    if set(a.attrib) != set(b.attrib):
        return False
    if any(not same_value(a.get(k), b.get(k)) for k in a.attrib):
        return False
    ka, kb = list(a), list(b)
    return len(ka) == len(kb) and all(map(same_element, ka, kb))


def from_takd(sample_dir):
    samples = sorted(glob.glob(os.path.join(sample_dir, "*.xml")))
    if len(samples) < 10:
        fail("only %d samples in %s" % (len(samples), sample_dir))
    events = [(os.path.basename(p), open(p, "rb").read()) for p in samples]
    # The <event> attributes no sample has, written by ElementTree.
    ev = ET.Element("event", {
        "version": "2.0", "uid": "py-attrs", "type": "a-f-G", "how": "h-e",
        "time": "2026-11-23T08:00:00.5Z", "start": "2026-11-23T08:00:01Z",
        "stale": "2026-11-23T09:00:00+01:00", "access": "Undefined",
        "qos": "1-r-c", "opex": "e-\u00e9", "caveat": "FOUO",
        "releasableTo": "USA GBR <&>"})
    ET.SubElement(ev, "point", {"lat": "-90", "lon": "180", "hae": "-1e-3",
                                "ce": "0.1", "le": "999999"})
    det = ET.SubElement(ev, "detail")
    ET.SubElement(det, "track", {"speed": "1.4", "course": "2",
                                 "slope": "3"})
    ET.SubElement(det, "status", {"battery": "7"})
    events.append(("ElementTree event", ET.tostring(ev, encoding="utf-8")))
    for name, raw in events:
        rc, frame, err = conv("from-xml", raw)
        if rc != 0:
            fail("%s: takd refused it: %s" % (name, err))
        # The stream header, read here: 0xBF, a varint, the payload.
        if frame[0] != 0xBF:
            fail("%s: frame starts with %#x" % (name, frame[0]))
        n, shift, i = 0, 0, 1
        while True:
            n |= (frame[i] & 0x7F) << shift
            shift += 7
            i += 1
            if not frame[i - 1] & 0x80:
                break
        if n != len(frame) - i:
            fail("%s: header says %d bytes, %d follow" %
                 (name, n, len(frame) - i))
        m = takmessage_pb2.TakMessage.FromString(frame[i:])
        if m.HasField("takControl") or not m.HasField("cotEvent"):
            fail("%s: not a lone cotEvent" % name)
        e = m.cotEvent
        # The sample, read by ElementTree (the declaration's utf-16 is a
        # lie: parse the text).
        text = raw.decode("utf-8")
        x = ET.fromstring(text[text.index("<event"):])
        if name == "ElementTree event":
            expect("releaseableTo", e.releaseableTo, "USA GBR <&>")
        for k, field in (("uid", "uid"), ("type", "type"), ("how", "how"),
                         ("access", "access"), ("qos", "qos"),
                         ("opex", "opex"), ("caveat", "caveat"),
                         ("releasableTo", "releaseableTo")):
            expect("%s %s" % (name, k), getattr(e, field), x.get(k, ""))
        for k, field in (("time", "sendTime"), ("start", "startTime"),
                         ("stale", "staleTime")):
            want = iso_ms(x.get(k)) if x.get(k) else 0
            expect("%s %s" % (name, k), getattr(e, field), want)
        p = x.find("point")
        for k in ("lat", "lon", "hae", "ce", "le"):
            expect("%s point %s" % (name, k), getattr(e, k),
                   float(p.get(k)))
        det = x.find("detail")
        if det is None:
            if e.HasField("detail"):
                fail("%s: a Detail for an event without <detail>" % name)
            print("ok: %s (no detail)" % name)
            continue
        if not e.HasField("detail"):
            fail("%s: <detail> lost" % name)
        d = e.detail
        rest = list(ET.fromstring("<detail>" + d.xmlDetail + "</detail>"))
        typed = 0
        # Every child is in exactly one place, with the same values.
        for c in det:
            in_xml = [r for r in rest if same_element(c, r)]
            t = TYPED.get(c.tag)
            in_typed = False
            if t is not None and d.HasField(t[0]):
                msg = getattr(d, t[0])
                vals = {a: str(getattr(msg, a)) for a in t[1]}
                if c.tag not in ("status", "track"):
                    vals = {a: v for a, v in vals.items() if v != ""}
                in_typed = (set(vals) == set(c.attrib) and
                            all(same_value(c.get(a), v)
                                for a, v in vals.items()))
            if in_xml and in_typed:
                fail("%s: <%s> both typed and in xmlDetail" % (name, c.tag))
            if not in_xml and not in_typed:
                fail("%s: <%s> lost (xmlDetail %r)" %
                     (name, c.tag, d.xmlDetail))
            if in_xml:
                rest.remove(in_xml[0])
            else:
                typed += 1
        if rest:
            fail("%s: xmlDetail has more: %r" % (name, d.xmlDetail))
        if name == "sa-atak.xml" and typed != 6:
            fail("sa-atak.xml: %d typed messages, expected 6" % typed)
        print("ok: %s (%d typed, %d bytes of xmlDetail)" %
              (name, typed, len(d.xmlDetail.encode("utf-8"))))


if sys.argv[2] == "to-takd":
    to_takd()
elif sys.argv[2] == "from-takd":
    from_takd(sys.argv[3])
else:
    fail("usage: takp_check.py CONV to-takd|from-takd DIR")
