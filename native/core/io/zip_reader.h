// Reading a zip archive in a memory mapping (APPNOTE 4.3): the central directory, zip64 aware, and the local
// header in front of each record's data. STORED records only, which is all torch.save writes. Everything in
// the file is untrusted: all offsets are bounds-checked against the mapping.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mapped_file.h"

namespace trm::io::detail {

/** One record of the central directory. */
struct ZipRecord {
  std::string name;
  uint64_t header_offset = 0;
  uint64_t size = 0;
  uint32_t crc = 0;
  const uint8_t* data = nullptr;  // set by locate_data
};

class ZipReader {
 public:
  explicit ZipReader(const MappedFile& file) : f_(file) {}

  /**
   * Throws trm::Error(CheckpointFormat) "'<path>' is not a readable torch.save zip: <what>". The torch
   * checkpoint reader raises its own format errors through it too, so that every message reads alike.
   */
  [[noreturn]] void fail(const std::string& what) const;

  /** Parses the end record and the central directory. */
  std::vector<ZipRecord> directory();

  /** Validates the local header of a record and sets r->data (bounds-checked against the file). */
  void locate_data(ZipRecord* r) const;

 private:
  void parse_zip64_extra(const uint8_t* x, size_t n, uint64_t* usize, uint64_t* csize, uint64_t* offset, uint16_t disk,
                         const std::string& name) const;

  const MappedFile& f_;
};

}  // namespace trm::io::detail
