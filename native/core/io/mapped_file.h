// Whole-file read-only memory mapping and crash-safe file replacement, the two file-system primitives of
// the checkpoint readers and writers (docs/algorithm.md §7.3: checkpoints can be several GB, e.g. the ARC puzzle table).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

namespace trm::io {

/**
 * A read-only mmap of a whole file. Readers point into it instead of copying (a 2.4 GB ARC-2 checkpoint is
 * never read into memory). A 0-byte file maps to data() == nullptr, size() == 0.
 * Caveat of every mmap: if another process truncates the file while it is mapped, touching the lost pages
 * raises SIGBUS. Checkpoints are replaced by rename (write_file_atomic), which leaves old mappings intact.
 */
class MappedFile {
 public:
  /** Throws trm::Error(IO) when the file cannot be opened, is not a regular file, or cannot be mapped. */
  static std::shared_ptr<MappedFile> open(const std::string& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, uint64_t size) : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

/**
 * Writes a file so that `path` only ever holds the old content or the complete new content: `writer` fills
 * `path + ".tmp-<pid>"`, which is then flushed, fsync'ed and renamed over `path` (and the directory is
 * fsync'ed). On any failure, including an exception thrown by `writer`, the temporary file is removed and
 * the error is rethrown (write failures as trm::Error(IO), naming the file and errno).
 */
void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& writer);

/** fwrite that throws trm::Error(IO) naming `path` on a short write (disk full, I/O error). */
void write_all(std::FILE* f, const void* data, uint64_t nbytes, const std::string& path);

}  // namespace trm::io
