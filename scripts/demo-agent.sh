#!/usr/bin/env bash
# A stand-in for a coding agent, for the demo: it draws a little TUI and sets its window
# title as Claude Code does, and tells tether what it does through Claude Code's hooks
# (the same JSON, sent with tether-hook): it starts a turn, asks permission to run a
# command and waits for the answer (from `tether approve`, the desktop notification's
# Approve, or the window), then finishes its turn ("done").
set -u
hook=${TETHER_DEMO_HOOK:-tether-hook}
title() { printf '\033]0;%s\007' "$1"; }
send_hook() {  # event, extra JSON fields; prints the hook's answer
  printf '{"session_id":"demo","transcript_path":"","cwd":"%s","hook_event_name":"%s"%s}' "$PWD" "$1" "${2:-}" |
    "$hook" --agent claude ${3:+--wait "$3"}
}

title "◐ demo agent"
printf '\033[1;36m╭──────────────────────────────────────────╮\033[0m\n'
printf '\033[1;36m│\033[0m  \033[1mdemo agent\033[0m: refactoring src/main.c      \033[1;36m│\033[0m\n'
printf '\033[1;36m╰──────────────────────────────────────────╯\033[0m\n'
send_hook UserPromptSubmit ',"prompt":"refactor src/main.c"' >/dev/null
for step in "reading src/main.c" "planning the change" "editing 3 functions"; do
  for f in ⠋ ⠙ ⠹ ⠸; do printf '\r\033[2K\033[33m%s\033[0m %s' "$f" "$step"; sleep 0.1; done
  printf '\r\033[2K\033[32m✓\033[0m %s\n' "$step"
done

printf '\n\033[1;33mAllow Bash(make test)?\033[0m waiting for your answer (tether approve demo)\n'
answer=$(send_hook PermissionRequest ',"tool_name":"Bash","tool_input":{"command":"make test","description":"Run the tests"}' 120)
case $answer in
  *'"allow"'*) printf '\033[32m✓\033[0m allowed: running make test\n\033[32m✓\033[0m all 42 tests pass\n'
               reply="Refactored src/main.c; all 42 tests pass." ;;
  *'"deny"'*)  printf '\033[31m✗\033[0m denied: not running make test\n'; reply="Stopped: make test was denied." ;;
  *)           printf '\033[2m(no answer from tether: the agent would ask in its own terminal)\033[0m\n'; reply="Done, untested." ;;
esac
title "✳ demo agent"
send_hook Stop ",\"stop_hook_active\":false,\"last_assistant_message\":\"$reply\"" >/dev/null
printf '%s\n' "$reply"
sleep 600
