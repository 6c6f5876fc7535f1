// The one family of argument readers of the addon, all strict: every positional argument and every
// key of an options object is required and must have its type. The defaults live in lib/ (TypeScript
// documents them and always passes every key), never here.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "js_errors.h"

namespace trm::addon {

/** `o[key]`, or a TrmError "<where>.<key> is missing" when it is undefined. */
inline Napi::Value required_arg(const Napi::Object& o, const char* where, const char* key) {
  auto v = o.Get(key);
  if (v.IsUndefined()) throw_invalid(o.Env(), std::string(where) + "." + key + " is missing");
  return v;
}

/** A number; an integral T takes only integers in its range (and within +-2^53, where doubles are exact). */
template <typename T>
T read_number(const Napi::Object& o, const char* where, const char* key) {
  auto v = required_arg(o, where, key);
  const auto name = std::string(where) + "." + key;
  if (!v.IsNumber()) throw_invalid(o.Env(), name + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if constexpr (std::is_integral_v<T>) {
    // Range first: casting a double outside T's range to T is undefined behaviour.
    constexpr double kExact = 9007199254740992.0;
    const double lo = std::max(-kExact, static_cast<double>(std::numeric_limits<T>::min()));
    const double hi = std::min(kExact, static_cast<double>(std::numeric_limits<T>::max()));
    if (!(d >= lo && d <= hi) || d != std::trunc(d))
      throw_invalid(o.Env(), name + " must be an integer in [" + std::to_string(static_cast<int64_t>(lo)) + ", " +
                                 std::to_string(static_cast<int64_t>(hi)) + "], got " + std::to_string(d));
  }
  return static_cast<T>(d);
}

inline bool read_bool(const Napi::Object& o, const char* where, const char* key) {
  auto v = required_arg(o, where, key);
  if (!v.IsBoolean()) throw_invalid(o.Env(), std::string(where) + "." + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline std::string read_string(const Napi::Object& o, const char* where, const char* key) {
  auto v = required_arg(o, where, key);
  if (!v.IsString()) throw_invalid(o.Env(), std::string(where) + "." + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

/** A string that may be left out (undefined): "" then. */
inline std::string read_optional_string(const Napi::Object& o, const char* where, const char* key) {
  return o.Get(key).IsUndefined() ? std::string() : read_string(o, where, key);
}

inline std::vector<std::string> read_strings(const Napi::Object& o, const char* where, const char* key) {
  auto v = required_arg(o, where, key);
  const auto name = std::string(where) + "." + key;
  if (!v.IsArray()) throw_invalid(o.Env(), name + " must be an array of strings");
  auto a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    auto s = a.Get(i);
    if (!s.IsString()) throw_invalid(o.Env(), name + "[" + std::to_string(i) + "] must be a string");
    out.push_back(s.As<Napi::String>().Utf8Value());
  }
  return out;
}

/** Positional argument `i`, or a TrmError "<what> is missing". */
inline Napi::Value positional(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || info[i].IsUndefined()) throw_invalid(info.Env(), std::string(what) + " is missing");
  return info[i];
}

inline std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  auto v = positional(info, i, what);
  if (!v.IsString()) throw_invalid(info.Env(), std::string(what) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline double number_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  auto v = positional(info, i, what);
  if (!v.IsNumber()) throw_invalid(info.Env(), std::string(what) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  auto v = positional(info, i, what);
  if (!v.IsBoolean()) throw_invalid(info.Env(), std::string(what) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

/** An options object (every key of which the read_* functions above then require). */
inline Napi::Object object_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  auto v = positional(info, i, what);
  if (!v.IsObject() || v.IsArray()) throw_invalid(info.Env(), std::string(what) + " must be an object");
  return v.As<Napi::Object>();
}

}  // namespace trm::addon
