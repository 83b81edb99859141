#!/usr/bin/python3
"""HTTP checks of the takd admin console (docs/console.md), with Python's
ssl and http.client only.

  console_http.py routes  PORT CA SRCDIR    every route of the console's
                                            tables refuses without a session
  console_http.py session PORT CA USER PW   login, cookie flags, CSRF,
                                            logout (prints the cookie)
  console_http.py expiry  PORT CA USER PW S the session ends after S s idle
  console_http.py nonadmin PORT CA USER PW  a user's password: 403
  console_http.py cert    PORT CA CERT KEY  an admin certificate: the page,
                                            a session bound to it
  console_http.py revoke  PORT CA USER PW SERIAL SERVER_SERIAL
                                            revoke SERIAL; forged, twice
                                            and the server's: refused
  console_http.py enroll  PORT CA USER PW NAME NAME_PW URL OUT CERT KEY
                                            NAME's enrollment: OUT.zip and
                                            OUT.svg (its ATAK code), the
                                            url URL; no token, a wrong
                                            password (then slowed), a
                                            user's certificate: refused
  console_http.py users   PORT CA USER PW NONADMIN NONADMIN_PW USERS_FILE
                                            user changes refused: forged,
                                            a wrong admin password, an
                                            admin made or touched, bad
                                            names and groups, a user who
                                            exists, no session; the file
                                            unchanged by each
  console_http.py users_many PORT CA USER PW N PREFIX
                                            adds PREFIX1..PREFIXN one after
                                            the other (prints the time)
  console_http.py users503 PORT CA USER PW  a change while takd-usersd is
                                            gone: 503, in words
Exit 0 when every check holds; a failed check prints why and exits 1.
"""
import base64
import http.client
import json
import re
import ssl
import sys
import time
import urllib.parse


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ctx(ca, cert=None, key=None):
    c = ssl.create_default_context(cafile=ca)
    if cert:
        c.load_cert_chain(cert, key, password="test")
    return c


def req(port, ca, method, path, headers=None, cert=None, key=None,
        body=None):
    h = http.client.HTTPSConnection("localhost", port, timeout=20,
                                    context=ctx(ca, cert, key))
    h.request(method, path, body=body, headers=headers or {})
    r = h.getresponse()
    body = r.read()
    h.close()
    return r.status, r.getheaders(), body


def header(hs, name):
    return [v for k, v in hs if k.lower() == name.lower()]


def routes(port, ca, src):
    text = open(src + "/api/console.c").read() + \
        open(src + "/api/console_data.c").read() + \
        open(src + "/api/console_ops.c").read() + \
        open(src + "/api/console_enroll.c").read() + \
        open(src + "/api/console_users.c").read()
    found = re.findall(r'\{ "(/[^"]*)", (API_[A-Z|_ ]+),', text)
    if len(found) < 16:
        fail("only %d console routes found in the sources" % len(found))
    # The login page and what it needs are all a stranger gets.
    open_ok = {"/console/login.js", "/console/console.css"}
    for path, methods in found:
        for m in ("GET", "POST"):
            st, hs, body = req(port, ca, m, path)
            if path in open_ok and m == "GET":
                if st != 200:
                    fail("%s %s: %d" % (m, path, st))
                continue
            if st not in (403, 405):
                fail("%s %s without a session: %d, expected 403" %
                     (m, path, st))
            if st == 403 and path == "/" and b"Log in" not in body:
                fail("/ without a session: no login page")
            if st == 403 and path != "/" and b'"error":' not in body:
                fail("%s %s: 403 without a reason" % (m, path))
            # A forged cookie is no session either.
            st2, _, _ = req(port, ca, m, path, {
                "Cookie": "takd_console=" + "a" * 64})
            if path not in open_ok and st2 not in (403, 405):
                fail("%s %s with a forged cookie: %d" % (m, path, st2))
    # Without a certificate, the Marti API is closed.
    st, _, _ = req(port, ca, "GET", "/Marti/api/version")
    if st != 403:
        fail("/Marti/api/version without a certificate: %d" % st)
    print("%d routes refuse without a session" % len(found))


