#include "safetensors.h"

#include <algorithm>
#include <set>

#include "../errors.h"
#include "json.h"
#include "utf8.h"

namespace trm::io {

namespace {

constexpr uint64_t kMaxHeader = 100'000'000;  // same limit as the reference (Rust) implementation

struct DTypeTag {
  const char* tag;
  DType dtype;
};
constexpr DTypeTag kTags[] = {
    {"F32", DType::F32}, {"F64", DType::F64}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I64", DType::I64},
    {"I32", DType::I32}, {"I16", DType::I16}, {"I8", DType::I8},   {"U8", DType::U8},     {"BOOL", DType::Bool},
};

const char* tag_of(DType d) {
  for (const auto& t : kTags) {
    if (t.dtype == d) return t.tag;
  }
  return "F32";
}

std::string shape_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

/** Row-major strides, as torch computes them for a contiguous tensor. */
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> stride(shape.size(), 1);
  for (size_t k = shape.size(); k-- > 1;) stride[k - 1] = stride[k] * std::max<int64_t>(shape[k], 1);
  return stride;
}

/** numel * dtype_size and the contiguous span, or false if a dimension is negative or anything overflows. */
bool byte_size(const std::vector<int64_t>& shape, DType dtype, uint64_t* nbytes) {
  uint64_t numel = 1, span = 1;
  for (int64_t d : shape) {
    if (d < 0) return false;
    numel *= static_cast<uint64_t>(d);  // <= span
    if (__builtin_mul_overflow(span, static_cast<uint64_t>(std::max<int64_t>(d, 1)), &span) || span > uint64_t{INT64_MAX}) {
      return false;
    }
  }
  return !__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(dtype)), nbytes);
}

[[noreturn]] void bad_file(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::CheckpointFormat, printable("'" + path + "' is not a valid safetensors file: " + what));
}

[[noreturn]] void bad_arg(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::InvalidArgument, printable("writing '" + path + "': " + what));
}

