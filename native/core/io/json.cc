#include "json.h"

#include <set>
#include <vector>

namespace trm::io {

namespace {

/** Thrown from the parser callback to stop at the first duplicate key or over-deep value. */
struct Refused {
  std::string what;
};

}  // namespace

bool parse_json(const char* text, size_t n, Json* out, std::string* error, int max_depth) {
  // The keys seen so far in each open object, innermost last.
  std::vector<std::set<std::string>> keys;
  auto check = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) {
      if (depth >= max_depth) throw Refused{"nesting deeper than " + std::to_string(max_depth) + " levels"};
      if (event == Json::parse_event_t::object_start) keys.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      keys.pop_back();
    } else if (event == Json::parse_event_t::key) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(key).second) throw Refused{"key '" + key + "' appears twice in one object"};
    }
    return true;
  };
  try {
    *out = Json::parse(text, text + n, check);
    return true;
  } catch (const Refused& r) {
    *error = r.what;
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line L, column C: ..."; keep the part after the id.
    std::string what = e.what();
    const auto close = what.find("] ");
    *error = (close == std::string::npos ? what : what.substr(close + 2)) + " (byte " + std::to_string(e.byte) + ")";
  }
  return false;
}

const char* json_kind(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "a number";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "an unexpected value";
  }
}

std::string json_quoted(const std::string& s) { return Json(s).dump(); }

}  // namespace trm::io
