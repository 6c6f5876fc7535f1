// Standalone C++ tests of the fused recursion kernels (native/core/kernels/fused_cpu*, core/fused.h):
// every instruction-set copy this CPU can run, fp32 and bf16, forward and backward, against the
// unfused ATen ops they replace and against central finite differences. doctest cases, built by
// test/native/CMakeLists.txt and run by CTest.
//
// Tolerances: fp32 agrees with the unfused ops to a few fp32 ulps (sums in another order); bf16
// agrees to the last bit except where such an fp32 difference crosses a bf16 rounding boundary,
// so at most 1 bf16 ulp (2^-8 relative) on a few elements.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <ATen/Version.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/fused.h"
#include "core/kernels/fused_cpu_table.h"

namespace {

using trm::kernels::Elem;
using trm::kernels::FusedCpuTable;

void check(bool ok, const std::string& what) { CHECK_MESSAGE(ok, what); }

/** max |got - want| / max |want|. */
double rel_diff(const at::Tensor& got, const at::Tensor& want) {
  auto g = got.to(at::kDouble), w = want.to(at::kDouble);
  return (g - w).abs().max().item<double>() / std::max(w.abs().max().item<double>(), 1e-30);
}

/** Share of elements that differ at all, and the largest difference in units of the bf16 ulp of the value. */
void check_bf16_close(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  auto g = got.to(at::kDouble), w = want.to(at::kDouble);
  // One bf16 ulp of |w| is 2^(floor(log2 |w|) - 7); allow one (plus a hair for values near 0).
  auto ulp = at::exp2(at::floor(at::log2(w.abs().clamp_min(1e-30))) - 7);
  const double worst = ((g - w).abs() / (ulp + 1e-12)).max().item<double>();
  const double share = (g != w).to(at::kDouble).mean().item<double>();
  check(worst <= 1.0 + 1e-9 && share < 0.02,
        what + ": " + std::to_string(worst) + " ulp, " + std::to_string(100 * share) + "% of elements differ");
}

void check_close(const at::Tensor& got, const at::Tensor& want, double f32_tol, const std::string& what) {
  if (want.scalar_type() == at::kBFloat16) {
    check_bf16_close(got, want, what);
  } else {
    const double d = rel_diff(got, want);
    char buf[96];
    std::snprintf(buf, sizeof buf, ": rel diff %.3g > %.3g", d, f32_tol);
    check(d <= f32_tol, what + buf);
  }
}

Elem elem_of(at::ScalarType dt) { return dt == at::kBFloat16 ? Elem::BF16 : Elem::F32; }

std::vector<const FusedCpuTable*> runnable_tables() {
  std::vector<const FusedCpuTable*> out{&trm::kernels::base::kTable};
#if defined(TRM_X86_KERNELS)
  const std::string cap = at::get_cpu_capability();
  if (cap == "AVX2" || cap == "AVX512") out.push_back(&trm::kernels::avx2::kTable);
  if (cap == "AVX512") out.push_back(&trm::kernels::avx512::kTable);
#endif
  return out;
}

// ---- the unfused ops (the official formulas) ----

at::Tensor ref_norm(const at::Tensor& a, const at::Tensor& b, double eps, int64_t dim) {
  auto h = (a + b).transpose(dim, -1);
  auto hf = h.to(at::kFloat);
  return (hf * at::rsqrt(hf.square().mean(-1, true) + eps)).to(a.scalar_type()).transpose(dim, -1);
}

at::Tensor ref_swiglu(const at::Tensor& gu, int64_t dim) {
  auto p = gu.chunk(2, dim);
  return at::silu(p[0]) * p[1];
}

at::Tensor ref_rope(const at::Tensor& qkv, const at::Tensor& cos, const at::Tensor& sin, int64_t heads, int64_t dh) {
  const int64_t B = qkv.size(0), L = qkv.size(1);
  auto v4 = qkv.view({B, L, 3 * heads, dh});
  auto rot = [&](const at::Tensor& x) {
    auto xf = x.to(at::kFloat);
    auto half = dh / 2;
    auto rh = at::cat({-xf.narrow(-1, half, half), xf.narrow(-1, 0, half)}, -1);
    return (xf * cos.unsqueeze(-2) + rh * sin.unsqueeze(-2)).to(qkv.scalar_type());
  };
  return at::cat({rot(v4.narrow(2, 0, heads)), rot(v4.narrow(2, heads, heads)), v4.narrow(2, 2 * heads, heads)}, 2).view(qkv.sizes());
}

// ---- kernels of one ISA copy against the unfused ops ----

void test_norm_kernels(const FusedCpuTable& t, at::ScalarType dt) {
  const std::string tag = std::string(t.isa) + (dt == at::kBFloat16 ? " bf16" : " f32");
  const double eps = 1e-5;
  struct Case {
    std::vector<int64_t> shape;
    int64_t dim;
  };
  // Row norms with whole and partial vectors; middle-axis norms with a partial column block.
  for (const Case& c : {Case{{3, 5, 512}, 2}, Case{{4, 37}, 1}, Case{{2, 97, 512}, 1}, Case{{3, 9, 100}, 1}}) {
    auto a = at::randn(c.shape).to(dt), b = at::randn(c.shape).to(dt);
    trm::kernels::NormGeometry g{1, c.shape[c.dim], 1};
    for (int64_t i = 0; i < c.dim; ++i) g.outer *= c.shape[i];
    for (size_t i = c.dim + 1; i < c.shape.size(); ++i) g.inner *= c.shape[i];
    auto y = at::empty_like(a), s = at::empty_like(a);
    auto rstd = at::empty({g.outer * g.inner});
    t.add_rms_norm(elem_of(dt), a.const_data_ptr(), b.const_data_ptr(), y.data_ptr(), s.data_ptr(), rstd.data_ptr<float>(), g,
                   static_cast<float>(eps), 0, trm::kernels::norm_tasks(g));
    const std::string what = tag + " norm " + c10::str(c.shape) + " dim " + std::to_string(c.dim);
    check_close(y, ref_norm(a, b, eps, c.dim), 4e-7, what + " forward");
    check(at::equal(s, a + b), what + " saves the rounded sum");

    // Backward against autograd through the unfused ops (in fp32 from the same rounded sum).
    auto gy = at::randn(c.shape).to(dt);
    auto gs = at::empty_like(a);
    t.add_rms_norm_backward(elem_of(dt), s.const_data_ptr(), rstd.const_data_ptr<float>(), gy.const_data_ptr(), gs.data_ptr(), g, 0,
                            trm::kernels::norm_tasks(g));
    auto sf = s.to(at::kFloat).requires_grad_(true);
    {
      c10::AutoGradMode on(true);
      auto yf = ref_norm(sf, at::zeros_like(sf), eps, c.dim);
      yf.backward(gy.to(at::kFloat));
    }
    check_close(gs, sf.grad().to(dt), 2e-6, what + " backward");
  }
}

void test_swiglu_kernels(const FusedCpuTable& t, at::ScalarType dt) {
  const std::string tag = std::string(t.isa) + (dt == at::kBFloat16 ? " bf16" : " f32");
  struct Case {
    std::vector<int64_t> shape;
    int64_t dim;
  };
  for (const Case& c : {Case{{2, 7, 3072}, 2}, Case{{5, 70}, 1}, Case{{2, 1024, 97}, 1}}) {
    auto gu = (2 * at::randn(c.shape)).to(dt);
    trm::kernels::SwigluGeometry g{1, c.shape[c.dim] / 2};
    for (int64_t i = 0; i < c.dim; ++i) g.outer *= c.shape[i];
    for (size_t i = c.dim + 1; i < c.shape.size(); ++i) g.inner *= c.shape[i];
    auto want = ref_swiglu(gu, c.dim);
    auto out = at::empty_like(want);
    t.swiglu(elem_of(dt), gu.const_data_ptr(), out.data_ptr(), g, 0, g.outer * g.inner);
    const std::string what = tag + " swiglu " + c10::str(c.shape) + " dim " + std::to_string(c.dim);
    // exp() differs by an ulp between the Sleef builds of the ISA copies (ATen's own kernel runs
    // its best copy): a few fp32 ulps.
    check_close(out, want, 1e-6, what + " forward");

    auto go = at::randn(want.sizes()).to(dt);
    auto ggu = at::empty_like(gu);
    t.swiglu_backward(elem_of(dt), gu.const_data_ptr(), go.const_data_ptr(), ggu.data_ptr(), g, 0, g.outer * g.inner);
    auto leaf = gu.clone().requires_grad_(true);
    {
      c10::AutoGradMode on(true);
      ref_swiglu(leaf, c.dim).backward(go);
    }
    check_close(ggu, leaf.grad(), 1e-6, what + " backward");
  }
}

void test_rope_kernels(const FusedCpuTable& t, at::ScalarType dt) {
  const std::string tag = std::string(t.isa) + (dt == at::kBFloat16 ? " bf16" : " f32");
  for (int64_t dh : {64, 16, 6}) {
    const int64_t B = 2, L = 9, H = 3;
    auto angles = at::rand({L, dh / 2}) * 6.0;
    auto emb = at::cat({angles, angles}, -1);
    auto cos = emb.cos(), sin = emb.sin();
    auto qkv = at::randn({B, L, 3 * H * dh}).to(dt);
    const trm::kernels::RopeGeometry g{B * L, L, 3 * H * dh, 2 * H, dh, false};
    auto out = qkv.clone();
    t.rope(elem_of(dt), out.const_data_ptr(), out.data_ptr(), cos.const_data_ptr<float>(), sin.const_data_ptr<float>(), g, false, 0,
           g.rows);
    const std::string what = tag + " rope head_dim " + std::to_string(dh);
    check_close(out, ref_rope(qkv, cos, sin, H, dh), 1e-7, what + " forward (in place)");

    auto go = at::randn(qkv.sizes()).to(dt);
    auto gin = at::full_like(go, 7);
    auto gb = g;
    gb.copy_rest = true;
    t.rope(elem_of(dt), go.const_data_ptr(), gin.data_ptr(), cos.const_data_ptr<float>(), sin.const_data_ptr<float>(), gb, true, 0, g.rows);
    auto leaf = qkv.clone().requires_grad_(true);
    {
      c10::AutoGradMode on(true);
      ref_rope(leaf, cos, sin, H, dh).backward(go);
    }
    check_close(gin, leaf.grad(), 1e-7, what + " backward");
  }
}

// ---- the autograd functions (core/fused.h): analytic gradients against central differences ----

/** d sum(f(x) * w) / dx at a few coordinates by central differences (fp32 forward, double loss). */
void check_numeric_grad(const std::function<at::Tensor(const at::Tensor&)>& f, const at::Tensor& x, const std::string& what) {
  auto w = at::randn(f(x).sizes());
  auto leaf = x.clone().requires_grad_(true);
  {
    c10::AutoGradMode on(true);
    (f(leaf) * w).sum().backward();
  }
  const auto analytic = leaf.grad().reshape({-1});
  const double h = 1e-2;
  auto flat = x.reshape({-1});
  double worst = 0, scale = analytic.abs().max().item<double>();
  for (int64_t i = 0; i < flat.numel(); i += std::max<int64_t>(1, flat.numel() / 23)) {
    auto xp = flat.clone(), xm = flat.clone();
    xp[i] += h;
    xm[i] -= h;
    const double lp = (f(xp.view(x.sizes())).to(at::kDouble) * w).sum().item<double>();
    const double lm = (f(xm.view(x.sizes())).to(at::kDouble) * w).sum().item<double>();
    worst = std::max(worst, std::fabs((lp - lm) / (2 * h) - analytic[i].item<double>()));
  }
  check(worst <= 2e-3 * scale, what + ": finite differences off by " + std::to_string(worst / scale) + " of the largest gradient");
}

void test_autograd_functions() {
  const double eps = 1e-5;
  auto b = at::randn({2, 6, 40});
  check_numeric_grad([&](const at::Tensor& a) { return trm::add_rms_norm(a, b, eps, -1); }, at::randn({2, 6, 40}),
                     "add_rms_norm dim -1 gradient of a");
  check_numeric_grad([&](const at::Tensor& bb) { return trm::add_rms_norm(b, bb, eps, 1); }, at::randn({2, 6, 40}),
                     "add_rms_norm dim 1 gradient of b");
  check_numeric_grad([](const at::Tensor& gu) { return trm::swiglu(gu, -1); }, at::randn({3, 5, 48}), "swiglu dim -1 gradient");
  check_numeric_grad([](const at::Tensor& gu) { return trm::swiglu(gu, 1); }, at::randn({2, 8, 12}), "swiglu dim 1 gradient");
  auto angles = at::rand({5, 4}) * 6.0;
  auto emb = at::cat({angles, angles}, -1);
  auto cos = emb.cos(), sin = emb.sin();
  check_numeric_grad([&](const at::Tensor& qkv) { return trm::rope_qk(qkv.clone(), cos, sin, 2, 8); }, at::randn({2, 5, 3 * 2 * 8}),
                     "rope_qk gradient");

  // Fused and unfused autograd agree (fp32), and fp16 runs the unfused ops bit for bit.
  auto a = at::randn({2, 7, 24}).requires_grad_(true);
  auto bb = at::randn({2, 7, 24}).requires_grad_(true);
  auto go = at::randn({2, 7, 24});
  at::Tensor ga, gb;
  {
    c10::AutoGradMode on(true);
    trm::add_rms_norm(a, bb, eps, 1).backward(go);
    ga = a.grad().clone();
    gb = bb.grad().clone();
    a.mutable_grad() = at::Tensor();
    bb.mutable_grad() = at::Tensor();
    ref_norm(a, bb, eps, 1).backward(go);
  }
  check(rel_diff(ga, a.grad()) < 2e-6 && rel_diff(gb, bb.grad()) < 2e-6, "add_rms_norm gradients = unfused autograd");
  auto h16 = at::randn({3, 16}).to(at::kHalf), g16 = at::randn({3, 16}).to(at::kHalf);
  check(at::equal(trm::add_rms_norm(h16, g16, eps, -1), ref_norm(h16, g16, eps, 1)), "fp16 falls back to the unfused ops");

  // Switched off, every op is the unfused one exactly.
  auto saved = trm::fusion_options();
  trm::set_fusion_options({false, false, false, false, false, false});
  auto x = at::randn({2, 9, 32}).to(at::kBFloat16), y = at::randn({2, 9, 32}).to(at::kBFloat16);
  check(at::equal(trm::add_rms_norm(x, y, eps, 1), ref_norm(x, y, eps, 1)), "norm switched off = unfused");
  check(at::equal(trm::swiglu(x, -1), ref_swiglu(x, -1)), "swiglu switched off = unfused");
  trm::set_fusion_options(saved);
}

}  // namespace

TEST_CASE("fused kernels: every instruction-set copy this CPU runs, fp32 and bf16") {
  at::manual_seed(0);
  for (const auto* t : runnable_tables()) {
    for (auto dt : {at::kFloat, at::kBFloat16}) {
      test_norm_kernels(*t, dt);
      test_swiglu_kernels(*t, dt);
      test_rope_kernels(*t, dt);
    }
    MESSAGE("fused kernels, " << t->isa << " copy: done");
  }
}

TEST_CASE("fused autograd functions") {
  at::manual_seed(0);
  test_autograd_functions();
}
