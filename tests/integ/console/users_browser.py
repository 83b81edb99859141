#!/usr/bin/python3
"""The users view of the takd admin console in a headless Chromium
(Debian's chromium, chromedriver, python3-selenium; docs/console.md).

  users_browser.py URL ADMIN ADMIN_PW USER PW1 PW2 OUTDIR

The admin logs in, adds USER (password PW1, group Blue) confirming with
their own password, resets USER's password to PW2, deletes USER; each
action must say so in the status line and show in the table.  Between
the steps the script writes OUTDIR/added and OUTDIR/passwd and waits for
OUTDIR/go-passwd and OUTDIR/go-delete, made by the shell test once it
checked the step from outside (enrollment, sessions); it writes
OUTDIR/deleted at the end.  Screenshots go to OUTDIR.  Exit 0 when
every check holds; 1 with the reason.
"""
import os
import sys
import time

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_browser import browser, fail, login  # noqa: E402


def status_says(drv, out, word, what):
    try:
        WebDriverWait(drv, 20).until(EC.text_to_be_present_in_element(
            (By.ID, "status"), word))
    except TimeoutException:
        fail("%s: the status line says %r, not %r" % (
            what, drv.find_element(By.ID, "status").text, word), drv, out)


def user_rows(drv):
    return drv.execute_script(
        "return Object.fromEntries([...document.querySelectorAll("
        "'#users tbody tr')].map(r => [r.cells[0].textContent, "
        "r.cells[3].textContent]))")


def confirm(drv, admin_pw):
    WebDriverWait(drv, 5).until(EC.visibility_of_element_located(
        (By.ID, "user-dialog")))
    drv.find_element(By.ID, "ud-admin").send_keys(admin_pw)
    drv.find_element(By.ID, "ud-confirm").click()


def row_button(drv, out, user, op):
    b = drv.find_elements(By.CSS_SELECTOR,
                          "#users button.user-%s[data-user='%s']" % (op, user))
    if not b:
        fail("no %s button for %r" % (op, user), drv, out)
    return b[0]


def enroll_shown(drv, out, user, what):
    """Right after the admin set a password, the enrollment dialog shows
    the user's QR code; closing it drops the code."""
    try:
        WebDriverWait(drv, 10).until(lambda d: d.execute_script(
            "const i = document.getElementById('enroll-qr');"
            "return i && i.complete && i.naturalWidth > 0 &&"
            " document.getElementById('enroll-dialog').open"))
    except TimeoutException:
        fail("%s: no enrollment code shown for %r" % (what, user), drv, out)
    title = drv.find_element(By.ID, "enroll-title").text
    if user not in title:
        fail("%s: the enrollment dialog is %r" % (what, title), drv, out)
    drv.save_screenshot("%s/enroll-after-%s.png" % (out, what))
    drv.find_element(By.ID, "enroll-close").click()
    WebDriverWait(drv, 5).until(lambda d: not d.execute_script(
        "return document.getElementById('enroll-dialog').open"))


def step(drv, out, done, go):
    open(os.path.join(out, done), "w").close()
    end = time.monotonic() + 60
    while not os.path.exists(os.path.join(out, go)):
        if time.monotonic() > end:
            fail("the shell never said %s" % go, drv, out)
        time.sleep(0.05)


def main():
    url, admin, admin_pw, user, pw1, pw2, out = sys.argv[1:8]
    drv = browser()
    try:
        login(drv, url, admin, admin_pw)
        WebDriverWait(drv, 10).until(EC.presence_of_element_located(
            (By.ID, "tab-users")))
        drv.find_element(By.ID, "tab-users").click()
        status_says(drv, out, "users.", "the users view")
        # Admins get no buttons, only words.
        if drv.find_elements(By.CSS_SELECTOR,
                             "#users button[data-user='%s']" % admin):
            fail("the admin's own row has change buttons", drv, out)
        t0 = time.monotonic()
        drv.find_element(By.ID, "ua-name").send_keys(user)
        drv.find_element(By.ID, "ua-password").send_keys(pw1)
        drv.find_element(By.ID, "ua-groups").send_keys("Blue")
        drv.find_element(By.ID, "ua-submit").click()
        confirm(drv, admin_pw)
        status_says(drv, out, "added", "add")
        rows = user_rows(drv)
        if rows.get(user) != "Blue":
            fail("%r not in the table with group Blue: %r" % (user, rows),
                 drv, out)
        print("added %r in %.0f ms: %s" % (
            user, (time.monotonic() - t0) * 1000,
            drv.find_element(By.ID, "status").text))
        drv.save_screenshot(out + "/users.png")
        enroll_shown(drv, out, user, "add")
        step(drv, out, "added", "go-passwd")

        t0 = time.monotonic()
        row_button(drv, out, user, "passwd").click()
        WebDriverWait(drv, 5).until(EC.visibility_of_element_located(
            (By.ID, "ud-password")))
        drv.find_element(By.ID, "ud-password").send_keys(pw2)
        confirm(drv, admin_pw)
        status_says(drv, out, "password changed", "passwd")
        print("password of %r reset in %.0f ms" % (
            user, (time.monotonic() - t0) * 1000))
        enroll_shown(drv, out, user, "passwd")
        step(drv, out, "passwd", "go-delete")

        t0 = time.monotonic()
        row_button(drv, out, user, "delete").click()
        confirm(drv, admin_pw)
        status_says(drv, out, "deleted", "delete")
        if user in user_rows(drv):
            fail("%r still in the table" % user, drv, out)
        print("deleted %r in %.0f ms: %s" % (
            user, (time.monotonic() - t0) * 1000,
            drv.find_element(By.ID, "status").text))
        open(os.path.join(out, "deleted"), "w").close()
    finally:
        drv.quit()
    print("browser: users ok in %.1f s" % (time.monotonic() - T0))


T0 = time.monotonic()
main()
