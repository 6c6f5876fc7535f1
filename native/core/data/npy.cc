#include "npy.h"

#include <cstring>
#include <limits>

#include "../errors.h"

namespace trm::data {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::DataFormat, "invalid .npy file '" + path + "': " + what);
}

uint32_t read_le(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

/** Maps a descr string to a dtype; the message explains what is wrong with any other value. */
NpyDType parse_descr(const std::string& path, const std::string& descr) {
  if (descr.size() != 3) {
    fail(path, "unsupported dtype '" + descr + "' (expected an integer or bool dtype such as '|u1' or '<i4')");
  }
  const char order = descr[0];
  const std::string kind = descr.substr(1);
  const bool one_byte = kind == "u1" || kind == "i1" || kind == "b1";
  if (order != '<' && order != '|' && order != '=' && order != '>') {
    fail(path, "unsupported dtype '" + descr + "' (bad byte-order mark)");
  }
  if (!one_byte && order != '<') {
    if (order == '>') {
      fail(path, "big-endian dtype '" + descr + "' is not supported; re-save with arr.astype('<" + kind + "')");
    }
    fail(path, "dtype '" + descr + "' has no explicit little-endian mark; re-save with np.save");
  }
  if (kind == "u1") return NpyDType::U8;
  if (kind == "i1") return NpyDType::I8;
  if (kind == "b1") return NpyDType::Bool;
  if (kind == "i2") return NpyDType::I16;
  if (kind == "u2") return NpyDType::U16;
  if (kind == "i4") return NpyDType::I32;
  if (kind == "u4") return NpyDType::U32;
  if (kind == "i8") return NpyDType::I64;
  if (kind == "u8") return NpyDType::U64;
  fail(path, "dtype '" + descr + "' is not an integer or bool dtype; dataset arrays hold token ids and indices");
}

/** The header fields of np.lib.format: a Python dict literal with exactly descr, fortran_order and shape. */
struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

/** A strict reader of the dict literal numpy writes (whitespace, quotes, tuples, True/False, trailing commas). */
class HeaderParser {
 public:
  HeaderParser(const std::string& path, const char* p, size_t n) : path_(path), p_(p), end_(p + n) {}

  Header parse() {
    Header h;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (seen_descr) bad("duplicate key 'descr'");
        if (peek() == '[') bad("structured dtypes are not supported (descr is a list)");
        h.descr = string_literal();
        seen_descr = true;
      } else if (key == "fortran_order") {
        if (seen_fortran) bad("duplicate key 'fortran_order'");
        h.fortran_order = boolean();
        seen_fortran = true;
      } else if (key == "shape") {
        if (seen_shape) bad("duplicate key 'shape'");
        h.shape = tuple();
        seen_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++p_;
        continue;
      }
      if (peek() != '}') bad("expected ',' or '}'");
    }
    ++p_;  // '}'
    skip_ws();
    if (p_ != end_) bad("unexpected text after the closing '}'");
    if (!seen_descr || !seen_fortran || !seen_shape) bad("missing key (descr, fortran_order and shape are required)");
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& what) { fail(path_, "malformed header: " + what); }

  char peek() const { return p_ < end_ ? *p_ : '\0'; }
  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++p_;
  }
  std::string string_literal() {
    skip_ws();
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    ++p_;
    const char* start = p_;
    while (p_ < end_ && *p_ != q) {
      if (*p_ == '\\') bad("escapes in strings are not supported");
      ++p_;
    }
    if (p_ >= end_) bad("unterminated string");
    std::string s(start, p_);
    ++p_;
    return s;
  }
  bool boolean() {
    if (end_ - p_ >= 4 && std::memcmp(p_, "True", 4) == 0) {
      p_ += 4;
      return true;
    }
    if (end_ - p_ >= 5 && std::memcmp(p_, "False", 5) == 0) {
      p_ += 5;
      return false;
    }
    bad("fortran_order must be True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      if (peek() < '0' || peek() > '9') bad("shape entries must be non-negative integers");
      uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        v = v * 10 + static_cast<uint64_t>(*p_ - '0');
        if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 10)) bad("shape entry too large");
        ++p_;
      }
      if (peek() == 'L') ++p_;  // Python 2 long literal, still found in old files
      dims.push_back(static_cast<int64_t>(v));
      skip_ws();
      if (peek() == ',') {
        ++p_;
        continue;
      }
      if (peek() != ')') bad("expected ',' or ')' in shape");
    }
    ++p_;
    return dims;
  }

  const std::string& path_;
  const char* p_;
  const char* end_;
};

}  // namespace

size_t npy_dtype_size(NpyDType d) {
  switch (d) {
    case NpyDType::U8:
    case NpyDType::I8:
    case NpyDType::Bool: return 1;
    case NpyDType::I16:
    case NpyDType::U16: return 2;
    case NpyDType::I32:
    case NpyDType::U32: return 4;
    case NpyDType::I64:
    case NpyDType::U64: return 8;
  }
  return 1;
}

