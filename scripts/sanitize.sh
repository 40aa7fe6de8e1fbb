#!/usr/bin/env bash
# Builds vigil with sanitizers in their own directories and runs the tests
# under them:
#   asan  build-asan, -fsanitize=address,undefined: the unit, cli,
#         conformance and integration tests
#   tsan  build-tsan, -fsanitize=thread: the unit tests and the daemon's
#         integration tests (daemon_* and hostile_*)
# Usage: scripts/sanitize.sh [asan|tsan|all] [extra ctest arguments]
# A sanitizer report anywhere (a test binary, or a vigil process an
# integration test started) fails the run: reports are written under
# <build dir>/sanitizer-reports/ and listed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
shift || true
jobs=${VIGIL_JOBS:-2}
status=0

build() {  # dir sanitizers
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_SANITIZE="$2" >/dev/null &&
    cmake --build "$1" -j "$jobs" --target vigil vigil_tests
}

check_reports() {  # dir
  local reports
  reports=$(find "$1/sanitizer-reports" -type f -size +0 2>/dev/null)
  if [ -n "$reports" ]; then
    echo "sanitizer reports in $1/sanitizer-reports:"
    for f in $reports; do echo "--- $f"; head -60 "$f"; done
    status=1
  fi
}

run_asan() {
  local dir=build-asan
  build "$dir" address,undefined || return 1
  rm -rf "$dir/sanitizer-reports" && mkdir -p "$dir/sanitizer-reports"
  local reports
  reports=$(realpath "$dir/sanitizer-reports")
  # The engine's allocation-cap test hook is off in this build (ASan owns
  # operator new); leaks are reported; reports go to files so those of
  # daemons started by integration tests are seen too.
  ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:log_path=$reports/asan" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan" \
    ctest --test-dir "$dir" -j "$jobs" --output-on-failure -L 'unit|cli|conformance|integration' "$@" || status=1
  check_reports "$dir"
}

run_tsan() {
  local dir=build-tsan
  build "$dir" thread || return 1
  rm -rf "$dir/sanitizer-reports" && mkdir -p "$dir/sanitizer-reports"
  local reports
  reports=$(realpath "$dir/sanitizer-reports")
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$(pwd)/scripts/tsan.supp:log_path=$reports/tsan" \
    ctest --test-dir "$dir" -j "$jobs" --output-on-failure -L unit "$@" || status=1
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$(pwd)/scripts/tsan.supp:log_path=$reports/tsan" \
    ctest --test-dir "$dir" -j "$jobs" --output-on-failure -L integration -R 'daemon_|hostile_' "$@" || status=1
  check_reports "$dir"
}

case "$which" in
  asan) run_asan "$@" || status=1 ;;
  tsan) run_tsan "$@" || status=1 ;;
  all) run_asan "$@" || status=1; run_tsan "$@" || status=1 ;;
  *) echo "usage: $0 [asan|tsan|all] [ctest arguments]" >&2; exit 2 ;;
esac
exit $status
