#!/bin/bash
# Compares `vigil routes show` and `vigil routes test --tree` with the current
# amtool (0.33 from scripts/setup.sh --peers; else Debian's) on upstream's CLI test configs and the examples, for a set of label
# sets. Exits 77 (skipped) when amtool is not installed.
set -u
vigil=$1
shared=$2
examples=$3
# The current release first (scripts/setup.sh --peers), then Debian's.
for d in "${VIGIL_PEERS_DIR:-}" /opt/vigil-peers /opt/peers3; do
  if [ -n "$d" ] && [ -x "$d/usr/bin/amtool" ]; then PATH="$d/usr/bin:$PATH"; break; fi
done
command -v amtool >/dev/null 2>&1 || { echo "amtool not installed"; exit 77; }
amtool --version 2>&1 | head -1
configs="$shared/conformance/alertmanager/cli/conf.routing.yml
$shared/conformance/alertmanager/cli/conf.routing-reverted.yml
$shared/conformance/alertmanager/cli/conf.good.yml
$shared/conformance/alertmanager/config/conf.good.yml
$examples/bot-core/alertmanager/config.yml
$examples/ta-bot/alertmanager/config.yaml"
failed=0
compared=0
for c in $configs; do
  if ! diff <(amtool config routes show --config.file="$c" 2>/dev/null) \
            <("$vigil" routes show --config.file="$c") >/dev/null; then
    echo "routes show differs: $c"; failed=1
  fi
  for ls in "test=1" "test=2" "test=3" "" "service=database owner=team-X" \
            "service=foo1 severity=critical" "service=files severity=critical" \
            "severity=critical component=trading" "severity=warning" "component=trading"; do
    # shellcheck disable=SC2086
    a=$(amtool config routes test --tree --config.file="$c" $ls 2>/dev/null)
    # shellcheck disable=SC2086
    v=$("$vigil" routes test --tree --config.file="$c" $ls)
    compared=$((compared + 1))
    if [ "$a" != "$v" ]; then echo "routes test differs: $c [$ls]"; failed=1; fi
  done
done
echo "$compared label sets compared"
exit $failed
