// The CUDA twin of the fused Adam-atan2 CPU kernel (docs/algorithm.md §3.2; kernels/adam_atan2_cpu.h): the
// same per-element math over many tensors in a few launches. Plain CUDA runtime types only (no
// ATen), so the .cu compiles with `nvcc -c` even where LibTorch is CPU-only (scripts/check-cuda-compile.sh).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "../adam_atan2_args.h"

namespace trm::kernels {

/**
 * Enqueues the update of `count` slices on `stream`, all on the current device. The slice array is
 * host memory; the pointers in it are device pointers. Returns cudaSuccess or the first launch error.
 */
cudaError_t adam_atan2_cuda(const AdamAtan2Slice* slices, size_t count, const AdamAtan2Scalars& scalars, cudaStream_t stream);

}  // namespace trm::kernels
