#!/usr/bin/python3
"""vigil and Prometheus 3.5 speaking Prometheus' remote protocols, on 127.0.0.1.

Scenarios:
  write  Prometheus A scrapes itself and is vigil's datasource; Prometheus B runs
         with --web.enable-remote-write-receiver and is vigil's remote_write
         destination. vigil (sidecar mode, 1 s evaluations) records
         `job:up:sum` and fires `AlwaysOn`: both, and ALERTS / ALERTS_FOR_STATE,
         are queryable in B. B is then stopped for 30 s and started again
         on the same data: once vigil's queue has drained, the recorded series
         has one sample per evaluation across the gap (count_over_time equals
         the number of evaluations, no step larger than the interval).
  readback
         one Prometheus scrapes itself, receives remote writes and is vigil's
         datasource: an alert of another group over the series vigil records
         fires in vigil, read back from Prometheus.
  write_embedded
         vigil in embedded mode scrapes itself and records `job:up:sum`; its
         remote_write destination is Prometheus B: the recorded series and ALERTS
         are queryable there, and the scraped series (not rule output) are not.
  read   vigil (embedded mode) scrapes its own /metrics as job "self";
         Prometheus C reads vigil through remote_read (read_recent) and scrapes
         vigil's /federate?match[]={job="self"} as job "federate": the series
         is queryable in C both ways (job="self" through remote read;
         exported_job="self" through federation).

  histograms
         native histograms both ways with one Prometheus (remote write receiver,
         native histograms on): the test pushes integer-form histogram samples of
         `nh` to it; vigil (sidecar, 1 s evaluations) records
         `job:nh:rate1m = sum by (job) (rate(nh[1m]))` and writes it back with
         send_native_histograms: each written histogram equals Prometheus' own
         answer to the rule's expression at that instant. A second rule reads the
         recorded series beside `nh`, which vigil reads as a range answer with
         `histograms`: its difference to Prometheus' own is 0.

Prometheus 3.5 is looked for in $VIGIL_PEERS_DIR, /opt/vigil-peers and
/opt/peers3. Usage: remote_protocols.py VIGIL write|readback|write_embedded|read|histograms. Exit 0 on success,
1 on failure, 77 when Prometheus 3.5 is not installed.
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
from harness import fail, free_port, get, prometheus3, skip, wait_until

VIGIL = os.path.abspath(sys.argv[1])
SCENARIO = sys.argv[2]
STARTED = []


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Process:
    def __init__(self, name, args, work, ready_url):
        self.name, self.args, self.work, self.ready_url = name, args, work, ready_url
        self.proc = None

    def start(self):
        log = open(os.path.join(self.work, f"{self.name}.log"), "ab")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, cwd=self.work)
        STARTED.append(self.proc)
        wait_until(f"{self.name} to be ready", lambda: get(self.ready_url)[0] == 200 or self.proc.poll() is not None,
                   30)
        if self.proc.poll() is not None:
            fail(f"{self.name} exited:\n{self.output()}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self):
        with open(os.path.join(self.work, f"{self.name}.log"), "rb") as f:
            return f.read().decode(errors="replace")[-4000:]


def prometheus(binary, work, name, port, config, extra=()):
    write(os.path.join(work, f"{name}.yml"), config)
    return Process(name, [binary, f"--config.file={work}/{name}.yml", f"--storage.tsdb.path={work}/{name}-tsdb",
                          f"--web.listen-address=127.0.0.1:{port}", *extra], work,
                   f"http://127.0.0.1:{port}/-/ready")


def vigil(work, port, args):
    return Process("vigil", [VIGIL, "run", f"--web.listen-address=127.0.0.1:{port}",
                             f"--storage.path={work}/vigil-data", *args], work, f"http://127.0.0.1:{port}/-/ready")


def query(port, expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    status, body = get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode(params))
    if status != 200:
        return None
    return json.loads(body)["data"]


def vector(port, expr):
    d = query(port, expr)
    return d["result"] if d and d["resultType"] == "vector" else []


def metric(port, name, labels=""):
    status, body = get(f"http://127.0.0.1:{port}/metrics")
    for line in body.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if labels in line:
                return float(line.rsplit(" ", 1)[1])
    return None


def scenario_write(binary, work):
    a_port, b_port, v_port = free_port(), free_port(), free_port()
    a = prometheus(binary, work, "datasource", a_port, f"""global:
  scrape_interval: 1s
