#!/usr/bin/env bash
# Installs every Debian package that building, running and testing tether need.
# Idempotent and quiet: when everything is there it prints nothing and touches nothing.
# --fuzz: also clang and its sanitizer and libFuzzer runtimes, for fuzz/run (the normal
# build is g++ and does not need them).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libevent-dev libsqlite3-dev sqlite3 libyaml-cpp-dev libcurl4-openssl-dev libssl-dev libvterm-dev
  libboost-dev doctest-dev nlohmann-json3-dev libcli11-dev libhowardhinnant-date-dev tzdata
  libzstd-dev libpulse-dev libasound2-dev libsndfile1-dev pulseaudio
  tmux vim less procps python3 asciinema sqlite3
  libglfw3-dev libimgui-dev libgl-dev libgl1-mesa-dri fonts-dejavu-core
  xvfb xauth openbox x11-utils xdotool wmctrl imagemagick
  libglib2.0-dev dbus-daemon dbus-bin python3-dbus python3-gi
  nats-server libnats-dev
  python3-websockets
)
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo -n)
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq </dev/null >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
