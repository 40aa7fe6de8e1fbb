#!/usr/bin/env python3
"""The folders' order holds: a folder includes only from itself and folders
below it (cli > server > rules > notifiers > routing > templates > promql >
storage > net > config > model), so the house keeps its floors.

Usage: layering.py SOURCE_DIR
Prints every upward include as FILE:LINE: FOLDER includes HEADER (FOLDER2 is
above it) and exits 1 when there is one.
"""
import os
import re
import sys

ORDER = ["cli", "server", "rules", "notifiers", "routing", "templates", "promql", "storage", "net", "config",
         "model"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def main():
    root = os.path.abspath(sys.argv[1])
    rank = {f: i for i, f in enumerate(ORDER)}
    problems, files = [], 0
    for folder in ORDER:
        top = os.path.join(root, folder)
        if not os.path.isdir(top):
            continue
        for dirpath, _, names in os.walk(top):
            for name in sorted(names):
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(dirpath, name)
                files += 1
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1).split("/", 1)[0]
                        if target in rank and rank[target] < rank[folder]:
                            problems.append(f"{os.path.relpath(path, root)}:{n}: {folder}/ includes {m.group(1)} "
                                            f"({target}/ is above {folder}/)")
    for p in problems:
        print(p)
    print(f"{files} files read, {len(problems)} upward includes")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