scrape_configs:
- job_name: prom
  static_configs: [{{targets: ["127.0.0.1:{a_port}"]}}]
""").start()
    b = prometheus(binary, work, "receiver", b_port, "global: {scrape_interval: 1m}\n",
                   ["--web.enable-remote-write-receiver"]).start()
    write(os.path.join(work, "rules.yml"), """groups:
- name: remote
  interval: 1s
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: AlwaysOn
    expr: vector(1) > 0
    for: 2s
    labels: {severity: none}
""")
    write(os.path.join(work, "vigil.yml"), f"""global:
  evaluation_interval: 1s
  external_labels: {{replica: one}}
rule_files: [rules.yml]
remote_write:
- url: http://127.0.0.1:{b_port}/api/v1/write
  name: receiver
  queue_config: {{batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}}
""")
    v = vigil(work, v_port, ["--config.file=vigil.yml", f"--datasource.url=http://127.0.0.1:{a_port}"]).start()
    got = wait_until("job:up:sum written to Prometheus", lambda: vector(b_port, 'job:up:sum{job="prom"}'), 30)
    if got[0]["value"][1] != "1" or got[0]["metric"].get("replica") != "one":
        fail(f"unexpected recorded series: {got}")
    wait_until("ALERTS firing in Prometheus",
               lambda: vector(b_port, 'ALERTS{alertname="AlwaysOn",alertstate="firing",replica="one"}'), 30)
    wait_until("ALERTS_FOR_STATE in Prometheus", lambda: vector(b_port, 'ALERTS_FOR_STATE{alertname="AlwaysOn"}'), 10)
    print("recorded series, ALERTS and ALERTS_FOR_STATE are in Prometheus")

    # Prometheus B goes away for a while, then comes back on the same data.
    first = query(b_port, 'timestamp(job:up:sum{job="prom"})')
    b.stop()
    down_at = time.time()
    time.sleep(30)
    retried = metric(v_port, "prometheus_remote_storage_samples_retried_total", 'remote_name="receiver"')
    pending = metric(v_port, "prometheus_remote_storage_samples_pending", 'remote_name="receiver"')
    print(f"after {time.time() - down_at:.0f}s down: retried {retried}, pending {pending}")
    if not retried or not pending:
        fail("vigil did not hold and retry samples while the receiver was down")
    b.start()
    wait_until("vigil's queue to drain",
               lambda: metric(v_port, "prometheus_remote_storage_samples_pending", 'remote_name="receiver"') == 0,
               60)
    time.sleep(2)
    end = time.time()
    start_t = float(first["result"][0]["value"][1]) if first and first["result"] else down_at - 5
    window = int(end - start_t) + 2
    d = query(b_port, f'job:up:sum{{job="prom"}}[{window}s]', at=end)
    values = d["result"][0]["values"] if d and d["result"] else []
    ts = [float(t) for t, _ in values]
    steps = [round(b2 - a2, 3) for a2, b2 in zip(ts, ts[1:])]
    if not ts or max(steps) > 1.0 or ts[0] > down_at or ts[-1] < down_at + 30:
        fail(f"samples missing across the outage: first {ts[:1]}, last {ts[-1:]}, largest step {max(steps or [0])}s")
    count = query(b_port, f'count_over_time(job:up:sum{{job="prom"}}[{window}s])', at=end)["result"][0]["value"][1]
    expected = round(ts[-1] - ts[0]) + 1
    if int(count) != expected:
        fail(f"count_over_time {count}, expected {expected} evaluations")
    print(f"across the {window}s window with the outage: {count} samples, one per evaluation, none lost")
    for p in (v, b, a):
        p.stop()


def scenario_readback(binary, work):
    p_port, v_port = free_port(), free_port()
    p = prometheus(binary, work, "prometheus", p_port, f"""global:
  scrape_interval: 1s
