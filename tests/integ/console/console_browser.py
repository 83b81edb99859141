#!/usr/bin/python3
"""The takd admin console in a real headless browser: Debian's chromium and
chromedriver, driven by Debian's python3-selenium (docs/console.md).

  console_browser.py URL ADMIN ADMIN_PW USER USER_PW CALLSIGN... -- OUTDIR

A user who is not an admin is refused; the admin logs in, sees every
CALLSIGN on the map and in the clients table (as text: a callsign of
markup must not become markup), filters the table, opens the health and
users views, logs out.  Screenshots go to OUTDIR.  Exit 0 when every check
holds; 1 with the reason.
"""
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


def main():
    a = sys.argv[1:]
    sep = a.index("--")
    url, admin, admin_pw, user, user_pw = a[:5]
    callsigns = a[5:sep]
    out = a[sep + 1]
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
        # The filter.
        drv.find_element(By.ID, "filter").send_keys(callsigns[0][:3])
        n = drv.execute_script(
            "return document.querySelectorAll('#clients tbody tr').length")
        if n < 1 or n > len(callsigns):
            fail("the filter left %d rows" % n, drv, out)
        drv.find_element(By.ID, "tab-health").click()
        try:
            WebDriverWait(drv, 10).until(EC.text_to_be_present_in_element(
                (By.ID, "status"), "Health refreshed"))
        except TimeoutException:
            fail("the health view gave no figures", drv, out)
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


main()