def login(port, ca, user, pw):
    auth = base64.b64encode((user + ":" + pw).encode()).decode()
    return req(port, ca, "POST", "/console/login",
               {"Authorization": "Basic " + auth})


def cookie_of(hs):
    sc = header(hs, "Set-Cookie")
    if len(sc) != 1:
        fail("Set-Cookie: %r" % sc)
    return sc[0]


def session(port, ca, user, pw):
    st, hs, body = login(port, ca, user, "wrong-" + pw)
    if st != 403 or header(hs, "Set-Cookie"):
        fail("a wrong password: %d %r" % (st, header(hs, "Set-Cookie")))
    st, hs, body = login(port, ca, user, pw)
    if st != 200:
        fail("login: %d %r" % (st, body))
    sc = cookie_of(hs)
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Max-Age=",
                 "Path=/"):
        if flag not in sc:
            fail("cookie without %s: %s" % (flag, sc))
    cookie = sc.split(";")[0]
    if not re.fullmatch(r"takd_console=[0-9a-f]{64}", cookie):
        fail("cookie value: %s" % cookie)
    st, hs, body = req(port, ca, "GET", "/", {"Cookie": cookie})
    if st != 200 or b"console.js" not in body:
        fail("the page with the session: %d" % st)
    csp = header(hs, "Content-Security-Policy")
    if not csp or "script-src 'self'" not in csp[0]:
        fail("no CSP: %r" % csp)
    # The session id is in no page and no URL.
    sid = cookie.split("=")[1]
    st, hs, body = req(port, ca, "GET", "/console/api/session",
                       {"Cookie": cookie})
    if st != 200:
        fail("session: %d" % st)
    sj = json.loads(body)
    if sid.encode() in body or sj["user"] != user or \
            not re.fullmatch(r"[0-9a-f]{64}", sj["csrf"]):
        fail("session JSON: %r" % sj)
    for path in ("/console/console.js", "/console/api/clients",
                 "/console/api/users", "/console/api/status"):
        st, hs, body = req(port, ca, "GET", path, {"Cookie": cookie})
        if st != 200 or sid.encode() in body:
            fail("%s with the session: %d" % (path, st))
    # A forged POST: the cookie (a browser adds it), no token.
    for hdr in ({}, {"X-CSRF-Token": "0" * 64},
                {"X-CSRF-Token": sj["csrf"], "Origin": "https://evil.example"}):
        h = dict(hdr)
        h["Cookie"] = cookie
        for path in FORGED:
            st, _, body = req(port, ca, "POST", path, h)
            if st != 403:
                fail("a forged POST %s %r: %d" % (path, hdr, st))
    # Still logged in after the forgeries, then a real logout.
    st, _, _ = req(port, ca, "GET", "/console/api/session",
                   {"Cookie": cookie})
    if st != 200:
        fail("session lost to a forged POST: %d" % st)
    st, hs, _ = req(port, ca, "POST", "/console/logout",
                    {"Cookie": cookie, "X-CSRF-Token": sj["csrf"]})
    if st != 200 or "Max-Age=0" not in cookie_of(hs):
        fail("logout: %d" % st)
    st, _, _ = req(port, ca, "GET", "/console/api/clients",
                   {"Cookie": cookie})
    if st != 403:
        fail("the session after logout: %d" % st)
    print("login, cookie flags, CSRF and logout hold")


# Every state-changing route, forged: refused before it looks at its
# arguments.
FORGED = ("/console/logout", "/console/api/clients/disconnect?id=1",
          "/console/api/clients/revoke?serial=1F&reason=keyCompromise",
          "/console/api/packages/delete?hash=" + "0" * 64,
          "/console/api/users/enroll?user=alice")


def expiry(port, ca, user, pw, idle):
    st, hs, _ = login(port, ca, user, pw)
    cookie = cookie_of(hs).split(";")[0]
    st, _, _ = req(port, ca, "GET", "/console/api/clients",
                   {"Cookie": cookie})
    if st != 200:
        fail("fresh session: %d" % st)
    time.sleep(float(idle) + 1.5)
    st, _, body = req(port, ca, "GET", "/console/api/clients",
                      {"Cookie": cookie})
    if st != 403 or b"session" not in body:
        fail("session after %s s idle: %d %r" % (idle, st, body))
    print("the session ended after %s s idle" % idle)


