#!/usr/bin/env bash
# A stand-in for a coding agent, for the demo: it draws a little TUI, sets its window
# title like Claude Code does, asks for permission with an OSC 9 notification, waits for
# an answer, then finishes its turn.
set -u
title() { printf '\033]0;%s\007' "$1"; }
title "◐ demo agent"
printf '\033[1;36m╭──────────────────────────────────────────╮\033[0m\n'
printf '\033[1;36m│\033[0m  \033[1mdemo agent\033[0m: refactoring src/main.c      \033[1;36m│\033[0m\n'
printf '\033[1;36m╰──────────────────────────────────────────╯\033[0m\n'
for step in "reading src/main.c" "planning the change" "editing 3 functions"; do
  for f in ⠋ ⠙ ⠹ ⠸; do printf '\r\033[2K\033[33m%s\033[0m %s' "$f" "$step"; sleep 0.1; done
  printf '\r\033[2K\033[32m✓\033[0m %s\n' "$step"
done
printf '\033]9;demo agent needs your permission\007'
printf '\n\033[1;33mAllow Bash(make test)?\033[0m [yes/no] '
read -r answer
printf '\033[2m(you said %s)\033[0m\n' "$answer"
printf '\033[32m✓\033[0m all tests pass\n'
title "✳ demo agent"
printf '\033]9;demo agent is waiting for your input\007'
sleep 600
