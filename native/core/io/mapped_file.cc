#include "mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../errors.h"

namespace trm::io {

namespace {

std::string errno_text(int err) { return std::string(std::strerror(err)) + " (errno " + std::to_string(err) + ")"; }

[[noreturn]] void throw_io(const std::string& what, const std::string& path, int err) {
  throw Error(ErrorCode::IO, what + " '" + path + "': " + errno_text(err));
}

/** Closes a descriptor on every path out of a scope. */
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer; the type check below refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw_io("cannot open", path, errno);
  FdGuard guard{fd};

  struct stat st;
  if (::fstat(fd, &st) != 0) throw_io("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    throw Error(ErrorCode::IO, "cannot read '" + path + "': it is " + kind + "; expected a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) return std::shared_ptr<MappedFile>(new MappedFile(path, nullptr, 0));
  if (size > static_cast<uint64_t>(SIZE_MAX)) {
    throw Error(ErrorCode::IO, "cannot map '" + path + "': file of " + std::to_string(size) + " bytes exceeds the address space");
  }
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) throw_io("cannot mmap", path, errno);
  // The mapping stays valid after the descriptor is closed (POSIX mmap).
  return std::shared_ptr<MappedFile>(new MappedFile(path, static_cast<const uint8_t*>(p), size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), static_cast<size_t>(size_));
}

void write_all(std::FILE* f, const void* data, uint64_t nbytes, const std::string& path) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (nbytes > 0) {
    const size_t chunk = static_cast<size_t>(nbytes < (uint64_t{1} << 30) ? nbytes : (uint64_t{1} << 30));
    errno = 0;
    const size_t n = std::fwrite(p, 1, chunk, f);
    if (n != chunk) {
      const int err = errno != 0 ? errno : EIO;
      throw_io("cannot write", path, err);
    }
    p += n;
    nbytes -= n;
  }
}

void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& writer) {
  if (path.empty()) throw Error(ErrorCode::InvalidArgument, "write_file_atomic: empty path");
  const std::string tmp = path + ".tmp-" + std::to_string(static_cast<long>(::getpid()));

  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) throw_io("cannot create temporary file", tmp, errno);

  try {
    writer(f);
    if (std::fflush(f) != 0 || std::ferror(f)) throw_io("cannot write", tmp, errno != 0 ? errno : EIO);
    if (::fsync(::fileno(f)) != 0) throw_io("cannot fsync", tmp, errno);
  } catch (...) {
    std::fclose(f);
    ::unlink(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_io("cannot close", tmp, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw_io("cannot rename '" + tmp + "' over", path, err);
  }
  // Make the rename itself durable; best effort (some file systems refuse fsync on directories).
  const int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace trm::io
