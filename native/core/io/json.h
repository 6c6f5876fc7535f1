// JSON for untrusted input (safetensors headers, dataset.json) through nlohmann/json, with the limits
// a hostile file needs: bounded nesting, duplicate keys refused, errors as messages instead of throws.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace trm::io {

using Json = nlohmann::json;

/**
 * Parses one JSON document (RFC 8259; strings must be valid UTF-8) from [text, text + n); whitespace
 * around it is allowed. Returns false and sets *error (with the byte offset) on malformed input, a key
 * that appears twice in one object, or nesting deeper than max_depth.
 */
bool parse_json(const char* text, size_t n, Json* out, std::string* error, int max_depth = 64);

/** A short name of a value's type for messages: "null", "a boolean", "a number", "a string", "an array", "an object". */
const char* json_kind(const Json& v);

/** `s` as a JSON string literal (quotes, escapes for '"', '\\' and control characters); `s` must be valid UTF-8. */
std::string json_quoted(const std::string& s);

}  // namespace trm::io
