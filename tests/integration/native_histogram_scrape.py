#!/usr/bin/env python3
"""Native histograms scraped in the protobuf format, side by side with Prometheus 3.5.

Usage: native_histogram_scrape.py VIGIL

Two targets on 127.0.0.1: a small server answering a fixed, hand-encoded
protobuf body (an integer and a float native histogram, a classic histogram,
a counter; and, on /text, a classic histogram and a summary in the text
format), and a Prometheus 3.5 whose own /metrics has native histograms.
vigil (`vigil run`, embedded store, scrape_native_histograms: true) and a
second Prometheus 3.5 (--enable-feature=native-histograms) scrape both every
second, the classic histogram also with convert_classic_histograms_to_nhcb.
Then the same PromQL goes to both /api/v1/query at one time: for the fixed
target every answer must match (histogram_count, _sum, _quantile, _fraction,
the classic series read from protobuf or text, the custom-bucket conversion); for the
Prometheus target, both must hold native histograms for the same handlers.
Then vigil is killed with SIGKILL and started again on its data directory:
the native histograms answer the same, and at most the last scrape is lost.
Bounded to about a minute; everything started is stopped, the work directory
removed. Exit 0 on success, 1 on failure, 77 when Prometheus 3.x is missing.
"""
import http.server
import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from harness import fail, free_port, get, prometheus3, wait_until

VIGIL = os.path.abspath(sys.argv[1])
PROTOBUF = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"


# ---- a protobuf encoder for the few messages needed (field numbers of metrics.proto) ----

def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def key(num, wire):
    return varint(num << 3 | wire)


def f_uint(num, v):
    return key(num, 0) + varint(v)


def f_sint(num, v):
    return key(num, 0) + varint(zigzag(v))


def f_double(num, v):
    return key(num, 1) + struct.pack("<d", v)


def f_bytes(num, b):
    if isinstance(b, str):
        b = b.encode()
    return key(num, 2) + varint(len(b)) + b


def packed_sint(num, vs):
    return f_bytes(num, b"".join(varint(zigzag(v)) for v in vs))


def packed_double(num, vs):
    return f_bytes(num, b"".join(struct.pack("<d", v) for v in vs))


def span(offset, length):
    return f_sint(1, offset) + f_uint(2, length)


def label(name, value):
    return f_bytes(1, name) + f_bytes(2, value)


def family(name, mtype, metrics):
    body = f_bytes(1, name) + f_bytes(2, "help") + f_uint(3, mtype) + b"".join(f_bytes(4, m) for m in metrics)
    return varint(len(body)) + body


COUNTER, HISTOGRAM = 0, 4

# 20 observations: 2 in the zero bucket, 14 positive (1 3 2 5 3 at schema-1
# indexes -1..1 and 4..5), 4 negative.
INT_NATIVE = (f_uint(1, 20) + f_double(2, 33.5) + f_sint(5, 1) + f_double(6, 1e-3) + f_uint(7, 2)
              + f_bytes(9, span(0, 2)) + packed_sint(10, [2, 0])
              + f_bytes(12, span(-1, 3)) + f_bytes(12, span(2, 2)) + packed_sint(13, [1, 2, -1, 3, -2]))
# 10.5 observations in float form, schema 0.
FLOAT_NATIVE = (f_double(4, 10.5) + f_double(2, 7.25) + f_sint(5, 0) + f_double(6, 0.01) + f_double(8, 0.5)
                + f_bytes(12, span(0, 3)) + packed_double(14, [2.5, 4, 3.5]))
CLASSIC = (f_uint(1, 10) + f_double(2, 12)
           + b"".join(f_bytes(3, f_uint(1, c) + f_double(2, le)) for le, c in [(0.5, 2), (1, 5), (2.5, 9)]))
BODY = (family("fixed_native_seconds", HISTOGRAM,
               [f_bytes(1, label("kind", "int")) + f_bytes(7, INT_NATIVE),
                f_bytes(1, label("kind", "float")) + f_bytes(7, FLOAT_NATIVE)])
        + family("fixed_classic_seconds", HISTOGRAM, [f_bytes(7, CLASSIC)])
        + family("fixed_requests_total", COUNTER, [f_bytes(3, f_double(1, 42))]))


