#!/usr/bin/python3
"""The takd admin console in a real headless browser: Debian's chromium and
chromedriver, driven by Debian's python3-selenium (docs/console.md).

  console_browser.py URL ADMIN ADMIN_PW USER USER_PW CALLSIGN... -- OUTDIR
                     [DISCONNECT [REVOKE]]

A user who is not an admin is refused; the admin logs in, sees every
CALLSIGN on the map and in the clients table (as text: a callsign of
markup must not become markup), disconnects the client DISCONNECT and
revokes the client REVOKE (each must leave the table and the map, every
other client stays), filters the table, opens the health and users views,
logs out.  Screenshots go to OUTDIR.  Exit 0 when every check holds; 1
with the reason.
"""
import re
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

T0 = time.monotonic()


def fail(msg, drv=None, out=None):
    if drv is not None and out is not None:
        drv.save_screenshot(out + "/failure.png")
        open(out + "/failure.html", "w").write(drv.page_source)
    print("FAIL (%.1f s): %s" % (time.monotonic() - T0, msg))
    sys.exit(1)


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,900",
              "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    # The test CA is not the system's: accept the server's certificate.
    o.accept_insecure_certs = True
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                            options=o)


def login(drv, url, user, pw):
    drv.get(url + "/")
    WebDriverWait(drv, 10).until(EC.presence_of_element_located(
        (By.ID, "login")))
    drv.find_element(By.ID, "user").clear()
    drv.find_element(By.ID, "user").send_keys(user)
    drv.find_element(By.ID, "password").send_keys(pw)
    drv.find_element(By.ID, "login-button").click()


def rows(drv):
    return drv.execute_script(
        "return [...document.querySelectorAll('#clients tbody tr')]"
        ".map(r => r.cells[0].textContent)")


def on_map(drv):
    return drv.execute_script(
        "return [...document.querySelectorAll('.map-label')]"
        ".map(e => e.textContent.split(' \u00b7')[0])")


def row_button(drv, callsign, cls):
    for r in drv.find_elements(By.CSS_SELECTOR, "#clients tbody tr"):
        if r.find_elements(By.TAG_NAME, "td")[0].text == callsign:
            return r.find_element(By.CSS_SELECTOR, "button." + cls)
    return None


def gone(drv, out, callsign, others, what, t0):
    """callsign leaves the table and the map; the others stay."""
    try:
        WebDriverWait(drv, 10).until(
            lambda d: callsign not in rows(d) and callsign not in on_map(d))
    except TimeoutException:
        fail("%s: %r still shown (%r)" % (what, callsign, rows(drv)),
             drv, out)
    ms = (time.monotonic() - t0) * 1000
    for cs in others:
        if cs not in rows(drv) or cs not in on_map(drv):
            fail("%s of %r took %r with it" % (what, callsign, cs),
                 drv, out)
    return ms


def act(drv, out, callsign, others, what):
    t0 = time.monotonic()
    if what == "disconnect":
        b = row_button(drv, callsign, "disconnect")
        if b is None:
            fail("no Disconnect button for %r" % callsign, drv, out)
        b.click()
        word = "disconnected"
    else:
        b = row_button(drv, callsign, "revoke")
        if b is None:
            fail("no Revoke button for %r" % callsign, drv, out)
        b.click()
        WebDriverWait(drv, 5).until(EC.visibility_of_element_located(
            (By.ID, "revoke-dialog")))
        drv.find_element(By.CSS_SELECTOR,
                         "#revoke-reason option[value='keyCompromise']"
                         ).click()
        drv.find_element(By.ID, "revoke-confirm").click()
        word = "revoked"
    try:
        WebDriverWait(drv, 10).until(EC.text_to_be_present_in_element(
            (By.ID, "status"), word))
    except TimeoutException:
        fail("%s %r: no word of it (%r)" % (
            what, callsign, drv.find_element(By.ID, "status").text),
            drv, out)
    ms = gone(drv, out, callsign, others, what, t0)
    print("%s %r: gone from the table and the map in %.0f ms (%s)" % (
        what, callsign, ms, drv.find_element(By.ID, "status").text))


