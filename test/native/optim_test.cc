// Standalone C++ tests of the optimizer layer (docs/algorithm.md §3, §4, §11.3): the atan2 approximation,
// Adam-atan2 (fused kernel and driver), the puzzle-table sign-SGD, the LR schedule and the EMA.
// doctest cases, built by test/native/CMakeLists.txt and run by CTest (also against the baseline kernel copy).
// `--dump-dir DIR` also writes one Adam-atan2 step's inputs and outputs for adam_atan2_ref.py.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/kernels/adam_atan2_cpu.h"
#include "core/kernels/atan2_approx.h"
#include "core/optim/adam_atan2.h"
#include "core/optim/ema.h"
#include "core/optim/schedule.h"
#include "core/optim/sign_sgd.h"

namespace {

void check(bool ok, const std::string& what) { CHECK_MESSAGE(ok, what); }

void check_near(double got, double want, double tol, const std::string& what) {
  char buf[256];
  std::snprintf(buf, sizeof buf, " (got %.10g, want %.10g, |diff| %.3g > %.3g)", got, want, std::fabs(got - want), tol);
  CHECK_MESSAGE(std::fabs(got - want) <= tol, (what + buf));
}

template <typename F>
void check_throws(trm::ErrorCode code, F&& f, const std::string& what) {
  try {
    f();
    check(false, what + " (did not throw)");
  } catch (const trm::Error& e) {
    check(e.code() == code, what + " (wrong code " + trm::error_code_name(e.code()) + ": " + e.what() + ")");
  }
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>(); }

/** A leaf parameter with the given values and gradient. */
at::Tensor param_with_grad(const at::Tensor& values, const at::Tensor& grad) {
  at::Tensor p = values.clone().requires_grad_(true);
  if (grad.defined()) p.mutable_grad() = grad.clone();
  return p;
}

// ---------------------------------------------------------------------------------------------
// atan2 approximation (kernels/atan2_approx.h): max |error| against double atan2 < 2e-7.

TEST_CASE("atan2_nonneg_x accuracy") {
  using trm::kernels::atan2_nonneg_x;
  std::mt19937_64 rng(20251122);
  double worst = 0.0;
  float worst_y = 0, worst_x = 0;
  int64_t n = 0;
  auto probe = [&](float y, float x) {
    const double want = std::atan2(static_cast<double>(y), static_cast<double>(x));
    const double err = std::fabs(static_cast<double>(atan2_nonneg_x(y, x)) - want);
    ++n;
    if (!(err <= worst)) {
      worst = err;
      worst_y = y;
      worst_x = x;
    }
  };
  // 1. uniform in [-1, 1] x [0, 1]
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (int i = 0; i < 4000000; ++i) probe(unit(rng), std::fabs(unit(rng)));
  // 2. independent log-uniform magnitudes over the whole float range (denormals .. 3e38): huge and
  //    tiny ratios, both arguments denormal, and so on
  std::uniform_real_distribution<double> expo(-149.0, 128.0);
  std::bernoulli_distribution coin(0.5);
  for (int i = 0; i < 4000000; ++i) {
    const float y = static_cast<float>(std::exp2(expo(rng))) * (coin(rng) ? -1.0f : 1.0f);
    const float x = static_cast<float>(std::exp2(expo(rng)));
    if (std::isfinite(y) && std::isfinite(x)) probe(y, x);
  }
  // 3. random bit patterns (every finite float, x made non-negative)
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 4000000; ++i) {
    uint32_t by = bits(rng), bx = bits(rng) & 0x7fffffffu;
    float y, x;
    std::memcpy(&y, &by, 4);
    std::memcpy(&x, &bx, 4);
    if (std::isfinite(y) && std::isfinite(x)) probe(y, x);
  }
  // 4. near the reflection point |y| = x and the ends of [0, 1]
  for (int i = 0; i < 1000000; ++i) {
    const float x = std::fabs(unit(rng)) + 1e-3f;
    probe(std::nextafter(x, coin(rng) ? 0.0f : 2.0f) * (coin(rng) ? -1.0f : 1.0f), x);
  }
  // 5. edge values
  const float denorm = std::numeric_limits<float>::denorm_min(), big = std::numeric_limits<float>::max();
  const float edges[] = {0.0f, denorm, 3 * denorm, 1e-40f, 1e-38f, 1e-20f, 1.0f, 1e20f, 1e38f, big};
  for (float y : edges)
    for (float x : edges) {
      probe(y, x);
      probe(-y, x);
    }
  std::printf("  max |atan2_nonneg_x - atan2| = %.3g over %lld pairs (worst at y=%.9g, x=%.9g)\n", worst, static_cast<long long>(n),
              worst_y, worst_x);
  check(worst < 2e-7, "max atan2 error < 2e-7");

