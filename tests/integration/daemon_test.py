#!/usr/bin/env python3
"""`vigil run` end to end, on 127.0.0.1 only, with bounded time.

Usage: daemon_test.py VIGIL SCENARIO [SOURCE_DIR]

Scenarios:
  restart     kill -9 between two group flushes and start again: the silence
              is still there, nothing is notified twice, the pending alert
              fires on its original schedule.
  reload      a bad reload (SIGHUP and POST /-/reload) keeps the old config
              and is reported; a good one takes effect.
  quickstart  examples/quickstart prints the Watchdog notification within a
              minute (skipped when 127.0.0.1:9093 is taken).
  prometheus  Debian's Prometheus scrapes a target, evaluates a rule and sends
              the alert to vigil, which delivers it to a webhook; then a
              second vigil evaluates the Bot Core seed rules through that
              Prometheus (--datasource.url) and fires. Skipped without
              /usr/bin/prometheus.
  amtool      amtool adds, queries and expires silences and queries alerts
              against vigil. Skipped without amtool.
  forward     one vigil forwards its rule alerts to the Alertmanagers that
              its alerting.alertmanagers file_sd file lists: a second vigil
              receives them once the file names it.
  crash       kill -9 at random moments (VIGIL_CRASH_CYCLES, default 20)
              while clients post alerts and create and expire silences:
              after each restart every acknowledged alert and silence is
              there, and no expired silence is active again
              (VIGIL_CRASH_SEED replays a run).
  downtime    an always-firing rule alert whose end passes while vigil is
              stopped is neither notified as resolved nor paged again after
              the restart.
  damaged     vigil starts over damaged state files (garbled alert log,
              empty silences.json, garbage nflog.json and rules.json), keeps
              what is intact and counts the damage in /metrics.
  limits      hostile clients: a query over billions of subquery steps is
              refused (422) without the process growing, a long one times
              out (503), an alert with too many labels is refused (400), and
              SIGTERM stops vigil promptly while a delivery waits on a
              receiver that never answers.
  history     the notification history: a webhook that fails once then
              succeeds and one that always fails show up in
              /api/v1/notifications and `vigil notifications` with their
              outcome, attempts and error; they are still there after
              kill -9 and a restart.

Exit 0 on success, 1 on failure, 77 when skipped.
"""
import http.server
import json
import os
import random
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
from harness import Sink, fail, free_port, peer, request, skip, wait_until

VIGIL = os.path.abspath(sys.argv[1])
SCENARIO = sys.argv[2]
SOURCE = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# Every vigil started, so that a failing scenario leaves none running.
STARTED = []


