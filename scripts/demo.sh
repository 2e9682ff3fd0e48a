#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts a daemon in ./build/demo and shows
# it at work. It leaves the daemon running so you can try the commands it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build=$(pwd)/${TETHER_BUILD_DIR:-build}
export TETHER_STATE_DIR=$build/demo/state
export TETHER_SOCKET=$build/demo/tetherd.sock
tether=$build/daemon/tether
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "starting the daemon (state in $TETHER_STATE_DIR)"
"$tether" daemon start
"$tether" daemon status

say "recording a note on the timeline"
"$tether" mark "demo ran at $(date -Is)"

say "tether ls --all"
"$tether" ls --all

say "a rebuild of the projections from the log equals the live state"
"$tether" admin verify

cat <<EOT

The daemon keeps running. Try, with the same environment:
  export TETHER_STATE_DIR=$TETHER_STATE_DIR TETHER_SOCKET=$TETHER_SOCKET
  $tether ls --all
  $tether daemon stop
EOT