  // Exact special values.
  const float pi2 = static_cast<float>(M_PI / 2);
  check(atan2_nonneg_x(0.0f, 0.0f) == 0.0f && !std::signbit(atan2_nonneg_x(0.0f, 0.0f)), "atan2(0, 0) = +0");
  check(atan2_nonneg_x(-0.0f, 0.0f) == 0.0f && std::signbit(atan2_nonneg_x(-0.0f, 0.0f)), "atan2(-0, 0) = -0");
  check(std::fabs(atan2_nonneg_x(3.0f, 0.0f) - pi2) < 1e-7f, "atan2(y>0, 0) = pi/2");
  check(std::fabs(atan2_nonneg_x(-denorm, 0.0f) + pi2) < 1e-7f, "atan2(-denorm, 0) = -pi/2");
  check(atan2_nonneg_x(0.0f, 5.0f) == 0.0f, "atan2(0, x>0) = 0");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  check(std::isnan(atan2_nonneg_x(nan, 1.0f)) && std::isnan(atan2_nonneg_x(1.0f, nan)) && std::isnan(atan2_nonneg_x(nan, 0.0f)) &&
            std::isnan(atan2_nonneg_x(0.0f, nan)),
        "NaN in, NaN out");
}

// ---------------------------------------------------------------------------------------------
// Adam-atan2

TEST_CASE("AdamAtan2: single step from m = v = 0 (t = 1) is 10*lr*atan(0.1)*sign(g) after decay (adam-atan2 0.0.3)") {
  const double lr = 1e-3, wd = 0.1;
  at::Tensor p0 = at::tensor({0.5f, -0.25f, 1.0f, 0.0f, -2.0f, 0.125f, 3.0f});
  at::Tensor g = at::tensor({0.3f, -1e-4f, 5.0f, 0.0f, 2e-6f, -7.0f, 1e15f});
  at::Tensor p = param_with_grad(p0, g);
  trm::AdamAtan2 opt({p}, {0.0, 0.9, 0.95, wd});
  opt.step(lr);
  auto pa = p0.accessor<float, 1>();
  auto ga = g.accessor<float, 1>();
  for (int64_t i = 0; i < p0.numel(); ++i) {
    const double sign = ga[i] > 0 ? 1.0 : (ga[i] < 0 ? -1.0 : 0.0);  // g = 0: atan2(0, 0) = 0, decay only
    // m = 0.1 g, sqrt(v) / sqrt(1 - 0.95) = |g|, step lr / (1 - 0.9).
    const double want = pa[i] * (1.0 - lr * wd) - lr / 0.1 * std::atan(0.1) * sign;
    check_near(p.data_ptr<float>()[i], want, 1e-6 * lr + 1.2e-7 * std::fabs(pa[i]), "element " + std::to_string(i));
  }
  check(opt.steps()[0] == 1, "step counter is 1");
}

/** One Adam-atan2 step in double-precision scalar math (adam-atan2 0.0.3's formula), for reference. */
struct RefState {
  std::vector<double> p, m, v;
};

void ref_step(RefState& s, const std::vector<double>& g, int64_t t, double lr, double b1, double b2, double wd) {
  for (size_t i = 0; i < s.p.size(); ++i) {
    s.p[i] *= 1.0 - lr * wd;
    s.m[i] += (1.0 - b1) * (g[i] - s.m[i]);
    s.v[i] += (1.0 - b2) * (g[i] * g[i] - s.v[i]);
    const double step_size = lr / (1.0 - std::pow(b1, static_cast<double>(t)));
    const double denom = std::sqrt(s.v[i]) / std::sqrt(1.0 - std::pow(b2, static_cast<double>(t)));
    s.p[i] -= step_size * std::atan2(s.m[i], denom);
  }
}

