#!/usr/bin/env python3
"""Renders the template corpus with a real amtool 0.33 and records its outputs.

  scripts/template_corpus.py record [--amtool PATH]   rewrite tests/templates/corpus/expected/
  scripts/template_corpus.py check  [--vigil PATH]    compare vigil's renderings with them
  scripts/template_corpus.py upstream [--amtool PATH] render the templates Debian's
      prometheus-alertmanager 0.33 installs (share/prometheus/alertmanager/*.tmpl next to
      amtool's bin folder) with both amtool and vigil and compare them live; nothing of them
      is stored in this repository

amtool is looked for as --amtool, then $AMTOOL, then /opt/peers3/usr/bin/amtool,
then amtool on $PATH, and must report version 0.33 (Debian 12's amtool is 0.25,
whose example data and Go release differ).

The corpus (tests/templates/corpus/cases.txt) is a list of blocks:

  ### name [html] [data=FILE]
  template text, up to the next line starting with "### "

The text is rendered as `amtool template render --template.glob=files/*.tmpl
--template.text=TEXT` (with --template.type=html and --template.data=data/FILE
when given). Its standard output is recorded as expected/NAME.out; when amtool
fails, its error message (without the "amtool: error: " prefix) is recorded as
expected/NAME.err. The unit tests compare vigil against these files, so CI
needs no amtool.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "tests", "templates", "corpus")


# The first amtool 0.33 found; also what was found instead, for a message.
def find_amtool(given):
    candidates = [given, os.environ.get("AMTOOL"), "/opt/peers3/usr/bin/amtool", shutil.which("amtool")]
    seen = []
    for c in candidates:
        if not c or not os.access(c, os.X_OK):
            continue
        v = subprocess.run([c, "--version"], capture_output=True, text=True)
        version = (v.stdout + v.stderr).split("\n")[0]
        seen.append(f"{c}: {version}")
        if re.search(r"version 0\.33\.", version):
            return c, version, seen
    return None, None, seen


# Alertmanager's templates as installed with amtool (or the folder given).
def template_dir(amtool, given):
    if given:
        return given
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(amtool)))
    return os.path.join(prefix, "share", "prometheus", "alertmanager")


def read_cases():
    cases = []
    with open(os.path.join(CORPUS, "cases.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    current = None
    for line in lines:
        if line.startswith("### "):
            if current:
                cases.append(current)
            words = line[4:].split()
            current = {"name": words[0], "html": False, "data": None, "lines": []}
            for w in words[1:]:
                if w == "html":
                    current["html"] = True
                elif w.startswith("data="):
                    current["data"] = w[5:]
                else:
                    sys.exit(f"unknown option {w!r} in {line!r}")
        elif current is not None:
            current["lines"].append(line)
    if current:
        cases.append(current)
    for c in cases:
        c["text"] = "\n".join(c["lines"])
        if c["text"].endswith("\n"):
            c["text"] = c["text"][:-1]  # the newline before the next header
    names = [c["name"] for c in cases]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        sys.exit(f"duplicate case names: {sorted(dupes)}")
    return cases


def render(tool, prefix, case):
    args = [tool] + prefix + ["--template.glob=" + os.path.join(CORPUS, "files", "*.tmpl"),
                              "--template.text=" + case["text"]]
    if case["html"]:
        args.append("--template.type=html")
    if case["data"]:
        args.append("--template.data=" + os.path.join(CORPUS, "data", case["data"]))
    p = subprocess.run(args, capture_output=True, env={**os.environ, "TZ": "UTC"})
    return p.returncode, p.stdout, p.stderr


def error_message(stderr, prefix):
    msg = stderr.decode("utf-8", "replace")
    if msg.startswith(prefix):
        msg = msg[len(prefix):]
    return msg.rstrip("\n")


def record(amtool):
    out_dir = os.path.join(CORPUS, "expected")
    for f in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, f))
    cases = read_cases()
    for c in cases:
        rc, out, err = render(amtool, ["template", "render"], c)
        if rc == 0:
            with open(os.path.join(out_dir, c["name"] + ".out"), "wb") as f:
                f.write(out)
        else:
            with open(os.path.join(out_dir, c["name"] + ".err"), "w", encoding="utf-8") as f:
                f.write(error_message(err, "amtool: error: ") + "\n")
    print(f"recorded {len(cases)} cases")


def check(vigil):
    cases = read_cases()
    failed = 0
    for c in cases:
        rc, out, err = render(vigil, ["template", "render"], c)
        base = os.path.join(CORPUS, "expected", c["name"])
        if os.path.exists(base + ".out"):
            want = open(base + ".out", "rb").read()
            ok = rc == 0 and out == want
            got = out if rc == 0 else err
        else:
            want = open(base + ".err", "rb").read().decode().rstrip("\n")
            got = error_message(err, "vigil: error: ") if rc != 0 else out.decode()
            ok = rc != 0 and got == want
        if not ok:
            failed += 1
            print(f"--- {c['name']}\n want: {want!r}\n  got: {got!r}")
    print(f"{len(cases) - failed}/{len(cases)} cases render as amtool renders them")
    return 1 if failed else 0


def upstream(amtool, vigil):
    import glob
    import re
    UPSTREAM_GLOB = os.path.join(template_dir(amtool, None), "*.tmpl")
    names = []
    for path in sorted(glob.glob(UPSTREAM_GLOB)):
        names += re.findall(r'define "([^"]+)"', open(path, encoding="utf-8").read())
    datas = [None] + sorted(os.listdir(os.path.join(CORPUS, "data")))
    same = total = 0
    for name in names:
        for data in datas:
            args = ["template", "render", "--template.glob=" + UPSTREAM_GLOB,
                    "--template.text={{ template \"%s\" . }}" % name]
            if name.endswith(".html"):
                args.append("--template.type=html")
            if data:
                args.append("--template.data=" + os.path.join(CORPUS, "data", data))
            a = subprocess.run([amtool] + args, capture_output=True)
            v = subprocess.run([vigil] + args, capture_output=True)
            total += 1
            if a.returncode == v.returncode and a.stdout == v.stdout:
                same += 1
            else:
                print(f"--- {name} {data or 'example data'}\n amtool: {a.stdout or a.stderr!r}"
                      f"\n  vigil: {v.stdout or v.stderr!r}")
    print(f"{same}/{total} renderings of upstream's templates are identical")
    return 0 if same == total else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["record", "check", "upstream"])
    ap.add_argument("--amtool")
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    a = ap.parse_args()
    if a.mode == "check":
        return check(a.vigil)
    amtool, version, seen = find_amtool(a.amtool)
    if not amtool:
        sys.exit("no amtool 0.33 found (" + ("; ".join(seen) or "none installed") + ")")
    if a.mode == "record":
        record(amtool)
        return 0
    return upstream(amtool, a.vigil)


if __name__ == "__main__":
    sys.exit(main())
