#include "process_group_wrap.h"

#include <ATen/ATen.h>

#include <cstring>

#include "core/errors.h"
#include "js_errors.h"
#include "promise_worker.h"

namespace trm::addon {

Napi::Function ProcessGroupWrap::Define(Napi::Env env) {
  return DefineClass(
      env, "NativeProcessGroup",
      {InstanceMethod<&ProcessGroupWrap::Join>("join"), InstanceMethod<&ProcessGroupWrap::Rank>("rank"),
       InstanceMethod<&ProcessGroupWrap::WorldSize>("worldSize"), InstanceMethod<&ProcessGroupWrap::AllReduceSum>("allReduceSum"),
       InstanceMethod<&ProcessGroupWrap::AllGatherBytes>("allGatherBytes"), InstanceMethod<&ProcessGroupWrap::Close>("close")});
}

ProcessGroupWrap::ProcessGroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupWrap>(info) {
  state_ = std::make_shared<State>();
}

Napi::Value ProcessGroupWrap::Join(const Napi::CallbackInfo& info) {
  // The rendezvous waits for every rank: it runs off the event loop.
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (state_->dist) throw make_error(env, {"ERR_TRM_STATE", "already joined", ""});
    auto cfg = dist_config_from_env();
    auto state = state_;
    return PromiseWorker::Start(
        env,
        [state, cfg]() -> Finisher {
          std::lock_guard<std::mutex> lock(state->mutex);
          state->dist = Dist::create(cfg, at::Device(at::kCPU));
          return nullptr;
        },
        {info.This().As<Napi::Object>()}, Lane::Own);
  });
}

Napi::Value ProcessGroupWrap::Rank(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_->dist ? state_->dist->rank() : 0);
}

Napi::Value ProcessGroupWrap::WorldSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_->dist ? state_->dist->world_size() : 1);
}

Napi::Value ProcessGroupWrap::AllReduceSum(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!state_->dist) throw make_error(env, {"ERR_TRM_STATE", "the process group is closed", ""});
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      throw_invalid(env, "allReduceSum(values) needs a Float64Array");
    auto arr = info[0].As<Napi::Float64Array>();
    auto t = at::empty({static_cast<int64_t>(arr.ElementLength())}, at::kDouble);
    std::memcpy(t.data_ptr(), arr.Data(), t.nbytes());
    auto state = state_;
    return PromiseWorker::Start(
        env,
        [state, t]() -> Finisher {
          std::lock_guard<std::mutex> lock(state->mutex);
          std::vector<at::Tensor> v = {t};
          state->dist->all_reduce_sum_(v);
          return [t](Napi::Env e) -> Napi::Value {
            auto out = Napi::Float64Array::New(e, t.numel());
            std::memcpy(out.Data(), t.data_ptr(), t.nbytes());
            return out;
          };
        },
        {}, Lane::Own);
  });
}

Napi::Value ProcessGroupWrap::AllGatherBytes(const Napi::CallbackInfo& info) {
  // Variable-length payloads: gather the lengths, pad to the longest, gather, cut.
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!state_->dist) throw make_error(env, {"ERR_TRM_STATE", "the process group is closed", ""});
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw_invalid(env, "allGatherBytes(bytes) needs a Uint8Array");
    auto arr = info[0].As<Napi::Uint8Array>();
    auto mine = at::empty({static_cast<int64_t>(arr.ElementLength())}, at::kByte);
    if (mine.numel() > 0) std::memcpy(mine.data_ptr(), arr.Data(), mine.numel());
    auto state = state_;
    return PromiseWorker::Start(
        env,
        [state, mine]() -> Finisher {
          std::lock_guard<std::mutex> lock(state->mutex);
          auto& d = *state->dist;
          auto lengths = d.all_gather(at::full({1}, mine.numel(), at::kLong));
          const int64_t longest = lengths.max().item<int64_t>();
          auto padded = at::zeros({std::max<int64_t>(longest, 1)}, at::kByte);
          padded.narrow(0, 0, mine.numel()).copy_(mine);
          auto all = d.all_gather(padded).view({d.world_size(), -1});
          std::vector<at::Tensor> parts;
          for (int r = 0; r < d.world_size(); ++r) parts.push_back(all[r].narrow(0, 0, lengths[r].item<int64_t>()).clone());
          return [parts](Napi::Env e) -> Napi::Value {
            auto out = Napi::Array::New(e, parts.size());
            for (size_t i = 0; i < parts.size(); ++i) {
              auto b = Napi::Uint8Array::New(e, parts[i].numel());
              if (parts[i].numel() > 0) std::memcpy(b.Data(), parts[i].data_ptr(), parts[i].numel());
              out.Set(static_cast<uint32_t>(i), b);
            }
            return out;
          };
        },
        {}, Lane::Own);
  });
}

Napi::Value ProcessGroupWrap::Close(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->dist.reset();
  return info.Env().Undefined();
}

}  // namespace trm::addon
