#!/bin/sh
# The rules and week of data of bench/backtest.sh, evaluated the way rule unit
# tests evaluate them (the data loaded in memory, the rules run at every 1m
# step from the start): promtool 3.5 test rules and vigil test rules on one
# generated test file, each timed with /usr/bin/time. Compare the figures with
# bench/backtest.sh's, which replays the same rules through Prometheus' HTTP API.
#
# Usage: bench/backtest_vs_unit_test.sh VIGIL [PEERS_DIR]
set -eu
VIGIL=$(realpath "$1")
PEERS=${2:-/opt/vigil-peers}
PROMTOOL=$PEERS/usr/bin/promtool
[ -x "$PROMTOOL" ] || { echo "skipped: no promtool 3.5 in $PEERS"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$(dirname "$0")/backtest_rules.yml" "$WORK/rules.yml"
# The same values as bench/backtest.sh loads, one per minute for a week, and a
# test at 7d - 30m (no burst then: no alert expected), so every step up to it
# is evaluated: 10 050 steps of the group's 2 rules.
python3 "$(dirname "$0")/backtest_data.py" unittest > "$WORK/test.yml"
cd "$WORK"
for tool in "$PROMTOOL" "$VIGIL"; do
  /usr/bin/time -f "$(basename "$tool") test rules: wall %es, max RSS %M KB" "$tool" test rules test.yml >/dev/null
done