# The text format's classic histogram and summary, whose `le` and `quantile`
# Prometheus 3 rewrites ("1" becomes "1.0").
TEXT = (b"# TYPE text_seconds histogram\ntext_seconds_bucket{le=\"1\"} 1\ntext_seconds_bucket{le=\"2.50\"} 3\n"
        b"text_seconds_bucket{le=\"+Inf\"} 4\ntext_seconds_sum 6\ntext_seconds_count 4\n"
        b"# TYPE text_summary summary\ntext_summary{quantile=\"0.50\"} 2\ntext_summary{quantile=\"1\"} 3\n"
        b"text_summary_sum 9\ntext_summary_count 4\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body, ctype = (TEXT, "text/plain; version=0.0.4") if self.path == "/text" else (BODY, PROTOBUF)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


STARTED = []


def start(args, log_path, cwd):
    p = subprocess.Popen(args, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, cwd=cwd)
    STARTED.append(p)
    return p


def stop_all():
    for p in STARTED:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in STARTED:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def query(base, expr, at, must=True):
    status, body = get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"}))
    if status != 200:
        if not must:
            return {}
        fail(f"{base}: query {expr}: HTTP {status} {body}")
    out = {}
    for r in json.loads(body)["data"]["result"]:
        k = json.dumps(r["metric"], sort_keys=True)
        if "value" in r:
            out[k] = float(r["value"][1])
        elif "histogram" in r:
            out[k] = ("histogram", r["histogram"][1])
    return out


def close(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def main():
    prom = prometheus3()
    work = tempfile.mkdtemp(prefix="vigil-nhscrape-")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fixed = f"127.0.0.1:{server.server_address[1]}"
    target_port, scraper_port, vigil_port = free_port(), free_port(), free_port()
    try:
        # The Prometheus whose /metrics is scraped.
        with open(os.path.join(work, "target.yml"), "w") as f:
            f.write("scrape_configs: []\n")
        start([prom, f"--config.file={work}/target.yml", f"--storage.tsdb.path={work}/target-tsdb",
               f"--web.listen-address=127.0.0.1:{target_port}"], os.path.join(work, "target.log"), work)
        jobs = f"""scrape_configs:
  - job_name: fixed
    static_configs: [{{targets: ['{fixed}']}}]
  - job_name: fixed_nhcb
    convert_classic_histograms_to_nhcb: true
    static_configs: [{{targets: ['{fixed}']}}]
  - job_name: text
    metrics_path: /text
    static_configs: [{{targets: ['{fixed}']}}]
  - job_name: text_nhcb
    metrics_path: /text
    convert_classic_histograms_to_nhcb: true
    static_configs: [{{targets: ['{fixed}']}}]
  - job_name: prom
    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]
"""
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write("global: {scrape_interval: 1s}\n" + jobs)
        with open(os.path.join(work, "vigil.yml"), "w") as f:
            f.write("global: {scrape_interval: 1s, scrape_native_histograms: true}\n" + jobs)
        start([prom, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
               f"--web.listen-address=127.0.0.1:{scraper_port}", "--enable-feature=native-histograms"],
              os.path.join(work, "prometheus.log"), work)
        vigil = start([VIGIL, "run", f"--web.listen-address=127.0.0.1:{vigil_port}", "--config.file=vigil.yml",
                       f"--storage.path={work}/data"], os.path.join(work, "vigil.log"), work)
        prom_url, vigil_url = f"http://127.0.0.1:{scraper_port}", f"http://127.0.0.1:{vigil_port}"
        both = [("prometheus", prom_url), ("vigil", vigil_url)]

        def ready():
            if vigil.poll() is not None:
                fail(f"vigil exited with {vigil.returncode}:\n" + open(os.path.join(work, "vigil.log")).read())
            now = time.time()
            return all(len(query(u, 'histogram_count({__name__=~"fixed_.*|prometheus_http_request_duration_seconds"})',
                                 now, must=False)) >= 4 for _, u in both)
        wait_until("both to scrape native histograms", ready, 40)
        time.sleep(2)
        at = time.time() - 0.5

        exprs = [
            "histogram_count(fixed_native_seconds)",
            "histogram_sum(fixed_native_seconds)",
            "histogram_quantile(0.5, fixed_native_seconds)",
            "histogram_quantile(0.9, fixed_native_seconds)",
            "histogram_quantile(0.1, fixed_native_seconds)",
            "histogram_fraction(0, 1, fixed_native_seconds)",
            "histogram_avg(fixed_native_seconds)",
            "fixed_requests_total",
            'fixed_classic_seconds_bucket{job="fixed"}',
            'fixed_classic_seconds_count{job="fixed"}',
            'histogram_count(fixed_classic_seconds{job="fixed_nhcb"})',
            'histogram_quantile(0.7, fixed_classic_seconds{job="fixed_nhcb"})',
            'histogram_fraction(0, 1, fixed_classic_seconds{job="fixed_nhcb"})',
            'count by (__name__, job) ({__name__=~"fixed_.*"})',
            '{__name__=~"text_.*", job="text"}',
            'histogram_quantile(0.6, text_seconds{job="text_nhcb"})',
            'count by (__name__, job) ({__name__=~"text_.*"})',
            'count by (handler) (histogram_count(prometheus_http_request_duration_seconds{job="prom"}))',
        ]
        for e in exprs:
            p, v = query(prom_url, e, at), query(vigil_url, e, at)
            if not p:
                fail(f"Prometheus has no answer for {e}")
            if p.keys() != v.keys() or any(not close(p[k], v[k]) for k in p):
                fail(f"{e}:\n  Prometheus 3.5: {p}\n  vigil:          {v}")
            print(f"ok  {e}: {len(p)} series")
        served = query(vigil_url, 'histogram_count(prometheus_http_request_duration_seconds{job="prom",handler="/metrics"})', at)
        if not served or min(served.values()) < 1:
            fail(f"vigil holds no observation of the target's /metrics requests: {served}")
        print("ok  vigil's native histograms of Prometheus' own /metrics count", list(served.values()))

        # kill -9 and a restart on the same data directory: the native
        # histograms read before are read the same after, and at the moment of
        # the kill at most the last scrape is lost.
        kept = ["histogram_count(fixed_native_seconds)", "histogram_quantile(0.9, fixed_native_seconds)",
                'histogram_quantile(0.7, fixed_classic_seconds{job="fixed_nhcb"})',
                "count_over_time(fixed_native_seconds[10m])"]
        before = {e: query(vigil_url, e, at) for e in kept}
        now = time.time()
        at_kill = query(vigil_url, "count_over_time(fixed_native_seconds[10m])", now)
        vigil.kill()
        vigil.wait(10)
        vigil = start([VIGIL, "run", f"--web.listen-address=127.0.0.1:{vigil_port}", "--config.file=vigil.yml",
                       f"--storage.path={work}/data"], os.path.join(work, "vigil-restarted.log"), work)
        wait_until("vigil to answer after the restart",
                   lambda: vigil.poll() is not None or get(f"{vigil_url}/-/ready")[0] == 200, 20)
        if vigil.poll() is not None:
            fail("vigil exited after the restart:\n" + open(os.path.join(work, "vigil-restarted.log")).read())
        for e in kept:
            after = query(vigil_url, e, at)
            if not before[e] or after.keys() != before[e].keys() or any(not close(before[e][k], after[k]) for k in after):
                fail(f"{e} at {at:.3f}: {before[e]} before the kill, {after} after")
        lost = {k: v - query(vigil_url, "count_over_time(fixed_native_seconds[10m])", now).get(k, 0)
                for k, v in at_kill.items()}
        if not at_kill or any(n > 1 for n in lost.values()):
            fail(f"native histogram samples lost at the kill (at most one scrape expected): {lost}")
        print(f"ok  after kill -9 and a restart: {len(kept)} queries equal, {max(lost.values()):.0f} samples lost at the kill")
    finally:
        stop_all()
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


main()
