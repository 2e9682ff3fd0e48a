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

# A local receiver for the example config's webhook notifier: it checks each signature.
export TETHER_WEBHOOK_SECRET=${TETHER_WEBHOOK_SECRET:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}
mkdir -p "$build/demo"
sink_log=$build/demo/webhook-sink.log
if [ -f "$build/demo/webhook-sink.pid" ]; then kill "$(cat "$build/demo/webhook-sink.pid")" 2>/dev/null || true; fi
rm -f "$build/demo/webhook-sink.port"
python3 "$root/scripts/webhook-sink.py" --port-file "$build/demo/webhook-sink.port" >"$sink_log" 2>&1 &
echo $! >"$build/demo/webhook-sink.pid"
for _ in $(seq 1 50); do [ -s "$build/demo/webhook-sink.port" ] && break; sleep 0.1; done
export TETHER_WEBHOOK_URL=http://127.0.0.1:$(cat "$build/demo/webhook-sink.port")/tether
export TETHER_DEMO_HOOK=$build/daemon/tether-hook

say "starting the daemon with config.example.yaml (state in $TETHER_STATE_DIR)"
"$tether" daemon stop --end-sessions >/dev/null 2>&1 || true
"$tether" daemon start
"$tether" daemon status
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "desktop notifications go to your session bus ($DBUS_SESSION_BUS_ADDRESS)"
else
  echo "no D-Bus session bus here: the desktop notifier reports it once and stays silent"
fi
echo "the webhook notifier posts to a local receiver: $TETHER_WEBHOOK_URL (log: $sink_log)"

say "tether run -d --name demo -- scripts/demo-agent.sh"
"$tether" run -d --name demo --size 80x16 -- "$root/scripts/demo-agent.sh"

say "waiting for the agent to ask for permission"
"$tether" wait demo --until needs_permission --timeout 30
"$tether" screen demo

say "tether ls: what it waits for"
"$tether" ls

say "tether pending"
"$tether" pending

say "answering from outside the terminal: tether approve demo"
"$tether" approve demo
"$tether" wait demo --until idle --timeout 30
"$tether" screen demo

say "the notifications: the rules matched 'needs-you' and 'done'; each notifier's delivery"
sleep 1
sqlite3 "file:$TETHER_STATE_DIR/events.db?mode=ro" \
  "SELECT q.seq, json_extract(q.payload, '$.rule'), json_extract(q.payload, '$.notifier'),
          COALESCE((SELECT 'sent in ' || json_extract(s.payload, '$.latency_ms') || ' ms' FROM events s
                    WHERE s.kind = 22 AND json_extract(s.payload, '$.queued') = q.seq),
                   (SELECT 'failed: ' || json_extract(f.payload, '$.error') FROM events f
                    WHERE f.kind = 23 AND json_extract(f.payload, '$.queued') = q.seq ORDER BY f.seq DESC LIMIT 1),
                   'queued')
   FROM events q WHERE q.kind = 21 ORDER BY q.seq" | sed 's/^/  /'

say "what the local webhook receiver got (signatures checked)"
sed 's/^/  /' "$sink_log"

say "what the event log recorded about the session (titles, notifications, input, state changes)"
id=$("$tether" ls --json | python3 -c 'import json,sys; print(next(s["id"] for s in json.load(sys.stdin) if s["name"]=="demo"))')
sqlite3 "file:$TETHER_STATE_DIR/events.db?mode=ro" \
  "SELECT seq, CASE kind WHEN 3 THEN 'SessionStarted' WHEN 5 THEN 'OutputChunk' WHEN 6 THEN 'InputSent'
          WHEN 9 THEN 'TitleChanged' WHEN 10 THEN 'BellRang' WHEN 11 THEN 'TerminalNotified'
          WHEN 15 THEN 'HookReceived' WHEN 16 THEN 'StateChanged' WHEN 17 THEN 'PermissionRequested'
          WHEN 18 THEN 'PermissionDecided' WHEN 21 THEN 'NotificationQueued' WHEN 22 THEN 'NotificationSent'
          WHEN 23 THEN 'NotificationFailed' ELSE kind END,
          CASE WHEN kind IN (5, 6) THEN length(payload) || ' bytes' ELSE CAST(payload AS TEXT) END
   FROM events WHERE session = $id ORDER BY seq" | sed 's/^/  /'

say "the projections rebuilt from the log equal the live state"
"$tether" admin verify

cat <<EOT

The daemon and the demo session keep running. With the same environment:
  export TETHER_STATE_DIR=$TETHER_STATE_DIR TETHER_SOCKET=$TETHER_SOCKET
  $tether attach demo        # Ctrl-\\ detaches; the agent keeps running
  $tether ls --all
  $tether daemon stop                 # the session keeps running in its holder
  $tether daemon stop --end-sessions  # ends it too
EOT