def main():
    a = sys.argv[1:]
    sep = a.index("--")
    url, admin, admin_pw, user, user_pw = a[:5]
    callsigns = a[5:sep]
    out = a[sep + 1]
    actions = a[sep + 2:]
    drv = browser()
    try:
        # A user of role user: refused, in words.
        login(drv, url, user, user_pw)
        try:
            WebDriverWait(drv, 10).until(EC.text_to_be_present_in_element(
                (By.ID, "login-status"), "admins only"))
        except TimeoutException:
            fail("a non-admin was not refused in words", drv, out)
        if drv.get_cookies():
            fail("a non-admin got a cookie", drv, out)
        # The admin.
        login(drv, url, admin, admin_pw)
        try:
            WebDriverWait(drv, 15).until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR,
                                              ".map-label")) >= len(callsigns))
        except TimeoutException:
            fail("the map does not show %d clients" % len(callsigns),
                 drv, out)
        # One read: the page redraws the map as updates come.
        labels = drv.execute_script(
            "return [...document.querySelectorAll('.map-label')]"
            ".map(e => e.textContent)")
        for cs in callsigns:
            if not any(lab.startswith(cs + " ·") for lab in labels):
                fail("%r not on the map: %r" % (cs, labels), drv, out)
        # Markup in a callsign stays text: no element was made of it.
        if drv.find_elements(By.CSS_SELECTOR, "img[src='x']"):
            fail("a callsign became an <img>", drv, out)
        drv.save_screenshot(out + "/map.png")
        drv.find_element(By.ID, "tab-clients").click()
        cells = drv.execute_script(
            "return [...document.querySelectorAll('#clients tbody tr')]"
            ".map(r => r.cells[0].textContent)")
        for cs in callsigns:
            if cs not in cells:
                fail("%r not in the table: %r" % (cs, cells), drv, out)
        drv.save_screenshot(out + "/clients.png")
        left = list(callsigns)
        for what, cs in zip(("disconnect", "revoke"), actions):
            left.remove(cs)
            act(drv, out, cs, left, what)
        if actions:
            drv.save_screenshot(out + "/actions.png")
        # The filter.
        count = "return document.querySelectorAll('#clients tbody tr').length"
        drv.find_element(By.ID, "filter").send_keys("zz-nobody")
        if drv.execute_script(count) != 0:
            fail("the filter kept rows of nobody", drv, out)
        drv.find_element(By.ID, "filter").clear()
        drv.find_element(By.ID, "filter").send_keys(left[-1][:3])
        n = drv.execute_script(count)
        if n < 1 or n > len(left):
            fail("the filter left %d rows" % n, drv, out)
        drv.find_element(By.ID, "tab-health").click()
        try:
            WebDriverWait(drv, 10).until(EC.text_to_be_present_in_element(
                (By.ID, "status"), "Health refreshed"))
        except TimeoutException:
            fail("the health view gave no figures", drv, out)
        # The expiries of takctl status, read as the operator reads them.
        rows = drv.execute_script(
            "return Object.fromEntries([...document.querySelectorAll("
            "'#health-summary tr')].map(r => [r.cells[0].textContent, "
            "r.cells[1].textContent]))")
        for k in ("server certificate expires", "CA expires"):
            if not re.search(r"\d+ days left", rows.get(k, "")):
                fail("health: %r is %r" % (k, rows.get(k)), drv, out)
        drv.save_screenshot(out + "/health.png")
        drv.find_element(By.ID, "tab-users").click()
        WebDriverWait(drv, 10).until(EC.text_to_be_present_in_element(
            (By.ID, "status"), "users."))
        drv.find_element(By.ID, "logout").click()
        WebDriverWait(drv, 10).until(EC.presence_of_element_located(
            (By.ID, "login")))
        if drv.get_cookie("takd_console"):
            fail("the cookie survived the logout", drv, out)
        alerts = drv.execute_script("return window.__alerted || 0")
        if alerts:
            fail("a script ran from a callsign", drv, out)
    finally:
        drv.quit()
    print("browser: %d clients seen, non-admin refused, logout (%.1f s)" %
          (len(callsigns), time.monotonic() - T0))


if __name__ == "__main__":
    main()
