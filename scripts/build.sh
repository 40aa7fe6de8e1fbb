#!/usr/bin/env bash
# Configures and builds vigil and its tests into build/ with Ninja, showing
# progress; arguments go to `cmake --build` (e.g. --target vigil). Both README
# commands build with the same flags, so the second reuses the first's build.
# VIGIL_WERROR=ON (as CI sets it) makes warnings errors.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${VIGIL_BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_WERROR="${VIGIL_WERROR:-OFF}" \
  ${VIGIL_CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir" "$@"