TEST_CASE("AdamAtan2: 6 steps with a changing lr against double-precision scalar math") {
  const double b1 = 0.9, b2 = 0.95, wd = 1.0;
  const double lrs[] = {2e-3, 5e-3, 1e-2, 1e-2, 3e-3, 1e-2};
  at::manual_seed(1);
  const int64_t n = 1000;
  at::Tensor p0 = at::randn({n});
  at::Tensor p = param_with_grad(p0, at::Tensor());
  trm::AdamAtan2 opt({p}, {0.0, b1, b2, wd});
  RefState ref;
  auto pa = p0.accessor<float, 1>();
  for (int64_t i = 0; i < n; ++i) ref.p.push_back(pa[i]);
  ref.m.assign(n, 0.0);
  ref.v.assign(n, 0.0);
  for (int step = 1; step <= 6; ++step) {
    at::Tensor g = at::randn({n}) * (step % 2 ? 1e-3 : 2.0);  // both scales, sign changes
    p.mutable_grad() = g;
    std::vector<double> gd(g.data_ptr<float>(), g.data_ptr<float>() + n);
    opt.step(lrs[step - 1]);
    ref_step(ref, gd, step, lrs[step - 1], b1, b2, wd);
  }
  // p: error relative to max(1, |p|); m and v: max error relative to their largest magnitude (they
  // cross zero, so an element-wise relative error means nothing there).
  double worst_p = 0, err_m = 0, err_v = 0, max_m = 0, max_v = 0;
  const auto st = opt.state_tensors();
  for (int64_t i = 0; i < n; ++i) {
    worst_p = std::max(worst_p, std::fabs(p.data_ptr<float>()[i] - ref.p[i]) / std::max(1.0, std::fabs(ref.p[i])));
    err_m = std::max(err_m, std::fabs(st[0].data_ptr<float>()[i] - ref.m[i]));
    err_v = std::max(err_v, std::fabs(st[1].data_ptr<float>()[i] - ref.v[i]));
    max_m = std::max(max_m, std::fabs(ref.m[i]));
    max_v = std::max(max_v, std::fabs(ref.v[i]));
  }
  std::printf("  max error: p %.3g (rel. to max(1,|p|)), m %.3g, v %.3g (rel. to max |m|, |v|)\n", worst_p, err_m / max_m, err_v / max_v);
  check(worst_p < 1e-6, "p within 1e-6 of the double-precision reference");
  check(err_m / max_m < 1e-6 && err_v / max_v < 1e-6, "m and v within 1e-6 of their scale");
  check(opt.steps()[0] == 6, "t = 6 after 6 steps");
}

TEST_CASE("AdamAtan2: decay before the update (not after, not lucidrains' a = 1.27)") {
  // p = 1, g = 1, lr = 0.5, wd = 1, t = 1: the step is s = 0.5 / 0.1 * atan(0.1) = 0.498339...
  //   decay first (adam-atan2):  1 * (1 - 0.5) - s            = 0.001660...
  //   decay after the update:   (1 - s) * (1 - 0.5)            = 0.250830...
  //   lucidrains (a = 1.27, decay after): (1 - 0.5*1.27*atan2(1, 1)) * 0.5
  at::Tensor p = param_with_grad(at::tensor({1.0f}), at::tensor({1.0f}));
  trm::AdamAtan2 opt({p}, {0.0, 0.9, 0.95, 1.0});
  opt.step(0.5);
  check_near(p.item<float>(), 0.5 - 5.0 * std::atan(0.1), 2e-7, "p = 0.5 - 5 atan(0.1)");
  // And a second step, where the decay multiplies the already updated p.
  p.mutable_grad() = at::tensor({-3.0f});
  opt.step(0.5);
  RefState ref{{1.0}, {0.0}, {0.0}};
  ref_step(ref, {1.0}, 1, 0.5, 0.9, 0.95, 1.0);
  ref_step(ref, {-3.0}, 2, 0.5, 0.9, 0.95, 1.0);
  check_near(p.item<float>(), ref.p[0], 5e-7, "second step matches the reference");
}

TEST_CASE("AdamAtan2: parameters without a gradient are skipped and keep their step") {
  at::Tensor a = param_with_grad(at::tensor({1.0f, 2.0f}), at::tensor({0.5f, -0.5f}));
  at::Tensor b = param_with_grad(at::tensor({-1.0f, 4.0f, 9.0f}), at::Tensor());
  const at::Tensor b0 = b.detach().clone();
  trm::AdamAtan2 opt({a, b}, {0.0, 0.9, 0.95, 0.1});
  opt.step(1e-2);
  opt.step(1e-2);
  check(at::equal(b.detach(), b0), "b unchanged (bitwise)");
  check(opt.steps()[0] == 2 && opt.steps()[1] == 0, "steps are {2, 0}");
  const auto st = opt.state_tensors();
  check(st[2].abs().sum().item<double>() == 0.0 && st[3].abs().sum().item<double>() == 0.0, "b's m and v are 0");
  check(st[4].scalar_type() == at::kLong && st[4].size(0) == 2, "steps tensor is int64 [P]");
  // b's first real update must use t = 1 (a t of 3 would not give exactly pi/4).
  b.mutable_grad() = at::tensor({2.0f, -1.0f, 0.25f});
  a.mutable_grad() = at::Tensor();
  const at::Tensor a_before = a.detach().clone();
  opt.step(1e-2);
  for (int i = 0; i < 3; ++i) {
    const double s = i == 1 ? -1.0 : 1.0;
    const double b_i = b0.data_ptr<float>()[i];
    // t = 1: m = 0.1 g, sqrt(v) / sqrt(0.05) = |g|, step lr / 0.1: 10 lr atan(0.1) sign(g) after decay.
    check_near(b.data_ptr<float>()[i], b_i * (1 - 1e-3) - 1e-2 * 10 * std::atan(0.1) * s, 1e-6 * 1e-2 + 1.2e-7 * std::fabs(b_i),
               "b's first update is 10 lr atan(0.1) sign(g) after decay (t = 1)");
  }
  check(at::equal(a.detach(), a_before) && opt.steps()[0] == 2, "a skipped once its grad is None");
}

