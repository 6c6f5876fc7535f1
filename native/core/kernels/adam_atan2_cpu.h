// The fused multi-tensor Adam-atan2 update on CPU (docs/algorithm.md §3.2): one pass over every element
// doing decay, both moments and the atan2 step, threaded over elements with at::parallel_for (the
// intra-op threads of at::set_num_threads; needs -fopenmp on the .cc with an OpenMP LibTorch).
// Raw pointers in, no ATen types, so it can be tested and benchmarked on its own.
#pragma once

#include <cstddef>
#include <cstdint>

#include "adam_atan2_args.h"

namespace trm::kernels {

/** Elements per work item of at::parallel_for: big enough to amortise a task, small enough to split 7M. */
constexpr int64_t kAdamAtan2Grain = 32768;

/**
 * Updates param, exp_avg and exp_avg_sq of `count` slices in place, as one job over the
 * concatenation of all slices (so small tensors such as biases do not each pay a parallel region).
 * Per element: p *= wd_alpha; m = lerp(m, g, 1-β1); v = lerp(v, g², 1-β2);
 * p -= lr · atan2(m / (1-β1^t), sqrt(v) / sqrt(1-β2^t)). Buffers of different slices must not overlap.
 */
void adam_atan2_cpu(const AdamAtan2Slice* slices, size_t count, const AdamAtan2Scalars& scalars, int64_t grain = kAdamAtan2Grain);

/**
 * Whether adam_atan2_cpu() can use more than one thread in this build: with LibTorch's OpenMP
 * backend that needs adam_atan2_cpu.cc compiled with -fopenmp (see there); false means serial.
 */
bool adam_atan2_cpu_threaded();

}  // namespace trm::kernels
