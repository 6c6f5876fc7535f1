// A minimal JSON reader/writer for the safetensors header (ECOSYSTEM C.3). Untrusted input: every read is
// bounds-checked, nesting is limited, and errors come back as a message instead of a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace trm::io::json {

struct Value {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text;  // String: the decoded UTF-8 string; Number: the literal as written
  std::vector<Value> items;                            // Array
  std::vector<std::pair<std::string, Value>> members;  // Object, in document order (duplicates kept)

  /** The number as a non-negative integer without fraction or exponent; false otherwise or on overflow. */
  bool as_uint64(uint64_t* out) const;
  /** A member of an object by key (the first one), or nullptr. */
  const Value* find(const std::string& key) const;
};

/** A short name of a kind for messages: "null", "a boolean", "a number", "a string", "an array", "an object". */
const char* kind_name(Value::Kind k);

/**
 * Parses one JSON document (RFC 8259) from [text, text + n); surrounding whitespace is allowed. Returns
 * false and sets *error (with a byte offset) on malformed input, invalid UTF-8 in strings, or nesting
 * deeper than max_depth.
 */
bool parse(const char* text, size_t n, Value* out, std::string* error, int max_depth = 64);

/** Appends `s` as a JSON string literal (quotes, escapes for '"', '\\' and control characters). */
void append_quoted(std::string* out, const std::string& s);

/** True when [p, p + n) is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF). */
bool valid_utf8(const char* p, size_t n);

/** `s` with every byte that is not part of well-formed UTF-8 shown as \xNN, for error messages. */
std::string printable(const std::string& s);

}  // namespace trm::io::json
