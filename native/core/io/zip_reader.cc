#include "zip_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "../errors.h"
#include "utf8.h"
#include "little_endian.h"
#include "zip_format.h"

namespace trm::io::detail {

void ZipReader::fail(const std::string& what) const {
  throw Error(ErrorCode::CheckpointFormat, printable("'" + f_.path() + "' is not a readable torch.save zip: " + what));
}

std::vector<ZipRecord> ZipReader::directory() {
  const uint8_t* d = f_.data();
  const uint64_t size = f_.size();
  if (size < 22) fail("file of " + std::to_string(size) + " bytes is too small for a zip archive (truncated?)");

  // End of central directory: the last signature whose comment runs exactly to the end of the file.
  uint64_t eocd = UINT64_MAX;
  const uint64_t lowest = size - 22 > 0xFFFF ? size - 22 - 0xFFFF : 0;
  for (uint64_t pos = size - 22;; --pos) {
    if (read_le32(d + pos) == kEndSig && pos + 22 + read_le16(d + pos + 20) == size) {
      eocd = pos;
      break;
    }
    if (pos == lowest) break;
  }
  if (eocd == UINT64_MAX) fail("no end-of-central-directory record found (file truncated or not a zip)");

  const uint8_t* e = d + eocd;
  if (read_le16(e + 4) != 0 || read_le16(e + 6) != 0) fail("multi-disk zip archives are not supported");
  uint64_t count = read_le16(e + 10);
  uint64_t cd_size = read_le32(e + 12);
  uint64_t cd_offset = read_le32(e + 16);
  uint64_t cd_limit = eocd;  // the central directory must end before this offset

  if (eocd >= 20 && read_le32(d + eocd - 20) == kZip64LocatorSig) {
    const uint8_t* loc = d + eocd - 20;
    const uint64_t z64 = read_le64(loc + 8);
    if (z64 > eocd - 20 || eocd - 20 - z64 < 56) fail("zip64 end record offset " + std::to_string(z64) + " is out of range");
    const uint8_t* z = d + z64;
    if (read_le32(z) != kZip64EndSig) fail("zip64 end record signature missing at offset " + std::to_string(z64));
    if (read_le32(z + 16) != 0 || read_le32(z + 20) != 0) fail("multi-disk zip archives are not supported");
    count = read_le64(z + 32);
    cd_size = read_le64(z + 40);
    cd_offset = read_le64(z + 48);
    cd_limit = z64;
  } else if (count == kMax16 || cd_size == kMax32 || cd_offset == kMax32) {
    fail("end record needs a zip64 end record, which is missing");
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) {
    fail("central directory (offset " + std::to_string(cd_offset) + ", " + std::to_string(cd_size) + " bytes) lies outside the " +
         std::to_string(size) + "-byte file");
  }
  if (count == 0) fail("archive contains no records");

  std::vector<ZipRecord> records;
  records.reserve(static_cast<size_t>(std::min<uint64_t>(count, cd_size / 46 + 1)));
  const uint8_t* p = d + cd_offset;
  const uint8_t* end = p + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (end - p < 46 || read_le32(p) != kCentralSig) {
      fail("central directory entry " + std::to_string(i) + " of " + std::to_string(count) + " is truncated or corrupt");
    }
    const uint16_t flags = read_le16(p + 8);
    const uint16_t method = read_le16(p + 10);
    ZipRecord r;
    r.crc = read_le32(p + 16);
    uint64_t comp = read_le32(p + 20);
    r.size = read_le32(p + 24);
    const size_t name_len = read_le16(p + 28), extra_len = read_le16(p + 30), comment_len = read_le16(p + 32);
    const uint16_t disk = read_le16(p + 34);
    r.header_offset = read_le32(p + 42);
    if (static_cast<size_t>(end - p) < 46 + name_len + extra_len + comment_len) {
      fail("central directory entry " + std::to_string(i) + " runs past the directory");
    }
    r.name.assign(reinterpret_cast<const char*>(p + 46), name_len);
    parse_zip64_extra(p + 46 + name_len, extra_len, &r.size, &comp, &r.header_offset, disk, r.name);
    if (flags & 0x0001) fail("record '" + r.name + "' is encrypted");
    if (method != 0) {
      fail("record '" + r.name + "' is compressed (method " + std::to_string(method) +
           "); torch.save writes STORED (uncompressed) records only");
    }
    if (comp != r.size) {
      fail("STORED record '" + r.name + "' has compressed size " + std::to_string(comp) + " != size " + std::to_string(r.size));
    }
    records.push_back(std::move(r));
    p += 46 + name_len + extra_len + comment_len;
  }
  return records;
}

void ZipReader::locate_data(ZipRecord* r) const {
  const uint64_t size = f_.size();
  if (r->header_offset > size || size - r->header_offset < 30) {
    fail("local header of '" + r->name + "' at offset " + std::to_string(r->header_offset) + " lies outside the file");
  }
  const uint8_t* h = f_.data() + r->header_offset;
  if (read_le32(h) != kLocalSig) fail("local header signature of '" + r->name + "' missing (file corrupt)");
  const uint64_t name_len = read_le16(h + 26), extra_len = read_le16(h + 28);
  const uint64_t start = r->header_offset + 30 + name_len + extra_len;
  if (start > size || r->size > size - start) {
    fail("data of '" + r->name + "' (" + std::to_string(r->size) + " bytes at offset " + std::to_string(start) +
         ") runs past the end of the " + std::to_string(size) + "-byte file (truncated?)");
  }
  if (name_len != r->name.size() || std::memcmp(h + 30, r->name.data(), r->name.size()) != 0) {
    fail("local header name of '" + r->name + "' does not match the central directory");
  }
  r->data = f_.data() + start;
}

/** Replaces 0xFFFFFFFF fields by their zip64 values, which come in this order (APPNOTE 4.5.3). */
void ZipReader::parse_zip64_extra(const uint8_t* x, size_t n, uint64_t* usize, uint64_t* csize, uint64_t* offset, uint16_t disk,
                                  const std::string& name) const {
  const bool need_u = *usize == kMax32, need_c = *csize == kMax32, need_o = *offset == kMax32;
  const bool need_d = disk == kMax16;
  if (!need_u && !need_c && !need_o && !need_d) {
    if (disk != 0) fail("record '" + name + "' is on another disk of a multi-disk archive");
    return;
  }
  while (n >= 4) {
    const uint16_t id = read_le16(x), len = read_le16(x + 2);
    if (len > n - 4) break;
    if (id == 0x0001) {
      const uint8_t* q = x + 4;
      size_t left = len;
      auto take = [&](uint64_t* v) {
        if (left < 8) fail("zip64 extra field of '" + name + "' is too short");
        *v = read_le64(q);
        q += 8;
        left -= 8;
      };
      if (need_u) take(usize);
      if (need_c) take(csize);
      if (need_o) take(offset);
      if (need_d) {
        if (left < 4) fail("zip64 extra field of '" + name + "' is too short");
        if (read_le32(q) != 0) fail("record '" + name + "' is on another disk of a multi-disk archive");
      }
      return;
    }
    x += 4 + len;
    n -= 4 + len;
  }
  fail("record '" + name + "' needs a zip64 extra field, which is missing");
}

}  // namespace trm::io::detail
