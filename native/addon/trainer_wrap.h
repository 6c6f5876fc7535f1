// The JavaScript handle of a training run. The loop runs on its own native thread (not a libuv
// pool thread: runs last hours) and reports through a thread-safe function (docs/design.md, "Threads").
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <thread>

#include "core/engine/dataset_source.h"
#include "core/engine/trainer.h"
#include "js_errors.h"
#include "model_wrap.h"

namespace trm::addon {

/** Everything a run is built from, read from the options object at construction. */
struct RunSpec {
  TrainOptions opts;
  DataSpec train, eval;
  bool has_eval = false;
  bool distributed = false;
  std::string dist_backend;  // "" (by device), "gloo" or "nccl"
  uint64_t seed = 0;
};

class TrainerWrap : public Napi::ObjectWrap<TrainerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit TrainerWrap(const Napi::CallbackInfo& info);
  ~TrainerWrap() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value SaveState(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);

  void ensure_idle(Napi::Env env) const;

  std::shared_ptr<ModelState> model_;
  RunSpec spec_;
  std::unique_ptr<Trainer> trainer_;          // owned here, built and run on thread_
  std::atomic<Trainer*> published_{nullptr};  // trainer_ once built, for stop()/info() from JavaScript
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<int> eval_batches_queued_{0};  // eval_batch events not yet handled by JavaScript
  Napi::ThreadSafeFunction tsfn_;
  Napi::FunctionReference on_event_;
};

}  // namespace trm::addon
