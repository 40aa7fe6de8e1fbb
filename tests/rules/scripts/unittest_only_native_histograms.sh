#!/bin/sh
# promtool's unittest.yml: vigil does not evaluate native histograms, so the
# one test group that loads them must fail, saying so — and nothing else in
# the file may fail. Run from the corpus folder; $1 is the vigil binary.
set -u
err=$("$1" test rules unittest.yml 2>&1 >/dev/null)
rc=$?
expected='  FAILED:
    series "test_histogram": native histograms are not supported'
if [ "$rc" -ne 1 ] || [ "$err" != "$expected" ]; then
  echo "exit $rc (want 1); stderr:"
  echo "$err"
  exit 1
fi
