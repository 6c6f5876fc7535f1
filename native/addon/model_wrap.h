// The JavaScript handle of a model (TRM or HRM with its ACT wrapper and loss head). Argument
// conversion and async plumbing only: the work itself is in native/core.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "core/models/act.h"

namespace trm::addon {

/** The model and what a step leaves behind for backward; shared with in-flight jobs. */
struct ModelState {
  explicit ModelState(const ModelConfig& cfg, uint64_t seed) : model(cfg, seed) {}
  std::mutex mutex;               // one job at a time per model
  std::atomic<bool> busy{false};  // a training run owns the model
  ACTModel model;
  at::Tensor pending_loss;  // the last training step's loss, with its graph
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ModelWrap(const Napi::CallbackInfo& info);
  /** The model behind a JavaScript NativeModel object; throws a TrmError for anything else. */
  static std::shared_ptr<ModelState> state_of(Napi::Env env, const Napi::Object& o);
  /** createModel(config, options): a Promise of a NativeModel built on a worker thread. */
  static Napi::Value CreateAsync(const Napi::CallbackInfo& info);

 private:
  std::shared_ptr<ModelState> state(Napi::Env env) const;

  Napi::Value Config(const Napi::CallbackInfo& info);
  Napi::Value NumParameters(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value GetTensor(const Napi::CallbackInfo& info);
  Napi::Value SetTensor(const Napi::CallbackInfo& info);
  Napi::Value SetTraining(const Napi::CallbackInfo& info);
  Napi::Value InitialCarry(const Napi::CallbackInfo& info);
  Napi::Value CarryState(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);
  Napi::Value Gradients(const Napi::CallbackInfo& info);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value LoadCheckpoint(const Napi::CallbackInfo& info);
  Napi::Value SaveOfficial(const Napi::CallbackInfo& info);
  Napi::Value SaveSafetensors(const Napi::CallbackInfo& info);
  Napi::Value WithPuzzleRows(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelState> state_;
};

}  // namespace trm::addon
