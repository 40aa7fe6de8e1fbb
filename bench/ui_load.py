#!/usr/bin/python3
"""How long the alerts page takes to show N alerts in headless Chromium.

Usage: bench/ui_load.py VIGIL [N=1000] [GROUPS=100] [RUNS=5]

Starts `vigil run` on 127.0.0.1 (no rules, a receiver with no integration),
posts N alerts in GROUPS alert names, then loads the alerts page RUNS times
and reports the time from navigation start until every alert is on the page
(the API answer, JSON parse and DOM build included; polled every 20 ms), and
how much of it the API's answer took.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import free_port, wait_until, get  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

VIGIL = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
GROUPS = int(sys.argv[3]) if len(sys.argv) > 3 else 100
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 5

work = tempfile.mkdtemp(prefix="vigil-ui-bench-")
with open(os.path.join(work, "am.yml"), "w") as f:
    f.write("route: {receiver: none, group_by: [alertname]}\nreceivers: [{name: none}]\n")
port = free_port()
proc = subprocess.Popen([VIGIL, "run", f"--web.listen-address=127.0.0.1:{port}", f"--storage.path={work}/data",
                         "--alertmanager.config=am.yml"], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
driver = None
try:
    base = f"http://127.0.0.1:{port}/"
    wait_until("vigil", lambda: get(base + "-/ready")[0] == 200, 15)
    alerts = [{"labels": {"alertname": f"Bench{i % GROUPS}", "instance": f"host-{i}:9100", "severity": "warning",
                          "job": "node"}, "annotations": {"summary": f"disk {i} is filling up"}} for i in range(N)]
    req = urllib.request.Request(base + "api/v2/alerts", data=json.dumps(alerts).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=30).read()
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    times, api_ms = [], []
    for _ in range(RUNS + 1):  # the first load warms the browser's cache and is not counted
        driver.get(base + "alerts")
        WebDriverWait(driver, 60, poll_frequency=0.02).until(
            lambda d: d.execute_script("return document.querySelectorAll('.alert-item').length") == N)
        times.append(driver.execute_script("return performance.now()"))
        api_ms.append(driver.execute_script(
            "return performance.getEntriesByType('resource').filter(e => e.name.includes('api/v2/alerts/groups'))"
            ".map(e => e.duration)[0]"))
        if os.environ.get("UI_BENCH_DETAIL"):
            print(driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "const a = performance.getEntriesByType('resource').filter(e => e.name.includes('api/v2/alerts/groups'))[0];"
                "return {dcl: n.domContentLoadedEventEnd, apiStart: a.startTime, apiEnd: a.responseEnd, now: performance.now()}"))
    times, api_ms = times[1:], api_ms[1:]
    print(f"alerts page, {N} alerts in {GROUPS} groups: median {statistics.median(times):.0f} ms, "
          f"min {min(times):.0f} ms, max {max(times):.0f} ms over {RUNS} loads; of which the API answer "
          f"(api/v2/alerts/groups, median) {statistics.median(api_ms):.0f} ms")
finally:
    if driver:
        driver.quit()
    proc.send_signal(signal.SIGTERM)
    proc.wait(15)
    shutil.rmtree(work, ignore_errors=True)
