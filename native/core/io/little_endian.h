// Little-endian integer reads from untrusted bytes and appends to an output buffer, the byte order of every
// zip field (APPNOTE 4.4) and of pickle's binary integer opcodes. Callers bounds-check before reading.
#pragma once

#include <cstdint>
#include <string>

namespace trm::io::detail {

inline uint16_t read_le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t read_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t read_le64(const uint8_t* p) {
  return static_cast<uint64_t>(read_le32(p)) | (static_cast<uint64_t>(read_le32(p + 4)) << 32);
}

inline void append_le16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v & 0xFF));
  s->push_back(static_cast<char>(v >> 8));
}
inline void append_le32(std::string* s, uint32_t v) {
  append_le16(s, static_cast<uint16_t>(v & 0xFFFF));
  append_le16(s, static_cast<uint16_t>(v >> 16));
}
inline void append_le64(std::string* s, uint64_t v) {
  append_le32(s, static_cast<uint32_t>(v & 0xFFFFFFFFu));
  append_le32(s, static_cast<uint32_t>(v >> 32));
}

}  // namespace trm::io::detail