scrape_configs:
- job_name: prom
  static_configs: [{{targets: ["127.0.0.1:{p_port}"]}}]
""", ["--web.enable-remote-write-receiver"]).start()
    write(os.path.join(work, "rules.yml"), """groups:
- name: record
  interval: 1s
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
- name: alert
  interval: 1s
  rules:
  - alert: RecordedSeen
    expr: job:up:sum{job="prom"} >= 1
""")
    write(os.path.join(work, "vigil.yml"), f"""global:
  evaluation_interval: 1s
rule_files: [rules.yml]
remote_write:
- url: http://127.0.0.1:{p_port}/api/v1/write
  queue_config: {{batch_send_deadline: 500ms}}
""")
    v = vigil(work, v_port, ["--config.file=vigil.yml", f"--datasource.url=http://127.0.0.1:{p_port}"]).start()

    def firing():
        status, body = get(f"http://127.0.0.1:{v_port}/api/v1/alerts")
        return status == 200 and any(a["labels"].get("alertname") == "RecordedSeen" and a["state"] == "firing"
                                     for a in json.loads(body)["data"]["alerts"])
    wait_until("the alert over the recorded series to fire in vigil", firing, 30)
    print("an alert over a series vigil recorded fires in vigil, read back through the datasource")
    for x in (v, p):
        x.stop()


def scenario_write_embedded(binary, work):
    b_port, v_port = free_port(), free_port()
    b = prometheus(binary, work, "receiver", b_port, "global: {scrape_interval: 1m}\n",
                   ["--web.enable-remote-write-receiver"]).start()
    write(os.path.join(work, "rules.yml"), """groups:
- name: embedded
  interval: 1s
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: SelfUp
    expr: up{job="self"} == 1
""")
    write(os.path.join(work, "vigil.yml"), f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
- job_name: self
  static_configs: [{{targets: ["127.0.0.1:{v_port}"]}}]
remote_write:
- url: http://127.0.0.1:{b_port}/api/v1/write
  queue_config: {{batch_send_deadline: 1s}}
""")
    v = vigil(work, v_port, ["--config.file=vigil.yml"]).start()
    got = wait_until("job:up:sum written to Prometheus", lambda: vector(b_port, 'job:up:sum{job="self"}'), 30)
    if got[0]["value"][1] != "1":
        fail(f"unexpected recorded series: {got}")
    wait_until("ALERTS in Prometheus", lambda: vector(b_port, 'ALERTS{alertname="SelfUp",alertstate="firing"}'), 30)
    if vector(b_port, 'up{job="self"}'):
        fail("scraped series were remote-written: only rule output should be")
    print("embedded mode: recorded series and ALERTS are in Prometheus, scraped series are not")
    for p in (v, b):
        p.stop()


