#!/bin/sh
# Runs the same rule unit test files through vigil and the real promtool 3.x
# and expects the same exit code and the same failure lines. Skips (77) when
# promtool 3 is not installed ($PROMTOOL, /opt/vigil-peers/usr/bin/promtool or
# the PATH's).
# usage: promtool3_same_outcome.sh VIGIL [--FLAG...] FILE...
set -u
vigil=$1
shift
flags=
while [ $# -gt 0 ]; do
  case "$1" in
    --*) flags="$flags $1"; shift ;;
    *) break ;;
  esac
done
promtool=${PROMTOOL:-}
for candidate in "$promtool" /opt/vigil-peers/usr/bin/promtool "$(command -v promtool 2>/dev/null)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  case "$("$candidate" --version 2>&1 | head -n1)" in
    "promtool, version 3."*) promtool=$candidate; break ;;
  esac
  promtool=
done
[ -n "$promtool" ] || { echo "skipped: promtool 3.x not installed"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for f in "$@"; do
  # shellcheck disable=SC2086
  "$promtool" test rules $flags "$f" >"$tmp/p.out" 2>"$tmp/p.err"
  p=$?
  # shellcheck disable=SC2086
  "$vigil" test rules $flags "$f" >"$tmp/v.out" 2>"$tmp/v.err"
  v=$?
  # vigil adds WARNING lines where promtool is silent; the rest must agree.
  grep -v '^  WARNING: input_series' "$tmp/v.err" >"$tmp/v.err2"
  if [ "$p" -ne "$v" ]; then
    echo "$f: promtool exited $p, vigil $v"; status=1
  elif ! diff -u "$tmp/p.err" "$tmp/v.err2"; then
    echo "$f: failure text differs (promtool -, vigil +)"; status=1
  else
    echo "$f: both exit $p"
  fi
done
exit $status
