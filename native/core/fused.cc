#include "fused.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <atomic>
#include <mutex>

#include "errors.h"
#include "kernels/fused_cpu.h"

#ifdef TRM_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/cuda/fused_cuda.h"
#endif

namespace trm {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::mutex options_mutex;
FusionOptions options;

// The kernels take fp32 or bf16 on the CPU (and on CUDA when built with it); everything else runs
// the unfused reference.
bool fusable(const at::Tensor& t) {
  const auto dt = t.scalar_type();
  if (dt != at::kFloat && dt != at::kBFloat16) return false;
#ifdef TRM_WITH_CUDA
  return t.is_cpu() || t.is_cuda();
#else
  return t.is_cpu();
#endif
}

kernels::Elem elem(const at::Tensor& t) { return t.scalar_type() == at::kBFloat16 ? kernels::Elem::BF16 : kernels::Elem::F32; }

bool needs_grad(std::initializer_list<const at::Tensor*> ts) {
  if (!c10::GradMode::is_enabled()) return false;
  for (const auto* t : ts)
    if (t->requires_grad()) return true;
  return false;
}

#ifdef TRM_WITH_CUDA
void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw Error(ErrorCode::Device, std::string(what) + ": CUDA kernel launch failed: " + cudaGetErrorString(err));
}
cudaStream_t stream_of(const at::Tensor& t) { return c10::cuda::getCurrentCUDAStream(t.device().index()).stream(); }
#endif

// ---- residual add + RMSNorm ----

kernels::NormGeometry norm_geometry(const at::Tensor& t, int64_t dim) {
  kernels::NormGeometry g{1, t.size(dim), 1};
  for (int64_t i = 0; i < dim; ++i) g.outer *= t.size(i);
  for (int64_t i = dim + 1; i < t.dim(); ++i) g.inner *= t.size(i);
  return g;
}

// The unfused ops, as the official rms_norm(a + b) over `dim` (moved last and back).
at::Tensor add_rms_norm_reference(const at::Tensor& a, const at::Tensor& b, double eps, int64_t dim) {
  const int64_t last = a.dim() - 1;
  auto h = (dim == last ? a + b : (a.transpose(dim, last) + b.transpose(dim, last)));
  const auto dt = h.scalar_type();
  auto hf = h.to(at::kFloat);
  auto variance = hf.square().mean(-1, /*keepdim=*/true);
  auto y = (hf * at::rsqrt(variance + eps)).to(dt);
  return dim == last ? y : y.transpose(dim, last);
}

void norm_forward(const at::Tensor& a, const at::Tensor& b, at::Tensor& y, at::Tensor* s, at::Tensor* rstd, const kernels::NormGeometry& g,
                  double eps) {
  void* s_ptr = s ? s->data_ptr() : nullptr;
  float* r_ptr = rstd ? rstd->data_ptr<float>() : nullptr;
#ifdef TRM_WITH_CUDA
  if (a.is_cuda()) {
    const c10::cuda::CUDAGuard guard(a.device());
    check_cuda(kernels::add_rms_norm_cuda(elem(a), a.const_data_ptr(), b.const_data_ptr(), y.data_ptr(), s_ptr, r_ptr, g,
                                          static_cast<float>(eps), stream_of(a)),
               "add_rms_norm");
    return;
  }
#endif
  kernels::add_rms_norm_cpu(elem(a), a.const_data_ptr(), b.const_data_ptr(), y.data_ptr(), s_ptr, r_ptr, g, static_cast<float>(eps));
}

struct AddRmsNorm : public torch::autograd::Function<AddRmsNorm> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b, double eps, int64_t dim) {
    const auto g = norm_geometry(a, dim);
    auto y = at::empty_like(a);
    auto s = at::empty_like(a);
    auto rstd = at::empty({g.outer * g.inner}, a.options().dtype(at::kFloat));
    norm_forward(a, b, y, &s, &rstd, g, eps);
    ctx->save_for_backward({s, rstd});
    ctx->saved_data["dim"] = dim;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& s = saved[0];
    const auto& rstd = saved[1];
    const auto g = norm_geometry(s, ctx->saved_data["dim"].toInt());
    auto gy = grads[0].to(s.scalar_type()).contiguous();
    auto gs = at::empty_like(s);
#ifdef TRM_WITH_CUDA
    if (s.is_cuda()) {
      const c10::cuda::CUDAGuard guard(s.device());
      check_cuda(kernels::add_rms_norm_backward_cuda(elem(s), s.const_data_ptr(), rstd.const_data_ptr<float>(), gy.const_data_ptr(),
                                                     gs.data_ptr(), g, stream_of(s)),
                 "add_rms_norm backward");
      return {gs, gs, at::Tensor(), at::Tensor()};
    }
#endif
    kernels::add_rms_norm_backward_cpu(elem(s), s.const_data_ptr(), rstd.const_data_ptr<float>(), gy.const_data_ptr(), gs.data_ptr(), g);
    return {gs, gs, at::Tensor(), at::Tensor()};  // the same gradient reaches both summands
  }
};

