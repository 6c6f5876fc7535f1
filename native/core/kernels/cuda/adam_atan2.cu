// Multi-tensor Adam-atan2 on CUDA (docs/algorithm.md §3.2): the host packs up to kMaxSlices parameters and
// kMaxBlocks chunks of kChunk elements into one kernel-argument table and launches once per table,
// as PyTorch's multi_tensor_apply does, so a model's ~30 tensors cost one or a few launches.
#include "adam_atan2_cuda.h"

#include <cuda_runtime.h>

#include <cstdint>

namespace trm::kernels {
namespace {

constexpr int kMaxSlices = 48;
constexpr int kMaxBlocks = 320;
constexpr int64_t kChunk = 65536;  // elements per CUDA block
constexpr int kThreads = 512;

// Passed by value as the kernel argument (about 3.9 KB, under the classic 4 KB limit).
struct LaunchTable {
  AdamAtan2Slice slices[kMaxSlices];
  int block_chunk[kMaxBlocks];            // which chunk of its slice each block updates
  unsigned char block_slice[kMaxBlocks];  // which slice each block updates
};
static_assert(sizeof(LaunchTable) <= 4096, "kernel argument table must fit the 4 KB parameter space");

// at::lerp's two forms, chosen on the host from the scalar weight (same as the CPU kernel).
template <bool kSmallWeight>
__device__ __forceinline__ float lerp(float start, float end, float w) {
  if constexpr (kSmallWeight) {
    return start + w * (end - start);
  } else {
    return end - (end - start) * (1.0f - w);
  }
}

template <bool kSmall1, bool kSmall2>
__global__ void __launch_bounds__(kThreads) adam_atan2_kernel(LaunchTable table, AdamAtan2Scalars k) {
  const AdamAtan2Slice& s = table.slices[table.block_slice[blockIdx.x]];
  const int64_t begin = static_cast<int64_t>(table.block_chunk[blockIdx.x]) * kChunk;
  const int64_t end = begin + kChunk < s.numel ? begin + kChunk : s.numel;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const float g = s.grad[i];
    const float decayed = s.param[i] * k.wd_alpha;                    // 1. decay first
    const float m = lerp<kSmall1>(s.exp_avg[i], g, k.mbeta1);         // 2.
    const float v = lerp<kSmall2>(s.exp_avg_sq[i], g * g, k.mbeta2);  // 3.
    const float denom = sqrtf(v) / s.bias_correction2_sqrt;
    s.param[i] = decayed - s.step_size * atan2f(m, denom);  // 4.
    s.exp_avg[i] = m;
    s.exp_avg_sq[i] = v;
  }
}

using KernelFn = void (*)(LaunchTable, AdamAtan2Scalars);

KernelFn pick_kernel(float w1, float w2) {
  const bool s1 = (w1 < 0 ? -w1 : w1) < 0.5f, s2 = (w2 < 0 ? -w2 : w2) < 0.5f;
  if (s1 && s2) return &adam_atan2_kernel<true, true>;
  if (s1) return &adam_atan2_kernel<true, false>;
  if (s2) return &adam_atan2_kernel<false, true>;
  return &adam_atan2_kernel<false, false>;
}

}  // namespace

cudaError_t adam_atan2_cuda(const AdamAtan2Slice* slices, size_t count, const AdamAtan2Scalars& scalars, cudaStream_t stream) {
  const KernelFn kernel = pick_kernel(scalars.mbeta1, scalars.mbeta2);
  LaunchTable table;
  int n_slices = 0, n_blocks = 0;

  auto launch = [&]() -> cudaError_t {
    if (n_blocks == 0) return cudaSuccess;
    kernel<<<n_blocks, kThreads, 0, stream>>>(table, scalars);
    n_blocks = 0;
    return cudaGetLastError();
  };

  for (size_t k = 0; k < count; ++k) {
    const AdamAtan2Slice& s = slices[k];
    if (s.numel <= 0) continue;
    if (n_slices == kMaxSlices) {  // table full of slices: flush, start over
      if (cudaError_t e = launch(); e != cudaSuccess) return e;
      n_slices = 0;
    }
    table.slices[n_slices] = s;
    const int64_t chunks = (s.numel + kChunk - 1) / kChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      table.block_slice[n_blocks] = static_cast<unsigned char>(n_slices);
      table.block_chunk[n_blocks] = static_cast<int>(c);
      if (++n_blocks == kMaxBlocks) {  // blocks full: flush, keep this slice as slot 0 if it continues
        if (cudaError_t e = launch(); e != cudaSuccess) return e;
        table.slices[0] = s;
        n_slices = 0;
      }
    }
    ++n_slices;
  }
  return launch();
}

}  // namespace trm::kernels
