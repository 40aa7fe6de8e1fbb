#!/bin/sh
# The seed examples' unit tests, run by the real promtool: the same files pass
# there as in vigil (their values avoid the range-window edges where
# promtool 2.x and Prometheus 3 differ). Skips (77) without promtool.
set -u
command -v promtool >/dev/null 2>&1 || { echo "skipped: promtool not installed"; exit 77; }
promtool test rules "$@"
