// The JavaScript handle of one evaluation pass over a dataset's test split (`evaluateExact`, `trm eval`):
// the native sampler and eval pass (core/engine/eval_pass.h) on their own thread, reporting every batch
// through a thread-safe function that also settles the promise, so no batch arrives after the result.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <thread>

#include "core/engine/dataset_source.h"
#include "core/engine/eval_pass.h"
#include "model_wrap.h"

namespace trm::addon {

class EvaluationWrap : public Napi::ObjectWrap<EvaluationWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** new NativeEvaluation(model, options, onEvent) */
  explicit EvaluationWrap(const Napi::CallbackInfo& info);
  ~EvaluationWrap() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelState> model_;
  DataSpec data_;
  EvalPassOptions opts_;
  std::thread thread_;
  std::atomic<bool> started_{false}, cancelled_{false};
  std::atomic<int> queued_{0};  // batches sent to JavaScript and not yet handled
  Napi::ThreadSafeFunction tsfn_;
  Napi::FunctionReference on_event_;
};

}  // namespace trm::addon
