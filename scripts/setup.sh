#!/usr/bin/env bash
# Sets trm-native up from nothing on a fresh machine: LibTorch (the pinned CPU PyTorch wheel, whose
# headers and libraries the addon builds against), the npm dependencies, then the native addon
# (cmake-js) and the TypeScript build. Idempotent: re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ -z "${LIBTORCH:-}" ] && [ -z "${Torch_DIR:-}" ] && ! "$PY" -c 'import torch' >/dev/null 2>&1; then
  echo "setup: installing torch==2.13.0 (LibTorch for the addon)"
  "$PY" -m pip install --quiet torch==2.13.0
fi

# apt_install PACKAGE FILE WHY IF_NOT: installs a Debian package unless FILE exists (apt-get update
# only when the plain install fails); prints IF_NOT when it cannot.
apt_install() {
  [ -e "$2" ] && return 0
  command -v apt-get >/dev/null 2>&1 || { echo "setup: no apt-get; $4"; return 0; }
  local SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  echo "setup: installing $1 ($3)"
  { $SUDO apt-get install -y -q "$1" >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q "$1" >/dev/null 2>&1; }; } \
    || echo "setup: could not install $1; $4"
}

# Gloo's headers let the addon build c10d's ProcessGroupGloo (multi-process training on CPU).
apt_install libgloo-dev /usr/include/gloo/algorithm.h "Gloo headers for distributed training" \
  "building without distributed training"
# nlohmann/json (header-only) parses the untrusted JSON the addon reads; the build needs it.
apt_install nlohmann-json3-dev /usr/include/nlohmann/json.hpp "JSON parser headers" \
  "the addon build will stop until nlohmann/json.hpp exists"
# doctest (header-only) is the framework of the C++ tests (npm run test:native).
apt_install doctest-dev /usr/include/doctest/doctest.h "C++ test framework headers" \
  "npm run test:native will stop until doctest/doctest.h exists"
# Debian's chromium is the browser the web-page test drives headless through playwright-core
# (which never downloads a browser of its own). Only the tests need it: CI, or TRM_SETUP_BROWSER=1.
if [ -n "${CI:-}${TRM_SETUP_BROWSER:-}" ]; then
  apt_install chromium /usr/bin/chromium "headless browser for the web-page test" \
    "test/page.test.ts will fail until /usr/bin/chromium exists"
fi

echo "setup: npm dependencies"
# `npm install` follows package-lock.json; `npm ci` is avoided because npm 11 rejects lock files
# that list only this platform's optional native packages.
npm install --ignore-scripts --no-audit --no-fund

echo "setup: building the native addon and the TypeScript layer"
node scripts/build-addon.js
