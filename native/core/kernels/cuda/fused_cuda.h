// The CUDA twins of the fused CPU kernels (kernels/fused_cpu.h): residual add + gain-less RMSNorm,
// SwiGLU's silu(gate) * up and RoPE on q and k, forward and backward, fp32 or bf16 in, fp32 math,
// with the same intermediate roundings. Plain CUDA runtime types only (no ATen), so the .cu
// compiles with `nvcc -c` where LibTorch is CPU-only (scripts/check-cuda-compile.sh).
#pragma once

#include <cuda_runtime_api.h>

#include "../fused_args.h"

namespace trm::kernels {

// Buffers are contiguous device memory on the current device; each call enqueues on `stream` and
// returns cudaSuccess or the launch error. Semantics as the _cpu functions of the same name.
cudaError_t add_rms_norm_cuda(Elem e, const void* a, const void* b, void* y, void* s, float* rstd, const NormGeometry& g, float eps,
                              cudaStream_t stream);
cudaError_t add_rms_norm_backward_cuda(Elem e, const void* s, const float* rstd, const void* gy, void* gs, const NormGeometry& g,
                                       cudaStream_t stream);
cudaError_t swiglu_cuda(Elem e, const void* gate_up, void* out, const SwigluGeometry& g, cudaStream_t stream);
cudaError_t swiglu_backward_cuda(Elem e, const void* gate_up, const void* gout, void* ggate_up, const SwigluGeometry& g,
                                 cudaStream_t stream);
cudaError_t rope_cuda(Elem e, const void* in, void* out, const float* cos, const float* sin, const RopeGeometry& g, bool inverse,
                      cudaStream_t stream);

}  // namespace trm::kernels
