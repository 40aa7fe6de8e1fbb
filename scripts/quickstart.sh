#!/usr/bin/env bash
# Builds vigil and runs the daemon on the bundled quickstart, with no other
# service: vigil scrapes its own /metrics, evaluates examples/quickstart/rules.yml
# and prints every notification on this terminal as one JSON line (the
# always-firing Watchdog arrives within a minute). The APIs listen on
# 127.0.0.1:9093 (try `amtool --alertmanager.url=http://127.0.0.1:9093 alert`
# or http://127.0.0.1:9093/api/v1/rules). Ctrl-C saves state and stops.
#
#   scripts/quickstart.sh            run until Ctrl-C
#   scripts/quickstart.sh --for 90   stop after 90 seconds
set -euo pipefail
cd "$(dirname "$0")/.."
# Only what it runs; scripts/test.sh builds the rest on top of it.
scripts/build.sh --target vigil >&2
seconds=""
if [[ "${1:-}" == "--for" ]]; then seconds="${2:?--for needs a number of seconds}"; fi
cmd=(build/vigil run
  --config.file=examples/quickstart/prometheus.yml
  --alertmanager.config=examples/quickstart/alertmanager.yml
  --storage.path=build/quickstart-data
  --web.listen-address=127.0.0.1:9093)
if [[ -n "$seconds" ]]; then
  exec timeout --preserve-status -s TERM "$seconds" "${cmd[@]}"
fi
exec "${cmd[@]}"
