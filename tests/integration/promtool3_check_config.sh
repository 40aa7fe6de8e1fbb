#!/bin/sh
# `vigil check config` and the real promtool 3.x's `check config` on the same
# prometheus.yml files, run from the files' folder: the same exit code,
# standard output and standard error. Skips (77) when promtool 3 is not
# installed ($PROMTOOL, /opt/vigil-peers/usr/bin/promtool or the PATH's).
# usage: promtool3_check_config.sh VIGIL DIR FILE...
set -u
vigil=$1
dir=$2
shift 2
promtool=
for candidate in "${PROMTOOL:-}" /opt/vigil-peers/usr/bin/promtool "$(command -v promtool 2>/dev/null)"; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  case "$("$candidate" --version 2>&1 | head -n1)" in
    "promtool, version 3."*) promtool=$candidate; break ;;
  esac
done
[ -n "$promtool" ] || { echo "skipped: promtool 3.x not installed"; exit 77; }
cd "$dir" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for f in "$@"; do
  "$promtool" check config "$f" >"$tmp/p.out" 2>"$tmp/p.err"
  p=$?
  "$vigil" check config "$f" >"$tmp/v.out" 2>"$tmp/v.err"
  v=$?
  if [ "$p" -ne "$v" ]; then
    echo "$f: promtool exited $p, vigil $v"; status=1
  elif ! diff -u "$tmp/p.out" "$tmp/v.out" || ! diff -u "$tmp/p.err" "$tmp/v.err"; then
    echo "$f: output differs (promtool -, vigil +)"; status=1
  else
    echo "$f: the same (exit $p)"
  fi
done
exit $status
