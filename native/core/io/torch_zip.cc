// torch.save zip checkpoints (docs/algorithm.md §7.3, 7.5). Layout written by torch.save (torch/serialization.py _save and
// caffe2/serialize/inline_container.cc):
//   <archive>/data.pkl      pickle of the top-level object; tensors refer to storages by persistent id
//   <archive>/byteorder     "little" or "big" (absent in older files: little)
//   <archive>/data/<key>    raw storage bytes, STORED, data start aligned to 64 bytes by an 'FB' extra field
//   <archive>/version       "3\n"
// plus optional .format_version, .storage_alignment and .data/serialization_id records, which we ignore.
// Everything in the file is untrusted: all offsets are bounds-checked against the mapping.
//
// The container is zip_reader / zip_writer and data.pkl is unpickler / pickler; this file holds what is
// torch's own: the records above, the archive folder name, checking the tensors to write, and turning the
// pickled tensor views into bounds-checked RawTensors.

#include "torch_zip.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "../errors.h"
#include "crc32.h"
#include "utf8.h"
#include "little_endian.h"
#include "pickler.h"
#include "unpickler.h"
#include "zip_format.h"
#include "zip_reader.h"
#include "zip_writer.h"

namespace trm::io {

namespace {

using detail::crc32_update;
using detail::kind_text;
using detail::kLocalSig;
using detail::pickle_state_dict;
using detail::PickleKind;
using detail::PickleValue;
using detail::read_le32;
using detail::StorageRef;
using detail::TensorDesc;
using detail::Unpickler;
using detail::ZipReader;
using detail::ZipRecord;
using detail::ZipWriter;

/** Number of elements a storage needs so that every element of the view lies inside; false on overflow. */
bool view_extent(const TensorDesc& t, uint64_t* needed) {
  if (t.offset < 0 || t.size.size() != t.stride.size()) return false;
  int64_t max_index = t.offset;
  for (size_t k = 0; k < t.size.size(); ++k) {
    if (t.size[k] < 0 || t.stride[k] < 0) return false;
    if (t.size[k] == 0) {
      *needed = 0;  // an empty tensor touches no storage
      return true;
    }
  }
  for (size_t k = 0; k < t.size.size(); ++k) {
    int64_t step;
    if (__builtin_mul_overflow(t.size[k] - 1, t.stride[k], &step) || __builtin_add_overflow(max_index, step, &max_index)) {
      return false;
    }
  }
  *needed = static_cast<uint64_t>(max_index) + 1;
  return true;
}

std::string shape_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

/** torch's rule (inline_container.cc basename): the file name without directories and its last extension. */
std::string archive_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = base.find_last_of('.');
  if (dot != std::string::npos) base.resize(dot);
  // torch refuses such names; we fall back to the name torch uses for in-memory buffers.
  if (base.empty() || !valid_utf8(base.data(), base.size())) base = "archive";
  return base;
}

void check_tensors(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  std::set<std::string> seen;
  for (const TensorToWrite& t : tensors) {
    const std::string who = "writing '" + path + "': tensor '" + printable(t.name) + "'";
    if (!seen.insert(t.name).second) throw Error(ErrorCode::InvalidArgument, who + " appears twice");
    if (!valid_utf8(t.name.data(), t.name.size())) {
      throw Error(ErrorCode::InvalidArgument, who + " has a name that is not valid UTF-8");
    }
    uint64_t numel = 1, span = 1;  // span: product of max(d, 1), the largest contiguous stride
    for (int64_t d : t.shape) {
      if (d < 0) throw Error(ErrorCode::InvalidArgument, who + " has a negative dimension in " + shape_text(t.shape));
      numel *= static_cast<uint64_t>(d);  // <= span, which is checked
      if (__builtin_mul_overflow(span, static_cast<uint64_t>(std::max<int64_t>(d, 1)), &span) || span > uint64_t{INT64_MAX}) {
        throw Error(ErrorCode::InvalidArgument, who + " has too many elements: " + shape_text(t.shape));
      }
    }
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(t.dtype)), &nbytes) || nbytes != t.nbytes) {
      throw Error(ErrorCode::InvalidArgument, who + ": shape " + shape_text(t.shape) + " of " + dtype_name(t.dtype) + " needs " +
                                                  std::to_string(numel * dtype_size(t.dtype)) +
                                                  " bytes, got nbytes = " + std::to_string(t.nbytes));
    }
    if (t.data == nullptr && t.nbytes > 0) throw Error(ErrorCode::InvalidArgument, who + " has null data");
  }
}

void write_torch_zip_impl(const std::string& path, const std::vector<TensorToWrite>& tensors, bool force_zip64) {
  check_tensors(path, tensors);
  const std::string pkl = pickle_state_dict(tensors);
  const std::string prefix = archive_name(path) + "/";
  write_file_atomic(path, [&](std::FILE* f) {
    ZipWriter zip(f, path, force_zip64);
    zip.add(prefix + "data.pkl", pkl.data(), pkl.size());
    zip.add(prefix + "byteorder", "little", 6);
    for (size_t i = 0; i < tensors.size(); ++i) {
      zip.add(prefix + "data/" + std::to_string(i), tensors[i].data, tensors[i].nbytes);
    }
    zip.add(prefix + "version", "3\n", 2);
    zip.finish();
  });
}

}  // namespace

// -------------------------------------------------------------------------------------------------------------

