#!/usr/bin/env python3
"""vigil query against promtool query (the current upstream releases): the same commands against
the same Prometheus, scraping itself on 127.0.0.1, must print the same output and exit codes.
usage: query_side_by_side.py VIGIL
Exit 0 on success, 1 on failure, 77 when skipped.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from harness import upstream_peer

VIGIL = sys.argv[1]


prom, promtool = upstream_peer("prometheus"), upstream_peer("promtool")
if not prom or not promtool:
    print("skipped: Prometheus/promtool 3.x are not installed (scripts/setup.sh --peers)")
    sys.exit(77)

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
work = tempfile.mkdtemp(prefix="vigil-query-")
with open(os.path.join(work, "prometheus.yml"), "w") as f:
    f.write(f"global: {{scrape_interval: 1s}}\nscrape_configs:\n- job_name: self\n"
            f"  static_configs: [{{targets: [\"127.0.0.1:{port}\"]}}]\n")
log = open(os.path.join(work, "prometheus.log"), "wb")
p = subprocess.Popen([prom, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
                      f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT, cwd=work)
failures = 0
try:
    server = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            q = urllib.parse.urlencode({"query": "count_over_time(up[10s])"})
            r = json.load(urllib.request.urlopen(f"{server}/api/v1/query?{q}", timeout=2))["data"]["result"]
            if r and float(r[0]["value"][1]) >= 3:
                break
        except OSError:
            pass
        if time.time() > deadline:
            print("FAIL: Prometheus did not scrape itself within 60 s")
            sys.exit(1)
        time.sleep(0.2)
    t = int(time.time())
    cases = [
        ["instant", f"--time={t}", server, "up"],
        ["instant", f"--time={t}", server, "up or vector(1)"],
        ["instant", f"--time={t}", "-o", "json", server, "up or vector(0.0000001)"],
        ["instant", f"--time={t}", server, "vector(1e21) or vector(-1/0)"],
        ["instant", f"--time={t}.25", server, "scalar(up)"],
        ["instant", f"--time={t}", server, "time()"],
        ["instant", f"--time={t}", server, "sum by (job) (up"],
        ["instant", f"--time={t}", server, "no_such_metric"],
        ["instant", "--time=2026-01-02T03:04:05.5Z", server, "vector(2)"],
        ["range", f"--start={t - 3}", f"--end={t}", "--step=1s", server, "up"],
        ["range", f"--start={t - 3}", f"--end={t}", "--step=1s", "-o", "json", server, "up"],
        ["range", f"--start={t - 600}", f"--end={t}", server, "count(up)"],
        ["range", f"--start={t}", f"--end={t - 3}", server, "up"],
        ["series", "--match=up", "--match=prometheus_build_info", server],
        ["series", "--match=up", "-o", "json", server],
        ["labels", server, "job"],
        ["labels", "-o", "json", server, "job"],
        ["labels", "--match=up", server, "__name__"],
    ]
    for args in cases:
        a = subprocess.run([promtool, "query", *args], capture_output=True, text=True, timeout=30)
        b = subprocess.run([VIGIL, "query", *args], capture_output=True, text=True, timeout=30)
        if (a.returncode, a.stdout, a.stderr) != (b.returncode, b.stdout, b.stderr):
            failures += 1
            print(f"DIFF query {' '.join(args)}\n promtool: {a.returncode} {a.stdout!r} {a.stderr!r}\n"
                  f" vigil:    {b.returncode} {b.stdout!r} {b.stderr!r}")
        else:
            print(f"same: query {' '.join(args)}")
finally:
    p.terminate()
    p.wait(20)
    shutil.rmtree(work, ignore_errors=True)
if failures:
    print(f"FAIL: {failures} of {len(cases)} commands differ")
    sys.exit(1)
print(f"ok: {len(cases)} of {len(cases)} query commands print what promtool prints")