class Vigil:
    def __init__(self, workdir, args, name="vigil"):
        self.port = free_port()
        self.workdir = workdir
        self.args = args
        self.name = name
        self.proc = None
        self.log_path = os.path.join(workdir, f"{name}.log")

    def start(self, expect_ready=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [VIGIL, "run", f"--web.listen-address=127.0.0.1:{self.port}",
             f"--storage.path={os.path.join(self.workdir, self.name + '-data')}"] + self.args,
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.workdir)
        STARTED.append(self.proc)
        if expect_ready:
            wait_until(f"{self.name} to be ready", lambda: self.ready() or self.dead(), 15)
            if self.dead():
                fail(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
        return self

    def ready(self):
        return request("GET", self.url("/-/ready"))[0] == 200

    def dead(self):
        return self.proc.poll() is not None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get_json(self, path):
        status, body = request("GET", self.url(path))
        if status != 200:
            fail(f"GET {path}: HTTP {status} {body}")
        return json.loads(body)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

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
                fail(f"{self.name} did not stop within 15s of SIGTERM")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def am_config(sink, group_wait="1s", group_interval="3s", extra=""):
    return f"""route:
  receiver: sink
  group_by: [alertname]
  group_wait: {group_wait}
  group_interval: {group_interval}
  repeat_interval: 1h
receivers:
- name: sink
  webhook_configs:
  - url: http://127.0.0.1:{sink.port}/
    send_resolved: true
{extra}"""


def scenario_restart(work):
    sink = Sink()
    write(os.path.join(work, "rules.yml"), """groups:
- name: restart
  interval: 1s
  rules:
  - alert: Now
    expr: vector(1)
  - alert: Later
    expr: vector(1)
    for: 8s
  - alert: Muted
    expr: vector(1)
""")
    write(os.path.join(work, "prometheus.yml"), "rule_files: [rules.yml]\n")
    write(os.path.join(work, "am.yml"), am_config(sink))
    args = ["--config.file=prometheus.yml", "--alertmanager.config=am.yml"]
    v = Vigil(work, args).start()
    t_start = time.time()
    status, body = request("POST", v.url("/api/v2/silences"), {
        "matchers": [{"name": "alertname", "value": "Muted", "isRegex": False, "isEqual": True}],
        "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60)),
        "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
        "createdBy": "test", "comment": "restart test"})
    if status != 200:
        fail(f"creating a silence: HTTP {status} {body}")
    silence_id = json.loads(body)["silenceID"]
    wait_until("Now to be notified", lambda: sink.alerts_named("Now"), 10)
    # Between flushes: the group flushed, the next flush is group_interval away.
    time.sleep(0.5)
    notified_before = len(sink.alerts_named("Now"))
    v.kill9()
    later_before_kill = sink.alerts_named("Later")
    if later_before_kill:
        fail("Later fired before its for duration")
    v.start()
    # The silence survived.
    silences = v.get_json("/api/v2/silences")
    if not any(s["id"] == silence_id and s["status"]["state"] == "active" for s in silences):
        fail(f"silence {silence_id} not active after restart: {silences}")
    # Later fires on its original schedule: 8s after it first went pending,
    # not 8s after the restart.
    got = wait_until("Later to fire", lambda: sink.alerts_named("Later", "firing"), 20)
    fired_after = got[0][0] - t_start
    if fired_after > 8 + 1 + 3 + 2:  # for + group_wait + eval slack + restart
        fail(f"Later fired {fired_after:.1f}s after start: its for timer restarted")
    # Several group intervals later: Now was not notified again (same alert,
    # within repeat_interval), and Muted never was.
    time.sleep(7)
    if len(sink.alerts_named("Now")) != notified_before:
        fail(f"Now notified again after restart: {len(sink.alerts_named('Now'))} vs {notified_before}")
    if sink.alerts_named("Muted"):
        fail("a silenced alert was notified")
    v.stop()
    if "state saved" not in v.output():
        fail("SIGTERM did not save state:\n" + v.output())
    sink.close()
    print(f"ok: silence kept, Now notified once, Later fired {fired_after:.1f}s after start despite kill -9")


def scenario_reload(work):
    sink = Sink()
    rules = os.path.join(work, "rules.yml")
    write(rules, "groups:\n- name: first\n  interval: 1s\n  rules:\n  - alert: A\n    expr: vector(1)\n")
    write(os.path.join(work, "prometheus.yml"), "rule_files: [rules.yml]\n")
    am = write(os.path.join(work, "am.yml"), am_config(sink))
    v = Vigil(work, ["--config.file=prometheus.yml", "--alertmanager.config=am.yml"]).start()

    def groups():
        return [g["name"] for g in v.get_json("/api/v1/rules")["data"]["groups"]]

    if groups() != ["first"]:
        fail(f"groups at start: {groups()}")
    # A bad rule file: POST /-/reload answers 500 and the old rules stay.
    write(rules, "groups:\n- name: second\n  rules:\n  - alert: B\n    expr: vector(1) +\n")
    status, body = request("POST", v.url("/-/reload"))
    if status != 500 or "rules.yml" not in body:
        fail(f"bad reload: HTTP {status} {body}")
    if groups() != ["first"]:
        fail(f"bad reload replaced the rules: {groups()}")
    metrics = request("GET", v.url("/metrics"))[1]
    if "vigil_config_last_reload_successful 0" not in metrics:
        fail("the failed reload is not in /metrics")
    # A bad Alertmanager config through SIGHUP: still the old one.
    write(rules, "groups:\n- name: second\n  interval: 1s\n  rules:\n  - alert: B\n    expr: vector(1)\n")
    write(am, "route: {receiver: nowhere}\nreceivers: []\n")
    v.proc.send_signal(signal.SIGHUP)
    wait_until("the failed SIGHUP reload to be logged", lambda: "reload failed" in v.output().split("reload failed", 1)[-1] or v.output().count("reload failed") >= 2, 10)
    if groups() != ["first"]:
        fail(f"a bad alertmanager config let new rules in: {groups()}")
    # Both good: SIGHUP applies them.
    write(am, am_config(sink, extra=""))
    v.proc.send_signal(signal.SIGHUP)
    wait_until("the new rules", lambda: groups() == ["second"], 10)
    wait_until("B to be delivered", lambda: sink.alerts_named("B"), 10)
    # Without --web.external-url the webhook body carries the URL vigil
    # derives as Alertmanager does: http://<hostname>:<port>.
    want_url = f"http://{socket.gethostname()}:{v.port}"
    urls = {body.get("externalURL") for _, body in sink.notifications()}
    if urls != {want_url}:
        fail(f"externalURL in the webhook bodies: {urls}, want {want_url}")
    metrics = request("GET", v.url("/metrics"))[1]
    if "vigil_config_last_reload_successful 1" not in metrics:
        fail("the good reload is not in /metrics")
    v.stop()
    sink.close()
    print("ok: bad reloads kept the old config and were reported; a good one took effect")


def scenario_quickstart(work):
    q = os.path.join(SOURCE, "examples", "quickstart")
    out_path = os.path.join(work, "quickstart.out")
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([VIGIL, "run", f"--config.file={q}/prometheus.yml",
                                 f"--alertmanager.config={q}/alertmanager.yml",
                                 f"--storage.path={work}/data", "--web.listen-address=127.0.0.1:9093"],
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            time.sleep(1)
            if proc.poll() is not None:
                out.flush()
                text = open(out_path, errors="replace").read()
                if "address already in use" in text:
                    skip("127.0.0.1:9093 is in use")
                fail(f"the quickstart exited with {proc.returncode}:\n{text}")

            def watchdog():
                with open(out_path) as f:
                    for line in f:
                        if line.startswith("{") and '"Watchdog"' in line:
                            return json.loads(line)
                return None
            n = wait_until("the Watchdog notification on the terminal", watchdog, 60)
            if n["receiver"] != "terminal" or n["status"] != "firing":
                fail(f"unexpected notification: {n}")
            # vigil scrapes itself: its own up series appears (the first scrape
            # may come after the Watchdog, at its offset in the 15 s interval).
            def scraped():
                status, body = request("GET", "http://127.0.0.1:9093/api/v1/query?query=up")
                return status == 200 and '"job":"vigil"' in body
            wait_until("vigil's own up series", scraped, 20)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    print("ok: the quickstart delivered the Watchdog to the terminal")


def scenario_prometheus(work):
    prom = shutil.which("prometheus")
    if not prom:
        skip("prometheus is not installed (scripts/setup.sh --peers)")
    sink = Sink()
    write(os.path.join(work, "am.yml"), am_config(sink))
    v = Vigil(work, ["--alertmanager.config=am.yml"], name="receiver").start()
    # A target exposing the metrics the Bot Core seed's ServiceDown rule reads.
    target_port = free_port()

    class Target(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"# TYPE demo_up gauge\ndemo_up 0\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    target = http.server.ThreadingHTTPServer(("127.0.0.1", target_port), Target)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    write(os.path.join(work, "prom-rules.yml"), """groups:
- name: demo
  interval: 1s
  rules:
  - alert: DemoDown
    expr: demo_up == 0
    labels: {severity: critical}
    annotations: {summary: "demo {{ $labels.instance }} is down"}
""")
    prom_port = free_port()
    write(os.path.join(work, "prometheus.yml"), f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [prom-rules.yml]
alerting:
  alertmanagers:
  - static_configs:
    - targets: ["127.0.0.1:{v.port}"]
scrape_configs:
- job_name: demo
  static_configs:
  - targets: ["127.0.0.1:{target_port}"]
""")
    log = open(os.path.join(work, "prometheus.log"), "wb")
    p = subprocess.Popen([prom, f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
                          f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=log, stderr=subprocess.STDOUT,
                         cwd=work)
    try:
        got = wait_until("Prometheus' alert to reach the webhook through vigil",
                         lambda: sink.alerts_named("DemoDown", "firing"), 60)
        _, body, alert = got[0]
        if body["receiver"] != "sink" or alert["labels"].get("job") != "demo" or \
                alert["annotations"].get("summary") != f"demo 127.0.0.1:{target_port} is down" or \
                not alert["generatorURL"].startswith("http"):
            fail(f"unexpected webhook payload: {body}")
        # vigil itself evaluates the Bot Core seed rules through that Prometheus.
        write(os.path.join(work, "seed.yml"), f"rule_files: [{SOURCE}/examples/bot-core/rules/alerts.yml]\n"
              "global: {evaluation_interval: 1s}\n")
        d = Vigil(work, ["--config.file=seed.yml", "--alertmanager.config=am.yml",
                         f"--datasource.url=http://127.0.0.1:{prom_port}"], name="datasource").start()
        try:
            # The seed's groups set their own interval (30s), which
            # evaluation_interval does not override: a group first evaluates
            # at its offset within that interval, up to a whole interval after
            # start, and sees a change up to an interval late. Waits are
            # measured in those intervals, not in the 1s of seed.yml.
            interval = max(g["interval"] for g in d.get_json("/api/v1/rules")["data"]["groups"])
            slack = 15  # a scrape, a remote query, an HTTP round trip, a loaded machine

            def evaluated():
                rules = d.get_json("/api/v1/rules")["data"]["groups"]
                return rules and all(r["health"] == "ok" for g in rules for r in g["rules"])
            wait_until("the seed rules to evaluate through Prometheus", evaluated, interval + slack)
            # The target goes away: Prometheus records up == 0, and the seed's
            # ServiceDown (for: 2m) goes pending, then fires and is delivered.
            target.shutdown()
            target.server_close()

            def service_down(state):
                return any(a["state"] == state and a["labels"]["alertname"] == "ServiceDown"
                           for a in d.get_json("/api/v1/alerts")["data"]["alerts"])
            wait_until("ServiceDown pending through the datasource", lambda: service_down("pending"), interval + slack)
            wait_until("ServiceDown firing through the datasource", lambda: service_down("firing"),
                       120 + interval + slack)
            wait_until("ServiceDown delivered", lambda: sink.alerts_named("ServiceDown", "firing"), 20)
        finally:
            d.stop()
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(20)
        v.stop()
        sink.close()
    print("ok: Prometheus -> vigil -> webhook; vigil evaluated seed rules through Prometheus and fired")


def scenario_amtool(work):
    amtool = peer("amtool")
    if not amtool:
        skip("amtool is not installed (scripts/setup.sh --peers)")
    sink = Sink()
    write(os.path.join(work, "am.yml"), am_config(sink))
    v = Vigil(work, ["--alertmanager.config=am.yml"]).start()
    url = f"--alertmanager.url=http://127.0.0.1:{v.port}"

    def run(*args):
        r = subprocess.run([amtool, url, *args], capture_output=True, text=True, timeout=20)
        if r.returncode != 0:
            fail(f"amtool {' '.join(args)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        return r.stdout

    run("alert", "add", "alertname=DiskFull", "instance=db1", "severity=page", "--annotation=summary=disk")
    out = run("alert", "query")
    if "DiskFull" not in out:
        fail(f"alert query does not show the alert:\n{out}")
    sid = run("silence", "add", "alertname=DiskFull", "--comment=maintenance", "--duration=1h", "-a", "tester").strip()
    if not sid:
        fail("silence add printed no id")
    out = run("silence", "query")
    if sid not in out or "maintenance" not in out:
        fail(f"silence query:\n{out}")
    out = run("alert", "query", "--silenced")
    if "DiskFull" not in out:
        fail(f"the alert is not shown as silenced:\n{out}")
    run("silence", "expire", sid)
    out = run("silence", "query")
    if sid in out:
        fail(f"expired silence still listed as active:\n{out}")
    out = run("silence", "query", "--expired")
    if sid not in out:
        fail(f"expired silence not listed with --expired:\n{out}")
    v.stop()
    sink.close()
    print("ok: amtool added, queried and expired a silence and queried alerts")


def scenario_forward(work):
    sink = Sink()
    write(os.path.join(work, "am.yml"), am_config(sink))
    receiver = Vigil(work, ["--alertmanager.config=am.yml"], name="receiver").start()
    write(os.path.join(work, "rules.yml"),
          "groups:\n- name: g\n  interval: 1s\n  rules:\n  - alert: Forwarded\n    expr: vector(1)\n")
    targets = write(os.path.join(work, "ams.json"), "[]")
    write(os.path.join(work, "prometheus.yml"), """global: {evaluation_interval: 1s}
rule_files: [rules.yml]
alerting:
  alertmanagers:
  - file_sd_configs:
    - files: [ams.json]
""")
    sender = Vigil(work, ["--config.file=prometheus.yml", "--alertmanager.config=am.yml",
                          "--rules.alert.resend-delay=1s"], name="sender").start()
    try:
        def received():
            return [a for a in receiver.get_json("/api/v2/alerts") if a["labels"].get("alertname") == "Forwarded"]
        time.sleep(3)  # the rule fires at once; nobody is listed to forward to yet
        if received():
            fail("alerts forwarded before any Alertmanager was discovered")
        write(targets, json.dumps([{"targets": [f"127.0.0.1:{receiver.port}"]}]))
        got = wait_until("the discovered Alertmanager to receive the alert", received, 30)
        if not got[0]["generatorURL"]:
            fail(f"forwarded alert lacks its generatorURL: {got[0]}")
        # The counters of an Alertmanager still listed survive a change of the list.
        first = f"http://127.0.0.1:{receiver.port}/api/v2/alerts"

        def sent_to(url):
            status, body = request("GET", sender.url("/metrics"))
            for line in body.splitlines():
                if line.startswith(f'prometheus_notifications_sent_total{{alertmanager="{url}"}} '):
                    return float(line.split()[-1])
            return None
        before = wait_until("alerts counted as sent", lambda: sent_to(first), 30)
        second = free_port()
        write(targets, json.dumps([{"targets": [f"127.0.0.1:{receiver.port}", f"127.0.0.1:{second}"]}]))
        wait_until("the second Alertmanager to be listed",
                   lambda: sent_to(f"http://127.0.0.1:{second}/api/v2/alerts") is not None, 30)
        after = sent_to(first)
        if after is None or after < before:
            fail(f"sent counter of {first} went from {before} to {after} when another Alertmanager was added")
    finally:
        sender.stop()
        receiver.stop()
        sink.close()
    print("ok: alerts go to the Alertmanager a file_sd file lists, once it lists it; its counters survive the list changing")


def scenario_crash(work):
    seed = int(os.environ.get("VIGIL_CRASH_SEED", str(time.time_ns() % 1_000_000)))
    cycles = int(os.environ.get("VIGIL_CRASH_CYCLES", "20"))
    rng = random.Random(seed)
    print(f"seed {seed} (VIGIL_CRASH_SEED={seed} replays it), {cycles} kills")
    v = Vigil(work, [])
    lock = threading.Lock()
    alerts = set()    # the seq label of every acknowledged alert
    silences = {}     # id -> "active" or "expired", as acknowledged
    counter = [0]

    def next_seq():
        with lock:
            counter[0] += 1
            return counter[0]

    def iso(t):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"

    def post_alerts(stop):
        while not stop.is_set():
            seqs = [next_seq() for _ in range(5)]
            body = [{"labels": {"alertname": "Crash", "seq": str(n)},
                     "startsAt": iso(time.time()), "endsAt": iso(time.time() + 3600)} for n in seqs]
            if request("POST", v.url("/api/v2/alerts"), body, timeout=2)[0] == 200:
                with lock:
                    alerts.update(seqs)

    def create_silences(stop):
        while not stop.is_set():
            n = next_seq()
            status, body = request("POST", v.url("/api/v2/silences"), {
                "matchers": [{"name": "seq", "value": str(n), "isRegex": False, "isEqual": True}],
                "startsAt": iso(time.time()), "endsAt": iso(time.time() + 3600),
                "createdBy": "crash test", "comment": f"silence {n}"}, timeout=2)
            if status == 200:
                with lock:
                    silences[json.loads(body)["silenceID"]] = "active"

    def expire_silences(stop, r):
        while not stop.is_set():
            with lock:
                active = [i for i, state in silences.items() if state == "active"]
            if not active:
                time.sleep(0.01)
                continue
            sid = r.choice(active)
            if request("DELETE", v.url(f"/api/v2/silence/{sid}"), timeout=2)[0] == 200:
                with lock:
                    silences[sid] = "expired"

    def check(cycle):
        got = v.get_json("/api/v2/alerts")
        present = {int(a["labels"]["seq"]) for a in got if a["labels"].get("alertname") == "Crash"}
        lost = sorted(alerts - present)
        if lost:
            fail(f"after kill {cycle}: {len(lost)} of {len(alerts)} acknowledged alerts lost, e.g. seq {lost[:5]}")
        states = {s["id"]: s["status"]["state"] for s in v.get_json("/api/v2/silences")}
        missing = [i for i in silences if i not in states]
        if missing:
            fail(f"after kill {cycle}: {len(missing)} of {len(silences)} acknowledged silences lost, e.g. {missing[:3]}")
        revived = [i for i, state in silences.items() if state == "expired" and states[i] != "expired"]
        if revived:
            fail(f"after kill {cycle}: {len(revived)} expired silences are {states[revived[0]]} again, e.g. {revived[:3]}")

    for cycle in range(cycles + 1):
        v.start()
        check(cycle)
        if cycle == cycles:
            break
        stop = threading.Event()
        threads = [threading.Thread(target=post_alerts, args=(stop,)),
                   threading.Thread(target=post_alerts, args=(stop,)),
                   threading.Thread(target=create_silences, args=(stop,)),
                   threading.Thread(target=create_silences, args=(stop,)),
                   threading.Thread(target=expire_silences, args=(stop, random.Random(rng.random())))]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.2, 1.2))
        v.kill9()
        stop.set()
        for t in threads:
            t.join()
    v.stop()
    expired = sum(1 for state in silences.values() if state == "expired")
    print(f"ok: {cycles} kills -9, {len(alerts)} acknowledged alerts and {len(silences)} silences "
          f"({expired} expired) all there after each restart")


def scenario_downtime(work):
    sink = Sink()
    write(os.path.join(work, "rules.yml"),
          "groups:\n- name: heartbeat\n  interval: 1s\n  rules:\n  - alert: Watchdog\n    expr: vector(1)\n")
    write(os.path.join(work, "prometheus.yml"), "rule_files: [rules.yml]\n")
    write(os.path.join(work, "am.yml"), am_config(sink))
    # Sent alerts end four resend delays (8 s) after each send.
    v = Vigil(work, ["--config.file=prometheus.yml", "--alertmanager.config=am.yml",
                     "--rules.alert.resend-delay=2s"]).start()
    wait_until("the Watchdog to be notified", lambda: sink.alerts_named("Watchdog", "firing"), 15)
    v.stop()
    time.sleep(10)  # its end passes while vigil is down
    before = len(sink.notifications())
    v.start()
    time.sleep(8)  # several group intervals
    after = sink.notifications()[before:]
    v.stop()
    sink.close()
    if after:
        sent = [(a["labels"]["alertname"], a["status"]) for _, body in after for a in body["alerts"]]
        fail(f"the restart notified {sent}: a false resolve or a second page")
    print("ok: after 10 s down, the Watchdog was neither resolved nor paged again")


def scenario_damaged(work):
    data = os.path.join(work, "vigil-data")
    v = Vigil(work, [])
    v.start()
    for i in range(40):
        body = [{"labels": {"alertname": "Kept", "n": str(i)}, "annotations": {"summary": "x" * 50}}]
        status, text = request("POST", v.url("/api/v2/alerts"), body)
        if status != 200:
            fail(f"posting an alert: HTTP {status} {text}")
    v.kill9()
    log = os.path.join(data, "alerts.log")
    size = os.path.getsize(log)
    with open(log, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\x00garbled bytes!\x00")
    write(os.path.join(data, "silences.json"), "")
    write(os.path.join(data, "nflog.json"), "{\"version\": 1, \"entries\": [")
    write(os.path.join(data, "rules.json"), "not json")
    v.start()
    kept = [a for a in v.get_json("/api/v2/alerts") if a["labels"]["alertname"] == "Kept"]
    if not 37 <= len(kept) < 40:
        fail(f"{len(kept)} of 40 alerts after 16 garbled bytes: only the one or two they hit should be lost")
    metrics = request("GET", v.url("/metrics"))[1]
    for f in ("alerts.log", "silences.json", "nflog.json", "rules.json"):
        if f'vigil_state_damaged_total{{file="{f}"}} 1' not in metrics:
            fail(f"{f}'s damage is not counted in /metrics:\n" +
                 "\n".join(l for l in metrics.splitlines() if "damaged" in l))
    aside = sorted(n for n in os.listdir(data) if ".damaged-" in n)
    if len(aside) != 4:
        fail(f"expected a copy of each damaged file set aside, found {aside}")
    if "state file damaged" not in v.output():
        fail("the damage was not logged")
    v.stop()
    print(f"ok: started over 4 damaged state files, {len(kept)} of 40 alerts kept, damage set aside and counted")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def scenario_limits(work):
    # A receiver that reads each notification and never answers.
    arrived = threading.Event()
    release = threading.Event()

    class Stuck(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            arrived.set()
            release.wait(120)

        def log_message(self, *args):
            pass

    stuck = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stuck)
    stuck.daemon_threads = True
    threading.Thread(target=stuck.serve_forever, daemon=True).start()
    write(os.path.join(work, "am.yml"), f"""route:
  receiver: stuck
  group_wait: 0s
receivers:
- name: stuck
  webhook_configs:
  - url: http://127.0.0.1:{stuck.server_address[1]}/
""")
    v = Vigil(work, ["--alertmanager.config=am.yml", "--config.file=prometheus.yml", "--query.timeout=2s"])
    write(os.path.join(work, "prometheus.yml"), f"""global: {{scrape_interval: 1s}}
scrape_configs:
- job_name: self
  static_configs:
  - targets: ["127.0.0.1:{v.port}"]
""")
    v.start()
    try:
        def query(q, timeout=30):
            t0 = time.time()
            status, body = request("GET", v.url("/api/v1/query?" + urllib.parse.urlencode({"query": q})),
                                   timeout=timeout)
            return status, json.loads(body) if body else {}, time.time() - t0

        # 2.6 billion subquery steps: refused by the sample limit at once,
        # without allocating for them.
        status, body, took = query("max_over_time(vector(1)[30d:1ms])")
        if status != 422 or body.get("errorType") != "execution" or "too many samples" not in body.get("error", ""):
            fail(f"huge subquery: HTTP {status} {body}")
        rss = peak_rss_mib(v.proc.pid)
        if rss > 512:
            fail(f"vigil's peak RSS reached {rss:.0f} MiB answering the huge subquery")
        # A selector walking 31 billion steps finds few points: the 2s
        # --query.timeout stops it.
        wait_until("vigil's own up series", lambda: '"job":"self"' in request("GET", v.url("/api/v1/query?query=up"))[1], 20)
        status, body, took2 = query("count_over_time(up[1y:1ms])")
        if status != 503 or body.get("errorType") != "timeout":
            fail(f"slow query: HTTP {status} {body}")
        if took2 > 10:
            fail(f"the 2s query timeout answered after {took2:.1f}s")
        # An alert with more labels than --alerts.max-labels (1000).
        labels = {"alertname": "Huge"}
        labels.update({f"l{i}": "v" for i in range(1000)})
        status, body = request("POST", v.url("/api/v2/alerts"), [{"labels": labels}])
        if status != 400 or "--alerts.max-labels" not in body:
            fail(f"an alert of 1001 labels: HTTP {status} {body}")
        # A deliverable alert: its notification hangs on the receiver.
        status, body = request("POST", v.url("/api/v2/alerts"), [{"labels": {"alertname": "Stuck"}}])
        if status != 200:
            fail(f"posting an alert: HTTP {status} {body}")
        if not arrived.wait(20):
            fail("the notification never reached the receiver")
        t0 = time.time()
        v.proc.send_signal(signal.SIGTERM)
        try:
            v.proc.wait(15)
        except subprocess.TimeoutExpired:
            fail("vigil did not exit within 15s of SIGTERM with a delivery in flight")
        stopped = time.time() - t0
        if "state saved" not in v.output():
            fail("SIGTERM did not save state:\n" + v.output())
    finally:
        release.set()
        v.stop()
        stuck.shutdown()
    print(f"ok: huge subquery refused in {took:.2f}s (peak RSS {rss:.0f} MiB), slow query timed out in "
          f"{took2:.1f}s, oversized alert refused, SIGTERM with a stuck delivery exited in {stopped:.1f}s")


class ScriptedHook:
    """A webhook receiver answering 500 to its first `failures` requests (None: to all)."""

    def __init__(self, failures):
        self.calls = 0
        self.lock = threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hook.lock:
                    hook.calls += 1
                    failing = failures is None or hook.calls <= failures
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"receiver down" if failing else b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def scenario_history(work):
    flaky, broken = ScriptedHook(1), ScriptedHook(None)
    cfg = write(os.path.join(work, "am.yml"), f"""route:
  receiver: flaky
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
  routes:
  - receiver: broken
    matchers: [alertname="Broken"]
receivers:
- name: flaky
  webhook_configs:
  - url: http://127.0.0.1:{flaky.port}/
- name: broken
  webhook_configs:
  - url: http://127.0.0.1:{broken.port}/
""")
    v = Vigil(work, [f"--alertmanager.config={cfg}"]).start()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status, body = request("POST", v.url("/api/v2/alerts"), [
        {"labels": {"alertname": "Flaky", "team": "a"}, "startsAt": now},
        {"labels": {"alertname": "Broken", "team": "b"}, "startsAt": now}])
    if status != 200:
        fail(f"POST /api/v2/alerts: HTTP {status} {body}")

    def entries(query=""):
        return v.get_json("/api/v1/notifications" + query)["data"]["entries"]

    sent = wait_until("the flaky receiver's notification in the history",
                      lambda: entries("?receiver=flaky&outcome=success"), 20)[0]
    if sent["attempts"] != 2 or sent["error"] != "" or sent["status"] != "firing":
        fail(f"flaky receiver's entry: {sent}")
    if sent["integration"] != "webhook" or sent["integrationIndex"] != 0 or sent["groupLabels"] != {"alertname": "Flaky"}:
        fail(f"flaky receiver's entry: {sent}")
    if [a["labels"] for a in sent["alerts"]] != [{"alertname": "Flaky", "team": "a"}] or sent["durationSeconds"] <= 0:
        fail(f"flaky receiver's entry: {sent}")
    failed = wait_until("the broken receiver's failure in the history",
                        lambda: entries("?outcome=failure"), 20)[0]
    if failed["receiver"] != "broken" or failed["attempts"] < 2 or "500" not in failed["error"] \
            or "receiver down" not in failed["error"]:
        fail(f"broken receiver's entry: {failed}")
    by_filter = entries('?filter=team%3D%22a%22')
    if {e["receiver"] for e in by_filter} != {"flaky"}:
        fail(f"filter team=\"a\" selected {by_filter}")
    status, body = request("GET", v.url("/api/v1/notifications?status=pending"))
    if status != 400 or "status" not in json.loads(body)["error"]:
        fail(f"status=pending: HTTP {status} {body}")

    def cli(*args):
        return subprocess.run([VIGIL, "notifications", f"--url=http://127.0.0.1:{v.port}"] + list(args),
                              capture_output=True, text=True, timeout=30)
    out = cli("--receiver=flaky", "-o", "json")
    if out.returncode != 0:
        fail(f"vigil notifications -o json: {out.returncode} {out.stderr}")
    listed = json.loads(out.stdout)["entries"]
    if listed[0]["time"] != sent["time"] or listed[0]["attempts"] != 2:
        fail(f"vigil notifications -o json: {listed}")
    out = cli("--outcome=failure", "--limit=1")
    lines = out.stdout.splitlines()
    if out.returncode != 0 or len(lines) != 2 or "broken" not in lines[1] or "failure" not in lines[1] \
            or "receiver down" not in lines[1]:
        fail(f"vigil notifications --outcome=failure: {out.returncode} {out.stdout} {out.stderr}")
    out = cli('alertname="Flaky"')
    if out.returncode != 0 or "success" not in out.stdout or "broken" in out.stdout:
        fail(f"vigil notifications alertname=Flaky: {out.returncode} {out.stdout} {out.stderr}")
    out = cli("--status=pending")
    if out.returncode != 1 or '"status"' not in out.stderr:
        fail(f"vigil notifications --status=pending: {out.returncode} {out.stdout} {out.stderr}")

    before = entries("?limit=1000")
    v.kill9()
    v.start()
    after = entries("?limit=1000")
    kept = {(e["time"], e["receiver"], e["outcome"]) for e in after}
    lost = [e for e in before if (e["time"], e["receiver"], e["outcome"]) not in kept]
    if lost:
        fail(f"{len(lost)} of {len(before)} history entries lost by kill -9 and restart: {lost[:3]}")
    metrics = request("GET", v.url("/metrics"))[1]
    if "vigil_notification_history_entries" not in metrics:
        fail("vigil_notification_history_entries missing from /metrics")
    v.stop()
    print(f"ok: {len(before)} history entries (success after a retry, failures with their error) "
          "through the API and the CLI, all kept across kill -9")


def main():
    scenarios = {"restart": scenario_restart, "reload": scenario_reload, "quickstart": scenario_quickstart,
                 "prometheus": scenario_prometheus, "amtool": scenario_amtool, "forward": scenario_forward,
                 "crash": scenario_crash, "downtime": scenario_downtime, "damaged": scenario_damaged,
                 "limits": scenario_limits, "history": scenario_history}
    if SCENARIO not in scenarios:
        fail(f"unknown scenario {SCENARIO}")
    work = tempfile.mkdtemp(prefix=f"vigil-{SCENARIO}-")
    ok = False
    try:
        scenarios[SCENARIO](work)
        ok = True
    finally:
        for p in STARTED:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        if ok or os.environ.get("VIGIL_KEEP_TEST_DIR") is None:
            if not ok:
                for name in sorted(os.listdir(work)):
                    if name.endswith(".log"):
                        print(f"--- {name}")
                        print(open(os.path.join(work, name), errors="replace").read()[-4000:])
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
