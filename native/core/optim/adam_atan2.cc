// Tensor-level driver of Adam-atan2 (docs/algorithm.md §3.2): validates, keeps the per-parameter state and
// step counters, and hands fp32 contiguous tensors to the fused kernels (one multi-tensor call per
// device kind); everything else takes the ATen-op fallback with the same formula.
#include "adam_atan2.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "../errors.h"
#include "../kernels/adam_atan2_args.h"
#include "../kernels/adam_atan2_cpu.h"

#ifdef TRM_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "../kernels/cuda/adam_atan2_cuda.h"
#endif

namespace trm {
namespace {

std::string num(double x) { return c10::str(x); }

void check_options(const AdamAtan2Options& o) {
  auto beta_ok = [](double b) { return std::isfinite(b) && b >= 0.0 && b < 1.0; };
  if (!beta_ok(o.beta1) || !beta_ok(o.beta2))
    throw Error(ErrorCode::InvalidArgument, "AdamAtan2: betas must be in [0, 1), got (" + num(o.beta1) + ", " + num(o.beta2) + ")");
  if (!std::isfinite(o.weight_decay) || o.weight_decay < 0.0)
    throw Error(ErrorCode::InvalidArgument, "AdamAtan2: weight_decay must be a finite number >= 0, got " + num(o.weight_decay));
  if (!std::isfinite(o.lr) || o.lr < 0.0)
    throw Error(ErrorCode::InvalidArgument, "AdamAtan2: lr must be a finite number >= 0, got " + num(o.lr));
}

/** The per-parameter constants of one update, in the precision the math runs in. */
struct StepConstants {
  double wd_alpha, mbeta1, mbeta2, step_size, bc2_sqrt;
};

StepConstants step_constants(double lr, const AdamAtan2Options& o, int64_t t, bool fp64) {
  if (fp64) {  // fp64 parameters: opmath is double, nothing is rounded to float
    const double td = static_cast<double>(static_cast<float>(t));
    return {1.0 - lr * o.weight_decay, 1.0 - o.beta1, 1.0 - o.beta2, lr / (1.0 - std::pow(o.beta1, td)),
            std::sqrt(1.0 - std::pow(o.beta2, td))};
  }
  // fp32 opmath: exactly the floats the fused kernels use (widened back to double losslessly, so
  // ATen's cast of a Scalar to float returns the same value).
  const auto k = kernels::adam_atan2_scalars(lr, o.beta1, o.beta2, o.weight_decay);
  float step_size = 0.0f, bc2s = 0.0f;
  kernels::adam_atan2_step_terms(lr, o.beta1, o.beta2, t, &step_size, &bc2s);
  return {k.wd_alpha, k.mbeta1, k.mbeta2, step_size, bc2s};
}

/**
 * The §3.2 update with ATen ops, for what the fused kernels do not take (bf16/fp16/fp64, strided
 * tensors, other devices). bf16/fp16 run in fp32 and round back, as the package's reference does.
 */
void step_unfused(at::Tensor& p, const at::Tensor& grad, at::Tensor& m, at::Tensor& v, const StepConstants& c) {
  const auto math = p.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor pf = p.to(math), mf = m.to(math), vf = v.to(math);  // aliases when already in `math`
  const at::Tensor g = grad.to(math);
  pf.mul_(c.wd_alpha);
  mf.lerp_(g, c.mbeta1);
  vf.lerp_(g * g, c.mbeta2);
  const at::Tensor denom = vf.sqrt().div_(c.bc2_sqrt);
  pf.sub_(at::atan2(mf, denom), c.step_size);
  if (!pf.is_same(p)) p.copy_(pf);
  if (!mf.is_same(m)) m.copy_(mf);
  if (!vf.is_same(v)) v.copy_(vf);
}

bool fused_eligible(const at::Tensor& p, const at::Tensor& m, const at::Tensor& v) {
  const bool device_ok = p.is_cpu()
#ifdef TRM_WITH_CUDA
                         || p.is_cuda()
#endif
      ;
  return device_ok && p.scalar_type() == at::kFloat && p.is_contiguous() && m.is_contiguous() && v.is_contiguous() &&
         m.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat;
}

}  // namespace

AdamAtan2::AdamAtan2(std::vector<at::Tensor> params, AdamAtan2Options options) : params_(std::move(params)), options_(options) {
  check_options(options_);
  c10::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const at::Tensor& p = params_[i];
    if (!p.defined() || !at::isFloatingType(p.scalar_type()))
      throw Error(ErrorCode::InvalidArgument, "AdamAtan2: parameter " + std::to_string(i) + " must be a defined floating-point tensor");
    for (size_t j = 0; j < i; ++j)
      if (params_[j].unsafeGetTensorImpl() == p.unsafeGetTensorImpl())
        throw Error(ErrorCode::InvalidArgument,
                    "AdamAtan2: parameter " + std::to_string(i) + " is the same tensor as parameter " + std::to_string(j));
    // Same dtype as the parameter (§3.2), contiguous so the fused kernels can take them.
    exp_avg_.push_back(at::zeros(p.sizes(), p.options()));
    exp_avg_sq_.push_back(at::zeros(p.sizes(), p.options()));
  }
  steps_.assign(params_.size(), 0);
}

