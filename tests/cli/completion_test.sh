#!/bin/bash
# vigil completion bash: the script completes commands, subcommands and flags
# as a user types them.
# usage: completion_test.sh VIGIL
set -u
source <("$1" completion bash) || { echo "FAIL: the script does not load"; exit 1; }
failed=0
expect() {
  local want=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _vigil
  if [[ "${COMPREPLY[*]}" != "$want" ]]; then
    echo "FAIL: '$*' completes to '${COMPREPLY[*]}', expected '$want'"
    failed=1
  fi
}
expect "check" vigil ch
expect "rules" vigil check r
expect "rules" vigil test r
expect "--format" vigil lint --for
expect "--lint --lint-fatal" vigil check rules --li
expect "instant" vigil query in
expect "--coverage-threshold --coverage-file" vigil test rules --coverage-
expect "--storage.retention" vigil run --storage.ret
# Flags before the command word do not hide it.
expect "format" vigil --experimental promql f
exit $failed
