#!/usr/bin/python3
"""The console's enrollment dialog in headless Chromium (docs/console.md,
"Enrollment"), with Debian's chromium, chromedriver and python3-selenium.

  console_enroll.py URL ADMIN ADMIN_PW NAME NAME_PW OUTDIR
                    [CALLSIGN SERIAL EXPIRES]

The admin logs in, opens the users view, clicks NAME's "Enrollment…",
types a wrong password (an error in words, no code, no package), then the
right one: the ATAK and iTAK codes render as images (screenshots
OUTDIR/qr-atak.png, qr-itak.png for zbarimg) and the package downloads
into OUTDIR/download/.  console_enroll_show(NAME, NAME_PW), what the
users view calls after setting a password, shows the codes at once.
With CALLSIGN, the clients table first: that client's row shows its
certificate's SERIAL and expiry EXPIRES ("YYYY-MM-DD HH:MM:SSZ") with the
days left.  Exit 0 when every check holds; 1 with the reason.
"""
import os
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
        drv.save_screenshot(out + "/enroll-failure.png")
        open(out + "/enroll-failure.html", "w").write(drv.page_source)
    print("FAIL (%.1f s): %s" % (time.monotonic() - T0, msg))
    sys.exit(1)


def browser(dl):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,900",
              "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    o.accept_insecure_certs = True
    o.add_experimental_option("prefs", {
        "download.default_directory": dl,
        "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                            options=o)


def loaded(drv, img_id):
    return drv.execute_script(
        "const i = document.getElementById(arguments[0]);"
        "return i && i.complete && i.naturalWidth > 0 && "
        "i.getBoundingClientRect().width > 0", img_id)


def cert_cell(drv, out, callsign, serial, expires):
    """The row of callsign shows its certificate's serial and expiry."""
    drv.find_element(By.ID, "tab-clients").click()
    js = ("for (const r of document.querySelectorAll('#clients tbody tr'))"
          "  if (r.cells[0].textContent === arguments[0]) {"
          "    const d = r.querySelector('details');"
          "    if (!d) return null;"
          "    d.open = true;"
          "    return [d.querySelector('summary').textContent,"
          "            d.textContent];"
          "  }"
          "return null;")
    try:
        got = WebDriverWait(drv, 10).until(
            lambda d: d.execute_script(js, callsign))
    except TimeoutException:
        fail("no certificate for %s in the clients table" % callsign,
             drv, out)
    summary, full = got
    days = (time.mktime(time.strptime(expires, "%Y-%m-%d %H:%M:%SZ")) -
            time.mktime(time.gmtime())) // 86400
    want = (serial[:12].upper(), "serial " + serial.upper(),
            "expires " + expires, "%d days left" % days)
    for w in want:
        if w not in full.upper() and w not in full:
            fail("%s's certificate: %r lacks %r" % (callsign, full, w),
                 drv, out)
    if expires[:10] not in summary:
        fail("the row's summary %r lacks the expiry" % summary, drv, out)
    drv.save_screenshot(out + "/clients-cert.png")
    print("clients table: %s" % summary)


def main():
    url, admin, admin_pw, name, name_pw, out = sys.argv[1:7]
    client = sys.argv[7:10]
    dl = os.path.join(out, "download")
    os.makedirs(dl, exist_ok=True)
    drv = browser(dl)
    wait = WebDriverWait(drv, 10)
    try:
        drv.get(url + "/")
        wait.until(EC.presence_of_element_located((By.ID, "login")))
        drv.find_element(By.ID, "user").send_keys(admin)
        drv.find_element(By.ID, "password").send_keys(admin_pw)
        drv.find_element(By.ID, "login-button").click()
        wait.until(EC.element_to_be_clickable((By.ID, "tab-users")))
        wait.until(lambda d: d.execute_script("return state.csrf !== ''"))
        if client:
            cert_cell(drv, out, *client)
        drv.find_element(By.ID, "tab-users").click()
        btn = None
        try:
            btn = wait.until(EC.element_to_be_clickable((
                By.CSS_SELECTOR, "#users button.enroll[aria-label$=' %s']"
                % name)))
        except TimeoutException:
            fail("no Enrollment button for %s" % name, drv, out)
        btn.click()
        pw = wait.until(EC.visibility_of_element_located(
            (By.ID, "enroll-password")))
        # A wrong password: said in words, no code, no package.
        pw.send_keys(name_pw + "-wrong")
        drv.find_element(By.ID, "enroll-submit").click()
        try:
            wait.until(lambda d: "not the password" in d.find_element(
                By.ID, "enroll-error").text)
        except TimeoutException:
            fail("no error for a wrong password", drv, out)
        if drv.find_element(By.ID, "enroll-result").is_displayed() or \
                drv.find_element(By.ID, "enroll-qr").get_attribute("src"):
            fail("a code after a wrong password", drv, out)
        # The right one: both codes render (under the console's CSP).
        pw.clear()
        pw.send_keys(name_pw)
        t0 = time.monotonic()
        drv.find_element(By.ID, "enroll-submit").click()
        try:
            wait.until(lambda d: loaded(d, "enroll-qr") and
                       loaded(d, "enroll-qr-itak"))
        except TimeoutException:
            fail("the QR codes did not render", drv, out)
        shown_ms = (time.monotonic() - t0) * 1000
        if drv.find_element(By.ID, "enroll-password").get_attribute("value"):
            fail("the password stays in the field", drv, out)
        for img, png in (("enroll-qr", "qr-atak.png"),
                         ("enroll-qr-itak", "qr-itak.png")):
            e = drv.find_element(By.ID, img)
            drv.execute_script("arguments[0].scrollIntoView()", e)
            e.screenshot(os.path.join(out, png))
        drv.save_screenshot(out + "/enroll.png")
        link = drv.find_element(By.ID, "enroll-download")
        if link.get_attribute("download") != name + "-enroll.zip":
            fail("download name %r" % link.get_attribute("download"),
                 drv, out)
        link.click()
        want = os.path.join(dl, name + "-enroll.zip")
        end = time.monotonic() + 10
        while not os.path.exists(want) and time.monotonic() < end:
            time.sleep(0.1)
        if not os.path.exists(want):
            fail("no download in %s: %r" % (dl, os.listdir(dl)), drv, out)
        # Closed: nothing of the code stays in the page.
        # The dialog's close event is a task of its own: wait for it.
        drv.find_element(By.ID, "enroll-close").click()
        try:
            WebDriverWait(drv, 5).until(lambda d: not d.find_element(
                By.ID, "enroll-qr").get_attribute("src"))
        except TimeoutException:
            fail("the code stays after the dialog closed", drv, out)
        # What the users view calls right after setting a password.
        drv.execute_script("console_enroll_show(arguments[0], "
                           "arguments[1])", name, name_pw)
        try:
            wait.until(lambda d: loaded(d, "enroll-qr"))
        except TimeoutException:
            fail("console_enroll_show(user, password) shows no code",
                 drv, out)
        print("codes shown %.0f ms after the click; package downloaded" %
              shown_ms)
    finally:
        drv.quit()
    print("browser: %.1f s" % (time.monotonic() - T0))


main()
