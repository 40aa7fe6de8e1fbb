#!/usr/bin/python3
"""A vigil sidecar next to Prometheus 3.5, on 127.0.0.1 only, bounded time.

Usage: sidecar_prometheus.py VIGIL SCENARIO

Scenarios:
  schedule  the same rule file in Prometheus 3.5 and in a vigil sidecar
            (--datasource.url): an alert that becomes true at a chosen
            instant gets the same activeAt in both (within one scrape
            interval; in practice to the millisecond), because both evaluate
            the group on the offset Prometheus derives from file and group.
  restore   Prometheus evaluates an alert with `for: 40s` until it has been
            pending 20 s; a fresh vigil (empty storage path) through that
            Prometheus restores the timer from ALERTS_FOR_STATE and fires
            about 20 s after its start, not 40 s.
  overlay   a vigil sidecar records a series Prometheus never sees, and an
            alert of the same group over it (and over Prometheus' `up`) fires
            at the group's first evaluation.
  api       /api/v1/rules' invalid parameters get the same status, errorType
            and error from both; sample values (1e-07, 1e+21, NaN, +Inf, ...)
            are written alike by Prometheus and by an embedded vigil.

Prometheus 3.5 is looked for in $VIGIL_PEERS_DIR, /opt/vigil-peers and
/opt/peers3. Exit 0 on success, 1 on failure, 77 when it is missing.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from harness import fail, free_port, prometheus3, skip, wait_until

VIGIL = os.path.abspath(sys.argv[1])
SCENARIO = sys.argv[2]
STARTED = []


def get(url):
    """(status, the JSON body or {} when it is not JSON); status 0 when unreachable."""
    def parsed(raw):
        try:
            return json.loads(raw)
        except ValueError:
            return {}
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, parsed(r.read())
    except urllib.error.HTTPError as e:
        return e.code, parsed(e.read())
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, {}


def start(args, log_path):
    log = open(log_path, "wb")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    STARTED.append(p)
    return p


def prometheus(work, port, prom_yml):
    p = start([prometheus3(), f"--config.file={prom_yml}", f"--storage.tsdb.path={work}/tsdb",
               f"--web.listen-address=127.0.0.1:{port}"], os.path.join(work, "prometheus.log"))
    wait_until("Prometheus to be ready", lambda: get(f"http://127.0.0.1:{port}/-/ready")[0] == 200 or p.poll(), 60)
    if p.poll() is not None:
        fail("Prometheus exited: " + open(os.path.join(work, "prometheus.log")).read())
    return p


def vigil(work, port, args, name="vigil"):
    with open(os.path.join(work, "am.yml"), "w") as f:
        f.write('route: {receiver: "null"}\nreceivers: [{name: "null"}]\n')
    p = start([VIGIL, "run", f"--web.listen-address=127.0.0.1:{port}", f"--storage.path={work}/{name}-data",
               f"--alertmanager.config={work}/am.yml"] + args, os.path.join(work, f"{name}.log"))
    wait_until(f"{name} to be ready", lambda: get(f"http://127.0.0.1:{port}/-/ready")[0] == 200 or p.poll(), 20)
    if p.poll() is not None:
        fail(f"{name} exited: " + open(os.path.join(work, f"{name}.log")).read())
    return p


def alerts(port, name):
    status, body = get(f"http://127.0.0.1:{port}/api/v1/alerts")
    if status != 200:
        return []
    return [a for a in body["data"]["alerts"] if a["labels"].get("alertname") == name]


def parse_time(s):
    """RFC 3339 with up to nanoseconds, as Unix nanoseconds."""
    base, _, frac = s.rstrip("Z").partition(".")
    t = datetime.fromisoformat(base).replace(tzinfo=timezone.utc)
    return int(t.timestamp()) * 10**9 + int((frac or "0").ljust(9, "0")[:9])


def scenario_schedule(work):
    prom_port, vigil_port = free_port(), free_port()
    # True from a moment both are running, so both see it first at the same
    # evaluation if, and only if, they evaluate at the same instants.
    at = int(time.time()) + 25
    rules = os.path.join(work, "rules.yml")
    with open(rules, "w") as f:
        f.write(f"""groups:
- name: side-by-side
  interval: 5s
  rules:
  - alert: AfterT
    expr: vector(time()) > {at}
    for: 10m