// ---- SwiGLU ----

kernels::SwigluGeometry swiglu_geometry(const at::Tensor& gu, int64_t dim) {
  kernels::SwigluGeometry g{1, gu.size(dim) / 2};
  for (int64_t i = 0; i < dim; ++i) g.outer *= gu.size(i);
  for (int64_t i = dim + 1; i < gu.dim(); ++i) g.inner *= gu.size(i);
  return g;
}

at::Tensor swiglu_forward(const at::Tensor& gu, int64_t dim) {
  auto sizes = gu.sizes().vec();
  sizes[dim] /= 2;
  auto out = at::empty(sizes, gu.options());
  const auto g = swiglu_geometry(gu, dim);
#ifdef TRM_WITH_CUDA
  if (gu.is_cuda()) {
    const c10::cuda::CUDAGuard guard(gu.device());
    check_cuda(kernels::swiglu_cuda(elem(gu), gu.const_data_ptr(), out.data_ptr(), g, stream_of(gu)), "swiglu");
    return out;
  }
#endif
  kernels::swiglu_cpu(elem(gu), gu.const_data_ptr(), out.data_ptr(), g);
  return out;
}

struct Swiglu : public torch::autograd::Function<Swiglu> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& gu, int64_t dim) {
    ctx->save_for_backward({gu});
    ctx->saved_data["dim"] = dim;
    return swiglu_forward(gu, dim);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto gu = ctx->get_saved_variables()[0];
    const auto g = swiglu_geometry(gu, ctx->saved_data["dim"].toInt());
    auto go = grads[0].to(gu.scalar_type()).contiguous();
    auto ggu = at::empty_like(gu);
#ifdef TRM_WITH_CUDA
    if (gu.is_cuda()) {
      const c10::cuda::CUDAGuard guard(gu.device());
      check_cuda(kernels::swiglu_backward_cuda(elem(gu), gu.const_data_ptr(), go.const_data_ptr(), ggu.data_ptr(), g, stream_of(gu)),
                 "swiglu backward");
      return {ggu, at::Tensor()};
    }
#endif
    kernels::swiglu_backward_cpu(elem(gu), gu.const_data_ptr(), go.const_data_ptr(), ggu.data_ptr(), g);
    return {ggu, at::Tensor()};
  }
};

// ---- RoPE ----

