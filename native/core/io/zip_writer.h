// Writing a zip archive of STORED records to a stream (APPNOTE 4.3), the way torch's writer lays it out
// (caffe2/serialize/inline_container.cc): each record's data starts at a multiple of 64 bytes, padded by an
// 'FB' extra field, so that a reader can map tensors in place. Zip64 fields are used where a size, offset or
// count needs them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace trm::io::detail {

class ZipWriter {
 public:
  /**
   * Writes to `f` from its current position, which must be offset 0 of the archive. `path` names the file in
   * errors. force_zip64: zip64 records on every entry and the end record (to test that code path).
   */
  ZipWriter(std::FILE* f, std::string path, bool force_zip64) : f_(f), path_(std::move(path)), force64_(force_zip64) {}

  /** Appends a record: local header, data, then the CRC-32 patched into the header. Throws trm::Error(IO). */
  void add(const std::string& name, const void* data, uint64_t size);

  /** Writes the central directory and the end record(s) after the last record. Throws trm::Error(IO). */
  void finish();

 private:
  struct Entry {
    std::string name;
    uint32_t crc;
    uint64_t size, offset;
  };

  void emit(const void* p, uint64_t n);
  void seek(uint64_t where);

  std::FILE* f_;
  std::string path_;
  bool force64_;
  uint64_t pos_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace trm::io::detail