""")
    prom_yml = os.path.join(work, "prometheus.yml")
    with open(prom_yml, "w") as f:
        f.write(f"global: {{scrape_interval: 1s, evaluation_interval: 5s}}\nrule_files: [{rules}]\n")
    prometheus(work, prom_port, prom_yml)
    vigil(work, vigil_port, [f"--config.file={prom_yml}", f"--datasource.url=http://127.0.0.1:{prom_port}"])
    p = wait_until("Prometheus' alert", lambda: alerts(prom_port, "AfterT"), 60)[0]
    v = wait_until("vigil's alert", lambda: alerts(vigil_port, "AfterT"), 20)[0]
    pa, va = parse_time(p["activeAt"]), parse_time(v["activeAt"])
    diff_ms = abs(pa - va) / 1e6
    print(f"activeAt Prometheus {p['activeAt']}  vigil {v['activeAt']}  difference {diff_ms:.3f} ms")
    # vigil's clock is in milliseconds: Prometheus' nanoseconds truncated.
    if va != pa // 10**6 * 10**6:
        fail(f"activeAt differs by {diff_ms} ms (scrape interval 1000 ms)")


def scenario_restore(work):
    prom_port, vigil_port = free_port(), free_port()
    rules = os.path.join(work, "rules.yml")
    with open(rules, "w") as f:
        f.write("""groups:
- name: restore
  interval: 2s
  rules:
  - alert: Held
    expr: vector(1)
    for: 40s
    labels: {severity: page}
""")
    prom_yml = os.path.join(work, "prometheus.yml")
    with open(prom_yml, "w") as f:
        f.write(f"global: {{scrape_interval: 1s, evaluation_interval: 2s}}\nrule_files: [{rules}]\n")
    prometheus(work, prom_port, prom_yml)
    p = wait_until("Prometheus' pending alert", lambda: alerts(prom_port, "Held"), 30)[0]
    prom_active = parse_time(p["activeAt"]) / 1e9
    # Pending 20 s of 40: 20 left, more than vigil's grace period of 10 s.
    time.sleep(max(0.0, prom_active + 20 - time.time()))
    started = time.time()
    vigil(work, vigil_port, [f"--config.file={prom_yml}", f"--datasource.url=http://127.0.0.1:{prom_port}",
                             "--rules.alert.for-grace-period=10s"])
    v = wait_until("vigil's alert to fire", lambda: [a for a in alerts(vigil_port, "Held")
                                                     if a["state"] == "firing"], 40)[0]
    fired_after = time.time() - started
    vigil_active = parse_time(v["activeAt"]) / 1e9
    print(f"Prometheus activeAt {p['activeAt']}, vigil restored {v['activeAt']}, "
          f"fired {fired_after:.1f}s after vigil started")
    # Restored: the timer resumes where Prometheus' stands (whole seconds,
    # plus at most the gap between Prometheus' last write and the restore).
    if abs(vigil_active - prom_active) > 1 + 2 * 2:
        fail(f"activeAt not restored: Prometheus {prom_active}, vigil {vigil_active}")
    if fired_after > 32:
        fail(f"fired {fired_after:.1f}s after the start: the 40s `for` ran again")
    # A vigil with local state does not read it again: its own state wins.
    status, body = get(f"http://127.0.0.1:{vigil_port}/api/v1/rules")
    if body["data"]["groups"][0]["rules"][0]["state"] != "firing":
        fail(f"rules API disagrees: {body}")


def scenario_overlay(work):
    prom_port, vigil_port = free_port(), free_port()
    prom_yml = os.path.join(work, "prometheus.yml")
    with open(prom_yml, "w") as f:
        f.write(f"""global: {{scrape_interval: 1s}}
scrape_configs:
- job_name: self
  static_configs: [{{targets: ["127.0.0.1:{prom_port}"]}}]
""")
    prometheus(work, prom_port, prom_yml)
    wait_until("Prometheus' first scrape", lambda: get(
        f"http://127.0.0.1:{prom_port}/api/v1/query?query=up")[1].get("data", {}).get("result"), 20)
    rules = os.path.join(work, "vigil-rules.yml")
    with open(rules, "w") as f:
        f.write("""groups:
- name: own-writes
  interval: 2s
  rules:
  - record: vigil:up:sum
    expr: sum(up)
  - alert: ReadsOwnWrite
    expr: vigil:up:sum >= 1 and on() max(up) == 1