def nonadmin(port, ca, user, pw):
    st, hs, body = login(port, ca, user, pw)
    if st != 403 or header(hs, "Set-Cookie") or b"admin" not in body:
        fail("a user's login: %d %r" % (st, body))
    print("a user who is not an admin is refused")


def cert(port, ca, crt, key, other_crt, other_key):
    st, hs, body = req(port, ca, "GET", "/", cert=crt, key=key)
    if st != 200 or b"console.js" not in body:
        fail("the page with an admin certificate: %d" % st)
    cookie = cookie_of(hs).split(";")[0]
    st, _, _ = req(port, ca, "GET", "/console/api/clients",
                   {"Cookie": cookie}, cert=crt, key=key)
    if st != 200:
        fail("the certificate's session: %d" % st)
    # Bound to the certificate: not usable without it, nor with another.
    st, _, _ = req(port, ca, "GET", "/console/api/clients",
                   {"Cookie": cookie})
    if st != 403:
        fail("the certificate's session without it: %d" % st)
    st, _, _ = req(port, ca, "GET", "/console/api/clients",
                   {"Cookie": cookie}, cert=other_crt, key=other_key)
    if st != 403:
        fail("the certificate's session with another one: %d" % st)
    st, hs, body = req(port, ca, "GET", "/", cert=other_crt, key=other_key)
    if st != 403 or header(hs, "Set-Cookie"):
        fail("the page with a user's certificate: %d" % st)
    print("an admin certificate gets a session bound to it")


def revoke(port, ca, user, pw, serial, server_serial):
    """A revocation through the console's route, its refusals."""
    st, hs, _ = login(port, ca, user, pw)
    cookie = cookie_of(hs).split(";")[0]
    st, _, body = req(port, ca, "GET", "/console/api/session",
                      {"Cookie": cookie})
    csrf = json.loads(body)["csrf"]
    path = "/console/api/clients/revoke?reason=keyCompromise&serial="
    # Forged: no token, a wrong one.
    for hdr in ({}, {"X-CSRF-Token": "0" * 64}):
        h = dict(hdr)
        h["Cookie"] = cookie
        st, _, _ = req(port, ca, "POST", path + serial, h)
        if st != 403:
            fail("a forged revocation %r: %d" % (hdr, st))
    ok = {"Cookie": cookie, "X-CSRF-Token": csrf}
    st, _, body = req(port, ca, "POST", path + "xyz", ok)
    if st != 400:
        fail("a serial of no hex: %d" % st)
    t0 = time.monotonic()
    st, _, body = req(port, ca, "POST", path + serial.lower(), ok)
    ms = (time.monotonic() - t0) * 1000
    j = json.loads(body)
    if st != 200 or not j.get("ok"):
        fail("the revocation: %d %r" % (st, j))
    st, _, body = req(port, ca, "POST", path + serial, ok)
    if st != 409 or b"already" not in body:
        fail("revoked twice: %d %r" % (st, body))
    st, _, body = req(port, ca, "POST", path + server_serial, ok)
    if st != 409 or b"server" not in body:
        fail("the server's certificate: %d %r" % (st, body))
    print("revoked in %.0f ms: CRL number %d, generation %d; forged, "
          "twice and the server's certificate refused" % (
              ms, j["crl_number"], j["generation"]))


def enroll_req(port, ca, cookie, csrf, name, pw, cert=None, key=None):
    h = http.client.HTTPSConnection("localhost", port, timeout=20,
                                    context=ctx(ca, cert, key))
    hdr = {"Cookie": cookie,
           "Content-Type": "application/x-www-form-urlencoded"}
    if csrf:
        hdr["X-CSRF-Token"] = csrf
    body = "password=" + urllib.parse.quote(pw, safe="")
    t0 = time.monotonic()
    h.request("POST", "/console/api/users/enroll?user=" + name, body, hdr)
    r = h.getresponse()
    data = r.read()
    h.close()
    return r.status, r.getheaders(), data, time.monotonic() - t0


