// Plain-data arguments of the fused Adam-atan2 kernels (docs/algorithm.md §3.2), shared by the CPU kernel and
// its CUDA twin. No ATen or CUDA types, so both sides (g++ and a plain `nvcc -c`) include it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace trm::kernels {

/** One parameter's contiguous fp32 buffers (`numel` elements each) and its per-step terms. */
struct AdamAtan2Slice {
  float* param;
  const float* grad;
  float* exp_avg;     // m
  float* exp_avg_sq;  // v
  int64_t numel;
  float step_size;              // lr / (1 - β1^t): the update is step_size · atan2(m, sqrt(v) / sqrt(1 - β2^t))
  float bias_correction2_sqrt;  // sqrt(1 - β2^t)
};

/** The scalars every parameter of one step shares, already in the kernel's math type. */
struct AdamAtan2Scalars {
  float wd_alpha;  // 1 - lr · weight_decay, the decoupled decay factor applied first
  float mbeta1;    // 1 - β1, the lerp weight of m
  float mbeta2;    // 1 - β2, the lerp weight of v
};

/**
 * The shared scalars, computed in double and cast once to float, as the sapientinc package does
 * (its functor casts 1 - lr·wd, 1 - β1 and 1 - β2 from double to the fp32 opmath type).
 */
inline AdamAtan2Scalars adam_atan2_scalars(double lr, double beta1, double beta2, double weight_decay) {
  return {static_cast<float>(1.0 - lr * weight_decay), static_cast<float>(1.0 - beta1), static_cast<float>(1.0 - beta2)};
}

/**
 * Per-parameter terms of step t (1-based, after the increment), as adam-atan2 0.0.3's functor
 * (csrc/adam_atan2.cu) computes them: β raised to the fp32 step count in double, then
 * lr / (1 - β1^t) and sqrt(1 - β2^t) cast to float. The first bias correction scales the step
 * outside the atan2 (0.0.2 divided m by it inside).
 */
inline void adam_atan2_step_terms(double lr, double beta1, double beta2, int64_t step, float* step_size, float* bias_correction2_sqrt) {
  const double t = static_cast<double>(static_cast<float>(step));  // the official step is an fp32 tensor
  *step_size = static_cast<float>(lr / (1.0 - std::pow(beta1, t)));
  *bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
}

}  // namespace trm::kernels