/** The §3.2 update written with unfused ATen ops (what the fused kernel replaces). */
void aten_reference_step(at::Tensor& p, const at::Tensor& g, at::Tensor& m, at::Tensor& v, int64_t t, double lr, double b1, double b2,
                         double wd) {
  p.mul_(1.0 - lr * wd);
  m.lerp_(g, 1.0 - b1);
  v.lerp_(g * g, 1.0 - b2);
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(t));
  p.sub_(at::atan2(m, v.sqrt() / std::sqrt(bc2)), lr / bc1);
}

TEST_CASE("fused CPU kernel vs unfused ATen ops (sizes 1, 7, 33, 100003; 1 and 2 threads)") {
  std::printf("  kernel built %s\n", trm::kernels::adam_atan2_cpu_threaded() ? "with threads (-fopenmp)" : "single-threaded (no -fopenmp)");
  const int64_t sizes[] = {1, 7, 33, 100003};
  const double lr = 1e-2, b1 = 0.9, b2 = 0.95, wd = 0.1;
  const int saved_threads = at::get_num_threads();
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    at::manual_seed(7 + threads);
    std::vector<at::Tensor> P, G, M, V, Pr, Mr, Vr;
    std::vector<int64_t> T;
    for (int64_t n : sizes) {
      P.push_back(at::randn({n}));
      M.push_back(at::randn({n}) * 0.01);
      V.push_back(at::rand({n}) * 1e-4);
      T.push_back(1 + static_cast<int64_t>(n % 9));  // a different t per tensor
      Pr.push_back(P.back().clone());
      Mr.push_back(M.back().clone());
      Vr.push_back(V.back().clone());
    }
    double worst = 0;
    for (int step = 0; step < 3; ++step) {
      std::vector<trm::kernels::AdamAtan2Slice> slices;
      G.clear();
      for (size_t k = 0; k < P.size(); ++k) {
        G.push_back(at::randn({sizes[k]}) * 1e-2);
        ++T[k];
        float step_size, bc2s;
        trm::kernels::adam_atan2_step_terms(lr, b1, b2, T[k], &step_size, &bc2s);
        slices.push_back(
            {P[k].data_ptr<float>(), G[k].data_ptr<float>(), M[k].data_ptr<float>(), V[k].data_ptr<float>(), sizes[k], step_size, bc2s});
        aten_reference_step(Pr[k], G[k], Mr[k], Vr[k], T[k], lr, b1, b2, wd);
      }
      // A small grain so the 100003-element tensor really splits across the threads.
      trm::kernels::adam_atan2_cpu(slices.data(), slices.size(), trm::kernels::adam_atan2_scalars(lr, b1, b2, wd),
                                   /*grain=*/4096);
    }
    // Relative to max(1, |x|): |p| reaches ~4 where an fp32 ulp is 4.8e-7 (and FMA vs separate
    // rounding may differ by an ulp or two).
    auto rel = [](const at::Tensor& a, const at::Tensor& b) {
      return ((a.to(at::kDouble) - b.to(at::kDouble)).abs() / b.to(at::kDouble).abs().clamp_min(1.0)).max().item<double>();
    };
    for (size_t k = 0; k < P.size(); ++k) worst = std::max({worst, rel(P[k], Pr[k]), rel(M[k], Mr[k]), rel(V[k], Vr[k])});
    std::printf("  %d thread(s): max |fused - ATen| / max(1, |ATen|) over p, m, v = %.3g\n", threads, worst);
    check(worst < 1e-6, "fused == ATen formula within 1e-6 (" + std::to_string(threads) + " threads)");
  }
  at::set_num_threads(saved_threads);
}

