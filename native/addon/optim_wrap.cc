#include "optim_wrap.h"

#include <ATen/ATen.h>

#include "core/errors.h"
#include "core/optim/schedule.h"
#include "core/optim/sign_sgd.h"
#include "js_args.h"
#include "js_errors.h"
#include "promise_worker.h"
#include "tensors.h"

namespace trm::addon {

namespace {

std::vector<NamedTensor> trainable(ModelState& s) {
  std::vector<NamedTensor> out;
  for (const auto& e : s.model.inner().params().entries())
    if (e.trainable) out.push_back(e);
  return out;
}

/** Runs `fn` under the model's lock on a worker thread; resolves with undefined. */
template <typename F>
Napi::Value locked_job(Napi::Env env, const std::shared_ptr<ModelState>& model, Napi::Object self, F fn) {
  return PromiseWorker::Start(env,
                              [model, fn]() -> Finisher {
                                std::lock_guard<std::mutex> lock(model->mutex);
                                fn();
                                return nullptr;
                              },
                              {self});
}

}  // namespace

// ---- AdamAtan2 --------------------------------------------------------------------------------

Napi::Function AdamAtan2Wrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeAdamAtan2",
                     {InstanceMethod<&AdamAtan2Wrap::Step>("step"), InstanceMethod<&AdamAtan2Wrap::ZeroGrad>("zeroGrad"),
                      InstanceMethod<&AdamAtan2Wrap::Steps>("steps")});
}

AdamAtan2Wrap::AdamAtan2Wrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AdamAtan2Wrap>(info) {
  auto env = info.Env();
  guarded(env, [&] {
    if (info.Length() < 1 || !info[0].IsObject()) throw_invalid(env, "NativeAdamAtan2(model, options) needs a model");
    model_ = ModelWrap::state_of(env, info[0].As<Napi::Object>());
    if (info.Length() < 2 || !info[1].IsObject()) throw_invalid(env, "NativeAdamAtan2(model, options) needs an options object");
    // Every key is required: lib/optim.ts holds the defaults.
    auto o = info[1].As<Napi::Object>();
    AdamAtan2Options opts;
    opts.lr = read_number<double>(o, "options", "lr");
    opts.beta1 = read_number<double>(o, "options", "beta1");
    opts.beta2 = read_number<double>(o, "options", "beta2");
    opts.weight_decay = read_number<double>(o, "options", "weightDecay");
    std::vector<at::Tensor> params;
    for (auto& e : trainable(*model_)) params.push_back(e.tensor);
    std::lock_guard<std::mutex> lock(model_->mutex);
    opt_ = std::make_shared<AdamAtan2>(std::move(params), opts);
  });
}

Napi::Value AdamAtan2Wrap::Step(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const double lr = info.Length() > 0 && !info[0].IsUndefined() ? number_arg(info, 0, "lr") : opt_->options().lr;
    auto opt = opt_;
    return locked_job(env, model_, info.This().As<Napi::Object>(), [opt, lr] { opt->step(lr); });
  });
}

Napi::Value AdamAtan2Wrap::ZeroGrad(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::lock_guard<std::mutex> lock(model_->mutex);
    opt_->zero_grad();
    return info.Env().Undefined();
  });
}

Napi::Value AdamAtan2Wrap::Steps(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::lock_guard<std::mutex> lock(model_->mutex);
  const auto& s = opt_->steps();
  auto arr = Napi::Array::New(env, s.size());
  for (size_t i = 0; i < s.size(); ++i) arr.Set(static_cast<uint32_t>(i), static_cast<double>(s[i]));
  return arr;
}

// ---- Sparse sign-SGD on the puzzle table ------------------------------------------------------

Napi::Function SignSGDWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeSignSGD", {InstanceMethod<&SignSGDWrap::Step>("step")});
}