def scenario_read(binary, work):
    v_port, c_port = free_port(), free_port()
    write(os.path.join(work, "vigil.yml"), f"""global:
  scrape_interval: 1s
scrape_configs:
- job_name: self
  static_configs: [{{targets: ["127.0.0.1:{v_port}"]}}]
""")
    v = vigil(work, v_port, ["--config.file=vigil.yml"]).start()
    wait_until("vigil to scrape itself",
               lambda: get(f"http://127.0.0.1:{v_port}/api/v1/query?query=up%7Bjob%3D%22self%22%7D")[1].find(
                   '"value"') >= 0, 20)
    status, body = get(f"http://127.0.0.1:{v_port}/federate?match[]=" + urllib.parse.quote('{job="self"}'))
    if status != 200 or 'up{instance="127.0.0.1:' not in body or "# TYPE up untyped" not in body:
        fail(f"/federate: HTTP {status}:\n{body[:2000]}")
    c = prometheus(binary, work, "reader", c_port, f"""global:
  scrape_interval: 1s
remote_read:
- url: http://127.0.0.1:{v_port}/api/v1/read
  read_recent: true
scrape_configs:
- job_name: federate
  metrics_path: /federate
  params: {{"match[]": ['{{job="self"}}']}}
  static_configs: [{{targets: ["127.0.0.1:{v_port}"]}}]
""").start()
    via_read = wait_until("up{job=\"self\"} through remote read", lambda: vector(c_port, 'up{job="self"}'), 30)
    if via_read[0]["value"][1] != "1":
        fail(f"unexpected value through remote read: {via_read}")
    # A range too: the samples vigil holds over 5 s (one a second) come back.
    def range_count():
        d = query(c_port, 'count_over_time(up{job="self"}[5s])')
        return d and d["result"] and float(d["result"][0]["value"][1]) >= 4
    wait_until("a 5 s range of up{job=\"self\"} through remote read", range_count, 20)
    via_federation = wait_until("up{exported_job=\"self\"} through /federate",
                                lambda: vector(c_port, 'up{job="federate",exported_job="self"}'), 30)
    if via_federation[0]["value"][1] != "1":
        fail(f"unexpected value through federation: {via_federation}")
    print("vigil's series are queryable in Prometheus through remote read and through /federate")
    for p in (c, v):
        p.stop()


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def field(number, wire_type, payload):
    """One protobuf field: varint (0), fixed64 (1) or length-delimited (2)."""
    key = varint(number << 3 | wire_type)
    if wire_type == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def snappy_literal(raw):
    """Snappy's block format with every byte a literal (valid, uncompressed)."""
    out = bytearray(varint(len(raw)))
    for i in range(0, len(raw), 65536):
        chunk = raw[i:i + 65536]
        out += bytes([61 << 2]) + (len(chunk) - 1).to_bytes(2, "little") + chunk
    return bytes(out)


def integer_histogram(i, scale, t_ms):
    """prompb.Histogram in the integer form (count 8i): zero bucket i, positive buckets
    (1,2] (2,4] (4,8] with i, 2i, 3i, negative bucket [-4,-2) with i."""
    import struct
    dbl = lambda v: struct.pack("<d", v)
    pos = [i * scale, 2 * i * scale, 3 * i * scale]
    neg = [i * scale]
    deltas = lambda cs: b"".join(varint(zigzag(c - p)) for p, c in zip([0] + cs, cs))
    span = lambda off, n: field(1, 0, varint(zigzag(off))) + field(2, 0, varint(n))
    return (field(1, 0, varint(8 * i * scale)) + field(3, 1, dbl(10.5 * i * scale)) +
            field(4, 0, varint(zigzag(0))) + field(5, 1, dbl(0.001)) + field(6, 0, varint(i * scale)) +
            field(8, 2, span(2, 1)) + field(9, 2, deltas(neg)) +
            field(11, 2, span(1, 3)) + field(12, 2, deltas(pos)) + field(15, 0, varint(t_ms)))


def push_histograms(port, until_ms):
    series = b""
    for inst, scale in (("a", 1), ("b", 2)):
        labels = b"".join(field(1, 2, field(1, 2, n.encode()) + field(2, 2, v.encode()))
                          for n, v in (("__name__", "nh"), ("instance", inst), ("job", "push")))
        hs = b"".join(field(4, 2, integer_histogram(i + 1, scale, until_ms - (23 - i) * 5000)) for i in range(24))
        series += field(1, 2, labels + hs)
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/write", data=snappy_literal(series), method="POST",
                                 headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                                          "X-Prometheus-Remote-Write-Version": "0.1.0"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        fail(f"pushing native histograms to Prometheus: HTTP {e.code}: {e.read()[:500]!r}")
    if status // 100 != 2:
        fail(f"pushing native histograms to Prometheus: HTTP {status}")


