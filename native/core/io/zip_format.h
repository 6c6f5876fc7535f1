// Record signatures and field limits of the zip format (APPNOTE 4.3), shared by zip_reader and zip_writer.
#pragma once

#include <cstdint>

namespace trm::io::detail {

constexpr uint32_t kLocalSig = 0x04034b50;         // local file header, before each record's data
constexpr uint32_t kCentralSig = 0x02014b50;       // central directory entry
constexpr uint32_t kEndSig = 0x06054b50;           // end of central directory record
constexpr uint32_t kZip64EndSig = 0x06064b50;      // zip64 end of central directory record
constexpr uint32_t kZip64LocatorSig = 0x07064b50;  // zip64 end of central directory locator
// A 32- or 16-bit field holding all ones means "the real value is in the zip64 record or extra field".
constexpr uint32_t kMax32 = 0xFFFFFFFFu;
constexpr uint16_t kMax16 = 0xFFFF;

}  // namespace trm::io::detail
