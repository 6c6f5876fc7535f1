// What the addon keeps per JavaScript environment (the main thread and each worker_threads Worker
// load their own instance): the classes it creates objects of or checks arguments against, and
// the TrmError class. Process-wide statics would let one environment overwrite another's.
#pragma once

#include <napi.h>

namespace trm::addon {

struct AddonData {
  Napi::FunctionReference error_class;   // TrmError, handed in by lib/native.ts
  Napi::FunctionReference model_class;   // NativeModel
  Napi::FunctionReference cancel_class;  // CancelToken
};

/** This environment's data (set up when the addon is loaded into it). */
inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace trm::addon