std::vector<RawTensor> read_torch_zip(const std::string& path, bool verify_crc32) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  ZipReader zip(*file);
  const uint8_t* d = file->data();
  if (file->size() < 22) {
    zip.fail("file of " + std::to_string(file->size()) + " bytes is too small for a zip archive (truncated?)");
  }
  if (d[0] == 0x80 && d[1] >= 2 && d[1] <= 5) {
    zip.fail(
        "it is a legacy (pre-zip) torch.save file; re-save it with torch >= 1.6 "
        "(_use_new_zipfile_serialization=True, the default)");
  }
  if (read_le32(d) != kLocalSig) zip.fail("no zip signature 'PK\\3\\4' at offset 0");

  std::vector<ZipRecord> records = zip.directory();
  // torch takes the archive folder from the first record (PyTorchStreamReader::init).
  const size_t slash = records[0].name.find('/');
  if (slash == std::string::npos) zip.fail("first record '" + records[0].name + "' is not inside an archive folder");
  const std::string prefix = records[0].name.substr(0, slash + 1);
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].name.compare(0, prefix.size(), prefix) != 0) continue;
    if (!by_name.emplace(records[i].name.substr(prefix.size()), i).second) {
      zip.fail("record '" + records[i].name + "' appears twice");
    }
  }
  std::set<size_t> verified;
  auto record = [&](const std::string& name) -> ZipRecord* {
    auto it = by_name.find(name);
    if (it == by_name.end()) return nullptr;
    ZipRecord* r = &records[it->second];
    if (r->data == nullptr) zip.locate_data(r);
    if (verify_crc32 && r->crc != 0 && verified.insert(it->second).second) {
      const uint32_t crc = crc32_update(0, r->data, r->size);
      if (crc != r->crc) {
        zip.fail("CRC-32 of '" + r->name + "' is " + std::to_string(crc) + ", the directory says " + std::to_string(r->crc) +
                 " (file corrupt)");
      }
    }
    return r;
  };

  if (const ZipRecord* bo = record("byteorder")) {
    const std::string order(reinterpret_cast<const char*>(bo->data), static_cast<size_t>(bo->size));
    if (order == "big") zip.fail("it was saved on a big-endian machine (byteorder 'big'); only little-endian files are supported");
    if (order != "little") zip.fail("byteorder record is '" + order + "', expected 'little'");
  }
  const ZipRecord* pkl = record("data.pkl");
  if (pkl == nullptr) {
    zip.fail("record '" + prefix + "data.pkl' is missing" +
             (by_name.count("constants.pkl") ? " (this looks like a TorchScript archive, torch.jit.save)" : ""));
  }

  Unpickler up(pkl->data, pkl->size, "'" + path + "': " + prefix + "data.pkl");
  const PickleValue root = up.run();
  if (root.kind != PickleKind::Dict) {
    up.fail(std::string("expected the top-level object to be a dict or OrderedDict of name -> tensor, found ") + kind_text(root.kind));
  }

  // Storage bytes, shared by every tensor that views the same storage.
  std::vector<const ZipRecord*> storage_records;
  for (const StorageRef& s : up.storages()) {
    const ZipRecord* r = record("data/" + s.key);
    if (r == nullptr) zip.fail("storage record '" + prefix + "data/" + s.key + "' is missing");
    uint64_t nbytes;
    if (__builtin_mul_overflow(s.numel, static_cast<uint64_t>(dtype_size(s.dtype)), &nbytes) || nbytes != r->size) {
      zip.fail("storage '" + r->name + "' holds " + std::to_string(r->size) + " bytes but the pickle declares " + std::to_string(s.numel) +
               " " + dtype_name(s.dtype) + " elements");
    }
    storage_records.push_back(r);
  }

  std::vector<RawTensor> out;
  std::set<std::string> names;
  for (const auto& [k, v] : up.dict(root)) {
    if (k.kind != PickleKind::Str) {
      up.fail(std::string("expected string keys in the top-level dict, found ") + kind_text(k.kind));
    }
    const std::string& name = up.str(k);
    if (v.kind != PickleKind::Tensor) {
      up.fail("expected a flat dict of name -> tensor, but '" + name + "' holds " + kind_text(v.kind) +
              (v.kind == PickleKind::Dict ? " (save model.state_dict() itself, not a dict that contains it)" : ""));
    }
    if (!names.insert(name).second) up.fail("key '" + name + "' appears twice in the top-level dict");
    const TensorDesc& t = up.tensor(v);
    const StorageRef& s = up.storages()[t.storage];
    uint64_t needed = 0;
    if (!view_extent(t, &needed) || needed > s.numel) {
      up.fail("tensor '" + name + "' (size " + shape_text(t.size) + ", stride " + shape_text(t.stride) + ", offset " +
              std::to_string(t.offset) + ") does not fit in its storage of " + std::to_string(s.numel) + " elements");
    }
    RawTensor r;
    r.name = name;
    r.dtype = s.dtype;
    r.shape = t.size;
    r.strides = t.stride;
    r.storage_offset = t.offset;
    r.storage = storage_records[t.storage]->data;
    r.storage_nbytes = storage_records[t.storage]->size;
    r.file = file;
    out.push_back(std::move(r));
  }
  return out;
}

void write_torch_zip(const std::string& path, const std::vector<TensorToWrite>& tensors) { write_torch_zip_impl(path, tensors, false); }

namespace detail {
void write_torch_zip_forcing_zip64(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  write_torch_zip_impl(path, tensors, true);
}
}  // namespace detail

}  // namespace trm::io