struct Entry {
  RawTensor tensor;
  uint64_t begin = 0, end = 0;
  size_t order = 0;  // position in the header, to keep zero-size tensors in a stable order
};

}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  const uint64_t size = file->size();
  if (size < 8) bad_file(path, "file of " + std::to_string(size) + " bytes is too small (expected an 8-byte header length)");
  const uint8_t* d = file->data();
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | d[k];
  if (n > size - 8) {
    bad_file(path, "header length " + std::to_string(n) + " exceeds the " + std::to_string(size - 8) + " bytes after it (truncated file?)");
  }
  if (n > kMaxHeader) bad_file(path, "header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n == 0 || d[8] != '{') bad_file(path, "header does not start with '{'");

  Json root;
  std::string err;
  if (!parse_json(reinterpret_cast<const char*>(d + 8), static_cast<size_t>(n), &root, &err)) {
    bad_file(path, "header is not valid JSON: " + err);
  }
  if (!root.is_object()) bad_file(path, "header is not a JSON object");

  const uint8_t* buffer = d + 8 + n;
  const uint64_t buffer_size = size - 8 - n;
  SafetensorsFile out;
  std::vector<Entry> entries;
  // The parser refuses a key that appears twice, so names are unique here.
  for (const auto& [name, info] : root.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) bad_file(path, "'__metadata__' is " + std::string(json_kind(info)) + ", expected an object");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) bad_file(path, "'__metadata__' value of '" + k + "' is " + json_kind(v) + ", expected a string");
        out.metadata.emplace(k, v.get<std::string>());
      }
      continue;
    }
    const std::string who = "tensor '" + name + "'";
    if (!info.is_object()) bad_file(path, who + " is described by " + json_kind(info) + ", expected an object");
    if (!info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets")) {
      bad_file(path, who + " lacks dtype, shape or data_offsets");
    }
    const Json& dt = info.at("dtype");
    const Json& shape = info.at("shape");
    const Json& offsets = info.at("data_offsets");

    Entry e;
    e.order = entries.size();
    e.tensor.name = name;
    if (!dt.is_string()) bad_file(path, who + " dtype is " + json_kind(dt) + ", expected a string");
    const auto& tag = dt.get_ref<const std::string&>();
    bool known = false;
    for (const auto& t : kTags) {
      if (tag == t.tag) {
        e.tensor.dtype = t.dtype;
        known = true;
      }
    }
    if (!known) bad_file(path, who + " has unsupported dtype '" + tag + "' (expected F32, F64, F16, BF16, I64, I32, I16, I8, U8 or BOOL)");

    if (!shape.is_array()) bad_file(path, who + " shape is " + json_kind(shape) + ", expected an array");
    for (const Json& x : shape) {
      if (!x.is_number_unsigned() || x.get<uint64_t>() > uint64_t{INT64_MAX}) {
        bad_file(path, who + " shape holds '" + x.dump() + "', expected non-negative integers");
      }
      e.tensor.shape.push_back(static_cast<int64_t>(x.get<uint64_t>()));
    }
    uint64_t nbytes;
    if (!byte_size(e.tensor.shape, e.tensor.dtype, &nbytes)) bad_file(path, who + " shape " + shape_text(e.tensor.shape) + " is too large");

    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      bad_file(path, who + " data_offsets must be [begin, end] with non-negative integers");
    }
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    if (e.begin > e.end || e.end > buffer_size) {
      bad_file(path, who + " data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] lie outside the " +
                         std::to_string(buffer_size) + "-byte data buffer");
    }
    if (e.end - e.begin != nbytes) {
      bad_file(path, who + " has " + std::to_string(e.end - e.begin) + " bytes but shape " + shape_text(e.tensor.shape) + " of " + tag +
                         " needs " + std::to_string(nbytes));
    }
    e.tensor.strides = contiguous_strides(e.tensor.shape);
    e.tensor.storage = buffer + e.begin;
    e.tensor.storage_nbytes = nbytes;
    e.tensor.file = file;
    entries.push_back(std::move(e));
  }

  // The tensors must tile the buffer exactly, as the format requires.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end < b.end;
    return a.order < b.order;
  });
  uint64_t cursor = 0;
  for (const Entry& e : entries) {
    if (e.begin != cursor) {
      bad_file(path, "tensor '" + e.tensor.name + "' starts at " + std::to_string(e.begin) + " but the previous one ends at " +
                         std::to_string(cursor) + " (gap or overlap)");
    }
    cursor = e.end;
  }
  if (cursor != buffer_size) {
    bad_file(path, "tensors cover " + std::to_string(cursor) + " bytes of the " + std::to_string(buffer_size) + "-byte data buffer");
  }
  for (Entry& e : entries) out.tensors.push_back(std::move(e.tensor));
  return out;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!valid_utf8(k.data(), k.size()) || !valid_utf8(v.data(), v.size())) {
        bad_arg(path, "metadata entry '" + k + "' is not valid UTF-8");
      }
      if (!first) header += ',';
      first = false;
      header += json_quoted(k) + ':' + json_quoted(v);
    }
    header += "}";
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    const std::string who = "tensor '" + t.name + "'";
    if (t.name == "__metadata__") bad_arg(path, "'__metadata__' is reserved and cannot name a tensor");
    if (!names.insert(t.name).second) bad_arg(path, who + " appears twice");
    if (!valid_utf8(t.name.data(), t.name.size())) bad_arg(path, who + " has a name that is not valid UTF-8");
    uint64_t nbytes;
    if (!byte_size(t.shape, t.dtype, &nbytes)) bad_arg(path, who + " has an invalid shape " + shape_text(t.shape));
    if (nbytes != t.nbytes) {
      bad_arg(path, who + ": shape " + shape_text(t.shape) + " of " + dtype_name(t.dtype) + " needs " + std::to_string(nbytes) +
                        " bytes, got nbytes = " + std::to_string(t.nbytes));
    }
    if (t.data == nullptr && t.nbytes > 0) bad_arg(path, who + " has null data");
    if (header.size() > 1) header += ',';
    header += json_quoted(t.name);
    header += ":{\"dtype\":\"";
    header += tag_of(t.dtype);
    header += "\",\"shape\":[";
    for (size_t k = 0; k < t.shape.size(); ++k) header += (k ? "," : "") + std::to_string(t.shape[k]);
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
    offset += nbytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');

  write_file_atomic(path, [&](std::FILE* f) {
    uint8_t len[8];
    for (int k = 0; k < 8; ++k) len[k] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * k));
    write_all(f, len, 8, path);
    write_all(f, header.data(), header.size(), path);
    for (const TensorToWrite& t : tensors) write_all(f, t.data, t.nbytes, path);
  });
}

}  // namespace trm::io