void AdamAtan2::step(double lr) {
  if (!std::isfinite(lr) || lr < 0.0)
    throw Error(ErrorCode::InvalidArgument, "AdamAtan2.step: lr must be a finite number >= 0, got " + num(lr));
  c10::NoGradGuard no_grad;

  // Pass 1: check every gradient before touching any state, so a bad one changes nothing.
  std::vector<size_t> todo;
  for (size_t i = 0; i < params_.size(); ++i) {
    const at::Tensor& p = params_[i];
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;  // skipped, and its step does not advance (§3.2)
    const std::string which = "AdamAtan2.step: parameter " + std::to_string(i);
    if (g.is_sparse()) throw Error(ErrorCode::InvalidArgument, which + " has a sparse gradient; Adam-atan2 does not support them");
    if (!g.sizes().equals(p.sizes()))
      throw Error(ErrorCode::Shape, which + " has shape " + c10::str(p.sizes()) + " but its gradient " + c10::str(g.sizes()));
    if (g.device() != p.device())
      throw Error(ErrorCode::Device, which + " is on " + p.device().str() + " but its gradient on " + g.device().str());
#ifndef TRM_WITH_CUDA
    if (p.is_cuda())
      throw Error(ErrorCode::Device, which + " is on " + p.device().str() +
                                         " but trm-native was built without CUDA; rebuild against a CUDA "
                                         "LibTorch or keep the model on the CPU");
#endif
    todo.push_back(i);
  }

  // Pass 2: advance the steps, run the fallbacks, collect the fused slices.
  std::vector<kernels::AdamAtan2Slice> cpu_slices;
  std::map<int, std::vector<kernels::AdamAtan2Slice>> cuda_slices;  // by device index
  std::vector<at::Tensor> keep_alive;                               // contiguous copies of strided grads
  bool any_fused = false;
  for (size_t i : todo) {
    at::Tensor& p = params_[i];
    at::Tensor& m = exp_avg_[i];
    at::Tensor& v = exp_avg_sq_[i];
    // The state follows the parameter if the model was moved after the optimizer was built.
    if (m.device() != p.device() || m.scalar_type() != p.scalar_type()) m = m.to(p.options());
    if (v.device() != p.device() || v.scalar_type() != p.scalar_type()) v = v.to(p.options());
    const int64_t t = ++steps_[i];  // incremented before the update (§3.2)
    const StepConstants c = step_constants(lr, options_, t, p.scalar_type() == at::kDouble);
    if (!fused_eligible(p, m, v)) {
      step_unfused(p, p.grad(), m, v, c);
      continue;
    }
    at::Tensor g = p.grad();
    if (g.scalar_type() != at::kFloat || !g.is_contiguous()) {
      g = g.to(at::kFloat).contiguous();
      keep_alive.push_back(g);
    }
    const kernels::AdamAtan2Slice s{p.data_ptr<float>(),           g.data_ptr<float>(), m.data_ptr<float>(),
                                    v.data_ptr<float>(),           p.numel(),           static_cast<float>(c.step_size),
                                    static_cast<float>(c.bc2_sqrt)};
    if (p.is_cpu()) {
      cpu_slices.push_back(s);
    } else {
      cuda_slices[p.device().index()].push_back(s);
    }
    // Raw-pointer writes bypass autograd's version counter; bump it as an in-place op would.
    p.unsafeGetTensorImpl()->bump_version();
    m.unsafeGetTensorImpl()->bump_version();
    v.unsafeGetTensorImpl()->bump_version();
    any_fused = true;
  }
  if (!any_fused) return;

  const auto scalars = kernels::adam_atan2_scalars(lr, options_.beta1, options_.beta2, options_.weight_decay);
  kernels::adam_atan2_cpu(cpu_slices.data(), cpu_slices.size(), scalars);
#ifdef TRM_WITH_CUDA
  for (auto& [index, slices] : cuda_slices) {
    const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
    const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(index)).stream();
    const cudaError_t err = kernels::adam_atan2_cuda(slices.data(), slices.size(), scalars, stream);
    if (err != cudaSuccess)
      throw Error(ErrorCode::Device, std::string("AdamAtan2.step: CUDA kernel launch failed on cuda:") + std::to_string(index) + ": " +
                                         cudaGetErrorString(err));
  }
