#!/usr/bin/env python3
"""The embedded store under `vigil run`, on 127.0.0.1 only, with bounded time.

Usage: store_test.py VIGIL SCENARIO

Scenarios:
  kill9   vigil scrapes a local target every second for ~45 s and evaluates a
          recording rule and an alerting rule; count_over_time and rate of
          the scraped series, of the rule's output and of ALERTS /
          ALERTS_FOR_STATE are read at a fixed evaluation time, vigil is
          killed with SIGKILL and started again on the same data directory:
          the same queries at the same time give the same answers. At the
          moment of the kill, at most the last scrape is lost.
  churn   a target whose label values change at every scrape, with
          --storage.retention=10s: after the retention the store's series
          count and vigil's resident memory (VmRSS) stop growing, while the
          series removed keep counting up (~85 s).
  limit   --storage.max-series: a churning target fills the store to the
          limit; new series are refused, counted and logged, while a series
          already held keeps being scraped.
  http_sd a local HTTP SD endpoint names a target: vigil scrapes it with the
          group's labels and __meta_url; the endpoint then names another
          target, which replaces the first; then it fails, and the target
          stays while prometheus_sd_http_failures_total counts.

Exit 0 on success, 1 on failure, 77 when skipped.
"""
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from harness import fail, free_port, get, wait_until

VIGIL = os.path.abspath(sys.argv[1])
SCENARIO = sys.argv[2]
STARTED = []


