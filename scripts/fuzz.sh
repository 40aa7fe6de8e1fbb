#!/usr/bin/env bash
# Runs one libFuzzer target of fuzz/ for a while:
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   scripts/fuzz.sh list
# Builds build-fuzz (clang, -DVIGIL_FUZZ=ON, ASan+UBSan) when needed. The
# corpus grows in build-fuzz/corpus/TARGET across runs; it starts from seeds
# made of files already in the repository and in ../shared/conformance
# (build-fuzz/seeds/TARGET, remade each run). Crashes, hangs and leaks are
# written to build-fuzz/artifacts/TARGET/, the run's log to
# build-fuzz/logs/. Reproduce one with: build-fuzz/fuzz/fuzz_TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=$root/../shared/conformance
targets="promql_parser rule_file alertmanager_config templates exposition exposition_protobuf alert_reader alertmanager_api http_request remote_write"
dir=build-fuzz

usage() { echo "usage: $0 TARGET SECONDS [libFuzzer options...]; targets: $targets" >&2; exit 2; }
[ "${1:-}" = list ] && { echo "$targets"; exit 0; }
[ $# -ge 2 ] || usage
target=$1 seconds=$2
shift 2
case " $targets " in *" $target "*) ;; *) usage ;; esac

if [ ! -f $dir/CMakeCache.txt ]; then
  CC=clang CXX=clang++ cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVIGIL_FUZZ=ON -DVIGIL_SANITIZE=address,undefined >/dev/null
fi
cmake --build $dir -j "${VIGIL_JOBS:-2}" --target fuzz_$target

# seed FILE [PREFIX]: one seed, PREFIX (printf escapes) before the content:
# the byte that picks a target's mode.
seeds=$dir/seeds/$target
n=0
seed() {
  [ -f "$1" ] || return 0
  n=$((n + 1))
  { printf "${2:-}"; cat "$1"; } > "$seeds/$n"
}
# seed_text TEXT [PREFIX]
seed_text() {
  n=$((n + 1))
  { printf "${2:-}"; printf '%s' "$1"; } > "$seeds/$n"
}
rm -rf "$seeds" && mkdir -p "$seeds"
case $target in
  promql_parser)
    # The expressions of the promqltest corpus and of the example rules.
    while IFS= read -r e; do seed_text "$e"; done < <(
      sed -nE 's/^\s*eval(_[a-z]+)?\s+(instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/\3/p' \
        "$shared"/promql/*.test | sort -u
      grep -rhoE '^\s*expr:\s*.+$' examples "$shared"/promtool | sed -E 's/^\s*expr:\s*//' | sort -u) ;;
  rule_file)
    for f in "$shared"/promtool/*.yml examples/*/rules/*.y*ml examples/quickstart/rules.yml; do
      seed "$f" '\0'; seed "$f" '\1'
    done ;;
  alertmanager_config)
    for f in "$shared"/alertmanager/*/*.yml examples/*/alertmanager/*.y*ml examples/quickstart/alertmanager.yml \
      tests/routing/testdata/*.yml tests/notifiers/testdata/*.yml tests/integration/data/*.yml; do
      seed "$f" '\0'
    done ;;
  templates)
    # Each case of the template corpus, as text, as HTML and as a rule
    # annotation; the default templates themselves.
    tmp=$(mktemp -d)
    awk -v d="$tmp" '/^### /{n++; next} {f=d "/" n; if (seen[f]++) printf "\n" >> f; printf "%s", $0 >> f}' \
      tests/templates/corpus/cases.txt
    for f in "$tmp"/* templates/default.tmpl tests/templates/corpus/files/*.tmpl; do
      seed "$f" '\0'; seed "$f" '\1'; seed "$f" '\2'
    done
    rm -rf "$tmp" ;;
  exposition)
    for f in fuzz/seeds/exposition/*; do seed "$f" '\0'; seed "$f" '\1'; done ;;
  exposition_protobuf)
    # Every combination of the histogram options.
    for f in fuzz/seeds/exposition_protobuf/*; do
      for o in 0 1 2 3 4 5 6 7; do seed "$f" "\\$o"; done
    done ;;
  alert_reader)
    for f in fuzz/seeds/api/alerts.json tests/templates/alerts.json; do seed "$f"; done ;;
  alertmanager_api)
    for f in fuzz/seeds/api/alerts.json tests/templates/alerts.json; do seed "$f" '\0'; done
    seed fuzz/seeds/api/silence.json '\1'
    seed fuzz/seeds/api/webhook.json '\2'
    for f in fuzz/seeds/api/filter*.txt; do seed "$f" '\3'; seed "$f" '\4'; seed "$f" '\6'; done
    seed_text db '\5'
    seed fuzz/seeds/api/silence_id.txt '\7' ;;
  remote_write)
    for f in fuzz/seeds/remote/*; do seed "$f"; done ;;
  http_request)
    # Limits of 4 KiB of head and 16 KiB of body, pieces of up to 16 bytes.
    for f in fuzz/seeds/http/*; do seed "$f" '\377\377\7\17'; done ;;
esac

dict=
case $target in
  promql_parser) dict=fuzz/dicts/promql.dict ;;
  templates) dict=fuzz/dicts/templates.dict ;;
  alert_reader | alertmanager_api) dict=fuzz/dicts/json.dict ;;
  http_request) dict=fuzz/dicts/http.dict ;;
esac

corpus=$dir/corpus/$target
artifacts=$dir/artifacts/$target
mkdir -p "$corpus" "$artifacts" $dir/logs
log=$dir/logs/$target-$(date +%Y%m%d-%H%M%S).log
echo "fuzzing $target for ${seconds}s: corpus $corpus ($(ls "$corpus" | wc -l) inputs), $n seeds, log $log"
# Leaks count as findings; a unit slower than 25 s is a hang; 2 GiB is the
# memory a single input may take.
status=0
ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0:${ASAN_OPTIONS:-}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  $dir/fuzz/fuzz_$target -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" ${dict:+-dict=$dict} "$@" \
    "$corpus" "$seeds" > "$log" 2>&1 || status=$?
grep -E '^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|ERROR|SUMMARY' "$log" || true
if [ $status -ne 0 ]; then
  echo "$target: the fuzzer stopped with status $status; see $log and $artifacts/"
  exit $status
fi
echo "$target: no finding; corpus now $(ls "$corpus" | wc -l) inputs"
