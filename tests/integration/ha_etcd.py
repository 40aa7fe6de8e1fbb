#!/usr/bin/python3
"""High availability on etcd: three vigil replicas and one etcd, all on
127.0.0.1, alerts posted to every replica (as Prometheus sends to every
Alertmanager it knows), and a webhook receiver that counts the notifications
it answered, per group. Scenarios, each on its own cluster name:

  once      200 groups: exactly one notification per group, then exactly one
            more when the repeat interval has passed; the status API shows
            the three replicas, ready.
  kill      200 groups, a replica killed (SIGKILL) while they are notified:
            still exactly one per group; the dead replica leaves the status.
  claimant  the replica that claimed the groups is killed while its requests
            are held unanswered: the others notify every group once its
            lease has lapsed, none twice.
  silence   a silence created on replica 1 is listed and mutes on replicas 2
            and 3 within 1 s; expired on replica 3, it is expired everywhere.
  outage    etcd stopped: every group posted meanwhile is notified (failing
            open; duplicates allowed, misses not), the status says
            "settling"; a silence created meanwhile reaches the others once
            etcd is back, and groups posted then are notified exactly once.

Usage: ha_etcd.py VIGIL. Exit 0 when all pass, 1 when one fails, 77 when etcd
is not installed (apt-get install etcd-server; scripts/setup.sh --peers).
"""
import http.server as httpserver
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
import urllib.request

VIGIL = os.path.abspath(sys.argv[1])
ETCD = shutil.which("etcd") or ("/usr/bin/etcd" if os.access("/usr/bin/etcd", os.X_OK) else None)
AMTOOL = next((p for p in ["/opt/vigil-peers/usr/bin/amtool", "/opt/peers3/usr/bin/amtool"]
               if os.access(p, os.X_OK)), None)
LEASE_TTL = 3
GROUP_INTERVAL = 2
REPEAT = 14

failures = []


