#!/usr/bin/env python3
"""Slow clients against an Alertmanager-compatible server (vigil or Alertmanager).

N connections trickle header bytes (one every --trickle seconds, never
finishing a request); meanwhile C connections at once each ask
GET /api/v2/alerts, and /-/healthy is probed every 50 ms from a process of
its own (so the probes' latency is the server's, not this loop's). Prints
the latency of the probes and of the concurrent requests (p50, p99, max),
the answers by status, and how many got no answer within --deadline
seconds. Python 3 stdlib only; every connection goes to 127.0.0.1.

Usage: slow_clients.py --port 9093 [--slow 100] [--concurrent 500] [--preload 1000]
"""
import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def slow_client(port, trickle, stop, cut_off):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    req = b"GET /api/v2/alerts HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1_000_000
    try:
        for b in req:
            if stop.is_set():
                break
            writer.write(bytes([b]))
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(4096), timeout=trickle)
                cut_off.append(time.monotonic())  # answered (408) or closed
                break
            except asyncio.TimeoutError:
                continue
    except (ConnectionError, OSError):
        cut_off.append(time.monotonic())
    finally:
        writer.close()


async def get(port, path, deadline):
    """One request on a fresh connection: (status, seconds to the whole answer), or None."""
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout=deadline)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        remaining = deadline - (time.monotonic() - t0)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=remaining)
        status = int(head.split(b" ", 2)[1])
        length = None
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        remaining = deadline - (time.monotonic() - t0)
        if length is not None:
            await asyncio.wait_for(reader.readexactly(length), timeout=remaining)
        else:
            await asyncio.wait_for(reader.read(), timeout=remaining)
        writer.close()
        return status, time.monotonic() - t0
    except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        return None


def probe_process(port, seconds, deadline):
    """Probes /-/healthy every 50 ms for `seconds` with blocking sockets;
    prints a JSON list of latencies (null: no answer within the deadline)."""
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=deadline) as s:
                s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            out.append(time.monotonic() - t0 if data.startswith(b"HTTP/1.1 200") else None)
        except OSError:
            out.append(None)
        time.sleep(0.05)
    print(json.dumps(out))


async def main_async(a):
    stop = asyncio.Event()
    cut_off = []
    slow = [asyncio.create_task(slow_client(a.port, a.trickle, stop, cut_off)) for _ in range(a.slow)]
    await asyncio.sleep(1.0)  # the slow clients are connected and trickling
    prober = subprocess.Popen([sys.executable, __file__, "--port", str(a.port), "--probe-only",
                               str(a.hold + 2), "--deadline", str(a.deadline)], stdout=subprocess.PIPE)
    await asyncio.sleep(0.5)
    t0 = time.monotonic()
    results = await asyncio.gather(*[get(a.port, "/api/v2/alerts", a.deadline) for _ in range(a.concurrent)])
    burst = time.monotonic() - t0
    out, _ = await asyncio.get_running_loop().run_in_executor(None, prober.communicate)
    stop.set()
    for t in slow:
        t.cancel()
    await asyncio.gather(*slow, return_exceptions=True)
    probes = json.loads(out)
    ok = [r[1] for r in results if r is not None and r[0] == 200]
    statuses = {}
    for r in results:
        key = "none" if r is None else str(r[0])
        statuses[key] = statuses.get(key, 0) + 1
    ok_probes = [p for p in probes if p is not None]
    print(json.dumps({
        "slow_clients": a.slow, "slow_cut_off": len(cut_off),
        "concurrent": a.concurrent, "answers": statuses, "concurrent_wall_s": round(burst, 2),
        "alerts_200_p50_ms": round(percentile(ok, 50) * 1000, 1),
        "alerts_200_p99_ms": round(percentile(ok, 99) * 1000, 1),
        "probes": len(probes), "probes_unanswered": len(probes) - len(ok_probes),
        "healthy_p50_ms": round(percentile(ok_probes, 50) * 1000, 1),
        "healthy_p99_ms": round(percentile(ok_probes, 99) * 1000, 1),
        "healthy_max_ms": round(max(ok_probes) * 1000, 1) if ok_probes else None,
    }))


def preload(port, n):
    alerts = [{"labels": {"alertname": f"Load{i % 10}", "instance": f"host-{i}", "severity": "warning"},
               "annotations": {"summary": f"alert {i}"}} for i in range(n)]
    for i in range(0, n, 500):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/alerts", method="POST",
                                     data=json.dumps(alerts[i:i + 500]).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=30).read()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--slow", type=int, default=100, help="slow connections trickling header bytes")
    ap.add_argument("--concurrent", type=int, default=500, help="connections asking GET /api/v2/alerts at once")
    ap.add_argument("--trickle", type=float, default=0.5, help="seconds between a slow client's bytes")
    ap.add_argument("--hold", type=float, default=8.0, help="seconds to keep probing after the burst")
    ap.add_argument("--deadline", type=float, default=60.0, help="a request unanswered after this many seconds failed")
    ap.add_argument("--preload", type=int, default=1000, help="alerts to post first, so listings have content")
    ap.add_argument("--probe-only", type=float, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.probe_only is not None:
        probe_process(a.port, a.probe_only, a.deadline)
        return
    if a.preload:
        preload(a.port, a.preload)
    asyncio.run(main_async(a))


if __name__ == "__main__":
    main()
