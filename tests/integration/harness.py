"""What the integration scripts share: failing and skipping with ctest's codes, free ports on
127.0.0.1, waiting for a condition, plain HTTP GETs, and finding the peers (the current upstream
releases unpacked by scripts/setup.sh --peers, else what is on PATH)."""
import os
import shutil
import socket
import subprocess
import sys
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
