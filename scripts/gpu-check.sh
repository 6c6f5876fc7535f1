#!/usr/bin/env bash
# The one-command GPU check. Runs from the bundle scripts/gpu-bundle.sh wrote (default: gpu-bundle/ beside
# this script's folder, or $TRM_GPU_BUNDLE) on a machine with python3 + torch (CUDA), nvcc, cmake and
# ninja, and needs no Node.js, npm or network: unpacks the bundle into a fresh folder, builds the addon
# against that python3's LibTorch with every core, then runs scripts/gpu-check.js (parity, bf16, the
# Adam-atan2 kernels, training over NCCL and two Gloo ranks, the ARC evaluator in training, speed; see
# docs/distributed.md). Writes OUT_DIR/report.json (+ build.log, check.log).
#   scripts/gpu-check.sh [--cpu] OUT_DIR
# --cpu runs the same flow with device 'cpu' (for a machine without a GPU: proves the bundle works).
# Env: PYTHON (default python3), TORCH_CUDA_ARCH_LIST (default here 9.0: the GPU machine's), GPU_CHECK_BUDGET
# (seconds for the checks after the build, default 300).
set -euo pipefail

CPU=""
if [ "${1:-}" = "--cpu" ]; then CPU="--cpu"; shift; fi
if [ $# -ne 1 ]; then
  echo "usage: scripts/gpu-check.sh [--cpu] OUT_DIR" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
BUNDLE=${TRM_GPU_BUNDLE:-$(cd "$(dirname "$0")/.." && pwd)/gpu-bundle}
PY=${PYTHON:-python3}
start=$(date +%s)
for f in node.xz app.tar.xz; do
  [ -f "$BUNDLE/$f" ] || { echo "gpu-check: $BUNDLE/$f is missing; make the bundle with scripts/gpu-bundle.sh" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trm-gpu-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "gpu-check: unpacking $BUNDLE into $WORK"
xz -dc "$BUNDLE/node.xz" >"$WORK/node"
chmod +x "$WORK/node"
tar -C "$WORK" -xJf "$BUNDLE/app.tar.xz"
APP=$WORK/app

# Python packages the official code needs that the machine may lack (pydantic, einops, ...), from the
# bundle's wheels, ahead of the installed ones; a wheel built for another Python is left out.
if [ -d "$BUNDLE/wheels" ]; then
  SITE=$WORK/site
  for whl in "$BUNDLE"/wheels/*.whl; do
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$whl" >/dev/null 2>&1 ||
      echo "gpu-check: $(basename "$whl") does not install for this python3 (left out)"
  done
  export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
fi

TORCH_CMAKE=$("$PY" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
JOBS=$(nproc)
[ -n "$CPU" ] || export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
echo "gpu-check: building the addon against $("$PY" -c 'import torch; print(torch.__version__)') with $JOBS jobs (log: $OUT/build.log)"
build_start=$(date +%s)
if ! { cmake -S "$APP" -B "$APP/build" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$TORCH_CMAKE/Torch" \
         -DCMAKE_JS_INC="$APP/node_modules/node-api-headers/include;$APP/node_modules/node-addon-api" \
         -DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION -DTRM_DEVICE_CHECKS=ON &&
       cmake --build "$APP/build" -j "$JOBS"; } >"$OUT/build.log" 2>&1; then
  tail -n 30 "$OUT/build.log" >&2
  echo "{\"ok\": false, \"error\": \"the addon did not build; see build.log\"}" >"$OUT/report.json"
  exit 1
fi
build_seconds=$(( $(date +%s) - build_start ))
grep 'trm-native:' "$OUT/build.log" || true
export TRM_NATIVE_ADDON=$APP/build/trm_native.node

echo "gpu-check: Adam-atan2 kernels"
TRM_ADAM_CHECK_JSON=$("$APP/build/adam_atan2_devices" || true)
export TRM_ADAM_CHECK_JSON=${TRM_ADAM_CHECK_JSON:-"{\"ok\": false, \"error\": \"adam_atan2_devices printed nothing\"}"}
echo "  $TRM_ADAM_CHECK_JSON"

ARGS=(--out "$OUT" --fixtures "$WORK/fixtures")
if [ -n "$CPU" ]; then
  ARGS+=(--cpu --budget "${GPU_CHECK_BUDGET:-3600}")
else
  ARGS+=(--budget "${GPU_CHECK_BUDGET:-300}")
fi
[ ! -d "$WORK/official" ] || ARGS+=(--official "$WORK/official" --harness "$WORK/bench-official")
set +e
"$WORK/node" "$APP/scripts/gpu-check.js" "${ARGS[@]}" 2>&1 | tee "$OUT/check.log"
status=${PIPESTATUS[0]}
set -e
"$WORK/node" -e '
  const fs = require("fs"), f = process.argv[1];
  const r = JSON.parse(fs.readFileSync(f, "utf8"));
  r.build_seconds = Number(process.argv[2]);
  r.total_seconds = Number(process.argv[3]);
  fs.writeFileSync(f, JSON.stringify(r, null, 2) + "\n");' "$OUT/report.json" "$build_seconds" "$(( $(date +%s) - start ))"
echo "gpu-check: done in $(( $(date +%s) - start )) s (build $build_seconds s); report in $OUT/report.json"
exit "$status"
