// Error mapping at the N-API boundary (docs/design.md, principle 5): every trm::Error, c10::Error and
// std::exception becomes a JavaScript TrmError with a stable code; nothing escapes as a crash.
#pragma once

#include <napi.h>

#include <exception>
#include <string>

namespace trm::addon {

/** A captured failure: code + message (+ native detail), safe to carry across threads. */
struct Failure {
  std::string code;
  std::string message;
  std::string detail;
};

/** Classifies the exception currently being handled (call inside a catch block). */
Failure current_failure();

/** Registers the TrmError class handed in from TypeScript (for this environment). */
void set_error_class(const Napi::Function& cls);

/** Builds a TrmError (or a plain Error with `code` before registration). */
Napi::Error make_error(Napi::Env env, const Failure& f);

/** Throws a TrmError for an invalid argument. */
[[noreturn]] void throw_invalid(Napi::Env env, const std::string& message);

/** Runs `fn`; any exception becomes a thrown TrmError. */
template <typename F>
auto guarded(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw make_error(env, current_failure());
  }
}

}  // namespace trm::addon