const char* npy_dtype_descr(NpyDType d) {
  switch (d) {
    case NpyDType::U8: return "|u1";
    case NpyDType::I8: return "|i1";
    case NpyDType::Bool: return "|b1";
    case NpyDType::I16: return "<i2";
    case NpyDType::U16: return "<u2";
    case NpyDType::I32: return "<i4";
    case NpyDType::U32: return "<u4";
    case NpyDType::I64: return "<i8";
    case NpyDType::U64: return "<u8";
  }
  return "?";
}

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t NpyArray::element(int64_t i) const {
  const uint8_t* p = data + static_cast<uint64_t>(i) * npy_dtype_size(dtype);
  switch (dtype) {
    case NpyDType::U8: return *p;
    case NpyDType::Bool: return *p != 0;
    case NpyDType::I8: return static_cast<int8_t>(*p);
#define TRM_NPY_LOAD(T)             \
  {                                 \
    T v;                            \
    std::memcpy(&v, p, sizeof v);   \
    return static_cast<int64_t>(v); \
  }
    case NpyDType::I16: TRM_NPY_LOAD(int16_t)
    case NpyDType::U16: TRM_NPY_LOAD(uint16_t)
    case NpyDType::I32: TRM_NPY_LOAD(int32_t)
    case NpyDType::U32: TRM_NPY_LOAD(uint32_t)
    case NpyDType::I64: TRM_NPY_LOAD(int64_t)
    case NpyDType::U64: TRM_NPY_LOAD(uint64_t)
#undef TRM_NPY_LOAD
  }
  return 0;
}

NpyArray parse_npy(std::shared_ptr<const io::MappedFile> file) {
  const std::string& path = file->path();
  const uint8_t* base = file->data();
  const uint64_t size = file->size();

  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 10 || std::memcmp(base, kMagic, 6) != 0) {
    fail(path, "missing the \\x93NUMPY magic string (not a .npy file)");
  }
  const int major = base[6], minor = base[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    fail(path, "unsupported format version " + std::to_string(major) + "." + std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
  }
  // Version 1.0 stores the header length in 2 bytes; 2.0 and 3.0 (utf-8 header) in 4 bytes.
  const int len_bytes = major == 1 ? 2 : 4;
  const uint64_t header_start = 8 + static_cast<uint64_t>(len_bytes);
  if (size < header_start) fail(path, "truncated before the header length");
  const uint64_t header_len = read_le(base + 8, len_bytes);
  if (header_start + header_len > size) {
    fail(path, "truncated header (" + std::to_string(header_len) + " header bytes announced, " + std::to_string(size - header_start) +
                   " present)");
  }

  const Header h = HeaderParser(path, reinterpret_cast<const char*>(base + header_start), header_len).parse();
  NpyArray a;
  a.path = path;
  a.dtype = parse_descr(path, h.descr);
  if (h.fortran_order) {
    // Column-major bytes equal row-major bytes when at most one dimension exceeds 1 (np.load accepts both);
    // anything else would need a transpose, which a memory-mapped row reader cannot do.
    int non_trivial = 0;
    for (int64_t d : h.shape) non_trivial += d > 1 ? 1 : 0;
    if (non_trivial > 1) {
      fail(path, "Fortran-ordered arrays are not supported; re-save with np.save(path, np.ascontiguousarray(arr))");
    }
  }
  a.shape = h.shape;

  // Element count and byte size with overflow checks (the shape is untrusted).
  const uint64_t item = npy_dtype_size(a.dtype);
  uint64_t count = 1;
  bool zero = false;
  for (int64_t d : a.shape) {
    if (d == 0) zero = true;
  }
  if (!zero) {
    for (int64_t d : a.shape) {
      if (count > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d)) fail(path, "shape too large");
      count *= static_cast<uint64_t>(d);
    }
    if (count > std::numeric_limits<uint64_t>::max() / item) fail(path, "shape too large");
  } else {
    count = 0;
  }
  const uint64_t data_start = header_start + header_len;
  a.nbytes = count * item;
  if (a.nbytes > size - data_start) {
    fail(path, "truncated data: the shape needs " + std::to_string(a.nbytes) + " bytes, the file holds " +
                   std::to_string(size - data_start) + " after the header");
  }
  a.data = base + data_start;
  a.mapping = std::move(file);
  return a;
}

NpyArray read_npy(const std::string& path) { return parse_npy(io::MappedFile::open(path)); }

std::vector<int64_t> to_int64_vector(const NpyArray& a) {
  if (a.shape.size() != 1) {
    fail(a.path, "expected a 1-D array, found " + std::to_string(a.shape.size()) + " dimensions");
  }
  const int64_t n = a.numel();
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (a.dtype == NpyDType::U64) {
      uint64_t v;
      std::memcpy(&v, a.data + static_cast<uint64_t>(i) * 8, 8);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail(a.path, "value " + std::to_string(v) + " at index " + std::to_string(i) + " exceeds the int64 range");
      }
    }
    out[static_cast<size_t>(i)] = a.element(i);
  }
  return out;
}

}  // namespace trm::data
