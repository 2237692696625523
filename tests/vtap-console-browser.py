#! /usr/bin/python3
# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The console's system test, in a real browser: headless Chromium, driven
by Selenium through chromedriver, does what an operator would on the
fleet of tests/system-vtap-fleet.at (three hosts, vmN on hvN):

  1. the overview shows the three hosts, their agents alive;
  2. the VMs page shows vm1..vm3 with MAC, IP and host;
  3. "Tap this VM" on vm2 opens the form filled in; a bad match is refused
     next to its field, and the database is unchanged; then the tap is
     created and the page shows every host applying it;
  4. TRAFFIC runs (vm2 pings, the collector captures);
  5. the tap's page shows the counters that ovs-vtap-fleetctl show has,
     within one refresh;
  6. the tap is deleted through the page; TRAFFIC runs again.

    vtap-console-browser.py URL SHOTS-DIR PIDFILE FLEETCTL TRAFFIC

FLEETCTL and TRAFFIC are shell commands (TRAFFIC gets the capture's name
as argument).  Prints what it saw, one line a step, for the test to
compare; saves a screenshot of each page in SHOTS-DIR.  Chromium runs as
the test wants it (headless, no sandbox, no GPU, no network of its own, a
fresh profile); its process group id is in PIDFILE, for the test's
cleanup."""

import os
import re
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.ui import WebDriverWait

url, shots, pidfile, fleetctl, traffic = sys.argv[1:6]
TIMEOUT = 40
# A name that a careless page would run as script.
XSS = "<img src=x onerror=alert(1)>"


def sh(cmd):
    return subprocess.run(cmd, shell=True, check=True, text=True,
                          stdout=subprocess.PIPE).stdout


def fleet_totals():
    """The fleet-wide counters of tap-vm2 as ovs-vtap-fleetctl show
    prints them."""
    out = sh(fleetctl + " show")
    m = re.search(r"^fleet tap tap-vm2:.*?^    fleet: ([^\n]*)$", out,
                  re.M | re.S)
    return dict(kv.split("=") for kv in m.group(1).split()[2:]) if m else {}


def stable(fn):
    """fn() again if the page was drawn again under it (each pushed view
    redraws the page)."""
    for i in range(50):
        try:
            return fn()
        except StaleElementReferenceException:
            time.sleep(0.1)
    return fn()


def main(d):
    wait = WebDriverWait(d, TIMEOUT, poll_frequency=0.2,
                         ignored_exceptions=[StaleElementReferenceException])

    def css(selector, root=None):
        return (root or d).find_elements(By.CSS_SELECTOR, selector)

    def until(what, predicate):
        try:
            return wait.until(lambda _: predicate())
        except TimeoutException:
            shot("timeout")
            raise SystemExit("timeout: %s" % what)

    def shot(name):
        d.save_screenshot(os.path.join(shots, name + ".png"))

    def text(selector):
        return stable(lambda: [e.text for e in css(selector)])

    def attr(selector, name):
        return stable(lambda: [e.get_attribute(name) for e in css(selector)])

    def click(selector):
        stable(lambda: css(selector)[0].click())

    # 1. The overview.
    d.get(url)
    until("three hosts connected", lambda: len(
        css('#hosts tr[data-host] td[data-agent="connected"]')) == 3)
    print("overview: hosts %s connected"
          % " ".join(attr("#hosts tr[data-host]", "data-host")))
    until("VM count", lambda: text('[data-card="vms"] .n') == ["3"])
    # What the database holds is text, not HTML (an alert would fail the
    # next step).
    sh(fleetctl + " collector-add '%s' local mon0" % XSS)
    until("the collector", lambda: text('[data-card="collectors"] .n')
          == ["4"])
    print("a collector named %s: shown as text: %s" % (
        XSS, any(XSS in t for t in text("#collectors tr"))
        and not css("#collectors img")))
    sh(fleetctl + " collector-del '%s'" % XSS)
    until("the collector gone", lambda: text('[data-card="collectors"] .n')
          == ["3"])
    shot("1-overview")

    # 2. The VMs.
    d.get(url + "#/vms")
    until("three VMs", lambda: len(css("#vms tr[data-vm]")) == 3)
    columns = [text('#vms [data-field="%s"]' % f)
               for f in ("iface_id", "mac", "ips", "host")]
    for vm in zip(*columns):
        print("vm: " + " ".join(vm))
    shot("2-vms")

    # 3. Tap vm2, first with a bad match.
    click('button[data-tap-vm="vm2"]')
    until("the form", lambda: d.find_element(By.ID, "tap-dialog")
          .get_attribute("open") is not None)
    until("the collectors", lambda: len(css("#tap-collector option")) == 3)
    print("form: name=%s target=%s" % (
        d.find_element(By.ID, "tap-name").get_attribute("value"),
        d.find_element(By.ID, "tap-target").get_attribute("value")))
    before = sh(fleetctl + " tap-list")
    Select(d.find_element(By.ID, "tap-collector")).select_by_value("c-gre")
    Select(d.find_element(By.ID, "tap-offload")).select_by_value("native")
    match = d.find_element(By.ID, "tap-match")
    match.send_keys("tp_dst=80")
    d.find_element(By.ID, "tap-submit").click()
    error = '#tap-form [data-error-for="match"]'
    until("the match's error", lambda: text(error) != [""])
    print("form error next to match: %s" % text(error)[0])
    print("database unchanged: %s" % (sh(fleetctl + " tap-list") == before))
    shot("3-form-error")
    match.clear()
    match.send_keys("icmp")
    d.find_element(By.ID, "tap-submit").click()
    until("the tap's page", lambda: d.current_url.endswith("#/taps/tap-vm2"))
    until("every host applied it", lambda: css(
        '#progress[data-state="done"]:not([hidden])'))
    print("progress: %s" % d.find_element(By.ID, "progress-text").text
          .split(" (")[0])
    print("tap-list: %s" % sh(fleetctl + " tap-list").strip())
    until("hv2 applies it", lambda: text(
        '#tap-hosts tr[data-tap-host="hv2"] [data-field="backend"]')
          == ["native"])
    print("hosts applying it: %s"
          % " ".join(attr("#tap-hosts tr[data-tap-host]", "data-tap-host")))
    shot("4-tap-created")

    # 4. Traffic.
    sh(traffic + " 1")

    # 5. The page's counters are ovs-vtap-fleetctl's, within one refresh.
    deadline = time.time() + TIMEOUT
    while fleet_totals().get("tx_packets") != "20":
        if time.time() > deadline:
            raise SystemExit("fleetctl never showed 20 copies: %s"
                             % fleet_totals())
        time.sleep(0.2)
    totals = fleet_totals()
    shown = '#tap-hosts tr[data-tap-host="fleet"] [data-counter="%s"]'
    agree = True
    for counter in ("tx_packets", "tx_bytes", "tx_errors",
                    "selected_packets"):
        # One refresh: the console's next snapshot (a second) and its push.
        try:
            WebDriverWait(d, 3, poll_frequency=0.1).until(
                lambda _: text(shown % counter) ==
                ["{:,}".format(int(totals[counter]))])
        except TimeoutException:
            agree = False
            print("%s: page %s, ovs-vtap-fleetctl %s"
                  % (counter, text(shown % counter), totals[counter]))
    print("page counters agree with ovs-vtap-fleetctl show: %s (%s)"
          % (agree, " ".join("%s=%s" % kv for kv in sorted(totals.items())
                             if kv[0] in ("tx_packets", "tx_errors"))))
    hv2 = '#tap-hosts tr[data-tap-host="hv2"] [data-counter="tx_packets"]'
    print("hv2 tx_packets: %s" % text(hv2)[0])
    until("copies/s above zero", lambda: float(text(
        '[data-total="copies_per_s"]')[0].replace(",", "")) > 0)
    time.sleep(1)
    shot("5-tap-counting")

    # 6. Delete it through the page.
    click("#delete-tap")
    until("the confirmation", lambda: d.find_element(
        By.ID, "confirm-dialog").get_attribute("open") is not None)
    d.find_element(By.ID, "confirm-yes").click()
    until("the overview", lambda: d.current_url.endswith("#/"))
    until("every host applied it", lambda: css(
        '#progress[data-state="done"]:not([hidden])'))
    print("progress: %s" % d.find_element(By.ID, "progress-text").text
          .split(" (")[0])
    print("tap-list after delete: [%s]" % sh(fleetctl + " tap-list").strip())
    until("no tap left", lambda: text('[data-card="taps"] .n') == ["0"])
    shot("6-tap-deleted")
    sh(traffic + " 2")


def chrome():
    opts = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1400,1000",
                "--user-data-dir=" + tempfile.mkdtemp(prefix="chrome-",
                                                      dir=os.getcwd())):
        opts.add_argument(arg)
    # chromedriver and the browsers it starts in a process group of their
    # own, which the test kills if this script does not get to quit them.
    service = Service("/usr/bin/chromedriver",
                      popen_kw={"start_new_session": True})
    service.start()
    with open(pidfile, "w") as f:
        f.write("%d\n" % service.process.pid)
    try:
        return webdriver.Chrome(service=service, options=opts)
    except Exception:
        service.stop()
        raise


if __name__ == "__main__":
    os.makedirs(shots, exist_ok=True)
    sys.stdout.reconfigure(line_buffering=True)
    driver = chrome()
    try:
        main(driver)
    finally:
        driver.quit()
