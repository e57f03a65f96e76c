"""The console in a real browser against the running stack (scripts/console-browser-test
starts both): Debian's chromium, driven by selenium through chromium-driver, logging in at
the stack's OpenID Connect provider as a viewer and as an operator.

What it checks, each against the manager's own record (its Unix socket), not the page:
  - without a session, and with a forged session cookie, the console shows only its login;
  - a viewer sees the overview, updated live without a reload, but no action; the action's page and a forced POST (with the
    viewer's own CSRF token) are refused with 403 and the latch does not move;
  - an operator's POST without the CSRF token is refused with 403 and nothing changes;
  - an operator halts through the confirmation page: the latch closes, recorded as
    console.olga with the reason; the executor then refuses the bots' intents; the operator
    resumes and the bots trade again;
  - a viewer reads the bots (each with its market charted), orders
    (filtered by bot), fills, market data and audit pages;
  - an operator pauses and resumes a bot from the bots page, audited in their name;
  - an operator submits two backtests from the form generated from the strategy catalogue,
    each run's equity chart appears on its live page, and the two compare on one chart; a
    viewer is offered no submission and is refused one forced;
  - logout makes the session cookie worthless.
Saves a screenshot of every page and prints each page's weight and time to first render.

Usage: browser_test.py CONSOLE_URL MANAGER_SOCKET SCREENSHOT_DIRECTORY
"""

import datetime
import http.client
import json
import os
import pathlib
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

console, manager_socket, shots = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
shots.mkdir(parents=True, exist_ok=True)
failures = []
weights = []


class UnixHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(manager_socket)


def manager(path):
    """The manager's API on its socket, as gordonctl reads it."""
    connection = UnixHTTPConnection("localhost", timeout=30)
    connection.request("GET", "/api/v1/" + path)
    reply = connection.getresponse()
    body = reply.read()
    assert reply.status == 200, f"manager {path}: HTTP {reply.status} {body[:200]!r}"
    return json.loads(body)


def latch():
    return manager("status")["trading"]["halt"]


def wait_until(what, condition, seconds=90):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.2)  # polling interval, bounded by the deadline above


def check(name, function):
    started = time.monotonic()
    try:
        function()
        print(f"PASS {name} ({time.monotonic() - started:.1f} s)", flush=True)
    except Exception as error:  # every failure is reported, then the next scenario runs
        failures.append(name)
        print(f"FAIL {name}: {type(error).__name__}: {error}", flush=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1600", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    return driver


def shoot(driver, name):
    """A screenshot of the page, and its weight and time to first render from the browser's
    own timing."""
    driver.save_screenshot(str(shots / f"{name}.png"))
    timing = driver.execute_script("""
        const navigation = performance.getEntriesByType('navigation')[0];
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        const resources = performance.getEntriesByType('resource');
        return {document: navigation ? navigation.transferSize : 0,
                resources: resources.reduce((sum, r) => sum + r.transferSize, 0),
                firstRender: paint ? paint.startTime : null};""")
    weights.append((name, timing["document"] + timing["resources"], timing["firstRender"]))


def log_in(driver, user):
    driver.delete_all_cookies()
    driver.get(console + "/")
    driver.find_element(By.ID, "login").click()
    # The provider's page: the predefined users are buttons.
    button = WebDriverWait(driver, 30).until(expected_conditions.element_to_be_clickable(
        (By.CSS_SELECTOR, f"button[name=sub][value={user}]")))
    button.click()
    WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, "latch")))
    who = driver.find_element(By.CSS_SELECTOR, "header .who").text
    assert who.startswith(user), f"signed in as {who!r}, not {user}"


def session_cookie(driver):
    return driver.get_cookie("gordon_session")["value"]


