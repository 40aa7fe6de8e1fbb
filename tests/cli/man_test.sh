#!/bin/bash
# vigil man: the manual page renders without a roff warning and documents every
# command and every flag the binary has.
# usage: man_test.sh VIGIL
set -u
page=$("$1" man) || { echo "FAIL: vigil man exited $?"; exit 1; }
failed=0
warnings=$(groff -man -Tutf8 -ww -z <<<"$page" 2>&1)
[[ -z "$warnings" ]] || { echo "FAIL: groff warns: $warnings"; failed=1; }
text=$(groff -man -Tutf8 -P-cbou <<<"$page" 2>/dev/null)
# Every command path the completion script knows is a section of the page.
paths=$("$1" completion bash | sed -n 's/^    "\([a-z][^"]*\)") subs=.*/\1/p')
[[ -n "$paths" ]] || { echo "FAIL: no command paths found"; exit 1; }
while read -r p; do
  grep -q "^   vigil $p\$" <<<"$text" || { echo "FAIL: no section for 'vigil $p'"; failed=1; }
done <<<"$paths"
# Every flag of a few commands appears (with its leading dashes intact).
for cmd in "run" "check rules" "lint"; do
  flags=$("$1" completion bash | grep "^    \"$cmd\") " | sed 's/.*flags="\([^"]*\)".*/\1/')
  for f in $flags; do
    [[ "$f" == "-h" || "$f" == "--help" ]] && continue
    grep -q -- "$f" <<<"$text" || { echo "FAIL: $f of 'vigil $cmd' is not in the page"; failed=1; }
  done
done
grep -q "^SEE ALSO" <<<"$text" || { echo "FAIL: no SEE ALSO section"; failed=1; }
[[ $failed == 0 ]] && echo "ok: $(wc -l <<<"$paths") commands, rendered without warnings"
exit $failed
