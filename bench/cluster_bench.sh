#!/bin/sh
# The etcd claim's cost (bench/cluster_bench.cc) against a fresh etcd on
# 127.0.0.1 with its data in a temporary folder; removed afterwards.
#   sh bench/cluster_bench.sh [BENCH_BINARY] [N_LATENCY] [N_SUSTAINED]
set -eu
bin=${1:-build/bench/vigil_cluster_bench}
n=${2:-1000}
sustained=${3:-10000}
dir=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
peer=$((port + 1))
etcd --name=b --data-dir="$dir/etcd" --listen-client-urls="http://127.0.0.1:$port" \
  --advertise-client-urls="http://127.0.0.1:$port" --listen-peer-urls="http://127.0.0.1:$peer" \
  --initial-advertise-peer-urls="http://127.0.0.1:$peer" --initial-cluster="b=http://127.0.0.1:$peer" \
  >"$dir/etcd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/health"; do
  i=$((i + 1)); [ $i -gt 100 ] && { echo "etcd did not start"; cat "$dir/etcd.log"; exit 1; }
  sleep 0.1
done
"$bin" "http://127.0.0.1:$port" "$pid" "$n" "$sustained"
echo "etcd database on disk: $(du -sh "$dir/etcd/member/snap/db" | cut -f1) (etcd $(etcd --version | head -1 | awk '{print $3}'))"
