#!/usr/bin/env bash
# Compiles (never runs) every CUDA source under native/core/kernels/cuda with nvcc, so the CUDA twins
# of the CPU kernels cannot rot on machines whose LibTorch is CPU-only. The .cu files include no
# ATen/torch headers, only the CUDA runtime. Exits 0 with a note when nvcc is absent.
# Env: NVCC (default: nvcc on PATH), NVCC_FLAGS (extra flags, e.g. "-arch=sm_90").
set -euo pipefail
cd "$(dirname "$0")/.."

NVCC=${NVCC:-nvcc}
if ! command -v "$NVCC" >/dev/null 2>&1; then
  echo "check-cuda-compile: nvcc not found; skipping the CUDA compile check"
  exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mapfile -t sources < <(find native/core/kernels/cuda -name '*.cu' | sort)
if [ "${#sources[@]}" -eq 0 ]; then
  echo "check-cuda-compile: no .cu sources under native/core/kernels/cuda"
  exit 0
fi

echo "check-cuda-compile: $("$NVCC" --version | tail -n 1)"
status=0
for src in "${sources[@]}"; do
  obj="$out/$(basename "$src" .cu).o"
  # shellcheck disable=SC2086
  if "$NVCC" -std=c++17 -Inative ${NVCC_FLAGS:-} -c "$src" -o "$obj"; then
    echo "  ok   $src"
  else
    echo "  FAIL $src"
    status=1
  fi
done
exit $status
