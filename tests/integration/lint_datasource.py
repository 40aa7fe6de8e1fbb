#!/usr/bin/env python3
"""vigil lint's live checks against a real Prometheus (the current upstream release, else Debian's).

Prometheus scrapes itself on 127.0.0.1; vigil lint --datasource.url must say which selectors of a
rule file match nothing (and which matcher rules them out), and how many series the others touch.
usage: lint_datasource.py VIGIL
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
from harness import fail, free_port, peer

VIGIL = sys.argv[1]


prom = peer("prometheus")
if not prom:
    print("skipped: prometheus is not installed (scripts/setup.sh --peers)")
    sys.exit(77)

work = tempfile.mkdtemp(prefix="vigil-lint-ds-")
port = free_port()
with open(os.path.join(work, "prometheus.yml"), "w") as f:
    f.write(f"""global: {{scrape_interval: 1s}}
scrape_configs:
- job_name: self
  static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
""")
rules = os.path.join(work, "rules.yml")
with open(rules, "w") as f:
    f.write("""groups:
  - name: live
    rules:
      - alert: SelfDown
        expr: up{job="self"} == 0
      - alert: OtherDown
        expr: up{job="other"} == 0
      - alert: Typo
        expr: rate(prometheus_http_requests_totl[5m]) > 1
""")
log = open(os.path.join(work, "prometheus.log"), "wb")
p = subprocess.Popen([prom, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
                      f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT, cwd=work)
try:
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            q = urllib.parse.urlencode({"query": 'up{job="self"}'})
            body = json.load(urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=2))
            if body["data"]["result"]:
                break
        except OSError:
            pass
        if time.time() > deadline:
            fail("Prometheus did not scrape itself within 60 s")
        time.sleep(0.2)
    r = subprocess.run([VIGIL, "lint", f"--datasource.url={url}", "--format=json", "--fail-on=bug", rules],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 1:
        fail(f"exit {r.returncode}, expected 1 (missing series are bugs)\n{r.stdout}{r.stderr}")
    findings = {(f["line"], f["check"]): f["message"] for f in json.loads(r.stdout)}
    want = {
        (5, "promql/series-count"): 'the query touches 1 series (up{job="self"}: 1)',
        (7, "promql/series-missing"): 'up{job="other"} matches no series on the datasource: up has 1 series, '
                                      'none with job="other" (job values: "self")',
        (9, "promql/rate-non-counter"): "rate() over prometheus_http_requests_totl, whose name is not a counter's "
                                        "(_total, _count, _sum, _bucket): a gauge's drops are counted as resets "
                                        "(use deriv() or delta() for gauges; ignore this for native histograms)",
        (9, "promql/series-missing"): "prometheus_http_requests_totl matches no series on the datasource: "
                                      "no series of this name in the last 7 days",
    }
    if findings != want:
        fail(f"findings differ:\n got {findings}\nwant {want}")
    # An unreachable datasource is an error, not a clean result.
    r = subprocess.run([VIGIL, "lint", f"--datasource.url=http://127.0.0.1:{free_port()}", rules],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 1 or "datasource" not in r.stderr:
        fail(f"unreachable datasource: exit {r.returncode}\n{r.stdout}{r.stderr}")
finally:
    p.terminate()
    p.wait(20)
    shutil.rmtree(work, ignore_errors=True)
print("ok: live lint findings from a real Prometheus")
