#include "zip_writer.h"

#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "../errors.h"
#include "crc32.h"
#include "little_endian.h"
#include "mapped_file.h"
#include "zip_format.h"

namespace trm::io::detail {

void ZipWriter::add(const std::string& name, const void* data, uint64_t size) {
  const uint64_t offset = pos_;
  const bool z64 = force64_ || size >= kMax32;
  std::string h;
  append_le32(&h, kLocalSig);
  append_le16(&h, z64 ? 45 : 20);  // version needed
  append_le16(&h, 0x0800);         // UTF-8 names
  append_le16(&h, 0);              // STORED
  append_le16(&h, 0);              // time 00:00
  append_le16(&h, 0x21);           // date 1980-01-01
  append_le32(&h, 0);              // CRC-32, patched after the data
  append_le32(&h, z64 ? kMax32 : static_cast<uint32_t>(size));
  append_le32(&h, z64 ? kMax32 : static_cast<uint32_t>(size));
  append_le16(&h, static_cast<uint16_t>(name.size()));
  const uint64_t before_pad = offset + 30 + name.size() + (z64 ? 20 : 0) + 4;
  const uint64_t pad = (64 - before_pad % 64) % 64;
  append_le16(&h, static_cast<uint16_t>((z64 ? 20 : 0) + 4 + pad));
  h += name;
  if (z64) {
    append_le16(&h, 0x0001);
    append_le16(&h, 16);
    append_le64(&h, size);
    append_le64(&h, size);
  }
  h += "FB";
  append_le16(&h, static_cast<uint16_t>(pad));
  h.append(static_cast<size_t>(pad), 'Z');
  emit(h.data(), h.size());

  uint32_t crc = 0;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (uint64_t done = 0; done < size;) {  // CRC while the chunk is in cache
    const uint64_t n = std::min<uint64_t>(size - done, uint64_t{1} << 22);
    crc = crc32_update(crc, p + done, n);
    emit(p + done, n);
    done += n;
  }
  std::string c;
  append_le32(&c, crc);
  seek(offset + 14);
  write_all(f_, c.data(), 4, path_);
  seek(pos_);
  entries_.push_back(Entry{name, crc, size, offset});
}

void ZipWriter::finish() {
  const uint64_t cd_start = pos_;
  for (const Entry& e : entries_) {
    const bool big_size = force64_ || e.size >= kMax32, big_off = force64_ || e.offset >= kMax32;
    std::string x;
    if (big_size || big_off) {
      append_le16(&x, 0x0001);
      append_le16(&x, static_cast<uint16_t>(8 * ((big_size ? 2 : 0) + (big_off ? 1 : 0))));
      if (big_size) {
        append_le64(&x, e.size);
        append_le64(&x, e.size);
      }
      if (big_off) append_le64(&x, e.offset);
    }
    const uint16_t version = (big_size || big_off) ? 45 : 20;
    std::string h;
    append_le32(&h, kCentralSig);
    append_le16(&h, version);  // made by
    append_le16(&h, version);  // needed
    append_le16(&h, 0x0800);
    append_le16(&h, 0);
    append_le16(&h, 0);
    append_le16(&h, 0x21);
    append_le32(&h, e.crc);
    append_le32(&h, big_size ? kMax32 : static_cast<uint32_t>(e.size));
    append_le32(&h, big_size ? kMax32 : static_cast<uint32_t>(e.size));
    append_le16(&h, static_cast<uint16_t>(e.name.size()));
    append_le16(&h, static_cast<uint16_t>(x.size()));
    append_le16(&h, 0);  // comment
    append_le16(&h, 0);  // disk
    append_le16(&h, 0);  // internal attributes
    append_le32(&h, 0);  // external attributes
    append_le32(&h, big_off ? kMax32 : static_cast<uint32_t>(e.offset));
    h += e.name;
    h += x;
    emit(h.data(), h.size());
  }
  const uint64_t cd_size = pos_ - cd_start, n = entries_.size();
  const bool z64 = force64_ || n >= kMax16 || cd_start >= kMax32 || cd_size >= kMax32;
  std::string t;
  if (z64) {
    const uint64_t z64_offset = pos_;
    append_le32(&t, kZip64EndSig);
    append_le64(&t, 44);  // size of the rest of this record
    append_le16(&t, 45);
    append_le16(&t, 45);
    append_le32(&t, 0);
    append_le32(&t, 0);
    append_le64(&t, n);
    append_le64(&t, n);
    append_le64(&t, cd_size);
    append_le64(&t, cd_start);
    append_le32(&t, kZip64LocatorSig);
    append_le32(&t, 0);
    append_le64(&t, z64_offset);
    append_le32(&t, 1);
  }
  append_le32(&t, kEndSig);
  append_le16(&t, 0);
  append_le16(&t, 0);
  append_le16(&t, z64 ? kMax16 : static_cast<uint16_t>(n));
  append_le16(&t, z64 ? kMax16 : static_cast<uint16_t>(n));
  append_le32(&t, z64 ? kMax32 : static_cast<uint32_t>(cd_size));
  append_le32(&t, z64 ? kMax32 : static_cast<uint32_t>(cd_start));
  append_le16(&t, 0);
  emit(t.data(), t.size());
}

void ZipWriter::emit(const void* p, uint64_t n) {
  write_all(f_, p, n, path_);
  pos_ += n;
}

void ZipWriter::seek(uint64_t where) {
  if (::fseeko(f_, static_cast<off_t>(where), SEEK_SET) != 0) {
    throw Error(ErrorCode::IO, "cannot seek in '" + path_ + "' while writing: " + std::strerror(errno));
  }
}

}  // namespace trm::io::detail