class Target:
    """Serves /metrics; `body(n)` gives the text of the n-th scrape."""

    def __init__(self, body):
        self.scrapes = 0
        self.lock = threading.Lock()
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with target.lock:
                    target.scrapes += 1
                    text = body(target.scrapes).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class Vigil:
    def __init__(self, workdir, args):
        self.port = free_port()
        self.workdir = workdir
        self.args = args
        self.proc = None
        self.log_path = os.path.join(workdir, "vigil.log")

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [VIGIL, "run", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.path={os.path.join(self.workdir, 'data')}"] + self.args,
            stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        STARTED.append(self.proc)
        wait_until("vigil to be ready", lambda: get(self.url("/-/ready"))[0] == 200 or self.proc.poll() is not None, 15)
        if self.proc.poll() is not None:
            fail(f"vigil exited with {self.proc.returncode}:\n{self.output()}")
        return self

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def query(self, expr, at):
        status, body = get(self.url("/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})))
        if status != 200:
            fail(f"query {expr} at {at}: HTTP {status} {body}")
        return {json.dumps(r["metric"], sort_keys=True): r["value"][1] for r in json.loads(body)["data"]["result"]}

    def metric(self, name):
        status, body = get(self.url("/metrics"))
        if status != 200:
            fail(f"/metrics: HTTP {status}")
        for line in body.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        fail(f"/metrics has no {name}")

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        fail("no VmRSS")

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def write_config(workdir, target, rules=None, interval="1s"):
    with open(os.path.join(workdir, "prometheus.yml"), "w") as f:
        f.write(f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n")
        if rules:
            with open(os.path.join(workdir, "rules.yml"), "w") as r:
                r.write(rules)
            f.write("rule_files: [rules.yml]\n")
        f.write(f"scrape_configs:\n  - job_name: t\n    static_configs:\n      - targets: ['{target.address}']\n")
    return ["--config.file=prometheus.yml"]


RULES = """groups:
  - name: g
    interval: 1s
    rules:
      - record: job:x_total:rate30s
        expr: rate(x_total[30s])
      - alert: XGrows
        expr: rate(x_total[10s]) > 0
        for: 5s
"""


def kill9(workdir):
    # A counter that grows by 5 and a gauge that moves, per scrape.
    target = Target(lambda n: f"# TYPE x_total counter\nx_total {5 * n}\nx {n % 7}\n")
    v = Vigil(workdir, write_config(workdir, target, RULES)).start()
    time.sleep(45)
    # Well before now: every sample up to here was synced by its scrape or
    # evaluation.
    at = time.time() - 3
    queries = ["count_over_time(x[10m])", "rate(x_total[30s])", "sum_over_time(x[10m])",
               "count_over_time(job:x_total:rate30s[10m])", "count_over_time(ALERTS[10m])",
               "count_over_time(ALERTS_FOR_STATE[10m])", "ALERTS_FOR_STATE"]
    before = {q: v.query(q, at) for q in queries}
    for q, r in before.items():
        if not r:
            fail(f"{q} is empty before the kill")
    scraped = float(next(iter(before["count_over_time(x[10m])"].values())))
    if scraped < 30:
        fail(f"only {scraped} scrapes in 45 s at a 1 s interval")
    if float(next(iter(before["count_over_time(ALERTS[10m])"].values()))) < 10:
        fail(f"the alert was not active long enough: {before['count_over_time(ALERTS[10m])']}")
    now = time.time()
    at_kill = v.query("count_over_time(x[10m])", now)
    v.kill9()
    v.start()
    after = {q: v.query(q, at) for q in queries}
    for q in queries:
        if after[q] != before[q]:
            fail(f"{q} at {at}: {before[q]} before the kill, {after[q]} after")
    # At the kill itself, at most the last scrape is lost.
    lost = float(next(iter(at_kill.values()))) - float(next(iter(v.query("count_over_time(x[10m])", now).values())))
    if not 0 <= lost <= 1:
        fail(f"{lost} samples lost at the kill (at most one scrape expected)")
    replayed = [l for l in v.output().splitlines() if "store replayed" in l]
    print(f"equal after kill -9: {', '.join(queries)} ({scraped:.0f} scrapes; {lost:.0f} lost at the kill)")
    print(replayed[-1] if replayed else "")
    v.stop()
    target.close()


def churn(workdir):
    per_scrape = 1000
    target = Target(lambda n: "".join(f'churn{{id="{n}-{i}"}} {i}\n' for i in range(per_scrape)) + "steady 1\n")
    v = Vigil(workdir, write_config(workdir, target) + ["--storage.retention=10s"]).start()
    samples = []  # (seconds since start, series, rss KiB, removed)
    t0 = time.time()
    while time.time() - t0 < 80:
        time.sleep(5)
        samples.append((time.time() - t0, v.metric("vigil_store_series"), v.rss_kib(),
                        v.metric("vigil_store_series_removed_total")))
    for s in samples:
        print(f"t={s[0]:5.1f}s series={s[1]:.0f} rss={s[2]} KiB removed={s[3]:.0f}")
    created = target.scrapes * per_scrape
    # After the retention, the series held are at most the retention's
    # scrapes plus one upkeep period (5 s) and a scrape or two: a bound that
    # does not grow with time, while the series seen keep growing.
    late = [s for s in samples if s[0] >= 30]
    series = [s[1] for s in late]
    bound = (10 + 5 + 3) * per_scrape
    if max(series) > bound:
        fail(f"series held {max(series):.0f} after the retention, over {bound}: not bounded by the retention")
    if late[-1][3] < created / 2:
        fail(f"only {late[-1][3]:.0f} of {created} series removed")
    # Memory: the second half grows by less than a tenth of the first
    # measure after the retention (an unbounded store grows by several
    # megabytes per 10 s here).
    rss_first, rss_last = late[0][2], max(s[2] for s in late)
    if rss_last > rss_first * 1.1 + 2048:
        fail(f"resident memory grew from {rss_first} to {rss_last} KiB after the retention")
    print(f"flat: {created} series created, {min(series):.0f}..{max(series):.0f} held after 30 s, "
          f"VmRSS {rss_first}..{rss_last} KiB")
    v.stop()
    target.close()


def limit(workdir):
    target = Target(lambda n: "".join(f'churn{{id="{n}-{i}"}} 1\n' for i in range(20)) + f"steady {n}\n")
    v = Vigil(workdir, write_config(workdir, target) + ["--storage.max-series=50"]).start()
    wait_until("refused series", lambda: v.metric("vigil_store_series_refused_total") > 0, 20)
    held = v.metric("vigil_store_series")
    if held > 50:
        fail(f"{held} series held over a limit of 50")
    n1 = float(next(iter(v.query("count_over_time(steady[10m])", time.time()).values())))
    time.sleep(3)
    n2 = float(next(iter(v.query("count_over_time(steady[10m])", time.time()).values())))
    if n2 <= n1:
        fail(f"the series already held stopped taking samples ({n1} then {n2})")
    if v.metric("vigil_store_max_series") != 50:
        fail("vigil_store_max_series is not 50")
    wait_until("the refusal to be logged", lambda: "series limit reached" in v.output(), 10)
    line = next(l for l in v.output().splitlines() if "series limit reached" in l)
    if "level=error" not in line or "churn" not in line:
        fail(f"the refusal's log line does not name the series or is not an error: {line}")
    print(f"limit held at {held:.0f} series; {v.metric('vigil_store_series_refused_total'):.0f} refused; log: {line}")
    v.stop()
    target.close()


class SdEndpoint:
    """Serves /sd as Prometheus' HTTP SD format; `answer` is (status, body)."""

    def __init__(self):
        self.answer = (200, "[]")
        self.requests = []
        sd = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                sd.requests.append(dict(self.headers))
                status, body = sd.answer
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sd"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def http_sd(workdir):
    first = Target(lambda n: f"served_by 1\n")
    second = Target(lambda n: f"served_by 2\n")
    sd = SdEndpoint()
    sd.answer = (200, json.dumps([{"targets": [first.address], "labels": {"env": "one"}}]))
    with open(os.path.join(workdir, "prometheus.yml"), "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: sd
    http_sd_configs:
      - url: {sd.url}
        refresh_interval: 2s
    relabel_configs:
      - source_labels: [__meta_url]
        target_label: sd_url
""")
    v = Vigil(workdir, ["--config.file=prometheus.yml"]).start()

    def scraped(value):
        r = v.query("served_by", time.time())
        return [json.loads(k) for k, val in r.items() if val == value]

    got = wait_until("the discovered target to be scraped", lambda: scraped("1"), 15)
    if got[0].get("env") != "one" or got[0].get("sd_url") != sd.url or got[0].get("instance") != first.address:
        fail(f"labels of the discovered target: {got[0]}")
    headers = sd.requests[0]
    if headers.get("Accept") != "application/json" or headers.get("X-Prometheus-Refresh-Interval-Seconds") != "2":
        fail(f"request headers: {headers}")
    sd.answer = (200, json.dumps([{"targets": [second.address], "labels": {"env": "two"}}]))
    wait_until("the new target to be scraped", lambda: scraped("2"), 15)

    def targets():
        status, body = get(v.url("/api/v1/targets"))
        return [t["labels"].get("instance") for t in json.loads(body)["data"]["activeTargets"]]

    wait_until("the first target to be gone", lambda: targets() == [second.address], 10)
    sd.answer = (500, "oops")
    wait_until("a failed refresh to be counted", lambda: v.metric("prometheus_sd_http_failures_total") >= 2, 15)
    if targets() != [second.address]:
        fail(f"targets after failed refreshes: {targets()}")
    print(f"http_sd: {first.address} then {second.address} scraped; failures keep the target")
    v.stop()
    first.close()
    second.close()
    sd.server.shutdown()


def main():
    scenarios = {"kill9": kill9, "churn": churn, "limit": limit, "http_sd": http_sd}
    if SCENARIO not in scenarios:
        fail(f"unknown scenario {SCENARIO}")
    workdir = tempfile.mkdtemp(prefix="vigil-store-")
    try:
        scenarios[SCENARIO](workdir)
    finally:
        for p in STARTED:
            if p.poll() is None:
                p.kill()
                p.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
