#!/bin/sh
# vigil promql format against promtool promql format (the current upstream release): the
# same output and exit code for queries of the PromQL test corpus's eval commands (all those
# longer than 80 characters, which split, and every tenth shorter one) and a few long ones.
# Syntax newer than promtool 3.5 is skipped, with both errors printed beside it: queries
# promtool 3.5 refuses and vigil parses, and queries both refuse in different words (promtool
# 3.5 does not know the syntax; vigil knows it and says it is not enabled).
# usage: promql_format_side_by_side.sh VIGIL PROMQL_TESTDATA_DIR
set -u
vigil=$1
dir=$2
promtool=""
for d in "${VIGIL_PEERS_DIR:-}" /opt/vigil-peers /opt/peers3; do
  if [ -n "$d" ] && [ -x "$d/usr/bin/promtool" ]; then promtool=$d/usr/bin/promtool; break; fi
done
if [ -z "$promtool" ]; then echo "skipped: promtool 3.x is not installed (scripts/setup.sh --peers)"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Queries: every `eval instant at T QUERY` / `eval range from ... QUERY` line of the corpus,
# plus long ones.
sed -n 's/^eval\(_fail\|_ordered\|_warn\|_info\)\{0,1\} instant at [^ ]* //p; s/^eval\(_fail\|_ordered\|_warn\|_info\)\{0,1\} range from .* step [^ ]* //p' "$dir"/*.test | sort -u | awk 'length($0) > 80 || NR % 10 == 0' >"$tmp/queries"
cat >>"$tmp/queries" <<'Q'
sum by (job) (rate(http_requests_total{job="api",status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total{job="api"}[5m])) > 0.05
histogram_quantile(0.99, sum without (instance, pod) (rate(apiserver_request_duration_seconds_bucket{verb!~"LIST|WATCH|CONNECT"}[5m]))) > on (cluster) group_left (team) cluster_info
-(sum(rate(node_cpu_seconds_total{mode!="idle",job="node-exporter",cluster="production-eu-west-1"}[5m])) by (instance))
max_over_time((sum by (instance) (rate(node_network_receive_bytes_total{device!~"lo|veth.*|docker.*"}[5m])))[1h:1m]) offset 1d
topk(5, sum by (namespace, pod) (container_memory_working_set_bytes{container!="",container!="POD",image!=""}) / 1024 / 1024)
(avg_over_time(probe_success{job="blackbox",instance=~"https://.*example.com.*"}[30m]) * 100) < bool 99.9 unless on (instance) maintenance_window == 1
Q
total=0 same=0 skipped=0
while IFS= read -r q; do
  total=$((total + 1))
  a=$("$promtool" --experimental promql format -- "$q" 2>&1; echo "exit $?")
  b=$("$vigil" promql format -- "$q" 2>&1; echo "exit $?")
  if [ "$a" = "$b" ]; then
    same=$((same + 1))
  elif [ "${a##*exit }" = 1 ]; then
    skipped=$((skipped + 1))
    echo "skipped (newer than promtool 3.5, which says $(echo "$a" | head -1); vigil: $(echo "$b" | head -1)): $q"
  else
    echo "DIFF: $q"
    printf '%s\n---\n%s\n' "$a" "$b" | head -20
  fi
done <"$tmp/queries"
echo "$same of $total queries formatted as promtool formats them, $skipped skipped, $((total - same - skipped)) failed"
[ $((same + skipped)) -eq "$total" ]
