#include "json_lite.h"

namespace trm::io::json {

namespace {

/** Length of the UTF-8 sequence starting at p[0] if it is well-formed within [p, end), else 0. */
size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;  // overlong
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;                           // surrogate
  if (cp > 0x10FFFF) return 0;
  return len;
}

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  Parser(const char* text, size_t n, int max_depth)
      : p_(reinterpret_cast<const unsigned char*>(text)), begin_(p_), end_(p_ + n), max_depth_(max_depth) {}

  bool document(Value* out, std::string* error) {
    skip_ws();
    if (!value(out, 0)) return report(error);
    skip_ws();
    if (p_ != end_) {
      fail("unexpected data after the JSON value");
      return report(error);
    }
    return true;
  }

 private:
  bool report(std::string* error) {
    if (error != nullptr) *error = error_ + " at byte " + std::to_string(err_pos_);
    return false;
  }

  bool fail(const std::string& message) {
    if (error_.empty()) {
      error_ = message;
      err_pos_ = static_cast<size_t>(p_ - begin_);
    }
    return false;
  }

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(const char* word) {
    for (const char* w = word; *w != '\0'; ++w, ++p_) {
      if (p_ >= end_ || *p_ != static_cast<unsigned char>(*w)) return fail(std::string("expected '") + word + "'");
    }
    return true;
  }

  bool value(Value* out, int depth) {
    if (depth > max_depth_) return fail("nesting deeper than " + std::to_string(max_depth_) + " levels");
    if (p_ >= end_) return fail("unexpected end of JSON");
    switch (*p_) {
      case '{': return object(out, depth);
      case '[': return array(out, depth);
      case '"':
        out->kind = Value::Kind::String;
        return string(&out->text);
      case 't':
        out->kind = Value::Kind::Bool;
        out->boolean = true;
        return literal("true");
      case 'f':
        out->kind = Value::Kind::Bool;
        out->boolean = false;
        return literal("false");
      case 'n':
        out->kind = Value::Kind::Null;
        return literal("null");
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return number(out);
        return fail("unexpected character");
    }
  }

  bool digits() {
    const unsigned char* start = p_;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ > start || fail("expected a digit");
  }

  bool number(Value* out) {
    const unsigned char* start = p_;
    if (*p_ == '-') ++p_;
    if (p_ < end_ && *p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    out->kind = Value::Kind::Number;
    out->text.assign(reinterpret_cast<const char*>(start), static_cast<size_t>(p_ - start));
    return true;
  }

  bool hex4(uint32_t* out) {
    if (end_ - p_ < 4) return fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      const unsigned char c = *p_;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return fail("bad hex digit in \\u escape");
    }
    *out = v;
    return true;
  }

  bool string(std::string* out) {
    ++p_;  // opening quote
    out->clear();
    while (true) {
      if (p_ >= end_) return fail("unterminated string");
      const unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return fail("control character in string");
      if (c != '\\') {
        const size_t len = utf8_sequence(p_, end_);
        if (len == 0) return fail("invalid UTF-8 in string");
        out->append(reinterpret_cast<const char*>(p_), len);
        p_ += len;
        continue;
      }
      ++p_;
      if (p_ >= end_) return fail("unterminated escape");
      const unsigned char e = *p_++;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("unpaired low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail("unpaired high surrogate in \\u escape");
            p_ += 2;
            if (!hex4(&lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail("unpaired high surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: return fail("unknown escape");
      }
    }
  }

  bool array(Value* out, int depth) {
    ++p_;
    out->kind = Value::Kind::Array;
    skip_ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      out->items.emplace_back();
      skip_ws();
      if (!value(&out->items.back(), depth + 1)) return false;
      skip_ws();
      if (p_ >= end_) return fail("unterminated array");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool object(Value* out, int depth) {
    ++p_;
    out->kind = Value::Kind::Object;
    skip_ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      skip_ws();
      if (p_ >= end_ || *p_ != '"') return fail("expected a string key");
      out->members.emplace_back();
      if (!string(&out->members.back().first)) return false;
      skip_ws();
      if (p_ >= end_ || *p_ != ':') return fail("expected ':'");
      ++p_;
      skip_ws();
      if (!value(&out->members.back().second, depth + 1)) return false;
      skip_ws();
      if (p_ >= end_) return fail("unterminated object");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  const unsigned char* p_;
  const unsigned char* begin_;
  const unsigned char* end_;
  int max_depth_;
  std::string error_;
  size_t err_pos_ = 0;
};

}  // namespace

bool Value::as_uint64(uint64_t* out) const {
  if (kind != Kind::Number || text.empty()) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;  // sign, fraction or exponent
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

const Value* Value::find(const std::string& key) const {
  for (const auto& m : members) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Bool: return "a boolean";
    case Value::Kind::Number: return "a number";
    case Value::Kind::String: return "a string";
    case Value::Kind::Array: return "an array";
    case Value::Kind::Object: return "an object";
  }
  return "?";
}

bool parse(const char* text, size_t n, Value* out, std::string* error, int max_depth) {
  *out = Value();
  Parser parser(text, n, max_depth);
  return parser.document(out, error);
}

void append_quoted(std::string* out, const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

bool valid_utf8(const char* p, size_t n) {
  const unsigned char* q = reinterpret_cast<const unsigned char*>(p);
  const unsigned char* end = q + n;
  while (q < end) {
    const size_t len = utf8_sequence(q, end);
    if (len == 0) return false;
    q += len;
  }
  return true;
}

std::string printable(const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  const unsigned char* q = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = q + s.size();
  while (q < end) {
    const size_t len = utf8_sequence(q, end);
    if (len == 0) {
      out += "\\x";
      out.push_back(kHex[*q >> 4]);
      out.push_back(kHex[*q & 0xF]);
      ++q;
    } else {
      out.append(reinterpret_cast<const char*>(q), len);
      q += len;
    }
  }
  return out;
}

}  // namespace trm::io::json