def scenario_histograms(binary, work):
    p_port, v_port = free_port(), free_port()
    p = prometheus(binary, work, "prometheus", p_port, "global: {scrape_interval: 1m}\n",
                   ["--web.enable-remote-write-receiver", "--enable-feature=native-histograms"]).start()
    push_histograms(p_port, int(time.time() * 1000))
    if not vector(p_port, "nh"):
        fail("Prometheus holds no native histograms after the push")
    write(os.path.join(work, "rules.yml"), """groups:
- name: nh
  interval: 1s
  rules:
  - record: job:nh:rate1m
    expr: sum by (job) (rate(nh[1m]))
  - record: job:nh:diff
    expr: histogram_sum(job:nh:rate1m) - on (job) histogram_sum(sum by (job) (rate(nh[1m])))
""")
    write(os.path.join(work, "vigil.yml"), f"""global:
  evaluation_interval: 1s
rule_files: [rules.yml]
remote_write:
- url: http://127.0.0.1:{p_port}/api/v1/write
  name: back
  send_native_histograms: true
  queue_config: {{batch_send_deadline: 500ms}}
""")
    v = vigil(work, v_port, ["--config.file=vigil.yml", f"--datasource.url=http://127.0.0.1:{p_port}"]).start()

    def written():
        d = query(p_port, 'job:nh:rate1m{job="push"}[30s]')
        if not d or not d["result"]:
            return None
        hs = d["result"][0].get("histograms", [])
        return hs if len(hs) >= 3 else None
    hs = wait_until("three histograms of job:nh:rate1m written to Prometheus", written, 40)
    for t, h in hs:
        own = query(p_port, "sum by (job) (rate(nh[1m]))", at=t)["result"]
        if len(own) != 1 or own[0].get("histogram", [None, None])[1] != h:
            fail(f"at {t}: vigil wrote {json.dumps(h)}, Prometheus computes {json.dumps(own)}")
    if not any(float(h["count"]) > 0 for _, h in hs):
        fail(f"the rates written are all empty: {hs}")
    print(f"{len(hs)} native histograms vigil wrote equal Prometheus' own, bucket by bucket "
          f"(e.g. count {hs[-1][1]['count']}, {len(hs[-1][1].get('buckets', []))} buckets)")
    diff = wait_until("job:nh:diff written to Prometheus", lambda: vector(p_port, 'job:nh:diff{job="push"}'), 20)
    if abs(float(diff[0]["value"][1])) > 1e-9:
        fail(f"the rule over recorded and datasource histograms differs from Prometheus': {diff}")
    sent = metric(v_port, "prometheus_remote_storage_histograms_total", 'remote_name="back"')
    if not sent:
        fail(f"prometheus_remote_storage_histograms_total is {sent}")
    print(f"a rule reading the datasource's histograms as a range answer agrees (difference {diff[0]['value'][1]}); "
          f"{sent:.0f} histogram samples sent")
    for x in (v, p):
        x.stop()


def main():
    binary = prometheus3()
    work = tempfile.mkdtemp(prefix="vigil-remote-")
    ok = False
    try:
        {"write": scenario_write, "readback": scenario_readback, "write_embedded": scenario_write_embedded,
         "read": scenario_read, "histograms": scenario_histograms}[SCENARIO](binary, work)
        ok = True
    finally:
        for p in STARTED:
            if p.poll() is None:
                p.kill()
                p.wait()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            for f in sorted(os.listdir(work)):
                if f.endswith(".log"):
                    with open(os.path.join(work, f), "rb") as fh:
                        print(f"--- {f}\n{fh.read().decode(errors='replace')[-3000:]}")
            shutil.rmtree(work, ignore_errors=True)


main()
