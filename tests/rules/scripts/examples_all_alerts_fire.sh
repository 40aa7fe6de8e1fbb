#!/bin/sh
# The seed examples' unit tests pass and make every one of their alerting
# rules fire. $1: vigil binary; $2...: unit test files.
set -u
vigil=$1
shift
out=$("$vigil" test rules --coverage "$@" 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || { echo "exit $rc, want 0"; exit 1; }
echo "$out" | grep -q '^  alerting rules: 18 of 18 fired in a test (18 named by an alert_rule_test)$' ||
  { echo "not every seed alert fires in the tests"; exit 1; }
