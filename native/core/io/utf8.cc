#include "utf8.h"

#include <cstdint>

namespace trm::io {

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
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;                            // surrogate
  if (cp > 0x10FFFF) return 0;
  return len;
}

}  // namespace

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

}  // namespace trm::io
