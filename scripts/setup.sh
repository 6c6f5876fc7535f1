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

# Gloo's headers let the addon build c10d's ProcessGroupGloo (multi-process training on CPU).
if [ ! -f /usr/include/gloo/algorithm.h ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  echo "setup: installing libgloo-dev (Gloo headers for distributed training)"
  { $SUDO apt-get install -y -q libgloo-dev >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q libgloo-dev >/dev/null 2>&1; }; } \
    || echo "setup: could not install libgloo-dev; building without distributed training"
fi

# nlohmann/json (header-only) parses the untrusted JSON the addon reads; the build needs it.
if [ ! -f /usr/include/nlohmann/json.hpp ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  echo "setup: installing nlohmann-json3-dev (JSON parser headers)"
  { $SUDO apt-get install -y -q nlohmann-json3-dev >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q nlohmann-json3-dev >/dev/null 2>&1; }; } \
    || echo "setup: could not install nlohmann-json3-dev; the addon build will stop until nlohmann/json.hpp exists"
fi

# Debian's chromium is the browser the web-page test drives headless through playwright-core
# (which never downloads a browser of its own). Only the tests need it: CI, or TRM_SETUP_BROWSER=1.
if [ -n "${CI:-}${TRM_SETUP_BROWSER:-}" ] && [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  echo "setup: installing chromium (headless browser for the web-page test)"
  { $SUDO apt-get install -y -q chromium >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q chromium >/dev/null 2>&1; }; } \
    || echo "setup: could not install chromium; test/page.test.ts will fail until /usr/bin/chromium exists"
fi

echo "setup: npm dependencies"
# `npm install` follows package-lock.json; `npm ci` is avoided because npm 11 rejects lock files
# that list only this platform's optional native packages.
npm install --ignore-scripts --no-audit --no-fund

echo "setup: building the native addon and the TypeScript layer"
node scripts/build-addon.js
