#include "checkpoint.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cstring>
#include <set>

#include "errors.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "io/torch_zip.h"

namespace trm {

namespace {

at::ScalarType scalar_type_of(io::DType d) {
  switch (d) {
    case io::DType::F32: return at::kFloat;
    case io::DType::F64: return at::kDouble;
    case io::DType::F16: return at::kHalf;
    case io::DType::BF16: return at::kBFloat16;
    case io::DType::I64: return at::kLong;
    case io::DType::I32: return at::kInt;
    case io::DType::I16: return at::kShort;
    case io::DType::I8: return at::kChar;
    case io::DType::U8: return at::kByte;
    case io::DType::Bool: return at::kBool;
  }
  return at::kFloat;
}

io::DType io_dtype_of(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return io::DType::F32;
    case at::kDouble: return io::DType::F64;
    case at::kHalf: return io::DType::F16;
    case at::kBFloat16: return io::DType::BF16;
    case at::kLong: return io::DType::I64;
    case at::kInt: return io::DType::I32;
    case at::kShort: return io::DType::I16;
    case at::kChar: return io::DType::I8;
    case at::kByte: return io::DType::U8;
    case at::kBool: return io::DType::Bool;
    default: throw Error(ErrorCode::DType, std::string("cannot save tensors of dtype ") + c10::toString(t));
  }
}

}  // namespace

at::Tensor tensor_from_raw(const io::RawTensor& r) {
  const auto st = scalar_type_of(r.dtype);
  const auto esize = io::dtype_size(r.dtype);
  auto* base = const_cast<uint8_t*>(r.storage);
  const int64_t numel_storage = static_cast<int64_t>(r.storage_nbytes / esize);
  at::Tensor storage;
  if (reinterpret_cast<uintptr_t>(base) % esize == 0) {
    storage = at::from_blob(base, {numel_storage}, at::TensorOptions().dtype(st));
  } else {
    storage = at::empty({numel_storage}, at::TensorOptions().dtype(st));
    std::memcpy(storage.data_ptr(), base, static_cast<size_t>(numel_storage) * esize);
  }
  return storage.as_strided(r.shape, r.strides, r.storage_offset);
}

namespace {

std::string shape_str(at::IntArrayRef s) { return c10::str(s); }

constexpr const char* kPuzzleTable = "puzzle_emb.weights";

/** The average puzzle embedding [1, D]: where a puzzle the table does not know starts (pretrain.py load_checkpoint). */
at::Tensor mean_row(const at::Tensor& table) { return table.to(at::kFloat).mean(0, /*keepdim=*/true); }

}  // namespace

std::string canonical_name(const std::string& name) {
  std::string n = name;
  for (const char* prefix : {"_orig_mod.", "model.", "inner."}) {
    const size_t len = std::strlen(prefix);
    if (n.compare(0, len, prefix) == 0) n = n.substr(len);
  }
  return n;
}

std::vector<io::RawTensor> read_checkpoint_tensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  auto file = io::MappedFile::open(path);
  const bool is_zip = file->size() >= 4 && std::memcmp(file->data(), "PK\x03\x04", 4) == 0;
  if (is_zip) return io::read_torch_zip(path);
  auto st = io::read_safetensors(path);
  if (metadata) *metadata = st.metadata;
  return st.tensors;
}

