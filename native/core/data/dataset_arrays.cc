#include "dataset_arrays.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "dataset_files.h"

namespace trm::data::detail {

namespace {

/** Checks a CSR offset array: starts at 0, ends at `last`, never decreases (strictly increases if `strict`). */
void check_csr(const std::vector<int64_t>& idx, int64_t last, bool strict, const std::string& file, const std::string& what) {
  if (idx.empty()) data_error(file, "empty; expected " + what + " offsets with at least one entry (0)");
  if (idx.front() != 0) data_error(file, "must start with 0, found " + std::to_string(idx.front()));
  for (size_t i = 1; i < idx.size(); ++i) {
    if (idx[i] < idx[i - 1] || (strict && idx[i] == idx[i - 1])) {
      const char* rule = strict ? "strictly increase (every group needs a puzzle)" : "not decrease";
      data_error(file, std::string("offsets must ") + rule + ", but entry " + std::to_string(i) + " is " + std::to_string(idx[i]) +
                           " after " + std::to_string(idx[i - 1]));
    }
  }
  if (idx.back() != last) {
    data_error(file, "last offset is " + std::to_string(idx.back()) + " but there are " + std::to_string(last) + " " + what);
  }
}

/** The first element of `a` outside [0, hi) that is not `allowed`, as (flat index, value); none if all fit. */
template <typename T>
std::optional<std::pair<int64_t, int64_t>> first_outside(const data::NpyArray& a, int64_t hi, const std::optional<int64_t>& allowed) {
  using V = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;
  auto in_range = [&](V v) {
    if constexpr (std::is_signed_v<V>) {
      return static_cast<int64_t>(v) >= 0 && static_cast<int64_t>(v) < hi;
    } else {
      return static_cast<uint64_t>(v) < static_cast<uint64_t>(hi);
    }
  };
  // A min/max pass over chunks (the mapping need not be aligned for V) settles the common case; the
  // element search runs only when something lies outside.
  const int64_t n = a.numel();
  constexpr int64_t kChunk = 4096;
  std::vector<V> buf(kChunk);
  bool all_in = true;
  for (int64_t start = 0; start < n && all_in; start += kChunk) {
    const int64_t m = std::min(kChunk, n - start);
    std::memcpy(buf.data(), a.data + static_cast<uint64_t>(start) * sizeof(V), static_cast<size_t>(m) * sizeof(V));
    const auto [mn, mx] = std::minmax_element(buf.begin(), buf.begin() + m);
    all_in = in_range(*mn) && in_range(*mx);
  }
  if (all_in) return std::nullopt;
  for (int64_t i = 0; i < n; ++i) {
    V v;
    std::memcpy(&v, a.data + static_cast<uint64_t>(i) * sizeof(V), sizeof(V));
    if (!in_range(v) && !(allowed && static_cast<int64_t>(v) == *allowed)) return std::make_pair(i, static_cast<int64_t>(v));
  }
  return std::nullopt;
}

/**
 * Every token of an inputs or labels array must lie in [0, vocab_size) (labels may also hold
 * ignore_label_id), so the trainer never checks a batch's values on the device, step after step.
 * Checked once, when the set is loaded: one pass over the mapped bytes.
 */
void check_tokens(const data::NpyArray& a, const PuzzleDatasetMetadata& m, const std::optional<int64_t>& allowed) {
  std::optional<std::pair<int64_t, int64_t>> bad;
  switch (a.dtype) {
    case data::NpyDType::U8: bad = first_outside<uint8_t>(a, m.vocab_size, allowed); break;
    case data::NpyDType::I8: bad = first_outside<int8_t>(a, m.vocab_size, allowed); break;
    case data::NpyDType::Bool: bad = first_outside<bool>(a, m.vocab_size, allowed); break;
    case data::NpyDType::I16: bad = first_outside<int16_t>(a, m.vocab_size, allowed); break;
    case data::NpyDType::U16: bad = first_outside<uint16_t>(a, m.vocab_size, allowed); break;
    case data::NpyDType::I32: bad = first_outside<int32_t>(a, m.vocab_size, allowed); break;
    case data::NpyDType::U32: bad = first_outside<uint32_t>(a, m.vocab_size, allowed); break;
    case data::NpyDType::I64: bad = first_outside<int64_t>(a, m.vocab_size, allowed); break;
    case data::NpyDType::U64: bad = first_outside<uint64_t>(a, m.vocab_size, allowed); break;
  }
  if (!bad) return;
  const int64_t S = a.shape.size() > 1 ? a.shape[1] : 1;
  throw Error(ErrorCode::TokenRange, "invalid dataset file '" + a.path + "': row " + std::to_string(bad->first / S) + " holds token " +
                                         std::to_string(bad->second) + ", outside [0, vocab_size = " + std::to_string(m.vocab_size) + ")" +
                                         (allowed ? " and not ignore_label_id = " + std::to_string(*allowed) : "") + " from dataset.json");
}

}  // namespace

SetData load_set(const std::string& dir, const std::string& set, const std::string& loader_name, const PuzzleDatasetMetadata& m,
                 int64_t id_offset) {
  auto file = [&](const char* field) { return join_path(dir, set + "__" + field + ".npy"); };
  SetData s;
  s.name = loader_name;
  s.inputs = data::read_npy(file("inputs"));
  s.labels = data::read_npy(file("labels"));
  const auto ids_npy = data::read_npy(file("puzzle_identifiers"));
  const auto ids = data::to_int64_vector(ids_npy);
  s.puzzle_indices = data::to_int64_vector(data::read_npy(file("puzzle_indices")));
  s.group_indices = data::to_int64_vector(data::read_npy(file("group_indices")));

  if (s.inputs.shape.size() != 2 || s.inputs.shape[1] != m.seq_len) {
    data_error(s.inputs.path, "expected shape [examples, seq_len = " + std::to_string(m.seq_len) + "] from dataset.json");
  }
  if (s.labels.shape != s.inputs.shape) {
    data_error(s.labels.path,
               "labels must have the shape of inputs [" + std::to_string(s.inputs.shape[0]) + ", " + std::to_string(m.seq_len) + "]");
  }
  const int64_t puzzles = static_cast<int64_t>(ids.size());
  if (static_cast<int64_t>(s.puzzle_indices.size()) != puzzles + 1) {
    data_error(file("puzzle_indices"),
               "expected " + std::to_string(puzzles + 1) + " entries (puzzles + 1), found " + std::to_string(s.puzzle_indices.size()));
  }
  check_tokens(s.inputs, m, std::nullopt);
  check_tokens(s.labels, m, m.ignore_label_id);
  check_csr(s.puzzle_indices, s.examples(), false, file("puzzle_indices"), "examples");
  check_csr(s.group_indices, puzzles, true, file("group_indices"), "puzzles");

  s.puzzle_identifiers.resize(ids.size());
  for (size_t p = 0; p < ids.size(); ++p) {
    if (ids[p] < 0 || ids[p] >= m.num_puzzle_identifiers) {
      data_error(ids_npy.path, "puzzle " + std::to_string(p) + " has identifier " + std::to_string(ids[p]) +
                                   ", outside [0, num_puzzle_identifiers = " + std::to_string(m.num_puzzle_identifiers) + ")");
    }
    s.puzzle_identifiers[p] = static_cast<int32_t>(ids[p] + id_offset);
  }
  return s;
}

}  // namespace trm::data::detail
