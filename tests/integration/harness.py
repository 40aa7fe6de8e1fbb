"""What the integration scripts share: failing and skipping with ctest's codes, free ports on
127.0.0.1, waiting for a condition, plain HTTP requests, a webhook receiver, and finding the peers
(the current upstream releases unpacked by scripts/setup.sh --peers, else what is on PATH)."""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

PEER_DIRS = (os.environ.get("VIGIL_PEERS_DIR", ""), "/opt/vigil-peers", "/opt/peers3")


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def skip(msg):
    """ctest counts exit 77 as skipped (SKIP_RETURN_CODE); the reason is printed beside it."""
    print(f"skipped: {msg}")
    sys.exit(77)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, fn, timeout):
    """fn()'s first true value, polled every 0.1 s; a failure after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    fail(f"timed out after {timeout}s waiting for {what}")


def get(url, timeout=5):
    """(status, body text); status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, ""


def request(method, url, body=None, timeout=5):
    """(status, body text) of an HTTP request; a body that is not bytes is sent as JSON.
    Status 0 when nothing answers."""
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, ""


class Sink:
    """A webhook receiver on 127.0.0.1 recording every notification (arrival time, JSON body)."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"{}")
                with sink.lock:
                    sink.received.append((time.time(), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notifications(self):
        with self.lock:
            return list(self.received)

    def alerts_named(self, name, status=None):
        """(arrival time, body, alert) of every alert called `name` (and in `status`) received."""
        out = []
        for t, body in self.notifications():
            for a in body.get("alerts", []):
                if a["labels"].get("alertname") == name and (status is None or a["status"] == status):
                    out.append((t, body, a))
        return out

    def names(self):
        """The alertnames of every alert received."""
        return {a["labels"].get("alertname") for _, b in self.notifications() for a in b.get("alerts", [])}

    def close(self):
        self.server.shutdown()


def upstream_peer(name):
    """The current upstream release of a peer (scripts/setup.sh --peers), else None."""
    for d in PEER_DIRS:
        p = os.path.join(d, "usr/bin", name)
        if d and os.access(p, os.X_OK):
            return p
    return None


def peer(name):
    """The current upstream release of a peer, else the one on PATH, else None."""
    return upstream_peer(name) or shutil.which(name)


def prometheus3():
    """Prometheus 3.x from the peers' directories; skips the test when there is none."""
    for d in filter(None, PEER_DIRS):
        binary = os.path.join(d, "usr/bin/prometheus")
        if os.access(binary, os.X_OK):
            out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
            if "version 3." in out:
                return binary
    skip("Prometheus 3.x is not installed (scripts/setup.sh --peers)")
