#!/bin/sh
# vigil rules backtest over a week of history in Prometheus 3.5: a week of
# one-minute samples of 20 series (errors by job and instance) backfilled
# with promtool tsdb create-blocks-from openmetrics, a Prometheus 3.5 serving
# them on 127.0.0.1, and a recording rule and an alert over it replayed at a
# 1m interval, the alerts routed by an Alertmanager configuration. Prints
# the backtest's own summary (rule evaluations/s), the alert transitions and
# the notifications it found.
#
# Usage: bench/backtest.sh VIGIL [PEERS_DIR]
set -eu
VIGIL=$(realpath "$1")
PEERS=${2:-/opt/vigil-peers}
PROM=$PEERS/usr/bin/prometheus
PROMTOOL=$PEERS/usr/bin/promtool
[ -x "$PROM" ] || { echo "skipped: no Prometheus 3.5 in $PEERS"; exit 77; }
WORK=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

NOW=$(date +%s)
END=$(( NOW - NOW % 3600 - 3 * 3600 ))
START=$(( END - 7 * 86400 ))
python3 "$(dirname "$0")/backtest_data.py" openmetrics "$START" "$END" > "$WORK/data.om"
"$PROMTOOL" tsdb create-blocks-from openmetrics -q "$WORK/data.om" "$WORK/tsdb" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'global: {scrape_interval: 1m}\n' > "$WORK/prometheus.yml"
"$PROM" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" --storage.tsdb.retention.time=30d \
  --web.listen-address=127.0.0.1:$PORT >"$WORK/prom.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null && break; sleep 0.2; done
cp "$(dirname "$0")/backtest_rules.yml" "$WORK/rules.yml"
cat > "$WORK/am.yml" <<'YML'
route: {receiver: team, group_by: [alertname], group_wait: 30s, group_interval: 5m, repeat_interval: 4h}
receivers:
- name: team
  webhook_configs: [{url: "http://127.0.0.1:1/", send_resolved: true}]
YML
/usr/bin/time -f "wall %es, max RSS %M KB" "$VIGIL" rules backtest --datasource.url=http://127.0.0.1:$PORT \
  --from "$START" --to "$END" --alertmanager.config="$WORK/am.yml" "$WORK/rules.yml" > "$WORK/out.txt"
echo "alert transitions: $(grep -vc ' notify ' "$WORK/out.txt") (firing: $(grep -c ' firing ' "$WORK/out.txt")), notifications: $(grep -c ' notify ' "$WORK/out.txt")"
head -4 "$WORK/out.txt"
# Job j0's burst every 6 hours over the week: 28 firings, each 5m after its
# pending and resolved with the burst.
# Each firing notified after group_wait and its end at a group_interval tick.
[ "$(grep -c ' firing ' "$WORK/out.txt")" = 28 ] || { echo "FAIL: expected 28 firings"; exit 1; }
[ "$(grep -c ' notify .* 1 firing, 0 resolved' "$WORK/out.txt")" = 28 ] || { echo "FAIL: expected 28 firing notifications"; exit 1; }
[ "$(grep -c ' notify .* 0 firing, 1 resolved' "$WORK/out.txt")" = 28 ] || { echo "FAIL: expected 28 resolved notifications"; exit 1; }
