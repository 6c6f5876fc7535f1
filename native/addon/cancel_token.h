// A flag JavaScript sets to stop a native run: lib/model.ts makes one per run() with an
// AbortSignal and cancels it when the signal aborts; the run checks it between supervision steps
// and recursion cycles (core/engine/infer.h).
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

namespace trm::addon {

class CancelToken : public Napi::ObjectWrap<CancelToken> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit CancelToken(const Napi::CallbackInfo& info);
  /** The flag behind a CancelToken argument; nullptr for undefined. Throws a TrmError for anything else. */
  static std::shared_ptr<std::atomic<bool>> flag_of(Napi::Env env, const Napi::Value& v);

 private:
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Cancelled(const Napi::CallbackInfo& info);

  std::shared_ptr<std::atomic<bool>> flag_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace trm::addon
