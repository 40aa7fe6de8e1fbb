#!/usr/bin/env python3
"""Silence creation rate through the Alertmanager API v2 (POST /api/v2/silences).

Starts BIN (`vigil run`, or any binary taking the same flags through
--spawn-args) on 127.0.0.1 with a fresh storage path, stores --stored
silences first, then times --count creations from one client (each waits
for its answer before the next) and from --concurrency clients at once.
Each request opens its own connection, as amtool does (and so that clients
never wait for a server thread another client's idle connection holds);
requests are encoded before the clock starts and sent on raw sockets, so
that the client spends little of the machine's CPU.
Prints creations/s and request
latency p50/p99 per phase, and, when the server exposes them, the fdatasync
calls of its silence log (vigil_state_log_syncs_total).

  python3 bench/silence_load.py --bin build/vigil
  python3 bench/silence_load.py --bin build/vigil --stored 10000 --count 3000 --concurrency 8
  python3 bench/silence_load.py --url http://127.0.0.1:9093      # a running server

Python stdlib only; all traffic stays on 127.0.0.1.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def silence_request(n, now):
    """POST /api/v2/silences for silence n, encoded once, before any timing."""
    body = json.dumps({
        "matchers": [{"name": "instance", "value": f"host-{n}:9100", "isRegex": False, "isEqual": True},
                     {"name": "job", "value": "node", "isRegex": False, "isEqual": True}],
        "startsAt": iso(now), "endsAt": iso(now + 7200),
        "createdBy": "silence_load", "comment": f"maintenance of host-{n}"}).encode()
    return (b"POST /api/v2/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def exchange(host, port, raw):
    """Sends one request on its own connection; returns (status, body)."""
    with socket.create_connection((host, port), timeout=30) as c:
        c.sendall(raw)
        chunks = []
        while True:
            b = c.recv(65536)
            if not b:
                break
            chunks.append(b)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def get(host, port, path):
    return exchange(host, port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())


def run_phase(host, port, first, count, clients):
    """`count` creations spread over `clients` connections; returns (seconds, latencies)."""
    latencies = [[] for _ in range(clients)]
    errors = []
    per = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
    starts = [first + sum(per[:i]) for i in range(clients)]
    ready = threading.Barrier(clients + 1)

    now = time.time()
    requests = [[silence_request(n, now) for n in range(starts[i], starts[i] + per[i])] for i in range(clients)]

    def work(i):
        ready.wait()
        try:
            for raw in requests[i]:
                t = time.perf_counter()
                status, body = exchange(host, port, raw)
                latencies[i].append(time.perf_counter() - t)
                if status != 200:
                    raise RuntimeError(f"POST /api/v2/silences: HTTP {status} {body[:200]!r}")
        except Exception as e:  # reported below, the phase is void
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return elapsed, [x for l in latencies for x in l]


def silence_syncs(host, port):
    status, body = get(host, port, "/metrics")
    text = body.decode()
    m = re.search(r'^vigil_state_log_syncs_total\{log="silences"\} (\d+)', text, re.M) if status == 200 else None
    return int(m.group(1)) if m else None


def report(name, count, elapsed, lat, syncs):
    lat = sorted(lat)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    line = (f"{name:<28} {count:>6} silences in {elapsed:6.2f} s = {count / elapsed:7.0f} /s, "
            f"p50 {statistics.median(lat) * 1000:6.2f} ms, p99 {p99 * 1000:6.2f} ms")
    if syncs is not None:
        line += f", {syncs} syncs ({count / max(syncs, 1):.1f} creations per sync)"
    print(line, flush=True)
    return {"count": count, "seconds": elapsed, "rate": count / elapsed,
            "p50_ms": statistics.median(lat) * 1000, "p99_ms": p99 * 1000, "syncs": syncs}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="server binary to start (fresh storage path, free port)")
    ap.add_argument("--spawn-args", default="run --storage.path={storage} --web.listen-address=127.0.0.1:{port}",
                    help="arguments for --bin ({storage}, {port} are filled in)")
    ap.add_argument("--url", help="a running server instead of --bin")
    ap.add_argument("--stored", type=int, default=10000, help="silences stored before timing")
    ap.add_argument("--count", type=int, default=3000, help="creations timed per phase")
    ap.add_argument("--concurrency", type=int, default=8, help="clients of the concurrent phase")
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()
    if not a.bin and not a.url:
        ap.error("--bin or --url")

    proc = None
    storage = None
    if a.bin:
        port = free_port()
        host = "127.0.0.1"
        storage = tempfile.mkdtemp(prefix="silence-load-")
        args = a.spawn_args.format(storage=storage, port=port).split()
        proc = subprocess.Popen([a.bin] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                if get(host, port, "/-/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                sys.exit(f"{a.bin} did not become ready")
            time.sleep(0.05)
    else:
        u = urllib.parse.urlparse(a.url)
        host, port = u.hostname, u.port or 80

    figures = {}
    try:
        n = 0
        if a.stored:
            elapsed, lat = run_phase(host, port, n, a.stored, a.concurrency)
            n += a.stored
            figures["store"] = report(f"store ({a.concurrency} clients)", a.stored, elapsed, lat, None)
        for name, clients in (("sequential (1 client)", 1), (f"concurrent ({a.concurrency} clients)", a.concurrency)):
            before = silence_syncs(host, port)
            elapsed, lat = run_phase(host, port, n, a.count, clients)
            after = silence_syncs(host, port)
            n += a.count
            syncs = after - before if before is not None and after is not None else None
            figures[name] = report(name, a.count, elapsed, lat, syncs)
        print(f"stored at the end: {n} silences")
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if storage:
            shutil.rmtree(storage, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