def enroll(port, ca, user, pw, name, name_pw, url, out, crt, key):
    """The enrollment route: the package and the codes for the right
    password only, with the token, for an admin; wrong ones slowed."""
    st, hs, _ = login(port, ca, user, pw)
    cookie = cookie_of(hs).split(";")[0]
    st, _, body = req(port, ca, "GET", "/console/api/session",
                      {"Cookie": cookie})
    csrf = json.loads(body)["csrf"]
    # No token: refused before the password is looked at.
    st, _, body, _ = enroll_req(port, ca, cookie, None, name, name_pw)
    if st != 403 or b"package" in body or b"svg" in body:
        fail("enrollment without the CSRF token: %d %r" % (st, body[:200]))
    # A user's certificate is no admin's session.
    st, _, body, _ = enroll_req(port, ca, "x=y", None, name, name_pw,
                                crt, key)
    if st != 403 or b"package" in body:
        fail("enrollment with a user's certificate: %d" % st)
    st, hs, body, dt = enroll_req(port, ca, cookie, csrf, name, name_pw)
    if st != 200:
        fail("enrollment: %d %r" % (st, body[:300]))
    if header(hs, "Cache-Control") != ["no-store"]:
        fail("enrollment reply cached: %r" % header(hs, "Cache-Control"))
    j = json.loads(body)
    if j["url"] != url:
        fail("ATAK URL %r, expected %r" % (j["url"], url))
    if not j["qr_svg"].startswith("<?xml") or "<svg" not in j["itak_svg"]:
        fail("no SVG codes")
    open(out + ".svg", "w").write(j["qr_svg"])
    open(out + ".zip", "wb").write(base64.b64decode(j["package"]))
    ok_ms = dt * 1000
    # Wrong passwords: 403 in words, nothing of the package; the login
    # throttle's rules (3 free failures per name) slow the fifth.
    times = []
    for i in range(5):
        st, hs, body, dt = enroll_req(port, ca, cookie, csrf, name,
                                      name_pw + "x")
        if st != 403 or b"not the password" not in body or \
                b"package" in body or b"svg" in body or b"token" in body:
            fail("a wrong password, try %d: %d %r" % (i, st, body[:200]))
        times.append(dt)
    if times[4] < 0.9 or max(times[:4]) > 0.9:
        fail("wrong passwords not slowed as logins: %r" % times)
    print("enrollment of %s in %.0f ms; no token, a user's certificate, "
          "wrong passwords refused (the 5th held %.1f s)" % (
              name, ok_ms, times[4]))


