#!/usr/bin/env bash
# Builds and runs the native dataset-loader test (loader_test.cc) with g++ against the LibTorch of the pip
# `torch` package, then runs it over fixtures written by loader_fixtures.py (NumPy).
#   test/native/build-loader-test.sh            build (incrementally), write fixtures, run the tests
#   test/native/build-loader-test.sh --bench    also time 768×900 batches from an ARC-sized mmap'd set
# Objects go to build/loader-test/ (env OUT); env CXX, PYTHON and LIBTORCH (a LibTorch root) as in
# build-and-run.sh. Sources compile one at a time: each ATen TU takes ~1 GB and 10-20 s on 2-core machines.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/build/loader-test}
CXX=${CXX:-g++}
PY=${PYTHON:-python3}  # needs numpy for the fixtures; torch too unless LIBTORCH is set
if [[ -n "${LIBTORCH:-}" ]]; then
  TORCH=$LIBTORCH
else
  TORCH=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
fi
ABI=$("$PY" -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))' 2>/dev/null || echo 1)
mkdir -p "$OUT"

CXXFLAGS=(-std=c++20 -O2 -g -Wall -Wextra -Wno-unused-parameter -pthread "-D_GLIBCXX_USE_CXX11_ABI=$ABI"
  -I "$ROOT/native" -isystem "$TORCH/include" -isystem "$TORCH/include/torch/csrc/api/include")
SOURCES=(native/core/io/mapped_file.cc native/core/io/json.cc native/core/io/utf8.cc native/core/data/npy.cc
  native/core/data/dataset_metadata.cc native/core/data/dataset_arrays.cc native/core/data/batch_sampler.cc
  native/core/data/collate.cc native/core/data/puzzle_dataset.cc test/native/loader_test.cc)

OBJECTS=()
for src in "${SOURCES[@]}"; do
  obj="$OUT/$(echo "$src" | tr / _).o"
  OBJECTS+=("$obj")
  # Rebuild when the source or any header of native/core is newer than the object.
  if [[ ! -f "$obj" || "$ROOT/$src" -nt "$obj" ]] ||
     [[ -n "$(find "$ROOT/native/core" -name '*.h' -newer "$obj" -print -quit)" ]]; then
    echo "compile $src"
    "$CXX" "${CXXFLAGS[@]}" -c "$ROOT/$src" -o "$obj"
  fi
done
echo "link $OUT/loader_test"
"$CXX" -pthread "${OBJECTS[@]}" -L "$TORCH/lib" -Wl,-rpath,"$TORCH/lib" -ltorch -ltorch_cpu -lc10 -o "$OUT/loader_test"

FIXTURES="$OUT/fixtures"
rm -rf "$FIXTURES"
BENCH_ARGS=()
if [[ "${1:-}" == "--bench" ]]; then
  "$PY" "$ROOT/test/native/loader_fixtures.py" "$FIXTURES" --bench
  BENCH_ARGS=(--bench "$FIXTURES/bench")
else
  "$PY" "$ROOT/test/native/loader_fixtures.py" "$FIXTURES"
fi
"$OUT/loader_test" "$FIXTURES" "${BENCH_ARGS[@]}"