TEST_CASE("AdamAtan2 driver: multi-tensor fused path vs strided/bf16 fallbacks") {
  at::manual_seed(3);
  // Same data through a contiguous (fused) and a transposed, non-contiguous (ATen fallback) parameter.
  at::Tensor base = at::randn({6, 5});
  at::Tensor fused = base.t().contiguous().requires_grad_(true);
  at::Tensor strided = base.clone().t().detach().requires_grad_(true);  // [5, 6] view, not contiguous
  at::Tensor bias = at::randn({3}).requires_grad_(true);
  check(!strided.is_contiguous(), "test setup: strided parameter is not contiguous");
  trm::AdamAtan2 a({fused, bias}, {0.0, 0.9, 0.95, 0.1});
  trm::AdamAtan2 b({strided}, {0.0, 0.9, 0.95, 0.1});
  for (int s = 0; s < 4; ++s) {
    at::Tensor g = at::randn({5, 6});
    fused.mutable_grad() = g.clone();
    strided.mutable_grad() = g.clone();
    bias.mutable_grad() = at::randn({3});
    a.step(1e-2);
    b.step(1e-2);
  }
  check(max_abs_diff(fused, strided) < 1e-6, "fused and fallback agree within 1e-6");

  // bf16 parameter: math in fp32, stored in bf16 (like the package's reference).
  at::Tensor pf = at::randn({64});
  at::Tensor pb = pf.to(at::kBFloat16).requires_grad_(true);
  at::Tensor pr = pb.detach().to(at::kFloat).requires_grad_(true);
  at::Tensor g = at::randn({64});
  pb.mutable_grad() = g.to(at::kBFloat16);
  pr.mutable_grad() = g.to(at::kBFloat16).to(at::kFloat);
  trm::AdamAtan2 ob({pb}, {0.0, 0.9, 0.95, 0.1});
  trm::AdamAtan2 orf({pr}, {0.0, 0.9, 0.95, 0.1});
  ob.step(1e-2);
  orf.step(1e-2);
  check(pb.scalar_type() == at::kBFloat16 && ob.state_tensors()[0].scalar_type() == at::kBFloat16, "bf16 parameter keeps bf16 state");
  check(max_abs_diff(pb, pr) < 2e-2, "bf16 result within bf16 rounding of the fp32 one");
}

TEST_CASE("AdamAtan2: state_tensors / load_state resume is bit-exact") {
  at::manual_seed(11);
  std::vector<at::Tensor> grads;
  for (int i = 0; i < 5; ++i) grads.push_back(at::randn({40}));
  at::Tensor w = at::randn({40}).requires_grad_(true);
  at::Tensor u = at::randn({3}).requires_grad_(true);
  trm::AdamAtan2 a({w, u}, {0.0, 0.9, 0.95, 0.1});
  for (int i = 0; i < 3; ++i) {
    w.mutable_grad() = grads[i];
    u.mutable_grad() = i == 1 ? at::Tensor() : grads[i].narrow(0, 0, 3);
    a.step(1e-2 * (i + 1));
  }
  std::vector<at::Tensor> saved;
  for (const auto& t : a.state_tensors()) saved.push_back(t.clone());
  at::Tensor w2 = w.detach().clone().requires_grad_(true), u2 = u.detach().clone().requires_grad_(true);
  trm::AdamAtan2 b({w2, u2}, {0.0, 0.9, 0.95, 0.1});
  b.load_state(saved);
  check(b.steps() == a.steps() && a.steps()[1] == 2, "steps restored ({3, 2})");
  for (int i = 3; i < 5; ++i) {
    w.mutable_grad() = grads[i];
    u.mutable_grad() = grads[i].narrow(0, 0, 3);
    w2.mutable_grad() = grads[i];
    u2.mutable_grad() = grads[i].narrow(0, 0, 3);
    a.step(7e-3);
    b.step(7e-3);
  }
  check(at::equal(w.detach(), w2.detach()) && at::equal(u.detach(), u2.detach()), "parameters bitwise equal");
  const auto sa = a.state_tensors(), sb = b.state_tensors();
  bool same = true;
  for (size_t i = 0; i < sa.size(); ++i) same = same && at::equal(sa[i], sb[i]);
  check(same, "state bitwise equal");
  // Official-style fp32 step counters are accepted too.
  saved.back() = saved.back().to(at::kFloat);
  b.load_state(saved);
  check(b.steps()[0] == 3, "fp32 steps accepted");
}

