#!/usr/bin/env bash
# Installs what is missing, then configures and builds into ./build (or $TETHER_BUILD_DIR).
# Extra arguments go to CMake's configure step (e.g. -DTETHER_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build=${TETHER_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
