// The fused CPU kernels of the recursion's non-matmul work (residual add + gain-less RMSNorm,
// SwiGLU's silu(gate) * up, RoPE on q and k), forward and backward: bf16 or fp32 in, fp32 math,
// vectorised with ATen's Vectorized<> for this CPU (AVX-512, AVX2 or baseline; see fused_cpu_impl.h)
// and threaded over LibTorch's intra-op threads. Raw contiguous buffers in, no ATen types, as the
// CUDA twins in cuda/fused_cuda.h; native/core/fused.cc wraps both as autograd functions.
#pragma once

#include "fused_args.h"

namespace trm::kernels {

/** The copy this CPU runs: "avx512", "avx2" or "base" (follows ATen's choice, so ATEN_CPU_CAPABILITY=avx2 applies). */
const char* fused_cpu_isa();

/** y = rms_norm(a + b) over the axis of `g`; s (the rounded sum) and rstd (1/rms per normalised line) when non-null. */
void add_rms_norm_cpu(Elem e, const void* a, const void* b, void* y, void* s, float* rstd, const NormGeometry& g, float eps);
/** gs = the gradient of rms_norm at s, given gy and the forward's rstd (also the gradient of a and of b). */
void add_rms_norm_backward_cpu(Elem e, const void* s, const float* rstd, const void* gy, void* gs, const NormGeometry& g);
/** out = silu(gate) * up. */
void swiglu_cpu(Elem e, const void* gate_up, void* out, const SwigluGeometry& g);
/** ggate_up = the gradient of silu(gate) * up at gate_up, given gout. */
void swiglu_backward_cpu(Elem e, const void* gate_up, const void* gout, void* ggate_up, const SwigluGeometry& g);
/** Rotates q and k (the first g.heads heads of each row) from in to out, which may alias; inverse = the backward. */
void rope_cpu(Elem e, const void* in, void* out, const float* cos, const float* sin, const RopeGeometry& g, bool inverse);

}  // namespace trm::kernels