at::Tensor rotate_half(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// The unfused ops (official apply_rotary_pos_emb): q and k to fp32, rotate, cast back, then q|k|v again.
at::Tensor rope_reference(const at::Tensor& qkv, const at::Tensor& cos, const at::Tensor& sin, int64_t heads, int64_t head_dim) {
  const int64_t B = qkv.size(0), L = qkv.size(1);
  auto v4 = qkv.view({B, L, 3 * heads, head_dim});
  const auto dt = qkv.scalar_type();
  auto c = cos.unsqueeze(-2), s = sin.unsqueeze(-2);
  auto rot = [&](const at::Tensor& x) {
    auto xf = x.to(cos.scalar_type());
    return (xf * c + rotate_half(xf) * s).to(dt);
  };
  auto q = rot(v4.narrow(2, 0, heads));
  auto k = rot(v4.narrow(2, heads, heads));
  return at::cat({q, k, v4.narrow(2, 2 * heads, heads)}, 2).view(qkv.sizes());
}

kernels::RopeGeometry rope_geometry(const at::Tensor& qkv, int64_t positions, int64_t heads, int64_t head_dim, bool copy_rest) {
  return {qkv.size(0) * qkv.size(1), positions, qkv.size(2), 2 * heads, head_dim, copy_rest};
}

void rope_run(const at::Tensor& in, at::Tensor& out, const at::Tensor& cos, const at::Tensor& sin, const kernels::RopeGeometry& g,
              bool inverse) {
#ifdef TRM_WITH_CUDA
  if (in.is_cuda()) {
    const c10::cuda::CUDAGuard guard(in.device());
    check_cuda(kernels::rope_cuda(elem(in), in.const_data_ptr(), out.data_ptr(), cos.const_data_ptr<float>(), sin.const_data_ptr<float>(),
                                  g, inverse, stream_of(in)),
               "rope");
    return;
  }
#endif
  kernels::rope_cpu(elem(in), in.const_data_ptr(), out.data_ptr(), cos.const_data_ptr<float>(), sin.const_data_ptr<float>(), g, inverse);
}

struct RopeQk : public torch::autograd::Function<RopeQk> {
  static at::Tensor forward(AutogradContext* ctx, at::Tensor qkv, const at::Tensor& cos, const at::Tensor& sin, int64_t heads,
                            int64_t head_dim) {
    rope_run(qkv, qkv, cos, sin, rope_geometry(qkv, cos.size(0), heads, head_dim, false), false);
    ctx->mark_dirty({qkv});
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["heads"] = heads;
    ctx->saved_data["head_dim"] = head_dim;
    return qkv;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    auto g = grads[0].contiguous();
    auto out = at::empty_like(g);
    rope_run(g, out, saved[0], saved[1],
             rope_geometry(g, saved[0].size(0), ctx->saved_data["heads"].toInt(), ctx->saved_data["head_dim"].toInt(), true), true);
    return {out, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

FusionOptions fusion_options() {
  std::lock_guard<std::mutex> lock(options_mutex);
  return options;
}

void set_fusion_options(const FusionOptions& o) {
  std::lock_guard<std::mutex> lock(options_mutex);
  options = o;
}

std::string fused_cpu_isa() { return kernels::fused_cpu_isa(); }

at::Tensor add_rms_norm(const at::Tensor& a, const at::Tensor& b, double eps, int64_t dim) {
  dim = dim < 0 ? dim + a.dim() : dim;
  if (!fusion_options().norm || !fusable(a) || b.scalar_type() != a.scalar_type() || b.device() != a.device() ||
      !a.sizes().equals(b.sizes()))
    return add_rms_norm_reference(a, b, eps, dim);
  auto ac = a.contiguous(), bc = b.contiguous();
  if (needs_grad({&a, &b})) return AddRmsNorm::apply(ac, bc, eps, dim);
  auto y = at::empty_like(ac);
  norm_forward(ac, bc, y, nullptr, nullptr, norm_geometry(ac, dim), eps);
  return y;
}

at::Tensor mix_tokens(const at::Tensor& h, const at::Tensor& w_gate_up, const at::Tensor& w_down) {
  if (!c10::GradMode::is_enabled()) {
    // Batched W @ h: no copy of h, the output in h's layout.
    return at::matmul(w_down, swiglu(at::matmul(w_gate_up, h), 1));
  }
  // With gradients, one GEMM over h as [L, B*D] (a free view at batch 1): the batched form's weight
  // gradient is B products summed over the broadcast, 2.5x the whole sub-block's time at batch 16.
  const int64_t B = h.size(0), L = h.size(1), D = h.size(2);
  const auto cols = h.transpose(0, 1).reshape({L, B * D});
  const auto gated = swiglu(at::mm(w_gate_up, cols).unsqueeze(0), 1).squeeze(0);
  return at::mm(w_down, gated).view({L, B, D}).transpose(0, 1);
}

at::Tensor swiglu(const at::Tensor& gate_up, int64_t dim) {
  dim = dim < 0 ? dim + gate_up.dim() : dim;
  if (!fusion_options().swiglu || !fusable(gate_up)) {
    auto gu = gate_up.chunk(2, dim);  // gate = first half, up = second half (official SwiGLU)
    return at::silu(gu[0]) * gu[1];
  }
  auto gu = gate_up.contiguous();
  if (needs_grad({&gate_up})) return Swiglu::apply(gu, dim);
  return swiglu_forward(gu, dim);
}

at::Tensor rope_qk(const at::Tensor& qkv, const at::Tensor& cos, const at::Tensor& sin, int64_t heads, int64_t head_dim) {
  if (!fusion_options().rope || !fusable(qkv) || !qkv.is_contiguous() || cos.scalar_type() != at::kFloat || head_dim % 2 != 0)
    return rope_reference(qkv, cos, sin, heads, head_dim);
  if (needs_grad({&qkv})) return RopeQk::apply(qkv, cos.contiguous(), sin.contiguous(), heads, head_dim);
  at::Tensor out = qkv;
  rope_run(qkv, out, cos, sin, rope_geometry(qkv, cos.size(0), heads, head_dim, false), false);
  return out;
}

}  // namespace trm
