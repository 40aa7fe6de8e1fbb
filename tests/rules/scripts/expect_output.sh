#!/bin/sh
# Runs a command and compares its standard output and error with recorded
# files ("-" skips one). The "DEBUG: Test ... finished, took ..." lines of
# --debug name a duration and are left out of the comparison.
# usage: expect_output.sh EXPECTED_STDOUT EXPECTED_STDERR COMMAND...
set -u
want_out=$1
want_err=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$@" >"$tmp/out" 2>"$tmp/err"
echo "exit code $?"
status=0
if [ "$want_out" != - ]; then
  grep -v '^DEBUG: Test .* finished, took ' "$tmp/out" >"$tmp/out2"
  diff -u "$want_out" "$tmp/out2" || { echo "standard output differs (expected -, got +)"; status=1; }
fi
if [ "$want_err" != - ]; then
  diff -u "$want_err" "$tmp/err" || { echo "standard error differs (expected -, got +)"; status=1; }
fi
exit $status
