#include "crc32.h"

#include "little_endian.h"

namespace trm::io::detail {

namespace {

/** The eight 256-entry tables of slice-by-8, built once on first use. */
struct Crc32Tables {
  Crc32Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
  }
  uint32_t t[8][256];
};

}  // namespace

uint32_t crc32_update(uint32_t crc, const uint8_t* p, uint64_t n) {
  static const Crc32Tables tables;
  const auto& t = tables.t;
  crc = ~crc;
  while (n >= 8) {
    const uint32_t a = read_le32(p) ^ crc;
    const uint32_t b = read_le32(p + 4);
    crc = t[7][a & 0xFF] ^ t[6][(a >> 8) & 0xFF] ^ t[5][(a >> 16) & 0xFF] ^ t[4][a >> 24] ^ t[3][b & 0xFF] ^ t[2][(b >> 8) & 0xFF] ^
          t[1][(b >> 16) & 0xFF] ^ t[0][b >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

}  // namespace trm::io::detail
