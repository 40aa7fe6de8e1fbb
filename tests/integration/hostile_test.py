#!/usr/bin/env python3
"""`vigil run` against operator mistakes and hostile clients, on 127.0.0.1 only.

Usage: hostile_test.py VIGIL SCENARIO [SOURCE_DIR]

Scenarios:
  lock          a second vigil on the same storage path, or on the same
                address, exits at once with a message naming what is taken;
                the first keeps every silence it acknowledged.
  slow_clients  hundreds of connections trickling header bytes, and hundreds
                more asking at once, do not keep /-/healthy from answering
                within a second; the trickling ones are cut off at the header
                deadline. A body-less POST /-/reload (what Kubernetes config
                reloaders send) is answered at once; forms and text posted to
                the API are refused 415, a cross-site reload 403.
  web_config    TLS and basic auth from --web.config.file: amtool (with its
                own --http.config.file) adds and lists silences over HTTPS
                with the password, and is refused without it; `vigil check
                web-config` agrees with promtool's on good and bad files.
                Skipped without amtool, promtool or openssl.

Exit 0 on success, 1 on failure, 77 when skipped.
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

# The daemon test's harness (it reads the same arguments).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_test as d  # noqa: E402

VIGIL = d.VIGIL
SCENARIO = d.SCENARIO


def silence_body(name, comment="test"):
    now = time.time()
    return {"matchers": [{"name": "alertname", "value": name, "isRegex": False, "isEqual": True}],
            "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
            "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
            "createdBy": "test", "comment": comment}


def run_briefly(args, cwd, timeout=10):
    """Runs vigil with args; returns (exit code, output) or fails if it keeps running."""
    try:
        p = subprocess.run([VIGIL] + args, cwd=cwd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        d.fail(f"vigil {' '.join(args)} kept running; it should have refused to start")
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def scenario_lock(work):
    v = d.Vigil(work, []).start()
    data = os.path.join(work, "vigil-data")
    for i in range(20):
        status, body = d.request("POST", v.url("/api/v2/silences"), silence_body(f"A{i}"))
        if status != 200:
            d.fail(f"silence {i}: HTTP {status} {body}")
    # Same storage path, another address: refused at once, naming the holder.
    t0 = time.time()
    code, out = run_briefly(["run", f"--web.listen-address=127.0.0.1:{d.free_port()}", f"--storage.path={data}"], work)
    if code == 0 or f"is in use by another process (pid {v.proc.pid})" not in out or data not in out:
        d.fail(f"a second vigil on {data} was not refused as it should be (exit {code}):\n{out}")
    if time.time() - t0 > 5:
        d.fail("the second vigil took more than 5s to give up")
    # Same address, another storage path: the bind fails as Go's does.
    code, out = run_briefly(["run", f"--web.listen-address=127.0.0.1:{v.port}",
                             f"--storage.path={os.path.join(work, 'other')}"], work)
    if code == 0 or f"listen tcp 127.0.0.1:{v.port}: bind: address already in use" not in out:
        d.fail(f"a second vigil on port {v.port} was not refused (exit {code}):\n{out}")
    # Every request reached the one instance: all 20 silences, after a restart too.
    v.stop()
    v.start()
    got = [s for s in v.get_json("/api/v2/silences") if s["comment"] == "test"]
    if len(got) != 20:
        d.fail(f"{len(got)} of 20 acknowledged silences after restart")
    v.stop()
    print("ok: a second instance on the same storage path or address is refused; 20/20 silences kept")


def raw_request(port, data, timeout=5.0):
    """Sends raw bytes, returns (seconds until the answer's first line, that line)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.time()
    s.sendall(data)
    buf = b""
    while b"\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    s.close()
    return time.time() - t0, buf.split(b"\r\n", 1)[0].decode(errors="replace")


def scenario_slow_clients(work):
    v = d.Vigil(work, []).start()
    n_slow, n_busy = 200, 300
    stop = threading.Event()
    slow_socks, closed_by_server = [], []
    lock = threading.Lock()

    def trickle():
        """One slow client: a header byte every 400 ms, never finishing."""
        try:
            s = socket.create_connection(("127.0.0.1", v.port), timeout=10)
        except OSError:
            return
        with lock:
            slow_socks.append(s)
        s.settimeout(0.4)
        req = b"GET /api/v2/alerts HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
        for b in req:
            if stop.is_set():
                break
            try:
                s.send(bytes([b]))
                data = s.recv(4096)
                # The server answered (a 408) or closed: cut off.
                with lock:
                    closed_by_server.append(time.time())
                break
            except socket.timeout:
                continue
            except OSError:
                with lock:
                    closed_by_server.append(time.time())
                break

    slow_threads = [threading.Thread(target=trickle, daemon=True) for _ in range(n_slow)]
    for t in slow_threads:
        t.start()
    time.sleep(0.5)

    busy_results = []

    def busy():
        status, _ = d.request("GET", v.url("/api/v2/alerts"), timeout=20)
        with lock:
            busy_results.append(status)

    busy_threads = [threading.Thread(target=busy, daemon=True) for _ in range(n_busy)]
    t_start = time.time()
    for t in busy_threads:
        t.start()
    # Probe health all along: every probe answers within a second.
    probes = []
    while time.time() - t_start < 4:
        t0 = time.time()
        status, _ = d.request("GET", v.url("/-/healthy"), timeout=5)
        probes.append((status, time.time() - t0))
        time.sleep(0.1)
    for t in busy_threads:
        t.join(30)
    bad = [p for p in probes if p[0] != 200 or p[1] > 1.0]
    if bad:
        d.fail(f"{len(bad)} of {len(probes)} health probes failed or took over 1s: {bad[:5]}")
    if busy_results.count(200) != n_busy:
        d.fail(f"only {busy_results.count(200)} of {n_busy} concurrent GET /api/v2/alerts answered 200")
    # The slow clients are cut off at the header deadline (5 s by default).
    d.wait_until("the slow clients to be cut off", lambda: len(closed_by_server) >= n_slow * 0.95, 15)
    stop.set()
    worst_probe = max(p[1] for p in probes)

    # What a Kubernetes config reloader sends: POST, no body, no length.
    secs, line = raw_request(v.port, b"POST /-/reload HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
    if not line.startswith("HTTP/1.1 200") or secs > 1.0:
        d.fail(f"POST /-/reload without a body: {line!r} after {secs:.2f}s")
    # Cross-site requests a browser could be made to send.
    body = json.dumps(silence_body("X")).encode()
    for ctype in (b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x"):
        _, line = raw_request(v.port, b"POST /api/v2/silences HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype +
                              b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        if not line.startswith("HTTP/1.1 415"):
            d.fail(f"a silence posted as {ctype.decode()} was not refused 415: {line}")
    _, line = raw_request(v.port, b"POST /-/reload HTTP/1.1\r\nHost: 127.0.0.1:" + str(v.port).encode() +
                          b"\r\nOrigin: https://evil.example\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n")
    if not line.startswith("HTTP/1.1 403"):
        d.fail(f"a cross-site reload was not refused 403: {line}")
    if any(s["comment"] == "test" for s in v.get_json("/api/v2/silences")):
        d.fail("a silence posted as a form or text was created")
    status, _ = d.request("POST", v.url("/api/v2/silences"), silence_body("X"))
    if status != 200:
        d.fail(f"a JSON silence was refused: {status}")
    metrics = d.request("GET", v.url("/metrics"))[1]
    if 'vigil_http_connections_closed_total{reason="header_timeout"}' not in metrics:
        d.fail("header timeouts are not counted in /metrics")
    v.stop()
    for s in slow_socks:
        s.close()
    print(f"ok: {len(probes)} health probes under {n_slow} slow and {n_busy} concurrent clients, slowest "
          f"{worst_probe * 1000:.0f} ms; {len(closed_by_server)} slow clients cut off; reload answered in "
          f"{secs * 1000:.0f} ms; forms, text and cross-site reloads refused")


def scenario_web_config(work):
    amtool = shutil.which("amtool")
    promtool = shutil.which("promtool")
    openssl = shutil.which("openssl")
    if not amtool or not promtool or not openssl:
        d.skip("needs amtool, promtool and openssl")

    def sh(*args):
        p = subprocess.run(args, cwd=work, capture_output=True, timeout=60)
        if p.returncode != 0:
            d.fail(f"{' '.join(args)}: {p.stderr.decode(errors='replace')}")

    sh(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
       "-subj", "/CN=vigil test CA", "-keyout", "ca.key", "-out", "ca.crt")
    sh(openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=vigil",
       "-keyout", "server.key", "-out", "server.csr")
    d.write(os.path.join(work, "san.ext"), "subjectAltName=IP:127.0.0.1\n")
    sh(openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
       "-days", "1", "-extfile", "san.ext", "-out", "server.crt")
    hashed = subprocess.run(["/usr/bin/python3", "-W", "ignore", "-c",
                             "import crypt; print(crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))"],
                            capture_output=True, timeout=30).stdout.decode().strip()
    if not hashed.startswith("$2"):
        d.skip("no bcrypt in /usr/bin/python3's crypt module")
    web = d.write(os.path.join(work, "web.yml"),
                  f"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                  f"basic_auth_users:\n  alice: {hashed}\n")

    # vigil check web-config says what promtool says, on good and bad files.
    files = {"good": web,
             "unknown_field": d.write(os.path.join(work, "bad1.yml"), "tls_server_config:\n  certfile: x\n"),
             "no_key": d.write(os.path.join(work, "bad2.yml"), "tls_server_config:\n  cert_file: server.crt\n"),
             "plain_password": d.write(os.path.join(work, "bad3.yml"), "basic_auth_users:\n  alice: s3cret\n"),
             "bad_header": d.write(os.path.join(work, "bad4.yml"),
                                   "http_server_config:\n  headers:\n    X-Frame-Options: allow\n"),
             "empty": d.write(os.path.join(work, "empty.yml"), "")}
    for name, path in files.items():
        mine = subprocess.run([VIGIL, "check", "web-config", path], cwd=work, capture_output=True, timeout=30)
        theirs = subprocess.run([promtool, "check", "web-config", path], cwd=work, capture_output=True, timeout=30)
        if mine.returncode != theirs.returncode:
            d.fail(f"check web-config {name}: vigil exits {mine.returncode}, promtool {theirs.returncode}\n"
                   f"vigil: {mine.stderr.decode()}\npromtool: {theirs.stderr.decode()}")

    v = d.Vigil(work, [f"--web.config.file={web}"])
    v.start(expect_ready=False)
    ctx = ssl.create_default_context(cafile=os.path.join(work, "ca.crt"))

    def ready():
        import urllib.request
        import base64
        req = urllib.request.Request(f"https://127.0.0.1:{v.port}/-/ready",
                                     headers={"Authorization": "Basic " + base64.b64encode(b"alice:s3cret").decode()})
        try:
            with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
                return r.status == 200
        except Exception:
            return False
    d.wait_until("vigil to serve HTTPS", lambda: ready() or v.dead(), 15)
    if v.dead():
        d.fail(f"vigil exited:\n{v.output()}")

    def am(http_config, *args):
        return subprocess.run([amtool, f"--alertmanager.url=https://127.0.0.1:{v.port}",
                               f"--http.config.file={http_config}"] + list(args),
                              cwd=work, capture_output=True, timeout=30)
    good = d.write(os.path.join(work, "http.yml"),
                   f"basic_auth:\n  username: alice\n  password: s3cret\ntls_config:\n  ca_file: {work}/ca.crt\n")
    wrong = d.write(os.path.join(work, "http-wrong.yml"),
                    f"basic_auth:\n  username: alice\n  password: guess\ntls_config:\n  ca_file: {work}/ca.crt\n")
    p = am(good, "silence", "add", "alertname=TlsTest", "--comment=over TLS", "--duration=1h")
    if p.returncode != 0:
        d.fail(f"amtool silence add over TLS with basic auth: {p.stderr.decode()}")
    sid = p.stdout.decode().strip()
    p = am(good, "silence", "query", "-q")
    if sid not in p.stdout.decode():
        d.fail(f"amtool silence query did not list {sid}: {p.stdout.decode()} {p.stderr.decode()}")
    p = am(wrong, "silence", "query", "-q")
    if p.returncode == 0:
        d.fail("amtool with a wrong password was let in")
    v.stop()
    print(f"ok: check web-config agrees with promtool on {len(files)} files; amtool over TLS with basic auth "
          "adds and lists a silence, a wrong password is refused")


def main():
    scenarios = {"lock": scenario_lock, "slow_clients": scenario_slow_clients, "web_config": scenario_web_config}
    if SCENARIO not in scenarios:
        d.fail(f"unknown scenario {SCENARIO}")
    work = tempfile.mkdtemp(prefix=f"vigil-{SCENARIO}-")
    ok = False
    try:
        scenarios[SCENARIO](work)
        ok = True
    finally:
        if not ok:
            for name in sorted(os.listdir(work)):
                if name.endswith(".log"):
                    print(f"--- {name}")
                    print(open(os.path.join(work, name), errors="replace").read()[-4000:])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
