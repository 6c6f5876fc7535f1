// The recursion of one supervision step for each architecture, with the no-grad / grad boundary
// (SPEC.md §1.9 for TRM, §9.1 for HRM, §9.2 for trm_singlez and trm_hier6; the transformers
// baseline of models/recursive_reasoning/transformers_baseline.py has no recursion). `z` holds the carried
// states in the order of InnerModel::state_names(); the returned states still carry gradient.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "../errors.h"
#include "inner.h"

namespace trm {

namespace {

/** Throws at a cycle boundary once a long run was cancelled. */
void poll(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load(std::memory_order_relaxed)) throw Error(ErrorCode::Cancelled, "cancelled between recursion cycles");
}

/** T - 1 cycles without gradient, then one with (SPEC §1.9 steps 3–4; the same boundary in §9.2). */
template <typename Cycle>
void deep_recursion(int64_t T, const std::atomic<bool>* cancel, Cycle&& cycle) {
  {
    c10::NoGradGuard no_grad;
    for (int64_t i = 0; i < T - 1; ++i) {
      poll(cancel);
      cycle();
    }
  }
  poll(cancel);
  cycle();
}

at::Tensor sum_of(const std::vector<at::Tensor>& zs, size_t from) {
  auto s = zs[from];
  for (size_t k = from + 1; k < zs.size(); ++k) s = s + zs[k];
  return s;
}

}  // namespace

std::vector<at::Tensor> InnerModel::recurse(std::vector<at::Tensor> z, const at::Tensor& x) {
  const RotaryTables* rope = rope_ ? &*rope_ : nullptr;
  const int64_t T = cfg_.H_cycles, n = cfg_.L_cycles;
  if (cfg_.arch == Arch::TransformersBaseline) {
    // One pass of the H_layers blocks over z_H + x, all with gradient; H_cycles is not used.
    z[0] = (*H_level_)(z[0], x, rope);
    return z;
  }
  const ReasoningModule& net = *L_level_;

  switch (cfg_.arch) {
    case Arch::TRM: {
      // (T-1) cycles without gradient, then one with: n x z_L <- net(z_L, z_H + x); z_H <- net(z_H, z_L).
      auto& zH = z[0];
      auto& zL = z[1];
      auto cycle = [&]() {
        for (int64_t j = 0; j < n; ++j) zL = net(zL, zH + x, rope);
        zH = net(zH, zL, rope);
      };
      deep_recursion(T, cancel, cycle);
      return z;
    }
    case Arch::TRMSingleZ: {
      // Only z_L is carried: n x z_L <- net(z_L, x), then z_L <- net(z_L) without injection.
      auto& zL = z[0];
      auto zero = at::zeros_like(zL);
      auto cycle = [&]() {
        for (int64_t j = 0; j < n; ++j) zL = net(zL, x, rope);
        zL = net(zL, zero, rope);
      };
      deep_recursion(T, cancel, cycle);
      return z;
    }
    case Arch::TRMHier6: {
      // Six latent features: at L step j, z_L[j] <- net(sum_k z_L[k], z_H + x); then z_H <- net(z_H, sum_k z_L[k]).
      auto cycle = [&]() {
        for (int64_t j = 0; j < n; ++j) z[1 + j] = net(sum_of(z, 1), z[0] + x, rope);
        z[0] = net(z[0], sum_of(z, 1), rope);
      };
      deep_recursion(T, cancel, cycle);
      return z;
    }
    case Arch::HRM: {
      // Every L step but the very last, and every H step but the last, without gradient; then the
      // 1-step gradient: one L step and one H step (§9.1).
      const ReasoningModule& hnet = *H_level_;
      auto& zH = z[0];
      auto& zL = z[1];
      {
        c10::NoGradGuard no_grad;
        for (int64_t i = 0; i < T; ++i) {
          poll(cancel);
          for (int64_t j = 0; j < n; ++j)
            if (!(i == T - 1 && j == n - 1)) zL = net(zL, zH + x, rope);
          if (i != T - 1) zH = hnet(zH, zL, rope);
        }
      }
      zL = net(zL, zH + x, rope);
      zH = hnet(zH, zL, rope);
      return z;
    }
    case Arch::TransformersBaseline: break;  // handled above
  }
  return z;
}

}  // namespace trm
