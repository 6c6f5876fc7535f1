// The fused recursion ops as ATen-level functions with autograd: residual add + gain-less RMSNorm,
// SwiGLU's silu(gate) * up, and RoPE on q and k. Each runs the fused kernel (kernels/fused_cpu.h,
// or its CUDA twin) for fp32 / bf16 tensors and the plain ATen ops it replaces otherwise (fp16, or
// the fusion switched off), so callers never branch. Forward and backward match the unfused ops
// to fp32 rounding (bf16: to the last bit except the order of the sums; see fused_cpu_impl.h).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace trm {

/** Which optimisations of the recursion are on (all by default; process-wide). */
struct FusionOptions {
  bool norm = true;         // residual add + RMSNorm in one pass
  bool swiglu = true;       // silu(gate) * up in one pass, one saved tensor
  bool rope = true;         // RoPE on q and k in place in the q|k|v projection
  bool token_mix = true;    // mlp_t as W @ h on [B, L, D]: no transposed copies, norm over L in place
  bool cast_cache = true;   // weights cast to the forward dtype once per supervision step (no-grad cycles)
  bool cuda_graphs = true;  // on CUDA, the no-grad cycles replayed from a CUDA graph (models/nograd_cycles.h)
};

FusionOptions fusion_options();
void set_fusion_options(const FusionOptions& options);
/** "avx512", "avx2" or "base": the fused CPU kernels this machine runs. */
std::string fused_cpu_isa();

/**
 * rms_norm(a + b) over axis `dim` (-1, or 1 for [B, L, D] normalised over L), without a gain, in
 * fp32 and cast back: the post-norm of a block (`rms_norm(hidden + out)` in the official layers.py).
 */
at::Tensor add_rms_norm(const at::Tensor& a, const at::Tensor& b, double eps, int64_t dim);

/** silu(first half) * second half along `dim` (-1 for channels, 1 for the token-mixing mlp_t). */
at::Tensor swiglu(const at::Tensor& gate_up, int64_t dim);

/**
 * The token-mixing SwiGLU of mlp_t as W @ h for h [B, L, D] and weights already in h's dtype:
 * w_down @ swiglu(w_gate_up @ h) over L, equal to the official linear(h^T)^T without transposed copies.
 */
at::Tensor mix_tokens(const at::Tensor& h, const at::Tensor& w_gate_up, const at::Tensor& w_down);

/**
 * RoPE (rotate-half) on the q and k heads of a fused projection qkv [B, L, 3 * heads * head_dim]
 * with fp32 tables cos/sin [L, head_dim]; returns the tensor with q and k rotated, v unchanged
 * (in place when fused).
 */
at::Tensor rope_qk(const at::Tensor& qkv, const at::Tensor& cos, const at::Tensor& sin, int64_t heads, int64_t head_dim);

}  // namespace trm
