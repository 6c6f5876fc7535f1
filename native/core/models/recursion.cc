// The recursion of one supervision step for each architecture, with the no-grad / grad boundary
// (docs/algorithm.md §1.9 for TRM, §9.1 for HRM, §9.2 for trm_singlez and trm_hier6; the transformers
// baseline of models/recursive_reasoning/transformers_baseline.py has no recursion). `z` holds the carried
// states in the order of InnerModel::state_names(); the returned states still carry gradient.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "../errors.h"
#include "inner.h"

namespace trm {

namespace {

using Body = NoGradCycles::Body;

/** Throws at a cycle boundary once a long run was cancelled. */
void poll(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load(std::memory_order_relaxed)) throw Error(ErrorCode::Cancelled, "cancelled between recursion cycles");
}

at::Tensor sum_of(const std::vector<at::Tensor>& zs, size_t from) {
  auto s = zs[from];
  for (size_t k = from + 1; k < zs.size(); ++k) s = s + zs[k];
  return s;
}

}  // namespace

std::vector<at::Tensor> InnerModel::graph_inputs() const {
  std::vector<at::Tensor> out;
  if (!device_.is_cuda()) return out;  // only CUDA graphs need them (their addresses key a capture)
  for (const auto& e : params_.entries()) out.push_back(e.tensor);
  if (rope_) out.insert(out.end(), {rope_->cos, rope_->sin});
  return out;
}

std::vector<at::Tensor> InnerModel::recurse(std::vector<at::Tensor> z, const at::Tensor& x) {
  const RotaryTables* rope = rope_ ? &*rope_ : nullptr;
  const int64_t T = cfg_.H_cycles, n = cfg_.L_cycles;
  if (cfg_.arch == Arch::TransformersBaseline) {
    // One pass of the H_layers blocks over z_H + x, all with gradient; H_cycles is not used.
    z[0] = (*H_level_)(z[0], x, rope);
    return z;
  }
  const ReasoningModule& net = *L_level_;
  const auto params = graph_inputs();
  const auto between = [this] { poll(cancel); };
  // T - 1 cycles without gradient, then one with (docs/algorithm.md §1.9 steps 3–4; the same boundary in §9.2).
  auto deep_recursion = [&](const Body& cycle) {
    nograd_.run(z, x, T - 1, cycle, between, params);
    poll(cancel);
    cycle(z, x);
  };

  switch (cfg_.arch) {
    case Arch::TRM:
      // n x z_L <- net(z_L, z_H + x); z_H <- net(z_H, z_L).
      deep_recursion([&](std::vector<at::Tensor>& zs, const at::Tensor& xs) {
        for (int64_t j = 0; j < n; ++j) zs[1] = net(zs[1], zs[0] + xs, rope);
        zs[0] = net(zs[0], zs[1], rope);
      });
      return z;
    case Arch::TRMSingleZ:
      // Only z_L is carried: n x z_L <- net(z_L, x), then z_L <- net(z_L) without injection.
      deep_recursion([&](std::vector<at::Tensor>& zs, const at::Tensor& xs) {
        for (int64_t j = 0; j < n; ++j) zs[0] = net(zs[0], xs, rope);
        zs[0] = net(zs[0], at::zeros_like(zs[0]), rope);
      });
      return z;
    case Arch::TRMHier6:
      // Six latent features: at L step j, z_L[j] <- net(sum_k z_L[k], z_H + x); then z_H <- net(z_H, sum_k z_L[k]).
      deep_recursion([&](std::vector<at::Tensor>& zs, const at::Tensor& xs) {
        for (int64_t j = 0; j < n; ++j) zs[1 + j] = net(sum_of(zs, 1), zs[0] + xs, rope);
        zs[0] = net(zs[0], sum_of(zs, 1), rope);
      });
      return z;
    case Arch::HRM: {
      // Every L step but the very last, and every H step but the last, without gradient (one block,
      // cancellable before it); then the 1-step gradient: one L step and one H step (§9.1).
      const ReasoningModule& hnet = *H_level_;
      nograd_.run(
          z, x, 1,
          [&](std::vector<at::Tensor>& zs, const at::Tensor& xs) {
            for (int64_t i = 0; i < T; ++i) {
              for (int64_t j = 0; j < n; ++j)
                if (!(i == T - 1 && j == n - 1)) zs[1] = net(zs[1], zs[0] + xs, rope);
              if (i != T - 1) zs[0] = hnet(zs[0], zs[1], rope);
            }
          },
          between, params);
      poll(cancel);
      z[1] = net(z[1], z[0] + x, rope);
      z[0] = hnet(z[0], z[1], rope);
      return z;
    }
    case Arch::TransformersBaseline: break;  // handled above
  }
  return z;
}

}  // namespace trm
