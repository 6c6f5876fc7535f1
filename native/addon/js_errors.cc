#include "js_errors.h"

#include <c10/util/Exception.h>

#include "addon_data.h"
#include "core/errors.h"

namespace trm::addon {

Failure current_failure() {
  try {
    throw;
  } catch (const trm::Error& e) {
    return {error_code_name(e.code()), e.what(), ""};
  } catch (const c10::Error& e) {
    // Keep the C++ backtrace out of the message.
    const auto code = dynamic_cast<const c10::IndexError*>(&e) ? "ERR_TRM_TOKEN_RANGE" : "ERR_TRM_TORCH";
    return {code, std::string("LibTorch: ") + e.what_without_backtrace(), e.what()};
  } catch (const std::bad_alloc&) {
    return {"ERR_TRM_INTERNAL", "out of memory", ""};
  } catch (const std::exception& e) {
    return {"ERR_TRM_INTERNAL", e.what(), ""};
  } catch (...) {
    return {"ERR_TRM_INTERNAL", "unknown native exception", ""};
  }
}

void set_error_class(const Napi::Function& cls) { addon_data(cls.Env()).error_class = Napi::Persistent(cls); }

Napi::Error make_error(Napi::Env env, const Failure& f) {
  auto& cls = addon_data(env).error_class;
  if (!cls.IsEmpty()) {
    std::vector<napi_value> args = {Napi::String::New(env, f.code), Napi::String::New(env, f.message)};
    if (!f.detail.empty()) args.push_back(Napi::String::New(env, f.detail));
    return Napi::Error(env, cls.New(args));
  }
  auto err = Napi::Error::New(env, f.message);
  err.Set("code", Napi::String::New(env, f.code));
  return err;
}

void throw_invalid(Napi::Env env, const std::string& message) { throw make_error(env, {"ERR_TRM_INVALID_ARGUMENT", message, ""}); }

}  // namespace trm::addon
