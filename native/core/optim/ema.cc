#include "ema.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>

#include "../errors.h"

namespace trm {

EMA::EMA(double mu) : mu_(mu) {
  if (!std::isfinite(mu) || mu < 0.0 || mu > 1.0)
    throw Error(ErrorCode::InvalidArgument, "EMA: mu (ema_rate) must be in [0, 1], got " + c10::str(mu));
}

void EMA::register_params(const std::vector<NamedTensor>& params) {
  c10::NoGradGuard no_grad;
  names_.clear();
  shadow_.clear();
  index_.clear();
  for (const auto& e : params) {
    if (!e.trainable) continue;  // parameters only, not buffers (§4)
    index_[e.name] = shadow_.size();
    names_.push_back(e.name);
    shadow_.push_back(e.tensor.detach().clone());
  }
}

at::Tensor& EMA::shadow_of(const std::string& name) {
  auto it = index_.find(name);
  if (it == index_.end())
    throw Error(ErrorCode::State, "EMA: no shadow for parameter " + name + "; call register_params() with this model's parameters first");
  return shadow_[it->second];
}

const at::Tensor& EMA::shadow_of(const std::string& name) const { return const_cast<EMA*>(this)->shadow_of(name); }

void EMA::update(const std::vector<NamedTensor>& params) {
  c10::NoGradGuard no_grad;
  for (const auto& e : params) {
    if (!e.trainable) continue;
    at::Tensor& s = shadow_of(e.name);
    if (s.device() != e.tensor.device()) s = s.to(e.tensor.device());  // the model moved after register
    // Official: shadow.data = (1. - mu) * param.data + mu * shadow.data. Each product rounds to the
    // tensor dtype, then the sum does; IEEE addition commutes, so the in-place form is bit-identical.
    s.mul_(mu_).add_(e.tensor.detach() * (1.0 - mu_));
  }
}

void EMA::copy_to(const std::vector<NamedTensor>& params) const {
  c10::NoGradGuard no_grad;
  for (const auto& e : params)
    if (e.trainable) e.tensor.detach().copy_(shadow_of(e.name));
}

void EMA::swap(const std::vector<NamedTensor>& params) {
  c10::NoGradGuard no_grad;
  for (const auto& e : params) {
    if (!e.trainable) continue;
    at::Tensor& s = shadow_of(e.name);
    at::Tensor live = e.tensor.detach().clone();
    e.tensor.detach().copy_(s);
    s.copy_(live);
  }
}

void EMA::load_state(const std::vector<at::Tensor>& shadow) {
  if (shadow.size() != shadow_.size())
    throw Error(ErrorCode::State, "EMA.load_state: expected " + std::to_string(shadow_.size()) +
                                      " shadow tensors (one per trainable parameter), got " + std::to_string(shadow.size()));
  for (size_t i = 0; i < shadow.size(); ++i)
    if (!shadow[i].defined() || !shadow[i].sizes().equals(shadow_[i].sizes()))
      throw Error(ErrorCode::State, "EMA.load_state: shadow of " + names_[i] + " must have shape " + c10::str(shadow_[i].sizes()));
  c10::NoGradGuard no_grad;
  for (size_t i = 0; i < shadow.size(); ++i) shadow_[i].copy_(shadow[i]);
}

}  // namespace trm
