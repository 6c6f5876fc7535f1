// Adam-atan2 (sapientinc `adam_atan2.AdamATan2`, docs/algorithm.md §3.2) for the dense parameters: a = b = 1,
// no epsilon, decoupled decay p *= 1 - lr·wd before the moments, then p -= lr / (1 - β1^t) ·
// atan2(m, sqrt(v) / sqrt(1 - β2^t)) as the package's release 0.0.3 (what `pip install` gives). Not
// lucidrains' AdamAtan2 (a = 1.27, decay after the moments). fp32 tensors run the fused kernels of
// native/core/kernels/ (CPU, or CUDA when built with TRM_WITH_CUDA); other dtypes and non-contiguous
// tensors fall back to ATen ops with the same formula in the fp32 (fp64 for fp64) math type.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace trm {

struct AdamAtan2Options {
  double lr = 1e-3;  // used by step() without an argument; the trainer passes the scheduled lr
  double beta1 = 0.9;
  double beta2 = 0.999;  // the class default; TRM passes (0.9, 0.95) (§3.2)
  double weight_decay = 1e-2;
};

class AdamAtan2 {
 public:
  /**
   * `params`: the trainable tensors (e.g. ParamStore entries with trainable = true), updated in
   * place; handles must stay valid for the optimizer's life. m and v start at zero, steps at 0.
   * Throws trm::Error(InvalidArgument) for an undefined, non-floating or duplicated tensor or bad options.
   */
  AdamAtan2(std::vector<at::Tensor> params, AdamAtan2Options options);

  /**
   * One update with learning rate `lr` (the schedule's value for this step, §3.5). Each parameter
   * whose .grad() is defined advances its own step t and is updated; parameters without a gradient
   * are skipped and keep their t (§3.2). Sparse gradients are rejected (InvalidArgument); CUDA
   * tensors without a CUDA build throw trm::Error(Device) before anything changes.
   */
  void step(double lr);
  void step() { step(options_.lr); }

  /** Sets every parameter's .grad() to undefined (PyTorch's zero_grad(set_to_none=True)). */
  void zero_grad();

  const AdamAtan2Options& options() const { return options_; }
  const std::vector<at::Tensor>& params() const { return params_; }
  /** Per-parameter step counters t (number of updates each parameter has received). */
  const std::vector<int64_t>& steps() const { return steps_; }

  /**
   * The complete optimizer state, for resume (bit-exact on the same build and device):
   *   [m_0, v_0, m_1, v_1, ..., m_{P-1}, v_{P-1}, steps]
   * m_i / v_i are exp_avg / exp_avg_sq of params()[i] (the live buffers, same shape, dtype and
   * device as the parameter; clone before mutating), steps is an int64 CPU tensor [P] of t per
   * parameter. 2P + 1 tensors in all.
   */
  std::vector<at::Tensor> state_tensors() const;
  /**
   * Restores what state_tensors() returned: m and v become copies of the given tensors in each
   * parameter's dtype and device (earlier state_tensors() handles no longer alias them). Steps may be int64 or floating (the official fp32
   * step) holding non-negative integers. Throws trm::Error(State) on a count, shape or value mismatch, leaving the state unchanged.
   */
  void load_state(const std::vector<at::Tensor>& state);

 private:
  std::vector<at::Tensor> params_;
  std::vector<at::Tensor> exp_avg_;
  std::vector<at::Tensor> exp_avg_sq_;
  std::vector<int64_t> steps_;
  AdamAtan2Options options_;
};

}  // namespace trm