TEST_CASE("AdamAtan2: errors") {
  at::Tensor p = at::randn({4}).requires_grad_(true);
  check_throws(
      trm::ErrorCode::InvalidArgument,
      [&] {
        trm::AdamAtan2({p, p}, {});
      },
      "duplicate parameter");
  check_throws(
      trm::ErrorCode::InvalidArgument,
      [&] {
        trm::AdamAtan2({p}, {1e-3, 1.0, 0.95, 0.1});
      },
      "beta1 = 1");
  trm::AdamAtan2 opt({p}, {1e-3, 0.9, 0.95, 0.1});
  check_throws(
      trm::ErrorCode::InvalidArgument, [&] { opt.step(-1.0); }, "negative lr");
  p.mutable_grad() = at::randn({5});
  check_throws(
      trm::ErrorCode::Shape, [&] { opt.step(1e-3); }, "gradient shape mismatch");
  p.mutable_grad() = at::randn({4}).to_sparse();
  check_throws(
      trm::ErrorCode::InvalidArgument, [&] { opt.step(1e-3); }, "sparse gradient rejected");
  check(opt.steps()[0] == 0, "failed steps change nothing");
  check_throws(
      trm::ErrorCode::State, [&] { opt.load_state({at::zeros({4})}); }, "load_state with a wrong count");
  check_throws(
      trm::ErrorCode::State,
      [&] {
        opt.load_state({at::zeros({4}), at::zeros({4}), at::tensor({-1.0})});
      },
      "negative step");
  check_throws(
      trm::ErrorCode::State,
      [&] {
        opt.load_state({at::zeros({4}), at::zeros({3}), at::tensor({int64_t{1}})});
      },
      "wrong v shape");
  opt.zero_grad();
  check(!p.grad().defined(), "zero_grad sets grads to None");
}

/** Writes one step's inputs and outputs as raw little-endian float32 for adam_atan2_ref.py. */
void dump_reference_case(const std::string& dir) {
  std::printf("AdamAtan2: dumping a case for the Python reference (adam_atan2_ref.py)\n");
  at::manual_seed(5);
  const int64_t n = 100003;
  const double lr = 3e-3, b1 = 0.9, b2 = 0.95, wd = 0.1;
  const int64_t t_before = 4;
  at::Tensor p0 = at::randn({n}), g = at::randn({n}) * 1e-2, m0 = at::randn({n}) * 1e-2, v0 = at::rand({n}) * 1e-4;
  at::Tensor p = p0.clone().requires_grad_(true);
  p.mutable_grad() = g;
  trm::AdamAtan2 opt({p}, {0.0, b1, b2, wd});
  opt.load_state({m0, v0, at::tensor({t_before})});
  opt.step(lr);
  const auto st = opt.state_tensors();
  auto write = [&](const std::string& name, const at::Tensor& t) {
    at::Tensor c = t.detach().contiguous();
    std::ofstream f(dir + "/" + name + ".f32", std::ios::binary);
    f.write(reinterpret_cast<const char*>(c.data_ptr<float>()), c.numel() * 4);
    if (!f.good()) throw std::runtime_error("cannot write " + dir + "/" + name);
  };
  write("p0", p0);
  write("g", g);
  write("m0", m0);
  write("v0", v0);
  write("p1", p);
  write("m1", st[0]);
  write("v1", st[1]);
  std::ofstream meta(dir + "/meta.txt");
  meta.precision(17);
  meta << "n " << n << "\nlr " << lr << "\nbeta1 " << b1 << "\nbeta2 " << b2 << "\nweight_decay " << wd << "\nt " << t_before + 1 << "\n";
  std::printf("  wrote %s (n = %lld, t = %lld)\n", dir.c_str(), static_cast<long long>(n), static_cast<long long>(t_before + 1));
}

// ---------------------------------------------------------------------------------------------
// Sparse sign-SGD (§3.3)