def users(port, ca, user, pw, other, other_pw, path):
    """User changes that must be refused, each leaving the file as it was."""
    st, hs, _ = login(port, ca, user, pw)
    cookie = cookie_of(hs).split(";")[0]
    st, _, body = req(port, ca, "GET", "/console/api/session",
                      {"Cookie": cookie})
    csrf = json.loads(body)["csrf"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    ok = dict(form, Cookie=cookie, **{"X-CSRF-Token": csrf})
    before = open(path, "rb").read()

    def post(op, fields, headers, want, word):
        st, _, body = req(port, ca, "POST", "/console/api/users/" + op,
                          headers, body=urllib.parse.urlencode(fields))
        if st != want or word.encode() not in body:
            fail("%s %r: %d %r, expected %d with %r" % (
                op, {k: v for k, v in fields.items()
                     if "password" not in k}, st, body, want, word))
        if open(path, "rb").read() != before:
            fail("%s %r changed the users file" % (op, fields))

    new = {"user": "mallory", "password": "pw-mallory", "groups": "Blue",
           "admin_password": pw}
    # Forged: no token, a wrong one, no session at all, a user's
    # password instead of a session.
    post("add", new, dict(form, Cookie=cookie), 403, "")
    post("add", new, dict(form, Cookie=cookie,
                          **{"X-CSRF-Token": "0" * 64}), 403, "")
    post("add", new, form, 403, "")
    auth = base64.b64encode((other + ":" + other_pw).encode()).decode()
    post("add", new, dict(form, Authorization="Basic " + auth), 403, "")
    # The admin's password, typed again, is checked by takd-usersd.
    post("add", dict(new, admin_password="wrong-" + pw), ok, 403,
         "admin password is wrong")
    post("delete", {"user": other, "admin_password": ""}, ok, 400,
         "admin_password")
    # A password in the URL (logs, history, Referer) is not read.
    st, _, body = req(port, ca, "POST", "/console/api/users/delete?" +
                      urllib.parse.urlencode({"admin_password": pw}), ok,
                      body=urllib.parse.urlencode({"user": other}))
    if st != 400 or b"admin_password" not in body:
        fail("admin_password from the query string: %d %r" % (st, body))
    if open(path, "rb").read() != before:
        fail("a change with the password in the URL")
    # No admin is made, none is touched.
    post("add", dict(new, role="admin"), ok, 403, "takctl user")
    for op, f in (("delete", {}), ("passwd", {"password": "x-new"}),
                  ("groups", {"groups": "Red"})):
        post(op, dict(f, user=user, admin_password=pw), ok, 403,
             "is an admin")
    # Names and groups as the users file takes them.
    post("add", dict(new, user="mal:lory"), ok, 400, "not a user name")
    post("add", dict(new, groups="Blue,Re:d"), ok, 400, "groups")
    post("add", dict(new, user=other), ok, 409, "exists")
    post("passwd", {"user": "nobody-here", "password": "x",
                    "admin_password": pw}, ok, 404, "no user")
    print("forged, wrong admin password, admin made or touched, bad "
          "names and groups, an existing user: refused, file unchanged")


def users_many(port, ca, user, pw, n, prefix):
    st, hs, _ = login(port, ca, user, pw)
    cookie = cookie_of(hs).split(";")[0]
    st, _, body = req(port, ca, "GET", "/console/api/session",
                      {"Cookie": cookie})
    h = {"Content-Type": "application/x-www-form-urlencoded",
         "Cookie": cookie, "X-CSRF-Token": json.loads(body)["csrf"]}
    t0 = time.monotonic()
    for i in range(1, int(n) + 1):
        f = {"user": "%s%d" % (prefix, i), "password": "pw-%d" % i,
             "groups": "Blue", "admin_password": pw}
        st, _, body = req(port, ca, "POST", "/console/api/users/add", h,
                          body=urllib.parse.urlencode(f))
        if st != 200:
            fail("add %s: %d %r" % (f["user"], st, body))
    print("%s users added in %.0f ms" % (n, (time.monotonic() - t0) * 1000))


def users503(port, ca, user, pw):
    st, hs, _ = login(port, ca, user, pw)
    cookie = cookie_of(hs).split(";")[0]
    st, _, body = req(port, ca, "GET", "/console/api/session",
                      {"Cookie": cookie})
    h = {"Content-Type": "application/x-www-form-urlencoded",
         "Cookie": cookie, "X-CSRF-Token": json.loads(body)["csrf"]}
    st, _, body = req(port, ca, "POST", "/console/api/users/delete", h,
                      body=urllib.parse.urlencode(
                          {"user": "bob", "admin_password": pw}))
    if st != 503 or b"unavailable until takd restarts" not in body:
        fail("a change without takd-usersd: %d %r" % (st, body))
    print("without takd-usersd: 503, %s" % json.loads(body)["error"])


def main():
    a = sys.argv[1:]
    if not a:
        fail(__doc__)
    cmd, port, ca = a[0], int(a[1]), a[2]
    if cmd == "routes":
        routes(port, ca, a[3])
    elif cmd == "session":
        session(port, ca, a[3], a[4])
    elif cmd == "expiry":
        expiry(port, ca, a[3], a[4], a[5])
    elif cmd == "nonadmin":
        nonadmin(port, ca, a[3], a[4])
    elif cmd == "revoke":
        revoke(port, ca, a[3], a[4], a[5], a[6])
    elif cmd == "users":
        users(port, ca, a[3], a[4], a[5], a[6], a[7])
    elif cmd == "users_many":
        users_many(port, ca, a[3], a[4], a[5], a[6])
    elif cmd == "users503":
        users503(port, ca, a[3], a[4])
    elif cmd == "enroll":
        enroll(port, ca, *a[3:11])
    elif cmd == "cert":
        cert(port, ca, a[3], a[4], a[5], a[6])
    else:
        fail("unknown command " + cmd)


main()
