#include "safetensors.h"

#include <algorithm>
#include <set>

#include "../errors.h"
#include "json_lite.h"

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
    if (__builtin_mul_overflow(span, static_cast<uint64_t>(std::max<int64_t>(d, 1)), &span) ||
        span > uint64_t{INT64_MAX}) {
      return false;
    }
  }
  return !__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(dtype)), nbytes);
}

[[noreturn]] void bad_file(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::CheckpointFormat, json::printable("'" + path + "' is not a valid safetensors file: " + what));
}

[[noreturn]] void bad_arg(const std::string& path, const std::string& what) {
  throw Error(ErrorCode::InvalidArgument, json::printable("writing '" + path + "': " + what));
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
    bad_file(path, "header length " + std::to_string(n) + " exceeds the " + std::to_string(size - 8) +
         " bytes after it (truncated file?)");
  }
  if (n > kMaxHeader) bad_file(path, "header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n == 0 || d[8] != '{') bad_file(path, "header does not start with '{'");

  json::Value root;
  std::string err;
  if (!json::parse(reinterpret_cast<const char*>(d + 8), static_cast<size_t>(n), &root, &err)) {
    bad_file(path, "header is not valid JSON: " + err);
  }
  if (root.kind != json::Value::Kind::Object) bad_file(path, "header is not a JSON object");

  const uint8_t* buffer = d + 8 + n;
  const uint64_t buffer_size = size - 8 - n;
  SafetensorsFile out;
  std::vector<Entry> entries;
  std::set<std::string> names;
  bool seen_metadata = false;
  for (const auto& [name, info] : root.members) {
    if (name == "__metadata__") {
      if (seen_metadata) bad_file(path, "'__metadata__' appears twice");
      seen_metadata = true;
      if (info.kind != json::Value::Kind::Object) bad_file(path, "'__metadata__' is " + std::string(json::kind_name(info.kind)) + ", expected an object");
      for (const auto& [k, v] : info.members) {
        if (v.kind != json::Value::Kind::String) {
          bad_file(path, "'__metadata__' value of '" + k + "' is " + json::kind_name(v.kind) + ", expected a string");
        }
        if (!out.metadata.emplace(k, v.text).second) bad_file(path, "'__metadata__' key '" + k + "' appears twice");
      }
      continue;
    }
    const std::string who = "tensor '" + name + "'";
    if (!names.insert(name).second) bad_file(path, who + " appears twice");
    if (info.kind != json::Value::Kind::Object) bad_file(path, who + " is described by " + json::kind_name(info.kind) + ", expected an object");
    const json::Value* dt = info.find("dtype");
    const json::Value* shape = info.find("shape");
    const json::Value* offsets = info.find("data_offsets");
    if (dt == nullptr || shape == nullptr || offsets == nullptr) bad_file(path, who + " lacks dtype, shape or data_offsets");

    Entry e;
    e.order = entries.size();
    e.tensor.name = name;
    if (dt->kind != json::Value::Kind::String) bad_file(path, who + " dtype is " + json::kind_name(dt->kind) + ", expected a string");
    bool known = false;
    for (const auto& t : kTags) {
      if (dt->text == t.tag) {
        e.tensor.dtype = t.dtype;
        known = true;
      }
    }
    if (!known) bad_file(path, who + " has unsupported dtype '" + dt->text + "' (expected F32, F64, F16, BF16, I64, I32, I16, I8, U8 or BOOL)");

    if (shape->kind != json::Value::Kind::Array) bad_file(path, who + " shape is " + json::kind_name(shape->kind) + ", expected an array");
    for (const json::Value& x : shape->items) {
      uint64_t dim;
      if (!x.as_uint64(&dim) || dim > uint64_t{INT64_MAX}) bad_file(path, who + " shape holds '" + x.text + "', expected non-negative integers");
      e.tensor.shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t nbytes;
    if (!byte_size(e.tensor.shape, e.tensor.dtype, &nbytes)) bad_file(path, who + " shape " + shape_text(e.tensor.shape) + " is too large");

    if (offsets->kind != json::Value::Kind::Array || offsets->items.size() != 2 ||
        !offsets->items[0].as_uint64(&e.begin) || !offsets->items[1].as_uint64(&e.end)) {
      bad_file(path, who + " data_offsets must be [begin, end] with non-negative integers");
    }
    if (e.begin > e.end || e.end > buffer_size) {
      bad_file(path, who + " data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] lie outside the " +
           std::to_string(buffer_size) + "-byte data buffer");
    }
    if (e.end - e.begin != nbytes) {
      bad_file(path, who + " has " + std::to_string(e.end - e.begin) + " bytes but shape " + shape_text(e.tensor.shape) + " of " +
           dt->text + " needs " + std::to_string(nbytes));
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
      if (!json::valid_utf8(k.data(), k.size()) || !json::valid_utf8(v.data(), v.size())) {
        bad_arg(path, "metadata entry '" + k + "' is not valid UTF-8");
      }
      if (!first) header += ',';
      first = false;
      json::append_quoted(&header, k);
      header += ':';
      json::append_quoted(&header, v);
    }
    header += "}";
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    const std::string who = "tensor '" + t.name + "'";
    if (t.name == "__metadata__") bad_arg(path, "'__metadata__' is reserved and cannot name a tensor");
    if (!names.insert(t.name).second) bad_arg(path, who + " appears twice");
    if (!json::valid_utf8(t.name.data(), t.name.size())) bad_arg(path, who + " has a name that is not valid UTF-8");
    uint64_t nbytes;
    if (!byte_size(t.shape, t.dtype, &nbytes)) bad_arg(path, who + " has an invalid shape " + shape_text(t.shape));
    if (nbytes != t.nbytes) {
      bad_arg(path, who + ": shape " + shape_text(t.shape) + " of " + dtype_name(t.dtype) + " needs " + std::to_string(nbytes) +
          " bytes, got nbytes = " + std::to_string(t.nbytes));
    }
    if (t.data == nullptr && t.nbytes > 0) bad_arg(path, who + " has null data");
    if (header.size() > 1) header += ',';
    json::append_quoted(&header, t.name);
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