SignSGDWrap::SignSGDWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SignSGDWrap>(info) {
  auto env = info.Env();
  guarded(env, [&] {
    if (info.Length() < 1 || !info[0].IsObject()) throw_invalid(env, "NativeSignSGD(model, options) needs a model");
    model_ = ModelWrap::state_of(env, info[0].As<Napi::Object>());
    if (info.Length() < 2 || !info[1].IsObject()) throw_invalid(env, "NativeSignSGD(model, options) needs an options object");
    weight_decay_ = read_number<double>(info[1].As<Napi::Object>(), "options", "weightDecay");
    if (!model_->model.inner().params().find("puzzle_emb.weights"))
      throw trm::Error(ErrorCode::State, "this model has no puzzle embedding (puzzleEmbNdim = 0)");
  });
}

Napi::Value SignSGDWrap::Step(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const double lr = number_arg(info, 0, "lr");
    auto model = model_;
    const double wd = weight_decay_;
    return locked_job(env, model_, info.This().As<Napi::Object>(), [model, lr, wd] {
      auto& inner = model->model.inner();
      const auto& local = inner.puzzle_local_weights();
      if (!local.defined() || !local.grad().defined())
        throw trm::Error(ErrorCode::State, "no puzzle-embedding gradient: run a training-mode step() and backward() first");
      auto& table = inner.params().at("puzzle_emb.weights");
      SparseSignSGD{}.step(table, local.grad(), inner.puzzle_local_ids(), lr, wd);
      local.mutable_grad() = at::Tensor();
    });
  });
}

// ---- EMA ----------------------------------------------------------------------------------------

Napi::Function EMAWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeEMA",
                     {InstanceMethod<&EMAWrap::Update>("update"), InstanceMethod<&EMAWrap::CopyTo>("copyTo"),
                      InstanceMethod<&EMAWrap::Swap>("swap"), InstanceMethod<&EMAWrap::Shadow>("shadow")});
}

EMAWrap::EMAWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EMAWrap>(info) {
  auto env = info.Env();
  guarded(env, [&] {
    if (info.Length() < 1 || !info[0].IsObject()) throw_invalid(env, "NativeEMA(model, mu) needs a model");
    model_ = ModelWrap::state_of(env, info[0].As<Napi::Object>());
    const double mu = number_arg(info, 1, "EMA rate");
    if (!(mu >= 0 && mu < 1)) throw_invalid(env, "EMA rate must be in [0, 1)");
    std::lock_guard<std::mutex> lock(model_->mutex);
    ema_ = std::make_shared<EMA>(mu);
    ema_->register_params(trainable(*model_));
  });
}

Napi::Value EMAWrap::Update(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto ema = ema_;
    auto model = model_;
    return locked_job(env, model_, info.This().As<Napi::Object>(), [ema, model] { ema->update(trainable(*model)); });
  });
}

Napi::Value EMAWrap::CopyTo(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::lock_guard<std::mutex> lock(model_->mutex);
    ema_->copy_to(trainable(*model_));
    return info.Env().Undefined();
  });
}

Napi::Value EMAWrap::Swap(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::lock_guard<std::mutex> lock(model_->mutex);
    ema_->swap(trainable(*model_));
    return info.Env().Undefined();
  });
}

Napi::Value EMAWrap::Shadow(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto name = string_arg(info, 0, "shadow(name): name");
    std::lock_guard<std::mutex> lock(model_->mutex);
    const auto& names = ema_->names();
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return tensor_to_js(env, ema_->shadow()[i]);
    throw trm::Error(ErrorCode::InvalidArgument, "no averaged parameter named '" + name + "'");
  });
}

Napi::Value CosineSchedule(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const double step = number_arg(info, 0, "step"), base = number_arg(info, 1, "baseLr"), warmup = number_arg(info, 2, "warmup"),
                 total = number_arg(info, 3, "total"), min_ratio = number_arg(info, 4, "minRatio");
    return Napi::Number::New(env, cosine_schedule_with_warmup(static_cast<int64_t>(step), base, static_cast<int64_t>(warmup),
                                                              static_cast<int64_t>(total), min_ratio));
  });
}

}  // namespace trm::addon
