// A c10d process group for JavaScript-side reductions (multi-process evaluation: metric sums and
// the ARC evaluator's vote tallies), joined with the torchrun environment contract.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "core/dist/dist.h"

namespace trm::addon {

class ProcessGroupWrap : public Napi::ObjectWrap<ProcessGroupWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ProcessGroupWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Join(const Napi::CallbackInfo& info);
  Napi::Value Rank(const Napi::CallbackInfo& info);
  Napi::Value WorldSize(const Napi::CallbackInfo& info);
  Napi::Value AllReduceSum(const Napi::CallbackInfo& info);
  Napi::Value AllGatherBytes(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  struct State {
    std::mutex mutex;  // collectives run one at a time, in call order
    std::unique_ptr<Dist> dist;
  };
  std::shared_ptr<State> state_;
};

}  // namespace trm::addon
