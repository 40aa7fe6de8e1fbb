#!/usr/bin/env python3
"""Checks vigil's default notification templates against Alertmanager 0.33's.

  scripts/default_templates.py record  [--amtool PATH] [--templates DIR]
      render every template Alertmanager's default templates define with
      amtool 0.33 and rewrite tests/templates/defaults/expected.json
  scripts/default_templates.py compare [--amtool PATH] [--templates DIR] [--vigil PATH]
      render them live with amtool and with vigil and compare; exits 77
      (skipped) when no amtool 0.33 is found

Each template is rendered as `amtool template render --template.glob=DIR/*.tmpl
--template.text='{{ template "NAME" . }}'` once with amtool's example data and
once with each notification of tests/templates/defaults/data/ (passed as
--template.data). The three templates that take a list of alerts
(__text_alert_list, __text_alert_list_markdown, pagerduty.default.instances)
are given .Alerts instead of the notification. vigil renders the same text with
its own, built-in default templates (its glob matches nothing).

Two differences are intended and allowed: where Alertmanager's output is its
own name ("Alertmanager", from __alertmanager: slack's username, pagerduty's
client, ...), vigil's is "vigil"; and email.default.html, vigil's own HTML
design, is not compared (tests/templates/default_templates_test.cc checks
that it carries the same information).

amtool is found as scripts/template_corpus.py finds it; its templates are
those of --templates, else the share/prometheus/alertmanager folder next to
its bin folder. Debian's amtool loads no templates of its own, so the glob is
what it renders with.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from template_corpus import find_amtool, template_dir  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DEFAULTS = os.path.join(ROOT, "tests", "templates", "defaults")
EXPECTED = os.path.join(DEFAULTS, "expected.json")
LIST_TEMPLATES = {"__text_alert_list", "__text_alert_list_markdown", "pagerduty.default.instances"}
NOT_COMPARED = {"email.default.html"}
EXAMPLE = "example"  # the rendering with amtool's example data


def template_names(tdir):
    names = []
    for path in sorted(glob.glob(os.path.join(tdir, "*.tmpl"))):
        with open(path, encoding="utf-8") as f:
            names += re.findall(r'\{\{-?\s*define\s+"([^"]+)"', f.read())
    return [n for n in names if n not in NOT_COMPARED]


def call_text(name):
    arg = ".Alerts" if name in LIST_TEMPLATES else "."
    return '{{ template "%s" %s }}' % (name, arg)


def data_files():
    return sorted(glob.glob(os.path.join(DEFAULTS, "data", "*.json")))


def render(tool, glob_pattern, text, data):
    args = [tool, "template", "render", "--template.glob=" + glob_pattern, "--template.text=" + text]
    if data:
        args.append("--template.data=" + data)
    p = subprocess.run(args, capture_output=True, env={**os.environ, "TZ": "UTC"})
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def datasets():
    return [(EXAMPLE, None)] + [(os.path.basename(d)[:-5], d) for d in data_files()]


def record(amtool, version, tdir):
    names = template_names(tdir)
    if not names:
        sys.exit(f"no templates defined under {tdir}")
    pattern = os.path.join(tdir, "*.tmpl")
    out = {
        "recorded_with": f"{version}; scripts/default_templates.py record",
        "calls": {n: call_text(n) for n in names},
        "renderings": {},
    }
    for key, path in datasets():
        out["renderings"][key] = {}
        for n in names:
            rc, stdout, stderr = render(amtool, pattern, call_text(n), path)
            if rc != 0:
                sys.exit(f"amtool failed on {n} with {key}: {stderr}")
            out["renderings"][key][n] = stdout
    with open(EXPECTED, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    print(f"recorded {len(names)} templates x {len(out['renderings'])} notifications")


def vigil_wants(amtool_output):
    return "vigil" if amtool_output == "Alertmanager" else amtool_output


def compare(amtool, tdir, vigil):
    names = template_names(tdir)
    pattern = os.path.join(tdir, "*.tmpl")
    nothing = os.path.join(DEFAULTS, "no-such-folder", "*.tmpl")
    failed = set()
    total = 0
    for key, path in datasets():
        for n in names:
            total += 1
            arc, aout, aerr = render(amtool, pattern, call_text(n), path)
            vrc, vout, verr = render(vigil, nothing, call_text(n), path)
            if arc != 0 or vrc != 0 or vout != vigil_wants(aout):
                failed.add(n)
                print(f"--- {n} with {key}\n amtool: {aout or aerr!r}\n  vigil: {vout or verr!r}")
    print(f"{len(names) - len(failed)}/{len(names)} templates render as Alertmanager 0.33's "
          f"({total} renderings; {len(NOT_COMPARED)} not compared: {', '.join(sorted(NOT_COMPARED))})")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["record", "compare"])
    ap.add_argument("--amtool")
    ap.add_argument("--templates", help="folder of Alertmanager 0.33's *.tmpl files")
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    a = ap.parse_args()
    amtool, version, seen = find_amtool(a.amtool)
    if not amtool:
        print("skipped: no amtool 0.33 found (" + ("; ".join(seen) or "none installed") + ")")
        return 77 if a.mode == "compare" else 1
    tdir = template_dir(amtool, a.templates)
    if not glob.glob(os.path.join(tdir, "*.tmpl")):
        print(f"skipped: no Alertmanager templates in {tdir}")
        return 77 if a.mode == "compare" else 1
    print(f"amtool: {amtool} ({version}); templates: {tdir}")
    if a.mode == "record":
        record(amtool, version, tdir)
        return 0
    return compare(amtool, tdir, a.vigil)


if __name__ == "__main__":
    sys.exit(main())
