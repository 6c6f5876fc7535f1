// CRC-32 with the zip polynomial (APPNOTE 4.4.7), as stored in every zip record.
#pragma once

#include <cstdint>

namespace trm::io::detail {

/**
 * Extends `crc` (0 to start) over [p, p + n) and returns the new value; chunks may be fed one after another.
 * Slice-by-8: about 1-2 GB/s, enough for multi-GB checkpoints.
 */
uint32_t crc32_update(uint32_t crc, const uint8_t* p, uint64_t n);

}  // namespace trm::io::detail
