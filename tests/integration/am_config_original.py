#!/usr/bin/python3
"""`config.original` of GET /api/v2/status, vigil against Alertmanager 0.33.

One Alertmanager 0.33 and one `vigil run` are started on 127.0.0.1 (free
ports), both reading the same alertmanager.yml path in a temporary directory.
For each candidate config the file is rewritten, both are told to reload
(POST /-/reload), and the two `config.original` texts are compared byte for
byte. Configs Alertmanager refuses are left out (printed as such).

Candidates: the Alertmanager configs in markdown code blocks of
/work/shared/seeds (or $VIGIL_SEEDS_DIR), the configs of the conformance
corpus (config/ and cli/), the repository's examples/ and
tests/notifiers/testdata, and the extra files given on the command line.

Usage: am_config_original.py VIGIL [--show] [--only] [FILE...] (--show prints
Alertmanager's text of each config that matches, --only compares the given
files alone). Exit 0 when every
config Alertmanager accepts reads the same from both, 1 otherwise, 77 when
Alertmanager 0.33 is not installed.
"""
import difflib
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("VIGIL_SHARED_DIR", os.path.join(os.path.dirname(REPO), "shared"))


def skip(msg):
    print(f"skipped: {msg}")
    sys.exit(77)


if not os.path.isdir(SHARED):
    skip(f"{SHARED} is absent (the upstream corpora and seeds this test reads; set VIGIL_SHARED_DIR)")


def find_alertmanager():
    for d in filter(None, [os.environ.get("VIGIL_PEERS_DIR", ""), "/opt/vigil-peers", "/opt/peers3"]):
        binary = os.path.join(d, "usr/bin/prometheus-alertmanager")
        if os.access(binary, os.X_OK):
            out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
            if "version 0.33" in out:
                return binary
    skip("Alertmanager 0.33 is not installed (scripts/setup.sh --peers)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, timeout=10):
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        return 0, str(e)


def original(port):
    status, body = http("GET", f"http://127.0.0.1:{port}/api/v2/status")
    if status != 200:
        return None
    return json.loads(body)["config"]["original"]


def candidates(extra):
    out = []
    seeds = os.environ.get("VIGIL_SEEDS_DIR", os.path.join(SHARED, "seeds"))
    for path in sorted(glob.glob(os.path.join(seeds, "*"))):
        try:
            text = open(path, encoding="utf-8").read()
        except (OSError, UnicodeDecodeError):
            continue
        if path.endswith((".yml", ".yaml")):
            out.append((os.path.relpath(path, SHARED), text))
            continue
        for i, block in enumerate(re.findall(r"```ya?ml\n(.*?)```", text, re.S)):
            if re.search(r"^route:", block, re.M) and re.search(r"^receivers:", block, re.M):
                out.append((f"{os.path.relpath(path, SHARED)}#{i}", block))
    for sub in ("conformance/alertmanager/config", "conformance/alertmanager/cli"):
        for path in sorted(glob.glob(os.path.join(SHARED, sub, "*.yml"))):
            out.append((os.path.relpath(path, SHARED), open(path, encoding="utf-8").read()))
    for pattern in ("examples/*/alertmanager.yml", "examples/*/alertmanager/config.y*ml",
                    "tests/notifiers/testdata/*.yml", "tests/integration/data/alertmanager*.yml",
                    "tests/integration/data/am_config_*.yml"):
        for path in sorted(glob.glob(os.path.join(REPO, pattern))):
            out.append((os.path.relpath(path, REPO), open(path, encoding="utf-8").read()))
    for path in extra:
        out.append((path, open(path, encoding="utf-8").read()))
    return out


class Process:
    def __init__(self, name, argv, work):
        self.name = name
        self.log = open(os.path.join(work, f"{name}.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=work)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_ready(port, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.proc.poll() is not None:
            return False
        if original(port) is not None:
            return True
        time.sleep(0.1)
    return False


MINIMAL = "route:\n  receiver: r\nreceivers:\n  - name: r\n"


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    vigil = os.path.abspath(args[0])
    show = "--show" in args
    only = "--only" in args
    extra = [a for a in args[1:] if a not in ("--show", "--only")]
    am_bin = find_alertmanager()
    work = tempfile.mkdtemp(prefix="vigil-amconfig-")
    config = os.path.join(work, "alertmanager.yml")
    with open(config, "w") as f:
        f.write(MINIMAL)
    am_port, v_port = free_port(), free_port()
    procs = []
    try:
        procs.append(Process("alertmanager", [am_bin, f"--config.file={config}", "--storage.path=am-data",
                                              f"--web.listen-address=127.0.0.1:{am_port}",
                                              "--cluster.listen-address="], work))
        procs.append(Process("vigil", [vigil, "run", f"--alertmanager.config={config}", "--storage.path=vigil-data",
                                       f"--web.listen-address=127.0.0.1:{v_port}"], work))
        for p, port in zip(procs, (am_port, v_port)):
            if not wait_ready(port, p):
                print(f"FAIL: {p.name} did not start; log:\n" + open(os.path.join(work, f"{p.name}.log")).read())
                return 1
        compared = matched = refused = 0
        failures = []
        todo = [(p, open(p, encoding="utf-8").read()) for p in extra] if only else candidates(extra)
        for name, text in todo:
            with open(config, "w") as f:
                f.write(text)
            st, body = http("POST", f"http://127.0.0.1:{am_port}/-/reload")
            if st != 200:
                refused += 1
                print(f"-- {name}: Alertmanager refuses it ({body.strip()[:120]})")
                continue
            st, body = http("POST", f"http://127.0.0.1:{v_port}/-/reload")
            compared += 1
            if st != 200:
                failures.append(name)
                print(f"DIFF {name}: vigil refuses it ({body.strip()[:200]})")
                continue
            want, got = original(am_port), original(v_port)
            if want == got:
                matched += 1
                print(f"ok   {name}")
                if show:
                    print(want)
                continue
            failures.append(name)
            print(f"DIFF {name}")
            diff = difflib.unified_diff(want.splitlines(), (got or "").splitlines(), "alertmanager", "vigil",
                                        lineterm="", n=1)
            print("\n".join(list(diff)[:60]))
        print(f"\n{matched} of {compared} configs read the same ({refused} refused by Alertmanager)")
        return 0 if compared and matched == compared else 1
    finally:
        for p in procs:
            p.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
