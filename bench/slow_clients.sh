#!/bin/sh
# Slow clients side by side: vigil and an Alertmanager each get the same load
# from bench/slow_clients.py (N sockets trickling header bytes, C connections
# asking GET /api/v2/alerts at once, /-/healthy probed all along). Prints one
# JSON line per server. Everything listens on 127.0.0.1; data goes to /tmp.
#
# Usage: bench/slow_clients.sh VIGIL ALERTMANAGER [SLOW] [CONCURRENT]
#   e.g. bench/slow_clients.sh build/vigil /opt/peers3/usr/bin/prometheus-alertmanager 100 500
set -eu
VIGIL=$1
AM=$2
SLOW=${3:-100}
CONCURRENT=${4:-500}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/vigil-slow-clients.XXXXXX)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
ulimit -n 65536 2>/dev/null || true
cat > "$WORK/am.yml" <<EOF
route:
  receiver: none
  group_by: [alertname]
receivers:
- name: none
EOF

wait_ready() {
  i=0
  until curl -sf "http://127.0.0.1:$1/-/ready" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "server on port $1 did not start" >&2; exit 1; }
    sleep 0.1
  done
}

run_one() {
  name=$1
  port=$2
  shift 2
  "$@" >"$WORK/$name.log" 2>&1 &
  PID=$!
  wait_ready "$port"
  printf '%s ' "$name"
  python3 "$HERE/slow_clients.py" --port "$port" --slow "$SLOW" --concurrent "$CONCURRENT"
  kill "$PID"
  wait "$PID" 2>/dev/null || true
}

run_one vigil 19193 "$VIGIL" run --alertmanager.config="$WORK/am.yml" --storage.path="$WORK/vigil-data" \
  --web.listen-address=127.0.0.1:19193
run_one alertmanager 19194 "$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/am-data" \
  --web.listen-address=127.0.0.1:19194 --cluster.listen-address=
