// JavaScript handles of the optimizers and the EMA over a model's tensors, for users who drive
// their own loop step by step (the Trainer uses the same C++ classes internally).
#pragma once

#include <napi.h>

#include <memory>

#include "core/optim/adam_atan2.h"
#include "core/optim/ema.h"
#include "model_wrap.h"

namespace trm::addon {

class AdamAtan2Wrap : public Napi::ObjectWrap<AdamAtan2Wrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit AdamAtan2Wrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value Steps(const Napi::CallbackInfo& info);
  std::shared_ptr<ModelState> model_;
  std::shared_ptr<AdamAtan2> opt_;
};

class SignSGDWrap : public Napi::ObjectWrap<SignSGDWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit SignSGDWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Step(const Napi::CallbackInfo& info);
  std::shared_ptr<ModelState> model_;
  double weight_decay_ = 0.1;
};

class EMAWrap : public Napi::ObjectWrap<EMAWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit EMAWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value CopyTo(const Napi::CallbackInfo& info);
  Napi::Value Swap(const Napi::CallbackInfo& info);
  Napi::Value Shadow(const Napi::CallbackInfo& info);
  std::shared_ptr<ModelState> model_;
  std::shared_ptr<EMA> ema_;
};

/** cosineSchedule(step, baseLr, warmup, total, minRatio): the lr of docs/algorithm.md §3.5. */
Napi::Value CosineSchedule(const Napi::CallbackInfo& info);

}  // namespace trm::addon
