#!/usr/bin/env python3
"""Checks every prometheus.yml of upstream's config/testdata (read in place
from ../shared/conformance/prometheus-config/) with `vigil check prometheus
--syntax-only`, as upstream's config tests load them:

- *.good.yml must be accepted (warnings allowed: service discoveries vigil
  does not run are accepted with one);
- *.bad.yml must be refused, and the errors must contain the text upstream's
  config_test.go expects (testdata/prometheus_config_errors.tsv);
- a *.bad.yml whose error lies inside a service discovery vigil does not run
  is accepted with a warning: skipped, with that reason;
- files marked neither good nor bad are loaded by upstream's tests with
  particular options: skipped, with that reason.

Prints one line per file and a summary, failures included. Exits 1 when a
file fails that KNOWN_FAILURES does not list (with its reason), or when a
listed file passes (the list is then out of date).
usage: prometheus_conformance.py VIGIL CORPUS_DIR EXPECTED_ERRORS_TSV
"""
import os
import re
import subprocess
import sys

# Differences vigil has today, each with its reason. They count as failed.
KNOWN_FAILURES = {
    "scrape_config_files_fallback_scrape_protocol2.bad.yml":
        "refused, but a type error is worded as vigil words it, without Go yaml's \"unmarshal errors\" heading",
}

# Files that are not prometheus.yml files at all.
NOT_A_CONFIG = {
    "static_config.bad.yml": "a file_sd target group file, not a prometheus.yml",
}


def expectations(path):
    want = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, text = line.rstrip("\n").split("\t", 1)
            # Upstream's text may start with LoadFile's own prefix; vigil
            # names the file its own way (with line and column).
            text = re.sub(r"^parsing YAML file testdata/[^:]+: ", "", text)
            want.setdefault(name, []).append(text)
    return want


def main():
    vigil, corpus, tsv = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    want = expectations(tsv)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    unexpected = []

    def report(verdict, name, why=""):
        counts[verdict] += 1
        if verdict == "FAIL" and name in KNOWN_FAILURES:
            why = f"known: {KNOWN_FAILURES[name]} ({why})"
        elif verdict == "FAIL" or (verdict == "PASS" and name in KNOWN_FAILURES):
            unexpected.append(name)
            if verdict == "PASS":
                why = "passes now: remove it from KNOWN_FAILURES"
        print(f"{verdict} {name}{': ' + why if why else ''}")

    for name in sorted(os.listdir(corpus)):
        path = os.path.join(corpus, name)
        if not name.endswith(".yml") or not os.path.isfile(path):
            continue
        if name in NOT_A_CONFIG:
            report("SKIP", name, NOT_A_CONFIG[name])
            continue
        good, bad = name.endswith(".good.yml"), name.endswith(".bad.yml")
        if not good and not bad:
            report("SKIP", name, "marked neither good nor bad: upstream loads it with particular options")
            continue
        p = subprocess.run([vigil, "check", "prometheus", "--syntax-only", name], cwd=corpus,
                           capture_output=True, text=True, timeout=60)
        said = (p.stdout + p.stderr).strip().replace("\n", " | ")
        if good:
            if p.returncode == 0:
                report("PASS", name)
            else:
                report("FAIL", name, f"refused (exit {p.returncode}): {said}")
            continue
        # An error inside a service discovery vigil does not run (the file
        # is named after it): vigil accepts that section with a warning, so
        # it either accepts the file or refuses it for another reason.
        sd_key = name.split("_")[0] + "_sd_configs"
        with open(path, encoding="utf-8", errors="replace") as f:
            uses_sd = sd_key in f.read() and sd_key not in ("file_sd_configs", "static_sd_configs")
        if uses_sd and (p.returncode == 0 or not all(t in p.stderr for t in want.get(name, []))):
            report("SKIP", name, f"its error is inside {sd_key}, a service discovery vigil does not run "
                   "(accepted with a warning)")
            continue
        if p.returncode == 0:
            report("FAIL", name, f"accepted: {said}")
            continue
        if p.returncode != 1:
            report("FAIL", name, f"exit {p.returncode}, not 1: {said}")
            continue
        missing = [t for t in want.get(name, []) if t not in p.stderr]
        if missing:
            report("FAIL", name, f"refused, but without upstream's {missing!r}: {said}")
        else:
            report("PASS", name, "" if name in want else "refused (upstream's tests name no message)")
    print(f"prometheus-config conformance: {counts['PASS']} passed, {counts['FAIL']} failed "
          f"({counts['FAIL'] - len([n for n in unexpected if n not in KNOWN_FAILURES])} of them known), "
          f"{counts['SKIP']} skipped")
    if unexpected:
        print("unexpected: " + " ".join(unexpected))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
