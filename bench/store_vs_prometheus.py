#!/usr/bin/env python3
"""vigil's embedded store and Prometheus 3.5's head, scraping the same targets side by side.

Usage: store_vs_prometheus.py VIGIL PROMETHEUS [TARGETS SERIES_PER_TARGET INTERVAL_S DURATION_S]
       (defaults: 10 targets × 5000 series, 5 s, 300 s)

Local targets on 127.0.0.1 serve a mix of series whose values depend only on the
scrape interval they fall in, so both scrapers store the same data: 50 % request
counters (+0…200 a scrape), 25 % integer gauges (±4096), 25 % two-decimal float
gauges drawn afresh. Both run at once on the same cores, from empty data
directories. After a warm-up (two intervals) and at the end the script reads, for
each: samples appended (vigil_store_samples; prometheus_tsdb_head_samples_appended_total),
resident memory (VmRSS), CPU seconds (/proc/PID/stat) and the data directory's bytes.
It prints bytes of memory and of disk per sample appended since the warm-up, and CPU
microseconds per sample (the ingest cost; the scrape rate is the same for both).
"""
import http.server
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

VIGIL, PROM = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TARGETS = int(sys.argv[3]) if len(sys.argv) > 3 else 10
SERIES = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
INTERVAL = int(sys.argv[5]) if len(sys.argv) > 5 else 5
DURATION = int(sys.argv[6]) if len(sys.argv) > 6 else 300


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Target:
    def __init__(self, index):
        self.index = index
        self.cache = {}
        self.lock = threading.Lock()
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = target.body(int(time.time() // INTERVAL))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.counters = [0] * SERIES

    def body(self, bucket):
        with self.lock:
            if bucket in self.cache:
                return self.cache[bucket]
            rnd = random.Random(bucket * 1000 + self.index)
            lines = []
            for i in range(SERIES):
                kind = i % 4
                if kind < 2:
                    self.counters[i] += rnd.randint(0, 200)
                    lines.append(f'bench_requests_total{{series="{i}"}} {self.counters[i]}')
                elif kind == 2:
                    lines.append(f'bench_gauge{{series="{i}"}} {rnd.randint(-4096, 4096)}')
                else:
                    lines.append(f'bench_float{{series="{i}"}} {rnd.randint(0, 100000) / 100:.2f}')
            body = ("\n".join(lines) + "\n").encode()
            self.cache = {bucket: body}
            return body


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        total = 0.0
        found = False
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
                found = True
        if not found:
            raise SystemExit(f"no {name} on :{port}")
        return total


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dir_bytes(path):
    n = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                n += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return n


def main():
    work = tempfile.mkdtemp(prefix="vigil-vs-prom-")
    procs = []
    try:
        targets = [Target(i) for i in range(TARGETS)]
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write(f"global:\n  scrape_interval: {INTERVAL}s\n  scrape_timeout: {INTERVAL}s\n"
                    "scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: ["
                    + ", ".join(f"'{t.address}'" for t in targets) + "]\n")
        vport, pport = free_port(), free_port()
        vdata, pdata = os.path.join(work, "vigil"), os.path.join(work, "prom")
        log = open(os.path.join(work, "log"), "ab")
        vigil = subprocess.Popen([VIGIL, "run", "--config.file=prometheus.yml", f"--storage.path={vdata}",
                                  f"--web.listen-address=127.0.0.1:{vport}", "--storage.retention=1d"],
                                 cwd=work, stdout=log, stderr=log)
        prom = subprocess.Popen([PROM, "--config.file=prometheus.yml", f"--storage.tsdb.path={pdata}",
                                 f"--web.listen-address=127.0.0.1:{pport}", "--storage.tsdb.retention.time=1d"],
                                cwd=work, stdout=log, stderr=log)
        procs = [vigil, prom]
        systems = {
            "vigil": (vigil, vport, "vigil_store_samples", vdata),
            "prometheus": (prom, pport, "prometheus_tsdb_head_samples_appended_total", pdata),
        }
        time.sleep(2 * INTERVAL + 2)
        start = {k: (metric(p, m), rss_bytes(pr.pid), cpu_seconds(pr.pid), dir_bytes(d))
                 for k, (pr, p, m, d) in systems.items()}
        time.sleep(DURATION)
        end = {k: (metric(p, m), rss_bytes(pr.pid), cpu_seconds(pr.pid), dir_bytes(d))
               for k, (pr, p, m, d) in systems.items()}
        print(f"{TARGETS} targets × {SERIES} series, every {INTERVAL} s, {DURATION} s measured after a warm-up")
        print(f"{'':12} {'samples':>10} {'RSS B/sample':>13} {'disk B/sample':>14} {'CPU µs/sample':>14} "
              f"{'RSS end MiB':>12} {'disk end MiB':>13}")
        for k in systems:
            s, e = start[k], end[k]
            n = e[0] - s[0]
            print(f"{k:12} {n:>10.0f} {(e[1] - s[1]) / n:>13.2f} {(e[3] - s[3]) / n:>14.2f} "
                  f"{(e[2] - s[2]) * 1e6 / n:>14.2f} {e[1] / 2**20:>12.1f} {e[3] / 2**20:>13.1f}")
        print(f"vigil compressed sample bytes: {metric(vport, 'vigil_store_sample_bytes') / metric(vport, 'vigil_store_samples'):.2f} B/sample (all samples held)")
        for t in targets:
            t.server.shutdown()
    finally:
        for p in procs:
            p.kill()
            p.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
