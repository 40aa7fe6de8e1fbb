#!/bin/sh
# promtool check config's --agent, --lint=too-long-scrape-interval and --query.lookback-delta:
# vigil check config and promtool 3.x (the current upstream release) on the same files print the
# same standard output and error and exit with the same code (vigil's own warnings about sections
# it does not act on, "is not supported by vigil", are left out).
# usage: promtool3_config_flags.sh VIGIL DATA_DIR
set -u
vigil=$1
cd "$2" || exit 1
promtool=""
for d in "${VIGIL_PEERS_DIR:-}" /opt/vigil-peers /opt/peers3; do
  if [ -n "$d" ] && [ -x "$d/usr/bin/promtool" ]; then promtool=$d/usr/bin/promtool; break; fi
done
if [ -z "$promtool" ]; then echo "skipped: promtool 3.x is not installed (scripts/setup.sh --peers)"; exit 77; fi
failed=0 total=0
for args in "--agent slow.yml" "--agent rr.yml" "--agent al.yml" "--no-agent rr.yml" "--lint=all slow.yml" \
    "--lint=too-long-scrape-interval slow.yml" "--lint=too-long-scrape-interval --lint-fatal slow.yml" \
    "--lint=all --query.lookback-delta=20m slow.yml" "--lint=all --query.lookback-delta=5m --lint-fatal slow.yml" \
    "--lint=none slow.yml" "--lint=duplicate-rules,too-long-scrape-interval slow.yml" "slow.yml"; do
  total=$((total + 1))
  # shellcheck disable=SC2086
  a=$("$promtool" check config $args 2>&1; echo "exit $?")
  # shellcheck disable=SC2086
  b=$({ "$vigil" check config $args 2>&1; echo "exit $?"; } | grep -v '^  WARNING: .* is not supported by vigil and is ignored')
  if [ "$a" = "$b" ]; then
    echo "same: check config $args"
  else
    failed=$((failed + 1))
    printf 'DIFF: check config %s\n--- promtool\n%s\n--- vigil\n%s\n' "$args" "$a" "$b"
  fi
done
echo "$((total - failed)) of $total commands agree"
[ "$failed" -eq 0 ]
