#!/usr/bin/python3
"""The web UI in headless Chromium against a real `vigil run` on 127.0.0.1.

Usage: ui_browser.py VIGIL SCENARIO [SCREENSHOT_DIR]

Scenarios:
  root    the UI at the root of the server.
  prefix  everything under --web.route-prefix=/vigil (the external URL ends
          in /vigil too, so generatorURLs point there); the root answers 404.
  sidecar rules evaluated through Prometheus 3 (--datasource.url): the query
          page's instant and range queries reach it through vigil (skipped
          without Prometheus 3).

In each: a rule fires and alerts are pushed (one inhibits another); the
alerts page shows them by receiver, the inhibition and a working filter; a
silence made through the form (after the API's own error for a bad regex)
turns the alert suppressed, silenced by that silence; the generatorURL of
the rule's alert opens the query page with a result table and a plot; the
rules, status (secrets shown as <secret>) and history pages show their data;
no page scrolls sideways at 390 px. With SCREENSHOT_DIR, each page is saved
there as PNG (desktop, and the alerts and silences pages at phone width).

Needs /usr/bin/chromium, /usr/bin/chromedriver and python3-selenium (skipped
with the reason otherwise). Exit 0 on success, 1 on failure, 77 when skipped.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Sink, fail, free_port, prometheus3, request, skip, wait_until  # noqa: E402

VIGIL = os.path.abspath(sys.argv[1])
SCENARIO = sys.argv[2] if len(sys.argv) > 2 else "root"
SHOTS = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
DEADLINE = time.time() + 110

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not os.access(CHROMIUM, os.X_OK):
    skip("chromium is not installed (apt-get install chromium)")
if not os.access(CHROMEDRIVER, os.X_OK):
    skip("chromedriver is not installed (apt-get install chromium-driver)")
try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    skip("python3-selenium is not installed (apt-get install python3-selenium)")

SECRET = "xoxb-ui-test-secret-value"

# Answers api/v1/notifications in the page with two entries shaped as the
# API's contract says, and keeps the URL the page asked for.
HISTORY_STUB = r"""
(() => {
  const real = window.fetch;
  const alert = (status) => ({labels: {alertname: 'UiHighLatency', team: 'web'}, fingerprint: '0123abcd0123abcd',
                              status: status, startsAt: '2026-12-07T02:00:00Z'});
  const body = {status: 'success', data: {total: 1234, entries: [
    {time: new Date(Date.now() - 60000).toISOString(), receiver: 'team-x', integration: 'webhook', integrationIndex: 0,
     groupKey: '{}:{alertname="UiHighLatency"}', groupLabels: {alertname: 'UiHighLatency'}, status: 'firing',
     alerts: [alert('firing')], outcome: 'success', attempts: 1, error: '', durationSeconds: 0.012},
    {time: new Date(Date.now() - 120000).toISOString(), receiver: 'team-x', integration: 'slack', integrationIndex: 1,
     groupKey: '{}:{alertname="UiHighLatency"}', groupLabels: {alertname: 'UiHighLatency'}, status: 'resolved',
     alerts: [alert('resolved')], outcome: 'failure', attempts: 3, error: 'dial tcp: connection refused',
     durationSeconds: 1.5}]}};
  window.fetch = (url, opts) => {
    if (String(url).includes('api/v1/notifications')) {
      window.__historyAsked = new URL(url, location.href).href;
      return Promise.resolve(new Response(JSON.stringify(body), {status: 200, headers: {'Content-Type': 'application/json'}}));
    }
    return real(url, opts);
  };
})();
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    work = tempfile.mkdtemp(prefix="vigil-ui-")
    sink = Sink()
    port = free_port()
    prefix = "/vigil" if SCENARIO == "prefix" else ""
    base = f"http://127.0.0.1:{port}{prefix}/"
    write(os.path.join(work, "rules.yml"), """groups:
- name: ui
  interval: 1s
  rules:
  - alert: UiHighLatency
    expr: vector(42)
    labels: {severity: critical, team: web}
    annotations: {summary: "Latency is {{ $value }}ms"}
  - record: ui:answer
    expr: vector(42)
""")
    write(os.path.join(work, "prometheus.yml"), "rule_files: [rules.yml]\n")
    write(os.path.join(work, "am.yml"), f"""route:
  receiver: sink
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  routes:
  - receiver: chat
    matchers: [team="nobody"]
receivers:
- name: sink
  webhook_configs:
  - url: http://127.0.0.1:{sink.port}/
- name: chat
  slack_configs:
  - api_url: https://hooks.slack.invalid/{SECRET}
    channel: '#x'
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [team]
""")
    args = [VIGIL, "run", f"--web.listen-address=127.0.0.1:{port}", f"--storage.path={work}/data",
            "--config.file=prometheus.yml", "--alertmanager.config=am.yml",
            f"--web.external-url=http://127.0.0.1:{port}{prefix}"]
    if prefix:
        args.append(f"--web.route-prefix={prefix}")
    prom = None
    if SCENARIO == "sidecar":
        prom_port = free_port()
        write(os.path.join(work, "datasource.yml"), "global: {scrape_interval: 1h}\n")
        prom = subprocess.Popen([prometheus3(), f"--config.file={work}/datasource.yml", f"--storage.tsdb.path={work}/tsdb",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=open(os.path.join(work, "prometheus.log"), "wb"), stderr=subprocess.STDOUT)
        wait_until("Prometheus to be ready", lambda: request("GET", f"http://127.0.0.1:{prom_port}/-/ready")[0] == 200
                   or prom.poll() is not None, 60)
        args.append(f"--datasource.url=http://127.0.0.1:{prom_port}")
    log = open(os.path.join(work, "vigil.log"), "wb")
    proc = subprocess.Popen(args, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    driver = None
    try:
        wait_until("vigil to be ready", lambda: request("GET", base + "-/ready")[0] == 200 or proc.poll() is not None, 15)
        if proc.poll() is not None:
            fail(f"vigil exited with {proc.returncode}:\n" + open(os.path.join(work, "vigil.log")).read())
        if prefix and request("GET", f"http://127.0.0.1:{port}/api/v2/status")[0] != 404:
            fail("outside the route prefix the API should answer 404")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        status, body = request("POST", base + "api/v2/alerts", [
            {"labels": {"alertname": "UiDatabaseDown", "severity": "critical", "team": "db"},
             "annotations": {"summary": "primary is down"}, "startsAt": now},
            {"labels": {"alertname": "UiDiskFull", "severity": "warning", "team": "db"},
             "startsAt": now}])
        if status != 200:
            fail(f"POST alerts: HTTP {status} {body}")
        wait_until("the rule's alert to be notified", lambda: "UiHighLatency" in sink.names(), 20)
        driver = browser()
        run_pages(driver, base)
        print(f"ok: every page checked ({SCENARIO}) in {110 - (DEADLINE - time.time()):.1f}s")
    finally:
        if driver:
            driver.quit()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if prom:
            prom.terminate()
            prom.wait(15)
        sink.server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,900", "--hide-scrollbars", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    try:
        d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    except WebDriverException as e:
        skip(f"chromium does not start under chromedriver here: {e.msg}")
    d.set_page_load_timeout(20)
    return d


def until(driver, what, fn, timeout=10):
    timeout = min(timeout, max(1, DEADLINE - time.time()))
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: fn(d))
    except TimeoutException:
        fail(f"timed out after {timeout:.0f}s waiting for {what} on {driver.current_url}\npage text:\n"
             + driver.find_element(By.TAG_NAME, "body").text[:3000])


def text_of(driver, css):
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        # The whole page, not only the window.
        h = driver.execute_script("return document.documentElement.scrollHeight")
        w = driver.get_window_size()
        driver.set_window_size(w["width"], min(max(h + 120, 400), 2400))
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
        driver.set_window_size(w["width"], w["height"])


def no_sideways_scroll(driver, page):
    extra = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if extra > 0:
        fail(f"the {page} page scrolls sideways by {extra}px at {driver.get_window_size()['width']}px")


def alert_item(driver, name):
    for e in driver.find_elements(By.CSS_SELECTOR, ".alert-item"):
        if f'alertname="{name}"' in e.text:
            return e
    return None


def run_pages(d, base):
    # Alerts: grouped by receiver, the inhibition shown.
    d.get(base)
    until(d, "the alerts page", lambda d: alert_item(d, "UiHighLatency") and alert_item(d, "UiDiskFull"))
    if "Receiver: sink" not in text_of(d, "h2"):
        fail("the alerts page names no receiver 'sink'")
    disk = alert_item(d, "UiDiskFull")
    if "Inhibited by" not in disk.text or "UiDatabaseDown" not in disk.text or "suppressed" not in disk.text:
        fail(f"UiDiskFull should show as suppressed, inhibited by UiDatabaseDown: {disk.text!r}")
    if "active" not in alert_item(d, "UiHighLatency").text:
        fail("UiHighLatency should be active")
    shot(d, "alerts")
    # The filter takes the API's matcher syntax; Enter submits it.
    box = d.find_element(By.NAME, "filter")
    box.send_keys('{severity=~"crit.*", team="db"}' + Keys.ENTER)
    until(d, "the filtered alerts", lambda d: "filter=" in d.current_url and alert_item(d, "UiDatabaseDown")
          and not alert_item(d, "UiHighLatency") and not alert_item(d, "UiDiskFull"))

    # The receiver box takes a regex over receiver names.
    d.get(base + "alerts?receiver=ch.*")
    until(d, "no alert for receiver chat", lambda d: "No alerts match" in text_of(d, "#alert-groups"))
    d.get(base + "alerts?receiver=si.*")
    until(d, "the alerts of receiver sink", lambda d: alert_item(d, "UiHighLatency"))

    # One click from an alert to the silence form, matchers filled in.
    d.get(base + "alerts")
    until(d, "the alerts page", lambda d: alert_item(d, "UiHighLatency"))
    alert_item(d, "UiHighLatency").find_element(By.CSS_SELECTOR, "a.silence-alert").click()
    form = until(d, "the silence form", lambda d: d.find_elements(By.ID, "silence-form"))[0]
    matchers = form.find_element(By.NAME, "matchers")
    if 'alertname="UiHighLatency"' not in matchers.get_attribute("value"):
        fail(f"the silence form is not pre-filled: {matchers.get_attribute('value')!r}")
    until(d, "the preview of the muted alert", lambda d: "1 alert" in text_of(d, "#silence-preview")
          and "UiHighLatency" in text_of(d, "#silence-preview"))
    shot(d, "silence-form")
    # A bad regex: the API's own message is shown.
    matchers.clear()
    matchers.send_keys('{alertname=~"UiHigh(Latency"}')
    form.find_element(By.NAME, "createdBy").send_keys("oncall")
    form.find_element(By.NAME, "comment").send_keys("looking into it" + Keys.ENTER)
    until(d, "the API's validation message", lambda d: "invalid" in text_of(d, "#silence-form-status").lower())
    matchers.clear()
    matchers.send_keys('{alertname="UiHighLatency"}')
    form.find_element(By.NAME, "comment").send_keys(Keys.ENTER)
    until(d, "the new silence", lambda d: "id=" in d.current_url and d.find_elements(By.CSS_SELECTOR, "#silences-active .silence"))
    sid = d.current_url.split("id=")[1]
    if "highlight" not in d.find_element(By.ID, f"silence-{sid}").get_attribute("class"):
        fail("the new silence is not the highlighted one")
    shot(d, "silences")
    # The filter keeps the silences whose matchers match it.
    box = d.find_element(By.NAME, "filter")
    box.send_keys('{alertname="Other"}' + Keys.ENTER)
    until(d, "no silence for Other", lambda d: "filter=" in d.current_url and not d.find_elements(By.CSS_SELECTOR, ".silence"))
    d.get(base + "silences?" + urllib.parse.urlencode({"filter": '{alertname="UiHighLatency"}'}))
    until(d, "the silence found by its matcher", lambda d: d.find_elements(By.ID, f"silence-{sid}"))

    # Edit: the form holds the silence; the new comment is kept.
    d.find_element(By.ID, f"silence-{sid}").find_element(By.LINK_TEXT, "Edit").click()
    form = until(d, "the edit form", lambda d: d.find_elements(By.ID, "silence-form"))[0]
    if form.find_element(By.NAME, "comment").get_attribute("value") != "looking into it":
        fail("the edit form does not hold the silence's comment")
    form.find_element(By.NAME, "comment").send_keys(", db team paged" + Keys.ENTER)
    until(d, "the edited silence", lambda d: "id=" in d.current_url
          and "db team paged" in text_of(d, "#silences-active .silence.highlight"))
    # Only the comment changed: the API updates the silence in place.
    if d.current_url.split("id=")[1] != sid:
        fail(f"editing the comment replaced silence {sid} by {d.current_url.split('id=')[1]}")

    # The alert is now silenced by that silence.
    d.get(base + "alerts")
    until(d, "the alert silenced", lambda d: alert_item(d, "UiHighLatency")
          and sid in alert_item(d, "UiHighLatency").text and "suppressed" in alert_item(d, "UiHighLatency").text)
    link = alert_item(d, "UiHighLatency").find_element(By.CSS_SELECTOR, ".silenced-by a")
    if not link.get_attribute("href").endswith(f"silences?id={sid}"):
        fail(f"the silenced-by link goes to {link.get_attribute('href')}")

    # Expire it from the silences page: the alert is active again.
    d.get(base + "silences")
    until(d, "the silence list", lambda d: d.find_elements(By.ID, f"silence-{sid}"))
    d.find_element(By.ID, f"silence-{sid}").find_element(By.CSS_SELECTOR, "button.expire").click()
    until(d, "the silence expired", lambda d: d.find_elements(By.CSS_SELECTOR, f'#silences-expired #silence-{sid}'))
    d.get(base + "alerts")
    until(d, "the alert active again", lambda d: alert_item(d, "UiHighLatency")
          and "active" in alert_item(d, "UiHighLatency").text and "Silenced by" not in alert_item(d, "UiHighLatency").text)

    # generatorURL -> the query page: a table and a plot.
    src = alert_item(d, "UiHighLatency").find_element(By.CSS_SELECTOR, "a.source")
    href = src.get_attribute("href")
    if not href.startswith(base + "graph?g0.expr="):
        fail(f"the generatorURL {href} does not point at this vigil's query page {base}graph")
    src.click()
    until(d, "the query result table", lambda d: "42" in text_of(d, "#query-table table"))
    until(d, "the plot", lambda d: d.find_elements(By.CSS_SELECTOR, "#query-plot svg polyline"))
    shot(d, "graph")
    # Enter in the expression runs a new query.
    expr = d.find_element(By.NAME, "expr")
    expr.clear()
    expr.send_keys("vector(42) * 2" + Keys.ENTER)
    until(d, "the second query", lambda d: "84" in text_of(d, "#query-table table"))
    expr = d.find_element(By.NAME, "expr")
    expr.clear()
    expr.send_keys("sum(" + Keys.ENTER)
    until(d, "the parse error", lambda d: "parse error" in text_of(d, "#query-table .error"))

    # Rules: the group's evaluation, the rule's alert.
    d.get(base + "rules")
    until(d, "the rules page", lambda d: d.find_elements(By.CSS_SELECTOR, ".rule-group"))
    group = d.find_element(By.CSS_SELECTOR, ".rule-group")
    if "ui" not in group.find_element(By.TAG_NAME, "h2").text:
        fail("the rule group 'ui' is missing")
    if not group.find_element(By.CSS_SELECTOR, ".last-evaluation").text.strip() or "never" in group.text:
        fail("the group shows no last evaluation")
    rule = group.find_element(By.CSS_SELECTOR, '[data-rule="UiHighLatency"]')
    if "firing" not in rule.text or "team=\"web\"" not in rule.text:
        fail(f"the rule shows no firing alert: {rule.text!r}")
    shot(d, "rules")

    # Status: version, reload, config with the secret hidden.
    d.get(base + "status")
    until(d, "the status page", lambda d: d.find_element(By.ID, "status-version").text.strip())
    cfg = text_of(d, "#status-config pre")
    if "<secret>" not in cfg or SECRET in cfg or "webhook_configs" not in cfg:
        fail(f"the configuration should show the slack api_url as <secret>:\n{cfg}")
    if "success" not in d.find_element(By.ID, "status-reload").text:
        fail("the status page shows no successful reload")
    shot(d, "status")

    # Phone width: nothing scrolls sideways; keyboard focus reaches the filter.
    d.set_window_size(390, 844)
    for page in ("alerts", "silences", "rules", "graph?g0.expr=vector(1)", "status", "history"):
        d.get(base + page)
        until(d, f"the {page} page at phone width", lambda d: not text_of(d, "main").startswith("Loading"))
        time.sleep(0.3)
        no_sideways_scroll(d, page)
        if page in ("alerts", "silences"):
            shot(d, f"{page}-phone")
    d.set_window_size(1280, 900)

    # History, first against the API's contract: the browser answers
    # api/v1/notifications itself with a contract-shaped body, and records
    # what the page asked for.
    stub = d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HISTORY_STUB})["identifier"]
    d.get(base + "history?receiver=team-x&alert=UiHighLatency&status=firing&outcome=failure&since=2h&limit=50")
    until(d, "the history table", lambda d: d.find_elements(By.CSS_SELECTOR, "tr.history-entry"))
    rows = d.find_elements(By.CSS_SELECTOR, "tr.history-entry")
    if len(rows) != 2 or "2 shown of 1234 matching" not in text_of(d, "#history-count"):
        fail(f"the history shows {len(rows)} rows and {text_of(d, '#history-count')!r}")
    first, second = rows[0].text, rows[1].text
    for want in ("team-x", "webhook[0]", 'alertname="UiHighLatency"', "success", "12.0 ms"):
        if want not in first:
            fail(f"the first history row lacks {want!r}: {first!r}")
    for want in ("failure", "after 3 attempts", "connection refused", "resolved", "1.50 s"):
        if want not in second:
            fail(f"the second history row lacks {want!r}: {second!r}")
    asked = d.execute_script("return window.__historyAsked")
    q = urllib.parse.parse_qs(urllib.parse.urlparse(asked).query)
    if (q.get("receiver") != ["team-x"] or q.get("filter") != ['alertname="UiHighLatency"']
            or q.get("status") != ["firing"] or q.get("outcome") != ["failure"] or q.get("limit") != ["50"]):
        fail(f"the history page asked {asked}")
    since = time.mktime(time.strptime(q["since"][0][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    if abs(time.time() - 7200 - since) > 120:
        fail(f"since=2h should be two hours ago, not {q['since'][0]}")
    shot(d, "history")
    d.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": stub})

    # Then the real one: the notification to the sink.
    d.get(base + "history?receiver=sink")
    until(d, "the history page", lambda d: d.find_elements(By.CSS_SELECTOR, "#history p"))
    d.find_element(By.NAME, "alert").send_keys("UiHighLatency" + Keys.ENTER)
    until(d, "the notification of UiHighLatency in the history", lambda d: any(
        "UiHighLatency" in r.text and "sink" in r.text and "success" in r.text
        for r in d.find_elements(By.CSS_SELECTOR, "tr.history-entry")))
    shot(d, "history-live")


if __name__ == "__main__":
    main()
