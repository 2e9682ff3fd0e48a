#!/usr/bin/env bash
# The demo: installs what is missing, builds, starts a daemon with config.example.yaml
# in ./build/demo, runs a demo agent in a session and shows what tether records of it.
# It leaves the daemon and the session running so you can attach.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
root=$(pwd)
build=$root/${TETHER_BUILD_DIR:-build}
export TETHER_STATE_DIR=$build/demo/state
export TETHER_SOCKET=$build/demo/tetherd.sock
export TETHER_CONFIG=$root/config.example.yaml
tether=$build/daemon/tether
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "starting the daemon with config.example.yaml (state in $TETHER_STATE_DIR)"
"$tether" daemon stop >/dev/null 2>&1 || true
"$tether" daemon start
"$tether" daemon status

say "tether run -d --name demo -- scripts/demo-agent.sh"
"$tether" kill demo >/dev/null 2>&1 || true
sleep 0.2
"$tether" run -d --name demo --size 80x16 -- "$root/scripts/demo-agent.sh"

say "waiting for the agent to ask for permission"
for _ in $(seq 1 100); do
  "$tether" screen demo | grep -q 'yes/no' && break
  sleep 0.1
done
"$tether" screen demo

say "tether ls"
"$tether" ls

say "answering from outside the terminal: tether send demo yes --enter"
"$tether" send demo yes --enter
sleep 0.5
"$tether" screen demo

say "what the event log recorded about the session (titles, notifications, input, state changes)"
id=$("$tether" ls --json | python3 -c 'import json,sys; print(next(s["id"] for s in json.load(sys.stdin) if s["name"]=="demo"))')
sqlite3 "file:$TETHER_STATE_DIR/events.db?mode=ro" \
  "SELECT seq, CASE kind WHEN 3 THEN 'SessionStarted' WHEN 5 THEN 'OutputChunk' WHEN 6 THEN 'InputSent'
          WHEN 9 THEN 'TitleChanged' WHEN 10 THEN 'BellRang' WHEN 11 THEN 'TerminalNotified'
          WHEN 16 THEN 'StateChanged' ELSE kind END,
          CASE WHEN kind IN (5, 6) THEN length(payload) || ' bytes' ELSE CAST(payload AS TEXT) END
   FROM events WHERE session = $id ORDER BY seq" | sed 's/^/  /'

say "the projections rebuilt from the log equal the live state"
"$tether" admin verify

cat <<EOT

The daemon and the demo session keep running. With the same environment:
  export TETHER_STATE_DIR=$TETHER_STATE_DIR TETHER_SOCKET=$TETHER_SOCKET
  $tether attach demo        # Ctrl-\\ detaches; the agent keeps running
  $tether ls --all
  $tether daemon stop
EOT
