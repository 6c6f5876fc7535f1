#include "cancel_token.h"

#include "addon_data.h"
#include "js_errors.h"

namespace trm::addon {

Napi::Function CancelToken::Define(Napi::Env env) {
  auto cls = DefineClass(env, "CancelToken",
                         {InstanceMethod<&CancelToken::Cancel>("cancel"), InstanceAccessor<&CancelToken::Cancelled>("cancelled")});
  addon_data(env).cancel_class = Napi::Persistent(cls);
  return cls;
}

CancelToken::CancelToken(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CancelToken>(info) {}

Napi::Value CancelToken::Cancel(const Napi::CallbackInfo& info) {
  flag_->store(true, std::memory_order_relaxed);
  return info.Env().Undefined();
}

Napi::Value CancelToken::Cancelled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), flag_->load(std::memory_order_relaxed));
}

std::shared_ptr<std::atomic<bool>> CancelToken::flag_of(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined()) return nullptr;
  auto& cls = addon_data(env).cancel_class;
  if (!v.IsObject() || cls.IsEmpty() || !v.As<Napi::Object>().InstanceOf(cls.Value())) throw_invalid(env, "cancel must be a CancelToken");
  return Unwrap(v.As<Napi::Object>())->flag_;
}

}  // namespace trm::addon
