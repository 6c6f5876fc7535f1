#include "tensors.h"

#include <ATen/ATen.h>

#include <cstring>
#include <string>

#include "js_errors.h"

namespace trm::addon {

namespace {

struct DTypeInfo {
  const char* name;
  at::ScalarType type;
  napi_typedarray_type array;
};

constexpr DTypeInfo kDTypes[] = {
    {"float32", at::kFloat, napi_float32_array},    {"float64", at::kDouble, napi_float64_array},
    {"int32", at::kInt, napi_int32_array},          {"int64", at::kLong, napi_bigint64_array},
    {"int16", at::kShort, napi_int16_array},        {"int8", at::kChar, napi_int8_array},
    {"uint8", at::kByte, napi_uint8_array},         {"bool", at::kBool, napi_uint8_array},
    {"bfloat16", at::kBFloat16, napi_uint16_array}, {"float16", at::kHalf, napi_uint16_array},
};

const DTypeInfo* by_name(const std::string& n) {
  for (const auto& d : kDTypes)
    if (n == d.name) return &d;
  return nullptr;
}

const DTypeInfo* by_type(at::ScalarType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return &d;
  return nullptr;
}

}  // namespace

at::Tensor tensor_from_js(Napi::Env env, const Napi::Value& v, const char* field) {
  const std::string f(field);
  if (!v.IsObject()) throw_invalid(env, f + " must be a tensor object { dtype, shape, data }");
  auto o = v.As<Napi::Object>();
  auto dtype_v = o.Get("dtype"), shape_v = o.Get("shape"), data_v = o.Get("data");
  if (!dtype_v.IsString()) throw_invalid(env, f + ".dtype must be a string");
  const auto* info = by_name(dtype_v.As<Napi::String>().Utf8Value());
  if (!info) throw_invalid(env, f + ".dtype '" + dtype_v.As<Napi::String>().Utf8Value() + "' is not supported");
  if (!shape_v.IsArray()) throw_invalid(env, f + ".shape must be an array of non-negative integers");
  auto shape_a = shape_v.As<Napi::Array>();
  std::vector<int64_t> shape;
  int64_t numel = 1;
  for (uint32_t i = 0; i < shape_a.Length(); ++i) {
    auto d = shape_a.Get(i);
    if (!d.IsNumber()) throw_invalid(env, f + ".shape[" + std::to_string(i) + "] must be a number");
    const double x = d.As<Napi::Number>().DoubleValue();
    if (!(x >= 0) || x != static_cast<double>(static_cast<int64_t>(x)) || x > 1e12)
      throw_invalid(env, f + ".shape[" + std::to_string(i) + "] must be a non-negative integer");
    shape.push_back(static_cast<int64_t>(x));
    numel *= shape.back();
  }
  if (!data_v.IsTypedArray()) throw_invalid(env, f + ".data must be a TypedArray");
  auto ta = data_v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != info->array) throw_invalid(env, f + ".data has the wrong TypedArray type for dtype " + info->name);
  if (static_cast<int64_t>(ta.ElementLength()) != numel)
    throw make_error(env, {"ERR_TRM_SHAPE",
                           f + ": shape " + c10::str(shape) + " needs " + std::to_string(numel) + " elements, data has " +
                               std::to_string(ta.ElementLength()),
                           ""});
  // The data pointer straight from N-API: Napi::TypedArray::ArrayBuffer() throws a plain Error for a
  // TypedArray over a SharedArrayBuffer, whose bytes are just as readable.
  void* src = nullptr;
  if (napi_get_typedarray_info(env, data_v, nullptr, nullptr, &src, nullptr, nullptr) != napi_ok || (src == nullptr && numel > 0))
    throw_invalid(env, f + ".data: cannot read the TypedArray's memory (detached buffer?)");
  auto t = at::empty(shape, at::TensorOptions().dtype(info->type));
  if (numel > 0) std::memcpy(t.data_ptr(), src, t.nbytes());
  return t;
}

Napi::Object tensor_to_js(Napi::Env env, const at::Tensor& tensor) {
  auto t = tensor.detach().to(at::kCPU).contiguous();
  const auto* info = by_type(t.scalar_type());
  if (!info) {
    t = t.to(at::kFloat);
    info = by_type(at::kFloat);
  }
  const size_t bytes = t.nbytes();
  Napi::ArrayBuffer buf;
  if (bytes == 0) {
    buf = Napi::ArrayBuffer::New(env, 0);
  } else {
    auto* keep = new at::Tensor(t);
    buf = Napi::ArrayBuffer::New(
        env, keep->data_ptr(), bytes, [](Napi::Env, void*, at::Tensor* hint) { delete hint; }, keep);
  }
  const size_t esize = t.element_size();
  napi_value arr;
  if (napi_create_typedarray(env, info->array, bytes / esize, buf, 0, &arr) != napi_ok)
    throw make_error(env, {"ERR_TRM_INTERNAL", "could not create a TypedArray for a tensor", ""});
  auto o = Napi::Object::New(env);
  o.Set("dtype", info->name);
  auto shape = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
  o.Set("shape", shape);
  o.Set("data", Napi::Value(env, arr));
  return o;
}

}  // namespace trm::addon
