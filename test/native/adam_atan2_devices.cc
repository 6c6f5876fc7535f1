// Adam-atan2 (docs/algorithm.md §3.2) from identical inputs on two paths: the fused CUDA kernel against the fused
// CPU kernel when a GPU is there, else the fused CPU kernel against the ATen-op path (strided copies of
// the same tensors). Five steps over TRM-Att-shaped tensors; prints one JSON line with the largest
// differences of parameters and moments; exits 1 when they exceed a few float32 roundings.
// Built by CMake with -DTRM_DEVICE_CHECKS=ON (scripts/gpu-check.sh builds and runs it).
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/optim/adam_atan2.h"

namespace {

std::vector<at::Tensor> make(const std::vector<std::vector<int64_t>>& shapes, const at::Device& dev, bool strided) {
  std::vector<at::Tensor> out;
  at::manual_seed(7);
  for (const auto& s : shapes) {
    auto t = at::randn(s, at::kFloat);
    // A transposed copy with the same values is not contiguous: AdamAtan2 takes its ATen-op path.
    out.push_back(strided ? t.t().contiguous().t().to(dev) : t.to(dev));
  }
  return out;
}

/** The largest |a - b| / max |a| over the tensors. */
double max_rel_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = a[i].detach().cpu(), y = b[i].detach().cpu();
    d = std::max(d, (x - y).abs().max().item<double>() / std::max(x.abs().max().item<double>(), 1e-30));
  }
  return d;
}

}  // namespace

int main() {
  c10::NoGradGuard no_grad;
  const std::vector<std::vector<int64_t>> shapes = {{12, 512}, {1536, 512}, {512, 512}, {3072, 512}, {512, 1536}, {2, 512}};
  const bool cuda = at::hasCUDA();
  const at::Device other = cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  auto a = make(shapes, at::kCPU, false), b = make(shapes, other, !cuda);
  for (auto& t : a) t.requires_grad_(true);
  for (auto& t : b) t.requires_grad_(true);
  trm::AdamAtan2Options o;
  o.beta1 = 0.9;
  o.beta2 = 0.95;
  o.weight_decay = 0.1;
  trm::AdamAtan2 opt_a(a, o), opt_b(b, o);
  at::manual_seed(11);
  for (int step = 1; step <= 5; ++step) {
    for (size_t i = 0; i < a.size(); ++i) {
      auto g = at::randn(shapes[i], at::kFloat);
      a[i].mutable_grad() = g.clone();
      b[i].mutable_grad() = g.to(other);
    }
    opt_a.step(1e-3);
    opt_b.step(1e-3);
  }
  const auto sa = opt_a.state_tensors(), sb = opt_b.state_tensors();
  std::vector<at::Tensor> ma, mb, va, vb;
  for (size_t i = 0; i + 1 < sa.size(); i += 2) {
    ma.push_back(sa[i]);
    mb.push_back(sb[i]);
    va.push_back(sa[i + 1]);
    vb.push_back(sb[i + 1]);
  }
  const double dp = max_rel_diff(a, b), dm = max_rel_diff(ma, mb), dv = max_rel_diff(va, vb);
  // A few float32 roundings (2^-23 ~ 1.2e-7 relative each) over five steps; atan2 differs by an ulp or two.
  const bool ok = dp <= 1e-6 && dm <= 1e-6 && dv <= 1e-6;
  std::printf(
      "{\"compared\": \"%s\", \"steps\": 5, \"max_rel_diff_param\": %.3g, \"max_rel_diff_exp_avg\": %.3g, "
      "\"max_rel_diff_exp_avg_sq\": %.3g, \"bound\": 1e-6, \"ok\": %s}\n",
      cuda ? "cuda fused kernel vs cpu fused kernel" : "cpu fused kernel vs cpu ATen ops (no GPU)", dp, dm, dv, ok ? "true" : "false");
  return ok ? 0 : 1;
}
