#!/usr/bin/env bash
# Builds vigil and runs it on the bundled quickstart. For now vigil checks the
# quickstart and example rule files as `promtool check rules` would.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
build/vigil check rules examples/quickstart/rules.yml examples/bot-core/rules/alerts.yml \
  examples/ta-bot/rules/ta-bot-alerts.yaml