LoadReport load_state(ACTModel& model, const std::vector<io::RawTensor>& tensors, const LoadOptions& opts) {
  auto& ps = model.inner().params();
  LoadReport report;
  std::set<std::string> seen;
  std::vector<std::pair<NamedTensor*, at::Tensor>> assignments;
  std::vector<std::string> shape_errors, dtype_errors, non_finite;
  for (const auto& raw : tensors) {
    const auto name = canonical_name(raw.name);
    if (!seen.insert(name).second)
      throw Error(ErrorCode::CheckpointKey, "checkpoint holds two tensors for " + name + " (with and without a prefix)");
    auto* entry = ps.find(name);
    if (!entry) {
      report.unexpected.push_back(raw.name);
      continue;
    }
    auto src = tensor_from_raw(raw);
    const auto kind = [](at::ScalarType t) { return at::isFloatingType(t) ? "floating" : t == at::kBool ? "bool" : "integer"; };
    if (std::string(kind(src.scalar_type())) != kind(entry->tensor.scalar_type())) {
      // A float tensor read as int32 (or the reverse) would be converted value by value into nonsense.
      dtype_errors.push_back(name + ": checkpoint " + c10::toString(src.scalar_type()) + ", model " +
                             c10::toString(entry->tensor.scalar_type()));
      continue;
    }
    const auto expected = entry->tensor.sizes();
    if (!src.sizes().equals(expected)) {
      const bool resizable = name == kPuzzleTable && opts.resize_puzzle_to_mean && src.dim() == 2 && src.size(1) == expected[1];
      if (!resizable) {
        shape_errors.push_back(name + ": checkpoint " + shape_str(src.sizes()) + ", model " + shape_str(expected));
        continue;
      }
      // §7.3: every puzzle starts from the average embedding of the checkpoint's table.
      src = mean_row(src).expand(expected);
      report.puzzle_table_resized = true;
    }
    if (at::isFloatingType(src.scalar_type()) && !opts.allow_non_finite) {
      const int64_t bad = src.numel() - at::isfinite(src).sum().item<int64_t>();
      if (bad > 0) non_finite.push_back(name + " (" + std::to_string(bad) + " of " + std::to_string(src.numel()) + " values)");
    }
    assignments.emplace_back(entry, src);
  }
  if (!dtype_errors.empty()) {
    std::string list;
    for (const auto& s : dtype_errors) list += "\n  " + s;
    throw Error(ErrorCode::DType, "checkpoint tensors have the wrong kind of dtype:" + list);
  }
  if (!non_finite.empty()) {
    std::string list;
    for (const auto& s : non_finite) list += "\n  " + s;
    throw Error(ErrorCode::CheckpointFormat, "checkpoint tensors hold NaN or infinite values (a diverged run?):" + list +
                                                 "\n(load it anyway with { allowNonFinite: true })");
  }
  for (const auto& e : ps.entries())
    if (!seen.count(e.name)) report.missing.push_back(e.name);

  std::string problems;
  for (const auto& s : shape_errors) problems += "\n  shape mismatch: " + s;
  if (opts.strict) {
    for (const auto& s : report.missing) problems += "\n  missing: " + s;
    for (const auto& s : report.unexpected) problems += "\n  unexpected: " + s;
  }
  if (!problems.empty())
    throw Error(ErrorCode::CheckpointKey, "checkpoint does not match the model architecture:" + problems +
                                              "\n(check the config the model was built from, e.g. all_config.yaml beside the checkpoint)");
  c10::NoGradGuard no_grad;
  for (auto& [entry, src] : assignments) entry->tensor.copy_(src);
  return report;
}

void copy_state_growing_puzzles(const ACTModel& src, ACTModel& dst) {
  const auto& from = src.inner().params();
  auto& to = dst.inner().params();
  if (from.entries().size() != to.entries().size())
    throw Error(ErrorCode::Config, "cannot copy a model into one of another architecture (" + std::to_string(from.entries().size()) +
                                       " tensors into " + std::to_string(to.entries().size()) + ")");
  c10::NoGradGuard no_grad;
  for (auto& e : to.entries()) {
    const auto* s = from.find(e.name);
    if (!s) throw Error(ErrorCode::Config, "cannot copy a model into one of another architecture (it has no " + e.name + ")");
    const auto& t = s->tensor;
    if (e.name == kPuzzleTable && t.dim() == 2 && t.size(1) == e.tensor.size(1) && t.size(0) <= e.tensor.size(0)) {
      const int64_t old_rows = t.size(0);
      e.tensor.narrow(0, 0, old_rows).copy_(t);
      if (e.tensor.size(0) > old_rows) {
        auto fill = old_rows > 0 ? mean_row(t) : at::zeros({1, t.size(1)}, t.options().dtype(at::kFloat));
        e.tensor.narrow(0, old_rows, e.tensor.size(0) - old_rows).copy_(fill.expand({e.tensor.size(0) - old_rows, t.size(1)}));
      }
      continue;
    }
    if (!t.sizes().equals(e.tensor.sizes()))
      throw Error(ErrorCode::Shape, e.name + " has shape " + shape_str(t.sizes()) + " in the source model and " +
                                        shape_str(e.tensor.sizes()) + " in the copy");
    e.tensor.copy_(t);
  }
}

std::vector<io::TensorToWrite> tensors_to_write(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                                std::vector<at::Tensor>& keep) {
  std::vector<io::TensorToWrite> out;
  keep.reserve(keep.size() + tensors.size());
  for (const auto& [name, tensor] : tensors) {
    auto t = tensor.detach().to(at::kCPU).contiguous();
    keep.push_back(t);
    out.push_back({name, io_dtype_of(t.scalar_type()), t.sizes().vec(), t.data_ptr(), static_cast<uint64_t>(t.nbytes())});
  }
  return out;
}

namespace {

std::vector<io::TensorToWrite> to_write(const ACTModel& model, const std::string& prefix, std::vector<at::Tensor>& keep) {
  std::vector<std::pair<std::string, at::Tensor>> named;
  for (const auto& e : model.inner().params().entries()) named.emplace_back(prefix + e.name, e.tensor);
  return tensors_to_write(named, keep);
}

}  // namespace

void save_official(const ACTModel& model, const std::string& path) {
  std::vector<at::Tensor> keep;
  io::write_torch_zip(path, to_write(model, "_orig_mod.model.inner.", keep));
}

void save_safetensors(const ACTModel& model, const std::string& path, const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> keep;
  io::write_safetensors(path, to_write(model, "", keep), metadata);
}

}  // namespace trm
