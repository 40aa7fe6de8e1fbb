#!/usr/bin/env bash
# Builds vigil and runs the whole test suite (unit and conformance tests; the
# integration tests too when their peers are installed: see scripts/setup.sh --peers).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${VIGIL_BUILD_DIR:-build}
scripts/build.sh
ctest --test-dir "$build_dir" --output-on-failure -j2 "$@"