TEST_CASE("SparseSignSGD: duplicate ids summed, decay on touched rows only") {
  at::Tensor table = at::arange(18, at::kFloat).reshape({6, 3}) * 0.5 - 4.0;  // rows of distinct values
  const at::Tensor before = table.clone();
  // ids 1 appears twice: +1 and -3 sum to -2 (sign -1; taking either row alone would be wrong),
  // column 1 sums to 0 (sign 0: decay only); column 2 to +0.5.
  at::Tensor ids = at::tensor({1, 3, 1, 5}, at::kInt);
  at::Tensor grad = at::tensor({1.0f, 2.0f, 0.25f,    // id 1
                                -4.0f, 0.0f, 1e-30f,  // id 3
                                -3.0f, -2.0f, 0.25f,  // id 1
                                0.5f, -0.5f, -2.0f})  // id 5
                        .reshape({4, 3});
  const double lr = 0.1, wd = 0.5;
  trm::SparseSignSGD().step(table, grad, ids, lr, wd);
  const float decay = static_cast<float>(1.0 - lr * wd), step = static_cast<float>(lr);
  auto expect_row = [&](int row, std::vector<float> signs) {
    for (int c = 0; c < 3; ++c) {
      const float want = before[row][c].item<float>() * decay - step * signs[c];
      const float got = table[row][c].item<float>();
      check(got == want, "row " + std::to_string(row) + " col " + std::to_string(c) + " = " + std::to_string(want) + " (got " +
                             std::to_string(got) + ")");
    }
  };
  expect_row(1, {-1.0f, 0.0f, 1.0f});
  expect_row(3, {-1.0f, 0.0f, 1.0f});
  expect_row(5, {1.0f, -1.0f, -1.0f});
  // Hand-computed: row 1 starts {-2.5, -2.0, -1.5}: -2.5*0.95 + 0.1 = -2.275, -2.0*0.95 = -1.9, -1.5*0.95 - 0.1 = -1.525.
  check_near(table[1][0].item<float>(), -2.275, 1e-6, "row 1 col 0 = -2.275");
  check_near(table[1][1].item<float>(), -1.9, 1e-6, "row 1 col 1 = -1.9 (summed grad 0: decay only)");
  check_near(table[1][2].item<float>(), -1.525, 1e-6, "row 1 col 2 = -1.525");
  for (int row : {0, 2, 4}) check(at::equal(table[row], before[row]), "untouched row " + std::to_string(row));

  check_throws(
      trm::ErrorCode::InvalidArgument,
      [&] {
        trm::SparseSignSGD().step(table, grad, at::tensor({0, 1, 6, 2}, at::kInt), lr, wd);
      },
      "id out of range");
  check_throws(
      trm::ErrorCode::State, [&] { trm::SparseSignSGD().step(table, at::Tensor(), ids, lr, wd); }, "undefined gradient");
  check_throws(
      trm::ErrorCode::Shape, [&] { trm::SparseSignSGD().step(table, grad.narrow(1, 0, 2), ids, lr, wd); }, "wrong De");
}

// ---------------------------------------------------------------------------------------------
// LR schedule (§3.5)

TEST_CASE("cosine_schedule_with_warmup at steps 1, W, W+1, N") {
  const double base = 1e-4;
  const int64_t W = 2000, N = 10000;
  using trm::cosine_schedule_with_warmup;
  // min_ratio = 1 (shipped configs): linear warm-up, then constant.
  // Exact values are Python's (repr of the official lambda's result), so equality is bit-for-bit.
  check(cosine_schedule_with_warmup(1, base, W, N, 1.0) == 5.0000000000000004e-08, "r=1, step 1 == Python");
  check(cosine_schedule_with_warmup(W - 1, base, W, N, 1.0) == 9.995000000000002e-05, "r=1, step W-1 == Python");
  check(cosine_schedule_with_warmup(W + 1, base, W, N, 0.1) == 9.999999653021725e-05, "r=0.1, step W+1 == Python");
  check(cosine_schedule_with_warmup((W + N) / 2, base, W, N, 0.1) == 5.500000000000001e-05, "r=0.1, mid == Python");
  check(cosine_schedule_with_warmup(N, base, W, N, 0.1) == 1e-05, "r=0.1, step N == Python");
  check_near(cosine_schedule_with_warmup(1, base, W, N, 1.0), 5e-8, 1e-20, "r=1, step 1 = 5e-8");
  check_near(cosine_schedule_with_warmup(W - 1, base, W, N, 1.0), 1e-4 * 1999 / 2000, 1e-18, "r=1, step W-1");
  check(cosine_schedule_with_warmup(W, base, W, N, 1.0) == base, "r=1, step W: base");
  check(cosine_schedule_with_warmup(W + 1, base, W, N, 1.0) == base, "r=1, step W+1: base");
  check(cosine_schedule_with_warmup(N, base, W, N, 1.0) == base, "r=1, step N: base");
  // min_ratio = 0.1: cosine from base down to 0.1*base at N.
  check_near(cosine_schedule_with_warmup(1, base, W, N, 0.1), 5e-8, 1e-20, "r=0.1, step 1 = 5e-8");
  check(cosine_schedule_with_warmup(W, base, W, N, 0.1) == base, "r=0.1, step W: base");
  // step W+1: progress 1/8000, cos(pi/8000) = 1 - 7.7106e-8: lr = 1e-4 * (1 - 0.45*7.7106e-8)
  check_near(cosine_schedule_with_warmup(W + 1, base, W, N, 0.1), 9.99999965302e-5, 1e-16, "r=0.1, step W+1");
  check_near(cosine_schedule_with_warmup((W + N) / 2, base, W, N, 0.1), 5.5e-5, 1e-16, "r=0.1, midpoint: 0.55*base");
  check_near(cosine_schedule_with_warmup(N, base, W, N, 0.1), 1e-5, 1e-18, "r=0.1, step N: 0.1*base");
  check(cosine_schedule_with_warmup(0, base, W, N, 0.1) == 0.0, "step 0: 0");
  check(cosine_schedule_with_warmup(5, base, 0, N, 1.0) == base, "no warm-up: base from the start");
}

