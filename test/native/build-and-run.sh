#!/usr/bin/env bash
# Builds and runs the standalone C++ tests of native/core/optim and native/core/kernels against the
# pip LibTorch (python3 -c 'import torch'), then checks one Adam-atan2 step against the torch formula
# of SPEC.md §3.2 (test/native/adam_atan2_ref.py), and the c10d adapter (dist_test.cc, when Gloo's
# headers are installed). With --bench also builds and runs bench/optim.cc.
# Objects go to build/native-test and are rebuilt only when a source or header changed; one file at a
# time (each ATen TU needs ~1 GB and ~15 s).
# Env: PYTHON (default python3), LIBTORCH (a LibTorch root instead of the pip one), CXX, CXXFLAGS.
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PYTHON:-python3}
CXX=${CXX:-g++}
# -O2 like the node-gyp build: the kernels must vectorise there too (CMake Release uses -O3).
CXXFLAGS=${CXXFLAGS:-"-O2 -g0"}
if [ -n "${LIBTORCH:-}" ]; then
  TORCH_ROOT=$LIBTORCH
  TORCH_INC="$TORCH_ROOT/include"
  TORCH_LIB="$TORCH_ROOT/lib"
else
  TORCH_ROOT=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
  TORCH_INC="$TORCH_ROOT/include"
  TORCH_LIB="$TORCH_ROOT/lib"
fi
ABI=$("$PY" -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))' 2>/dev/null || echo 1)

OUT=build/native-test
mkdir -p "$OUT"
FLAGS=(-std=c++20 -fPIC -Wall -Wno-unused-parameter -D_GLIBCXX_USE_CXX11_ABI="$ABI" -Inative
       -I"$TORCH_INC" -I"$TORCH_INC/torch/csrc/api/include")
HEADERS=$(find native/core -name '*.h')

compile() {  # compile SRC OBJ [EXTRA_FLAGS], skipped when OBJ is newer than SRC and every core header
  local src=$1 obj=$2 extra=${3:-}
  if [ -f "$obj" ] && [ -z "$(find "$src" $HEADERS -newer "$obj" 2>/dev/null | head -n 1)" ]; then
    return
  fi
  echo "  c++ $src"
  # shellcheck disable=SC2086
  "$CXX" "${FLAGS[@]}" $CXXFLAGS $extra -c "$src" -o "$obj"
}

link() {  # link OUT OBJS...
  local exe=$1
  shift
  # -fopenmp links libgomp.so.1; the rpath makes that LibTorch's own copy at run time (one runtime).
  "$CXX" "$@" -o "$exe" -fopenmp -L"$TORCH_LIB" -Wl,-rpath,"$TORCH_LIB" -ltorch -ltorch_cpu -lc10
}

CORE=(native/core/kernels/adam_atan2_cpu.cc native/core/optim/adam_atan2.cc native/core/optim/sign_sgd.cc
      native/core/optim/schedule.cc native/core/optim/ema.cc)
OBJS=()
echo "build-and-run: compiling into $OUT"
for src in "${CORE[@]}"; do
  obj="$OUT/$(basename "$src" .cc).o"
  # ATen's OpenMP parallel_for is header-inline: the kernel needs -fopenmp to use threads.
  extra=""
  case "$src" in */kernels/*) extra="-fopenmp" ;; esac
  compile "$src" "$obj" "$extra"
  OBJS+=("$obj")
done
compile test/native/optim_test.cc "$OUT/optim_test.o"
link "$OUT/optim_test" "$OUT/optim_test.o" "${OBJS[@]}"
# The same tests against the baseline (SSE2) copy of the kernel only: on an AVX2 machine the main
# binary runs the x86-64-v3 copy, so this keeps the other one tested too.
compile native/core/kernels/adam_atan2_cpu.cc "$OUT/adam_atan2_cpu_baseline.o" "-fopenmp -DTRM_NO_VECTOR_CLONES"
link "$OUT/optim_test_baseline" "$OUT/optim_test.o" "$OUT/adam_atan2_cpu_baseline.o" "${OBJS[@]:1}"

DUMP=$(mktemp -d)
trap 'rm -rf "$DUMP"' EXIT
echo "== baseline kernel copy"
"$OUT/optim_test_baseline" >"$DUMP/baseline.log" || { cat "$DUMP/baseline.log"; exit 1; }
grep -E 'fused|checks' "$DUMP/baseline.log"
echo "== default build"
"$OUT/optim_test" --dump-dir "$DUMP"
echo "Python reference (SPEC.md §3.2 in torch)"
"$PY" test/native/adam_atan2_ref.py "$DUMP"

if [ -f /usr/include/gloo/algorithm.h ]; then
  echo "== c10d adapter (Gloo)"
  compile native/core/dist/dist.cc "$OUT/dist.o" "-DTRM_WITH_GLOO=1 -DUSE_C10D_GLOO=1"
  compile test/native/dist_test.cc "$OUT/dist_test.o"
  link "$OUT/dist_test" "$OUT/dist_test.o" "$OUT/dist.o"
  "$OUT/dist_test"
else
  echo "== c10d adapter: skipped, no Gloo headers (apt-get install libgloo-dev)"
fi

if [ "${1:-}" = "--bench" ]; then
  compile bench/optim.cc "$OUT/bench_optim.o"
  link "$OUT/bench_optim" "$OUT/bench_optim.o" "${OBJS[@]}"
  "$OUT/bench_optim" --json bench/results/optim.json
fi
