// Tensors across the boundary as { dtype, shape, data: TypedArray } objects. Inputs are copied
// (they are small and the caller may reuse its buffers while async work runs); outputs are handed
// to JavaScript without a copy, the ArrayBuffer keeping the LibTorch storage alive.
#pragma once

#include <ATen/core/Tensor.h>
#include <napi.h>

namespace trm::addon {

/** Converts a JS tensor object; throws a TrmError naming `field` on anything malformed. */
at::Tensor tensor_from_js(Napi::Env env, const Napi::Value& v, const char* field);

/** Converts a tensor (any device) to a JS tensor object; bfloat16/float16 come as Uint16Array. */
Napi::Object tensor_to_js(Napi::Env env, const at::Tensor& t);

}  // namespace trm::addon