// ---------------------------------------------------------------------------------------------
// EMA (§4)

TEST_CASE("EMA: shadow = (1-mu)*param + mu*shadow, parameters only") {
  at::Tensor w = at::tensor({1.0f, -2.0f}).requires_grad_(true);
  at::Tensor buf = at::tensor({7.0f});
  std::vector<trm::NamedTensor> params{{"w", w, true}, {"puzzle_emb.weights", buf, false}};
  trm::EMA ema(0.9);
  ema.register_params(params);
  check(ema.names().size() == 1 && ema.names()[0] == "w", "only the trainable entry is averaged");
  auto set = [&](float a, float b) {
    c10::NoGradGuard ng;
    w.copy_(at::tensor({a, b}));
  };
  set(2.0f, 0.0f);
  ema.update(params);  // 0.1*2 + 0.9*1 = 1.1 ; 0.1*0 + 0.9*(-2) = -1.8
  check_near(ema.shadow()[0][0].item<float>(), 1.1, 1e-6, "after 1 update: 1.1");
  check_near(ema.shadow()[0][1].item<float>(), -1.8, 1e-6, "after 1 update: -1.8");
  set(3.0f, 1.0f);
  ema.update(params);  // 0.3 + 0.99 = 1.29 ; 0.1 - 1.62 = -1.52
  set(4.0f, 2.0f);
  ema.update(params);  // 0.4 + 1.161 = 1.561 ; 0.2 - 1.368 = -1.168
  check_near(ema.shadow()[0][0].item<float>(), 1.561, 1e-6, "after 3 updates: 1.561");
  check_near(ema.shadow()[0][1].item<float>(), -1.168, 1e-6, "after 3 updates: -1.168");

  // Bit-exact against the official expression, with mu = 0.999 on random data.
  at::manual_seed(2);
  at::Tensor x = at::randn({1000}).requires_grad_(true);
  std::vector<trm::NamedTensor> px{{"x", x, true}};
  trm::EMA e2(0.999);
  e2.register_params(px);
  at::Tensor official = x.detach().clone();
  for (int i = 0; i < 3; ++i) {
    {
      c10::NoGradGuard ng;
      x.add_(at::randn({1000}));
    }
    e2.update(px);
    official = (1.0 - 0.999) * x.detach() + 0.999 * official;
  }
  check(at::equal(e2.shadow()[0], official), "bitwise equal to (1-mu)*param + mu*shadow");

  // swap twice = identity; copy_to; load_state.
  const at::Tensor live = x.detach().clone(), shadow = e2.shadow()[0].clone();
  e2.swap(px);
  check(at::equal(x.detach(), shadow) && at::equal(e2.shadow()[0], live), "swap exchanges values");
  e2.swap(px);
  check(at::equal(x.detach(), live) && at::equal(e2.shadow()[0], shadow), "swap twice restores");
  e2.copy_to(px);
  check(at::equal(x.detach(), shadow), "copy_to writes the shadow into the parameters");
  trm::EMA e3(0.999);
  e3.register_params(px);
  e3.load_state({shadow * 2});
  check(at::equal(e3.shadow()[0], shadow * 2), "load_state");
  check_throws(
      trm::ErrorCode::State, [&] { e3.load_state({}); }, "load_state count mismatch");
  std::vector<trm::NamedTensor> other{{"y", x, true}};
  check_throws(
      trm::ErrorCode::State, [&] { e3.update(other); }, "update with an unregistered parameter");
}

}  // namespace

int main(int argc, char** argv) {
  std::string dump_dir;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--dump-dir") dump_dir = argv[i + 1];
  doctest::Context context(argc, argv);
  const int failed = context.run();
  if (failed || context.shouldExit()) return failed;
  if (dump_dir.empty()) return 0;
  try {
    std::filesystem::create_directories(dump_dir);
    dump_reference_case(dump_dir);  // outside the test cases: failures throw
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