""")
    vigil_yml = os.path.join(work, "vigil.yml")
    with open(vigil_yml, "w") as f:
        f.write(f"rule_files: [{rules}]\n")
    vigil(work, vigil_port, [f"--config.file={vigil_yml}", f"--datasource.url=http://127.0.0.1:{prom_port}"])
    a = wait_until("vigil's alert over its own recorded series", lambda: [
        x for x in alerts(vigil_port, "ReadsOwnWrite") if x["state"] == "firing"], 20)[0]
    _, body = get(f"http://127.0.0.1:{vigil_port}/api/v1/rules")
    g = body["data"]["groups"][0]
    print(f"fired, activeAt {a['activeAt']}, group first evaluated {g['lastEvaluation']}")
    for r in g["rules"]:
        if r["health"] != "ok":
            fail(f"rule {r['name']}: {r['health']} {r['lastError']}")
    # Prometheus itself never had the series.
    _, q = get(f"http://127.0.0.1:{prom_port}/api/v1/query?query=vigil:up:sum")
    if q["data"]["result"]:
        fail("Prometheus has vigil:up:sum: the test would not show the overlay")


RULES_PARAMS = [
    "type=bogus", "exclude_alerts=yes", "group_next_token=abc", "group_limit=0", "group_limit=-3",
    "group_limit=ten", "group_limit=3000000000", "group_limit=1&group_next_token=0000",
    "match[]=" + urllib.parse.quote('{severity=~".*"}'),
]
# Values Prometheus writes in exponent form, and around the limits.
VALUES = ["vector(0.0000001)", "vector(0.000001)", "vector(1e21)", "vector(123456789012345678901)",
          "vector(-0.00000012345)", "vector(1e300)", "vector(0.1)", "vector(NaN)", "vector(Inf)", "vector(-Inf)",
          "scalar(vector(1e-300))"]


def scenario_api(work):
    prom_port, side_port, emb_port = free_port(), free_port(), free_port()
    rules = os.path.join(work, "rules.yml")
    with open(rules, "w") as f:
        f.write("""groups:
- name: a
  rules:
  - alert: X
    expr: vector(1)
    labels: {severity: page}
- name: b
  rules:
  - record: y
    expr: vector(1)
""")
    prom_yml = os.path.join(work, "prometheus.yml")
    with open(prom_yml, "w") as f:
        f.write(f"rule_files: [{rules}]\n")
    prometheus(work, prom_port, prom_yml)
    vigil(work, side_port, [f"--config.file={prom_yml}", f"--datasource.url=http://127.0.0.1:{prom_port}"],
          name="sidecar")
    vigil(work, emb_port, [f"--config.file={prom_yml}"], name="embedded")
    failures = 0
    for q in RULES_PARAMS:
        ps, pb = get(f"http://127.0.0.1:{prom_port}/api/v1/rules?{q}")
        vs, vb = get(f"http://127.0.0.1:{side_port}/api/v1/rules?{q}")
        same = (ps, pb.get("errorType"), pb.get("error")) == (vs, vb.get("errorType"), vb.get("error"))
        print(f"{'ok  ' if same else 'DIFF'} rules?{q}: Prometheus {ps} {pb.get('error')!r}"
              + ("" if same else f" vigil {vs} {vb.get('error')!r}"))
        failures += not same
    for page in ["group_limit=1"]:
        _, pb = get(f"http://127.0.0.1:{prom_port}/api/v1/rules?{page}")
        _, vb = get(f"http://127.0.0.1:{side_port}/api/v1/rules?{page}")
        same = pb["data"].get("groupNextToken") == vb["data"].get("groupNextToken")
        print(f"{'ok  ' if same else 'DIFF'} groupNextToken {pb['data'].get('groupNextToken')}")
        failures += not same
    for expr in VALUES:
        q = urllib.parse.quote(expr)
        _, pb = get(f"http://127.0.0.1:{prom_port}/api/v1/query?query={q}&time=1700000000")
        _, vb = get(f"http://127.0.0.1:{emb_port}/api/v1/query?query={q}&time=1700000000")
        pr, vr = pb["data"]["result"], vb["data"]["result"]
        pv = pr[1] if pb["data"]["resultType"] == "scalar" else pr[0]["value"][1]
        vv = vr[1] if vb["data"]["resultType"] == "scalar" else vr[0]["value"][1]
        print(f"{'ok  ' if pv == vv else 'DIFF'} {expr}: Prometheus {pv!r}" + ("" if pv == vv else f" vigil {vv!r}"))
        failures += pv != vv
    if failures:
        fail(f"{failures} answers differ")


def main():
    prometheus3()
    work = tempfile.mkdtemp(prefix="vigil-sidecar-")
    try:
        {"schedule": scenario_schedule, "restore": scenario_restore, "overlay": scenario_overlay,
         "api": scenario_api}[SCENARIO](work)
        print("ok")
    finally:
        for p in STARTED:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
