#!/bin/sh
# vigil test rules side by side with promtool test rules on the generated
# unit-test files of ../shared/bench (small, medium, large).
#   sh bench/test_rules.sh [VIGIL] [RUNS]
# The expectations are recorded with Debian's promtool 2.42, so vigil runs
# with --left-closed-windows (2.x window edges); see bench/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
vigil=$(cd "$(dirname "${1:-build/vigil}")" && pwd)/$(basename "${1:-build/vigil}")
runs=${2:-3}
dir=${BENCH_DIR:-/tmp/vb}
shared=$here/../../shared/bench
for scale in small medium large; do
  [ -f "$dir/rules-$scale/tests.yml" ] ||
    python3 "$shared/gen_rule_unittest.py" --scale "$scale" --out "$dir/rules-$scale"
done
wrapper=$dir/vigil-2x-windows
printf '#!/bin/sh\nexec "%s" "$@" --left-closed-windows\n' "$vigil" > "$wrapper"
chmod +x "$wrapper"
python3 "$shared/bench_rules.py" --bin promtool --bin "$wrapper" --dir "$dir" \
  --scales small,medium,large --runs "$runs"
