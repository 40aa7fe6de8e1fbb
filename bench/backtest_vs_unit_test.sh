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
cat > "$WORK/rules.yml" <<'YML'
groups:
- name: errors
  interval: 1m
  rules:
  - record: job:errors:sum
    expr: sum by (job) (errors)
  - alert: ManyErrors
    expr: job:errors:sum > 40
    for: 5m
YML
# The same values as bench/backtest.sh writes, one per minute for a week,
# and a test at 7d - 30m (no burst then: no alert expected), so every step
# up to it is evaluated: 10 050 steps of the group's 2 rules.
python3 - > "$WORK/test.yml" <<'PY'
import math
start = 0
print("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n  input_series:")
for job in range(4):
    for inst in range(5):
        vals = []
        for i in range(7 * 1440 + 1):
            t = start + 60 * i
            v = 10.0 if job == 0 and (t - start) % 21600 < 1200 else 1.0 + math.sin(t / 3600 + inst) * 0.5
            vals.append(repr(v))
        print(f"  - series: 'errors{{job=\"j{job}\",instance=\"i{inst}\"}}'\n    values: '{' '.join(vals)}'")
print("  alert_rule_test:\n  - eval_time: 10050m\n    alertname: ManyErrors\n    exp_alerts: []")
PY
cd "$WORK"
for tool in "$PROMTOOL" "$VIGIL"; do
  /usr/bin/time -f "$(basename "$tool") test rules: wall %es, max RSS %M KB" "$tool" test rules test.yml >/dev/null
done
