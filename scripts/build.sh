#!/usr/bin/env bash
# Configures and builds vigil and its tests into build/ with Ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${VIGIL_BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${VIGIL_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir"
