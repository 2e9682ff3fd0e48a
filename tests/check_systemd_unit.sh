#!/bin/sh
# The shipped systemd user unit is valid, and stopping it leaves the session holders
# alive (KillMode=process). Skipped (77) where systemd-analyze is not installed.
set -eu
unit_src=$1 tetherd=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
grep -qx 'KillMode=process' "$unit_src" || { echo "FAIL: $unit_src must keep KillMode=process"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|^ExecStart=.*|ExecStart=$tetherd|" "$unit_src" > "$dir/tether.service"
systemd-analyze verify "$dir/tether.service"
echo ok
