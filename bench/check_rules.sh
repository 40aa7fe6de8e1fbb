#!/bin/sh
# Side-by-side `check rules` on a generated file of N rules: vigil vs promtool.
#
#   sh bench/check_rules.sh [N] [VIGIL_BIN]      (run from the repository root)
#
# Needs python3, hyperfine, GNU time (/usr/bin/time) and promtool on PATH.
# Generated data goes to ${BENCH_DIR:-/tmp/vigil-bench-check-rules}; nothing is
# written into the repository.
set -eu

N=${1:-10000}
VIGIL=${2:-build/vigil}
DIR=${BENCH_DIR:-/tmp/vigil-bench-check-rules}
HERE=$(cd "$(dirname "$0")/.." && pwd)
GEN="$HERE/../shared/bench/gen_rule_unittest.py"

mkdir -p "$DIR"
python3 "$GEN" --rules-only "$N" --out "$DIR" >/dev/null
FILE="$DIR/many_rules.yml"
echo "file: $FILE ($(wc -c <"$FILE") bytes)"

# Both must agree on the verdict before timing means anything.
"$VIGIL" check rules "$FILE"
promtool check rules "$FILE"

hyperfine --warmup 2 --runs "${RUNS:-10}" -N \
  --export-markdown "$DIR/hyperfine.md" \
  "$VIGIL check rules $FILE" \
  "promtool check rules $FILE"

for bin in "$VIGIL" promtool; do
  /usr/bin/time -v "$bin" check rules "$FILE" 2>&1 >/dev/null |
    awk -v b="$bin" '/Maximum resident set size/ { printf "%s: max RSS %.1f MiB\n", b, $6 / 1024 }'
done
