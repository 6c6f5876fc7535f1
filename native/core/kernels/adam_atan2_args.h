// Plain-data arguments of the fused Adam-atan2 kernels (SPEC.md §3.2), shared by the CPU kernel and
// its CUDA twin. No ATen or CUDA types, so both sides (g++ and a plain `nvcc -c`) include it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace trm::kernels {

/** One parameter's contiguous fp32 buffers (`numel` elements each) and its per-step bias terms. */
struct AdamAtan2Slice {
  float* param;
  const float* grad;
  float* exp_avg;     // m
  float* exp_avg_sq;  // v
  int64_t numel;
  float bias_correction1_reciprocal;  // 1 / (1 - β1^t)
  float bias_correction2_sqrt;        // sqrt(1 - β2^t)
};

/** The scalars every parameter of one step shares, already in the kernel's math type. */
struct AdamAtan2Scalars {
  float lr;        // step size: the update is lr · atan2(...)
  float wd_alpha;  // 1 - lr · weight_decay, the decoupled decay factor applied first
  float mbeta1;    // 1 - β1, the lerp weight of m
  float mbeta2;    // 1 - β2, the lerp weight of v
};

/**
 * The shared scalars, computed in double and cast once to float, as the sapientinc package does
 * (its functor casts lr, 1 - lr·wd, 1 - β1 and 1 - β2 from double to the fp32 opmath type).
 */
inline AdamAtan2Scalars adam_atan2_scalars(double lr, double beta1, double beta2, double weight_decay) {
  return {static_cast<float>(lr), static_cast<float>(1.0 - lr * weight_decay), static_cast<float>(1.0 - beta1),
          static_cast<float>(1.0 - beta2)};
}

/**
 * Bias terms of step t (1-based, after the increment): the package raises the double β to its fp32
 * step count in double, then casts 1 / (1 - β1^t) and sqrt(1 - β2^t) to float.
 */
inline void adam_atan2_bias_terms(double beta1, double beta2, int64_t step, float* bias_correction1_reciprocal,
                                  float* bias_correction2_sqrt) {
  const double t = static_cast<double>(static_cast<float>(step));  // the official step is an fp32 tensor
  *bias_correction1_reciprocal = static_cast<float>(1.0 / (1.0 - std::pow(beta1, t)));
  *bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
}

}  // namespace trm::kernels