def post(path, fields, cookie=None, origin=None):
    """A form POST outside the browser: what a forged or replayed request can do."""
    request = urllib.request.Request(console + path, data=urllib.parse.urlencode(fields).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if cookie:
        request.add_header("Cookie", "gordon_session=" + cookie)
    if origin:
        request.add_header("Origin", origin)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *arguments, **keywords):
            return None

    try:
        reply = urllib.request.build_opener(NoRedirect).open(request, timeout=30)
        return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def act(driver, button, reason, then, screenshot=None):
    """Clicks an action's button, says why on its confirmation page, confirms, and waits for
    the element `then` on the page the console goes back to."""
    driver.find_element(By.ID, button).click()
    WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, "confirm")))
    if screenshot:
        shoot(driver, screenshot)
    driver.find_element(By.ID, "reason").send_keys(reason)
    driver.find_element(By.ID, "confirm").click()
    WebDriverWait(driver, 60).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, then)))


def equity_as_of(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#equity dd")[-1].text


def csrf(driver):
    return driver.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")


def audit_count():
    return len(manager("audit?limit=1000"))


driver = browser()
try:
    def anonymous():
        driver.delete_all_cookies()
        driver.get(console + "/")
        assert driver.find_elements(By.ID, "login"), "no login link for a visitor"
        assert not driver.find_elements(By.ID, "latch"), "a visitor sees the overview"
        shoot(driver, "01-login")
        # A cookie nobody was given: still only the login.
        driver.add_cookie({"name": "gordon_session", "value": "Zm9yZ2VkLXNlc3Npb24taWQtdGhhdC1ub2JvZHktaXNzdWVk"})
        driver.get(console + "/")
        assert driver.find_elements(By.ID, "login") and not driver.find_elements(By.ID, "latch"), "a forged cookie got in"
        try:
            urllib.request.urlopen(console + "/live/overview", timeout=30)
            raise AssertionError("the live overview answered a visitor")
        except urllib.error.HTTPError as error:
            assert error.code == 401, f"the live overview answered a visitor {error.code}"
    check("a visitor and a forged session cookie see only the login", anonymous)

    def viewer():
        log_in(driver, "vera")
        shoot(driver, "02-overview-viewer")
        # Live: the equity's time moves on without a reload (the marker would not survive one).
        driver.execute_script("window.gordonMarker = 1")
        as_of = equity_as_of(driver)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.querySelector('main').dataset.updated")
                                        and equity_as_of(d) != as_of)
        assert driver.execute_script("return window.gordonMarker") == 1, "the page reloaded instead of updating"
        for section in ("equity", "breakers", "positions", "bots", "services", "backup"):
            assert driver.find_elements(By.ID, section), f"the overview has no {section}"
        assert not driver.find_elements(By.CSS_SELECTOR, "form[action^='/actions/']"), "a viewer is offered an action"
        before = latch()
        driver.get(console + "/actions/halt")
        assert "may look but not act" in driver.page_source, "the action's page opened for a viewer"
        shoot(driver, "03-action-refused-viewer")
        driver.get(console + "/")
        status, body = post("/actions/halt", {"csrf": csrf(driver), "reason": "forced by a viewer"}, cookie=session_cookie(driver))
        assert status == 403, f"a viewer's forced halt answered {status}: {body[:200]}"
        assert latch() == before, "a viewer's forced halt moved the latch"
    check("a viewer sees the overview, is offered no action and is refused one forced", viewer)

    def operator():
        log_in(driver, "olga")
        shoot(driver, "04-overview-operator")
        assert not latch()["halted"], "the stack is halted before the test"
        cookie, token = session_cookie(driver), csrf(driver)
        audits = audit_count()
        # No CSRF token, then a wrong one, then the right one from another origin: 403, nothing changed.
        for fields, origin in (({"reason": "no token"}, None), ({"reason": "wrong", "csrf": token[::-1]}, None),
                               ({"reason": "cross-site", "csrf": token}, "http://evil.example")):
            status, body = post("/actions/halt", fields, cookie=cookie, origin=origin)
            assert status == 403, f"a halt without a valid token or from another origin answered {status}: {body[:200]}"
        assert not latch()["halted"] and audit_count() == audits, "a refused halt changed something"

        act(driver, "halt", "browser test: halt from the console", "#latch .halted", screenshot="05-confirm-halt")
        shoot(driver, "06-overview-halted")
        halt = latch()
        assert halt["halted"] and halt["changed_by"] == "operator:console.olga", f"the latch after the halt: {halt}"
        assert halt["reason"] == "browser test: halt from the console", f"the recorded reason: {halt['reason']!r}"
        entry = manager("audit?limit=1")[0]
        assert entry["actor"] == "operator:console.olga" and entry["action"] == "halt", f"the audit log's last entry: {entry}"
        halted_at = datetime.datetime.fromisoformat(halt["changed_at"])

        def refused_after_halt():
            return [o for o in manager("orders?limit=200")
                    if datetime.datetime.fromisoformat(o["created_at"]) > halted_at and o["status"] == "REJECTED"]
        refused = wait_until("the executor to refuse an intent while halted", refused_after_halt)
        placed = [o for o in manager("orders?limit=200")
                  if datetime.datetime.fromisoformat(o["created_at"]) > halted_at and o["status"] != "REJECTED"]
        assert not placed, f"orders placed while halted: {placed[:2]}"
        print(f"     while halted the executor refused {len(refused)} intents: {refused[0].get('reject_reason')}", flush=True)

        act(driver, "resume", "browser test: resume from the console", "#latch .open")
        resumed = latch()
        assert not resumed["halted"] and resumed["changed_by"] == "operator:console.olga", f"the latch after the resume: {resumed}"
        resumed_at = datetime.datetime.fromisoformat(resumed["changed_at"])
        wait_until("an order filled after the resume", lambda: [
            o for o in manager("orders?limit=200")
            if datetime.datetime.fromisoformat(o["created_at"]) > resumed_at and o["status"] == "FILLED"])
        shoot(driver, "07-overview-resumed")
        driver.get(console + "/audit")
        rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert any("operator:console.olga" in row and "browser test: halt from the console" in row for row in rows), \
            f"the audit page does not show the halt: {rows[:3]}"
        shoot(driver, "08-audit")
    check("an operator halts and resumes through the confirmation page; the executor obeys", operator)

    def pages():
        log_in(driver, "vera")
        for path, name, marker in (("/bots", "09-bots-viewer", "bot-c1"), ("/orders", "10-orders", None),
                                   ("/fills", "11-fills", None), ("/data", "12-market-data", "klines")):
            driver.get(console + path)
            assert "<h1>" in driver.page_source and 'class="notice"' not in driver.page_source, f"{path}: {driver.page_source[:300]}"
            if marker:
                assert driver.find_elements(By.ID, marker), f"{path} has no #{marker}"
            shoot(driver, name)
        assert not driver.find_elements(By.CSS_SELECTOR, "form[action*='/actions/']"), "a viewer is offered a bot action"
        driver.get(console + "/bots")
        # (Its trades are marked at their bars; the simulator's market clock runs ahead of the
        # wall clock its trades are stamped with, so here they fall outside the chart.)
        assert driver.find_elements(By.CSS_SELECTOR, "#bot-c1 .trades-chart polyline"), "c1's market is not charted"
        driver.get(console + "/orders?bot=c1&limit=200")
        bots = {cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-child(2)")}
        assert bots <= {"c1"}, f"orders filtered by c1 show {bots}"
        driver.get(console + "/orders?limit=7")
        assert "limit must be one of" in driver.page_source, "a bad page size is not explained"
    check("a viewer reads bots, orders (filtered), fills and market data", pages)

    def bot_actions():
        log_in(driver, "olga")
        driver.get(console + "/bots")
        act(driver, "pause-c1", "browser test: pause c1", "#resume-c1")
        assert manager("bots/c1")[0]["desired_state"] == "paused", "c1 is not paused"
        shoot(driver, "13-bots-operator-paused")
        act(driver, "resume-c1", "browser test: resume c1", "#pause-c1")
        assert manager("bots/c1")[0]["desired_state"] == "running", "c1 is not running again"
        actions = [(e["action"], e["target"], e["actor"]) for e in manager("audit?limit=2")]
        assert actions == [("resume_bot", "c1", "operator:console.olga"), ("pause_bot", "c1", "operator:console.olga")], f"audit: {actions}"
    check("an operator pauses and resumes a bot from the bots page, audited", bot_actions)

    def backtests():
        log_in(driver, "olga")
        series = manager("data")["klines"][0]
        start, end = series["first_open"][:10], series["last_open"][:10]
        end = (datetime.date.fromisoformat(end) + datetime.timedelta(days=1)).isoformat()
        runs = []
        for fast, slow in ((5, 15), (3, 30)):
            driver.get(console + "/backtests")
            driver.find_element(By.ID, "new-backtest").click()
            driver.find_element(By.CSS_SELECTOR, "#strategy option[value=sma_crossover]").click()
            driver.find_element(By.ID, "choose").click()
            WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, "p-fast")))
            if not runs:
                shoot(driver, "15-backtest-form")
            for name, value in (("p-fast", fast), ("p-slow", slow)):
                driver.find_element(By.ID, name).clear()
                driver.find_element(By.ID, name).send_keys(str(value))
            for name, value in (("from", start), ("to", end)):
                # A date input takes the value as the browser's own format would; set it directly.
                driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, name), value)
            driver.find_element(By.ID, "submit-backtest").click()
            WebDriverWait(driver, 30).until(expected_conditions.url_matches(r"/backtests/[0-9a-f-]{36}$"))
            runs.append(driver.current_url.rsplit("/", 1)[1])
            # The chart appears when the run is done, on the live page, without a reload.
            WebDriverWait(driver, 120).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#equity-chart polyline")))
            run = manager("backtests/" + runs[-1])
            assert run["status"] == "succeeded" and run["requested_by"] == "console.olga", f"the run: {run['status']} by {run['requested_by']}"
        shoot(driver, "16-backtest-run")
        driver.get(console + "/backtests")
        for run in runs:
            driver.find_element(By.CSS_SELECTOR, f"input[name=run][value='{run}']").click()
        driver.find_element(By.ID, "compare").click()
        WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, "comparison")))
        assert len(driver.find_elements(By.CSS_SELECTOR, "#comparison polyline")) == 2, "the comparison does not draw both runs"
        shoot(driver, "17-backtest-compare")
        # A viewer may look but not submit.
        log_in(driver, "vera")
        driver.get(console + "/backtests")
        assert not driver.find_elements(By.ID, "new-backtest"), "a viewer is offered a new backtest"
        before = len(manager("backtests?limit=1000"))
        status, _ = post("/backtests", {"csrf": csrf(driver), "strategy": "sma_crossover", "p.fast": "5", "p.slow": "15",
                                        "symbol": "BTCUSDT", "interval": "1m", "from": start, "to": end, "cash": "1000", "fee": "10"},
                         cookie=session_cookie(driver))
        assert status == 403 and len(manager("backtests?limit=1000")) == before, f"a viewer's backtest answered {status}"
    check("an operator runs two backtests from the form, sees their charts and compares them; a viewer cannot submit", backtests)

    def logout():
        cookie = session_cookie(driver)
        driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
        WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.ID, "login")))
        status, _ = post("/actions/halt", {"reason": "after logout"}, cookie=cookie)
        assert status == 403, f"the logged-out session's cookie still works ({status})"
        request = urllib.request.Request(console + "/", headers={"Cookie": "gordon_session=" + cookie})
        assert 'id="login"' in urllib.request.urlopen(request, timeout=30).read().decode(), "the old cookie still shows the overview"
        driver.get(console + "/docs/documentation/gordon/")
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(
            "return document.querySelector('h1') && document.querySelector('h1').textContent.length > 0"))
        shoot(driver, "18-docs")
    check("logout makes the session cookie worthless; the docs need no login", logout)
finally:
    driver.quit()

print("\npage weights (bytes transferred: the document and what it loaded) and time to first render:")
for name, size, first in weights:
    print(f"  {name:28} {size:>9,} B   {'%.0f ms' % first if first is not None else '-':>8}")
print("screenshots: " + ", ".join(sorted(p.name for p in shots.glob("*.png"))) + f" (in {shots})")
if failures:
    print(f"\n{len(failures)} console browser scenario(s) failed: {'; '.join(failures)}")
    sys.exit(1)
print("\nall console browser scenarios passed")