def check(ok, what):
    print(("ok      " if ok else "FAILED  ") + what, flush=True)
    if not ok:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(fn, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def http(method, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, (json.loads(text) if text[:1] in (b"{", b"[") else text.decode())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
        return 0, ""


class Receiver:
    """The webhook: counts answered notifications per (group, status); holds
    the requests of the replicas named in `hold` without answering."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answered = {}   # (group, status) -> count
        self.by = {}         # replica -> count answered
        self.held = []       # (replica, group) never answered
        self.log = []        # (monotonic time received, replica, group, status)
        self.hold = set()
        self.release = threading.Event()
        rec = self

        class Handler(httpserver.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                replica = self.path.rsplit("/", 1)[-1]
                group = body.get("groupLabels", {}).get("group", "?")
                with rec.lock:
                    holding = replica in rec.hold
                    if holding:
                        rec.held.append((replica, group))
                if holding:
                    rec.release.wait(60)
                    self.close_connection = True
                    return  # no answer: not delivered
                # Counted when it arrives: the page is out, whether or not
                # the sender lives to read the answer.
                with rec.lock:
                    key = (group, body.get("status"))
                    rec.answered[key] = rec.answered.get(key, 0) + 1
                    rec.by[replica] = rec.by.get(replica, 0) + 1
                    rec.log.append((time.monotonic(), replica, group, body.get("status")))
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender died meanwhile

            def log_message(self, *args):
                pass

        self.server = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # a sender killed mid-request
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, group, status="firing"):
        with self.lock:
            return self.answered.get((group, status), 0)

    def counts(self, groups, status="firing"):
        with self.lock:
            return [self.answered.get((g, status), 0) for g in groups]


class Etcd:
    def __init__(self, work):
        self.dir = os.path.join(work, "etcd")
        self.client = free_port()
        self.peer = free_port()
        self.url = f"http://127.0.0.1:{self.client}"
        self.proc = None

    def start(self):
        self.log = open(os.path.join(os.path.dirname(self.dir), "etcd.log"), "ab")
        self.proc = subprocess.Popen(
            [ETCD, "--name=t", f"--data-dir={self.dir}", f"--listen-client-urls={self.url}",
             f"--advertise-client-urls={self.url}", f"--listen-peer-urls=http://127.0.0.1:{self.peer}",
             f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer}",
             f"--initial-cluster=t=http://127.0.0.1:{self.peer}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        ok = wait_until(lambda: http("POST", self.url + "/v3/kv/range", {"key": "eA=="})[0] == 200, 20)
        if not ok:
            raise SystemExit("etcd did not start: see etcd.log")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Replica:
    def __init__(self, work, cluster, name, etcd, receiver):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        d = os.path.join(work, cluster, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "am.yml"), "w") as f:
            f.write(f"""route:
  receiver: hook
  group_by: [group]
  group_wait: 1s
  group_interval: {GROUP_INTERVAL}s
  repeat_interval: {REPEAT}s
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:{receiver.port}/hook/{name}
""")
        self.log = open(os.path.join(d, "vigil.log"), "ab")
        self.proc = subprocess.Popen(
            [VIGIL, "run", f"--alertmanager.config={d}/am.yml", f"--storage.path={d}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", f"--cluster.etcd-endpoints={etcd.url}",
             f"--cluster.name={cluster}", f"--cluster.peer-name={name}", f"--cluster.lease-ttl={LEASE_TTL}s",
             "--cluster.etcd-timeout=1s", "--log.level=info"],
            stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_until(lambda: http("GET", self.url + "/-/ready")[0] == 200, 20):
            raise SystemExit(f"replica {name} did not start: see {d}/vigil.log")

    def status(self):
        code, body = http("GET", self.url + "/api/v2/status")
        return body.get("cluster", {}) if code == 200 and isinstance(body, dict) else {}

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def alerts(groups, name="HA"):
    now = time.time()
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
    return [{"labels": {"alertname": name, "group": g}, "annotations": {}, "endsAt": ends} for g in groups]


def post(replicas, groups):
    body = alerts(groups)
    for r in replicas:
        code, _ = http("POST", r.url + "/api/v2/alerts", body)
        check(code == 200, f"alerts posted to {r.name}") if code != 200 else None


def recorded_groups(etcd, cluster):
    """The groups whose notification the shared log in etcd holds."""
    import base64
    import re
    prefix = f"/vigil/{cluster}/nflog/".encode()
    end = prefix[:-1] + bytes([prefix[-1] + 1])
    code, body = http("POST", etcd.url + "/v3/kv/range",
                      {"key": base64.b64encode(prefix).decode(), "range_end": base64.b64encode(end).decode()})
    out = set()
    for kv in (body.get("kvs", []) if code == 200 and isinstance(body, dict) else []):
        entry = json.loads(base64.b64decode(kv["value"]))
        m = re.search(r'group="([^"]+)"', entry["group_key"])
        if m:
            out.add(m.group(1))
    return out


def exactly_once(rec, groups, what, timeout, killed=None, unrecorded=None):
    """Every group notified exactly once. With a replica killed, a group whose
    notification from it reached the receiver but whose delivery was not yet
    recorded in etcd when it died (`unrecorded`: the answer on its way back,
    or the record one etcd round trip away) may be notified once more by
    another replica, which cannot know it was delivered; any other duplicate
    fails."""
    wait_until(lambda: all(c >= 1 for c in rec.counts(groups)), timeout)
    time.sleep(2 * GROUP_INTERVAL + 0.5)  # any duplicate would have come by now
    counts = rec.counts(groups)
    missed = [g for g, c in zip(groups, counts) if c == 0]
    twice = [g for g, c in zip(groups, counts) if c > 1]
    if killed and twice:
        with rec.lock:
            first = {}
            for t, replica, g, status in rec.log:
                if status == "firing" and g not in first:
                    first[g] = replica
        allowed = [g for g in twice if first[g] == killed and g in unrecorded]
        print(f"        {len(allowed)} group(s) received from {killed} whose delivery it had not recorded in etcd "
              f"when killed, sent again by another replica: {allowed}")
        twice = [g for g in twice if g not in allowed]
    check(not missed and not twice,
          f"{what}: {len(groups)} groups, each notified exactly once "
          f"(missed {len(missed)} {missed[:3]}, more than once {len(twice)} {twice[:3]})")


def scenario_once(work, etcd, rec):
    rs = [Replica(work, "once", f"r{i}", etcd, rec) for i in (1, 2, 3)]
    try:
        wait_until(lambda: all(len(r.status().get("peers", [])) == 3 for r in rs), 10)
        st = rs[0].status()
        peers = sorted(p["name"] for p in (st or {}).get("peers", []))
        check(st and st.get("status") == "ready" and peers == ["r1", "r2", "r3"] and st.get("name") == "r1",
              f"status API: cluster ready with r1, r2, r3 (got {st})")
        if AMTOOL:
            out = subprocess.run([AMTOOL, "cluster", "show", "-o", "extended", f"--alertmanager.url={rs[1].url}"],
                                 capture_output=True, text=True, timeout=20).stdout
            words = out.split()
            check("ready" in words and "r2" in words and all(n in out for n in ("r1", "r3")),
                  f"amtool cluster show -o extended reads it: {out.strip()!r}")
        else:
            print("skipped amtool cluster show: amtool 0.33 is not installed (scripts/setup.sh --peers)")
        groups = [f"g{i}" for i in range(200)]
        t0 = time.monotonic()
        post(rs, groups)
        exactly_once(rec, groups, "three replicas", 20)
        senders = {k: v for k, v in rec.by.items() if k in ("r1", "r2", "r3")}
        print(f"        sent by replica: {senders}")
        # The repeat interval: exactly one more each, measured from the
        # first notification, whichever replica sends it.
        wait_until(lambda: all(c >= 2 for c in rec.counts(groups)), REPEAT + 3 * GROUP_INTERVAL + 10)
        time.sleep(2 * GROUP_INTERVAL + 0.5)
        counts = rec.counts(groups)
        check(all(c == 2 for c in counts),
              f"repeat_interval {REPEAT}s: exactly one more per group after "
              f"{time.monotonic() - t0:.0f}s (counts {sorted(set(counts))})")
        return rs
    except BaseException:
        for r in rs:
            r.stop()
        raise


def scenario_silence(rs):
    r1, r2, r3 = rs
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    code, body = http("POST", r1.url + "/api/v2/silences",
                      {"matchers": [{"name": "group", "value": "g7", "isRegex": False, "isEqual": True}],
                       "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "endsAt": ends,
                       "createdBy": "test", "comment": "ha"})
    check(code == 200, f"silence created on r1 ({code})")
    sid = body.get("silenceID") if isinstance(body, dict) else None
    t0 = time.monotonic()

    def muted_everywhere():
        for r in (r2, r3):
            code, alerts_ = http("GET", r.url + "/api/v2/alerts?filter=group%3D%22g7%22")
            if code != 200 or not alerts_ or sid not in alerts_[0]["status"]["silencedBy"]:
                return False
        return True

    ok = wait_until(muted_everywhere, 5, step=0.02)
    took = time.monotonic() - t0
    check(ok and took <= 1.0, f"silence from r1 mutes on r2 and r3 within 1 s (took {took:.2f} s)")
    code, _ = http("DELETE", f"{r3.url}/api/v2/silence/{sid}")
    check(code == 200, "silence expired on r3")

    def expired_everywhere():
        for r in (r1, r2):
            code, s = http("GET", f"{r.url}/api/v2/silence/{sid}")
            if code != 200 or s["status"]["state"] != "expired":
                return False
        return True

    t0 = time.monotonic()
    ok = wait_until(expired_everywhere, 5, step=0.02)
    check(ok and time.monotonic() - t0 <= 1.0,
          f"expiry from r3 reaches r1 and r2 within 1 s (took {time.monotonic() - t0:.2f} s)")


def scenario_kill(work, etcd, rec):
    rs = [Replica(work, "kill", f"k{i}", etcd, rec) for i in (1, 2, 3)]
    try:
        groups = [f"k{i}" for i in range(200)]
        post([rs[1], rs[0], rs[2]], groups)  # k2's groups are due first: it sends most
        # Killed in the middle of sending: some of its notifications answered.
        wait_until(lambda: rec.by.get("k2", 0) >= 20, 15, step=0.001)
        rs[1].kill()
        # What etcd holds once k2 is gone, and what reached the receiver from
        # it (requests in flight included): neither changes any more, and the
        # others cannot claim its groups before its lease lapses.
        time.sleep(0.3)
        recorded = recorded_groups(etcd, "kill")
        with rec.lock:
            from_k2 = {g for t, r, g, s in rec.log if r == "k2"}
        unrecorded = from_k2 - recorded
        print(f"        k2 killed after {len(from_k2)} of its notifications reached the receiver; "
              f"{len(unrecorded)} of them not yet recorded in etcd")
        exactly_once(rec, groups, "a replica killed while notifying", 20 + LEASE_TTL, "k2", unrecorded)
        gone = wait_until(lambda: sorted(p["name"] for p in rs[0].status().get("peers", [])) == ["k1", "k3"],
                          LEASE_TTL + 3)
        check(bool(gone), f"the killed replica leaves the status within the lease TTL ({rs[0].status()})")
    finally:
        for r in rs:
            r.stop()


def scenario_claimant(work, etcd, rec):
    rs = [Replica(work, "claimant", f"c{i}", etcd, rec) for i in (1, 2, 3)]
    try:
        groups = [f"c{i}" for i in range(20)]
        with rec.lock:
            rec.hold.add("c2")
        post([rs[1]], groups)  # c2's groups flush first: it claims them
        time.sleep(0.5)
        post([rs[0], rs[2]], groups)
        wait_until(lambda: len(rec.held) >= 1, 10)
        time.sleep(0.3)
        with rec.lock:
            claimed = len({g for r, g in rec.held if r == "c2"})
        rs[1].kill()
        rec.release.set()
        check(claimed > 0, f"c2 claimed {claimed} groups and was killed before any was answered")
        exactly_once(rec, groups, "the claimant killed", LEASE_TTL + 3 * GROUP_INTERVAL + 10)
    finally:
        for r in rs:
            r.stop()


def scenario_outage(work, etcd, rec):
    rs = [Replica(work, "outage", f"o{i}", etcd, rec) for i in (1, 2, 3)]
    try:
        etcd.stop()
        settling = wait_until(lambda: all(r.status().get("status") == "settling" for r in rs), LEASE_TTL + 5)
        check(bool(settling), "etcd stopped: every replica's status says settling")
        code, text = http("GET", rs[0].url + "/-/ready")
        check(code == 200 and "settling" in str(text), f"/-/ready stays 200 and says so ({code} {text!r})")
        groups = [f"o{i}" for i in range(50)]
        post(rs, groups)
        ok = wait_until(lambda: all(c >= 1 for c in rec.counts(groups)), 15)
        counts = rec.counts(groups)
        check(bool(ok), f"etcd down: all {len(groups)} groups notified, none missed "
                        f"(duplicates allowed: {sum(counts) - len(groups)})")
        ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        code, body = http("POST", rs[0].url + "/api/v2/silences",
                          {"matchers": [{"name": "group", "value": "p3", "isRegex": False, "isEqual": True}],
                           "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "endsAt": ends,
                           "createdBy": "test", "comment": "made while etcd was down"})
        sid = body.get("silenceID") if isinstance(body, dict) else None
        check(code == 200 and sid, "a silence created on o1 while etcd is down")
        etcd.start()
        ready = wait_until(lambda: all(r.status().get("status") == "ready" for r in rs), LEASE_TTL + 10)
        check(bool(ready), "etcd back: every replica ready again")
        seen = wait_until(lambda: all(http("GET", f"{r.url}/api/v2/silence/{sid}")[0] == 200 for r in rs[1:]), 10)
        check(bool(seen), "the silence made during the outage reaches o2 and o3")
        later = [f"p{i}" for i in range(50)]
        post(rs, later)
        counts = rec.counts(later)
        exactly_once(rec, [g for g in later if g != "p3"], "after etcd returned", 20)
        time.sleep(0.1)
        check(rec.count("p3") == 0, f"the group the silence covers is not notified ({rec.count('p3')})")
    finally:
        for r in rs:
            r.stop()


def main():
    if not ETCD:
        print("skipped: etcd is not installed (apt-get install etcd-server, or scripts/setup.sh --peers)")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="vigil-ha-")
    etcd = Etcd(work)
    rec = Receiver()
    keep = False
    try:
        etcd.start()
        rs = scenario_once(work, etcd, rec)
        try:
            scenario_silence(rs)
        finally:
            for r in rs:
                r.stop()
        scenario_kill(work, etcd, rec)
        scenario_claimant(work, etcd, rec)
        scenario_outage(work, etcd, rec)
    except BaseException:
        keep = True
        raise
    finally:
        rec.release.set()
        etcd.stop()
        rec.server.shutdown()
        if failures or keep:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failed")
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
