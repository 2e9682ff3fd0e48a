#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every unit and end-to-end
# test through ctest. Exit status is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
cd "${TETHER_BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 600
