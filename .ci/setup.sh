#!/usr/bin/env bash
# Installs what fieldmesh needs on Debian 12 (when root; otherwise names the
# missing packages and stops), then configures and builds into build/.
# Usage: bash .ci/setup.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config libzmq3-dev liblmdb-dev libsodium-dev libyaml-dev
      libcmocka-dev python3 iproute2 clang libclang-rt-14-dev scdoc man-db
      gpsd gpsd-clients libxml2-dev
      libmicrohttpd-dev libjansson-dev
      libzstd-dev libgnutls28-dev tzdata
      libjs-leaflet libjs-chart.js chromium chromium-driver python3-selenium fonts-noto-cjk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$(nproc)"
