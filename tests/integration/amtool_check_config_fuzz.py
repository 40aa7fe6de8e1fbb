#!/usr/bin/env python3
"""Differential test: mutates an Alertmanager configuration (values replaced,
lines dropped or repeated, with a fixed seed) and checks that `vigil check
config` accepts or rejects each variant exactly when amtool check-config does.
Exits 77 (skipped) when amtool is not installed."""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

SUBSTITUTES = ['', 'foo', '0s', '-1', 'yes', 'on', "'[bad'", "'((('", 'http://', 'https://x.y/z',
               "'a:b:c'", '[]', '{}', '~', "'-invalid-'", '99:99', 'Mars/X', "'...'", '[a, a]', '1d',
               "'-3:-1'", "'10:-25'", 'UTC', 'Local', "'1h30m'", '3', '2.5', "'x'"]


def mutate(lines, rng):
    lines = list(lines)
    for _ in range(rng.choice([1, 1, 2, 3])):
        i = rng.randrange(len(lines))
        m = re.match(r'^(\s*-?\s*)([A-Za-z_]+):(.*)$', lines[i])
        r = rng.random()
        if r < 0.15:
            del lines[i]
        elif r < 0.25:
            lines.insert(i, lines[i])
        elif m:
            lines[i] = m.group(1) + m.group(2) + ': ' + rng.choice(SUBSTITUTES)
    return lines


def main():
    vigil, base, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if shutil.which('amtool') is None:
        print('amtool not installed')
        return 77
    lines = open(base).read().split('\n')
    rng = random.Random(11)
    differ = 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, 'alertmanager.yml')
        for _ in range(runs):
            text = '\n'.join(mutate(lines, rng))
            with open(path, 'w') as f:
                f.write(text)
            a = subprocess.run(['amtool', 'check-config', path], capture_output=True, text=True, timeout=30)
            v = subprocess.run([vigil, 'check', 'config', path], capture_output=True, text=True, timeout=30)
            if (a.returncode == 0) != (v.returncode == 0):
                differ += 1
                print('differs:\n' + text + '\namtool: ' + a.stdout + '\nvigil: ' + v.stdout)
    print(f'{runs} variants, {differ} verdicts differ')
    return 1 if differ else 0


if __name__ == '__main__':
    sys.exit(main())
