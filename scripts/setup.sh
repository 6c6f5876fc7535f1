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

echo "setup: npm dependencies"
if [ -f package-lock.json ]; then npm ci --ignore-scripts --no-audit --no-fund; else npm install --ignore-scripts --no-audit --no-fund; fi

echo "setup: building the native addon and the TypeScript layer"
node scripts/build-addon.js