#endif
}

void AdamAtan2::zero_grad() {
  for (auto& p : params_) p.mutable_grad() = at::Tensor();
}

std::vector<at::Tensor> AdamAtan2::state_tensors() const {
  std::vector<at::Tensor> out;
  out.reserve(2 * params_.size() + 1);
  for (size_t i = 0; i < params_.size(); ++i) {
    out.push_back(exp_avg_[i]);
    out.push_back(exp_avg_sq_[i]);
  }
  auto steps = at::empty({static_cast<int64_t>(steps_.size())}, at::kLong);
  for (size_t i = 0; i < steps_.size(); ++i) steps.data_ptr<int64_t>()[i] = steps_[i];
  out.push_back(steps);
  return out;
}

void AdamAtan2::load_state(const std::vector<at::Tensor>& state) {
  const size_t P = params_.size();
  if (state.size() != 2 * P + 1)
    throw Error(ErrorCode::State, "AdamAtan2.load_state: expected " + std::to_string(2 * P + 1) +
                                      " tensors (m and v per parameter, then steps) for " + std::to_string(P) + " parameters, got " +
                                      std::to_string(state.size()));
  // Validate everything first so a bad state leaves the optimizer untouched.
  for (size_t i = 0; i < 2 * P; ++i) {
    const at::Tensor& s = state[i];
    const at::Tensor& p = params_[i / 2];
    if (!s.defined() || !s.sizes().equals(p.sizes()) || !at::isFloatingType(s.scalar_type()))
      throw Error(ErrorCode::State, std::string("AdamAtan2.load_state: ") + (i % 2 ? "exp_avg_sq" : "exp_avg") + " of parameter " +
                                        std::to_string(i / 2) +
                                        " must be a floating tensor of "
                                        "shape " +
                                        c10::str(p.sizes()) + (s.defined() ? ", got " + c10::str(s.sizes()) : ", got an undefined one"));
  }
  const at::Tensor& st = state[2 * P];
  if (!st.defined() || st.dim() != 1 || st.size(0) != static_cast<int64_t>(P))
    throw Error(ErrorCode::State, "AdamAtan2.load_state: steps must be a 1-D tensor of " + std::to_string(P) + " counters");
  const at::Tensor steps_d = st.to(at::kCPU, at::kDouble).contiguous();
  std::vector<int64_t> steps(P);
  for (size_t i = 0; i < P; ++i) {
    const double t = steps_d.data_ptr<double>()[i];
    if (!(t >= 0.0) || t != std::floor(t) || t > 9.0e15)
      throw Error(ErrorCode::State,
                  "AdamAtan2.load_state: step of parameter " + std::to_string(i) + " must be a non-negative integer, got " + num(t));
    steps[i] = static_cast<int64_t>(t);
  }

  c10::NoGradGuard no_grad;
  for (size_t i = 0; i < P; ++i) {
    const auto opts = params_[i].options();
    exp_avg_[i] = state[2 * i].to(opts, /*non_blocking=*/false, /*copy=*/true).contiguous();
    exp_avg_sq_[i] = state[2 * i + 1].to(opts, /*non_blocking=*/false, /*copy=*/true).contiguous();
  }
  steps_ = std::move(steps);
}

}  // namespace trm
