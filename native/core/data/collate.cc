#include "collate.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>

#include "../ignore_label.h"

namespace trm::data::detail {

namespace {

// Values were checked against vocab_size when the set loaded (dataset_arrays.cc), so they fit int32.
template <typename T, bool kMapIgnore>
void convert_row(const uint8_t* src, int32_t* dst, int64_t n, int64_t ignore) {
  for (int64_t i = 0; i < n; ++i) {
    // bool is read as its byte (np.bool_ astype(int32) maps any non-zero byte to 1).
    std::conditional_t<std::is_same_v<T, bool>, uint8_t, T> v;
    std::memcpy(&v, src + i * static_cast<int64_t>(sizeof(v)), sizeof(v));
    int32_t x;
    if constexpr (std::is_same_v<T, bool>) {
      x = v != 0 ? 1 : 0;
    } else {
      x = static_cast<int32_t>(v);
    }
    if constexpr (kMapIgnore) x = x == ignore ? kIgnoreLabel : x;
    dst[i] = x;
  }
}

template <typename T>
void convert_row(const uint8_t* src, int32_t* dst, int64_t n, const std::optional<int64_t>& ignore) {
  // Two instantiations keep the per-token loop free of the optional test (it vectorises for uint8).
  if (ignore) {
    convert_row<T, true>(src, dst, n, *ignore);
  } else {
    convert_row<T, false>(src, dst, n, 0);
  }
}

void copy_row(const data::NpyArray& a, int64_t row, int32_t* dst, const std::optional<int64_t>& ignore) {
  const int64_t n = a.shape[1];
  const uint8_t* src = a.data + static_cast<uint64_t>(row * n) * data::npy_dtype_size(a.dtype);
  switch (a.dtype) {
    case data::NpyDType::U8: return convert_row<uint8_t>(src, dst, n, ignore);
    case data::NpyDType::I8: return convert_row<int8_t>(src, dst, n, ignore);
    case data::NpyDType::Bool: return convert_row<bool>(src, dst, n, ignore);
    case data::NpyDType::I16: return convert_row<int16_t>(src, dst, n, ignore);
    case data::NpyDType::U16: return convert_row<uint16_t>(src, dst, n, ignore);
    case data::NpyDType::I32: return convert_row<int32_t>(src, dst, n, ignore);
    case data::NpyDType::U32: return convert_row<uint32_t>(src, dst, n, ignore);
    case data::NpyDType::I64: return convert_row<int64_t>(src, dst, n, ignore);
    case data::NpyDType::U64: return convert_row<uint64_t>(src, dst, n, ignore);
  }
}

}  // namespace

Batch collate(const SetData& set, const Plan& plan, const PuzzleDatasetMetadata& m, int64_t b, bool pinned) {
  const int64_t S = m.seq_len;
  const auto opts = at::TensorOptions().dtype(at::kInt).pinned_memory(pinned);
  Batch out;
  out.inputs = at::empty({b, S}, opts);
  out.labels = at::empty({b, S}, opts);
  out.puzzle_identifiers = at::empty({b}, opts);
  int32_t* in = out.inputs.data_ptr<int32_t>();
  int32_t* lab = out.labels.data_ptr<int32_t>();
  int32_t* ids = out.puzzle_identifiers.data_ptr<int32_t>();
  const int64_t n = static_cast<int64_t>(plan.rows.size());
  const std::optional<int64_t> no_ignore;
  for (int64_t i = 0; i < n; ++i) {
    copy_row(set.inputs, plan.rows[i], in + i * S, no_ignore);
    copy_row(set.labels, plan.rows[i], lab + i * S, m.ignore_label_id);
    ids[i] = set.puzzle_identifiers[static_cast<size_t>(plan.puzzles[i])];
  }
  // Padding rows (test windows shorter than b): pad_id / -100 / blank_identifier_id.
  std::fill(in + n * S, in + b * S, static_cast<int32_t>(m.pad_id));
  std::fill(lab + n * S, lab + b * S, kIgnoreLabel);
  std::fill(ids + n, ids + b, static_cast<int32_t>(m.blank_identifier_id));
  return out;
}

}  // namespace trm::data::detail
