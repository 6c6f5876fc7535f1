#include "dataset_arrays.h"

#include "dataset_files.h"

namespace trm::data::detail {

namespace {

/** Checks a CSR offset array: starts at 0, ends at `last`, never decreases (strictly increases if `strict`). */
void check_csr(const std::vector<int64_t>& idx, int64_t last, bool strict, const std::string& file,
               const std::string& what) {
  if (idx.empty()) data_error(file, "empty; expected " + what + " offsets with at least one entry (0)");
  if (idx.front() != 0) data_error(file, "must start with 0, found " + std::to_string(idx.front()));
  for (size_t i = 1; i < idx.size(); ++i) {
    if (idx[i] < idx[i - 1] || (strict && idx[i] == idx[i - 1])) {
      const char* rule = strict ? "strictly increase (every group needs a puzzle)" : "not decrease";
      data_error(file, std::string("offsets must ") + rule + ", but entry " + std::to_string(i) + " is " +
                           std::to_string(idx[i]) + " after " + std::to_string(idx[i - 1]));
    }
  }
  if (idx.back() != last) {
    data_error(file, "last offset is " + std::to_string(idx.back()) + " but there are " + std::to_string(last) + " " +
                         what);
  }
}

}  // namespace

SetData load_set(const std::string& dir, const std::string& set, const std::string& loader_name,
                 const PuzzleDatasetMetadata& m, int64_t id_offset) {
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
    data_error(s.inputs.path,
               "expected shape [examples, seq_len = " + std::to_string(m.seq_len) + "] from dataset.json");
  }
  if (s.labels.shape != s.inputs.shape) {
    data_error(s.labels.path, "labels must have the shape of inputs [" + std::to_string(s.inputs.shape[0]) + ", " +
                                  std::to_string(m.seq_len) + "]");
  }
  const int64_t puzzles = static_cast<int64_t>(ids.size());
  if (static_cast<int64_t>(s.puzzle_indices.size()) != puzzles + 1) {
    data_error(file("puzzle_indices"), "expected " + std::to_string(puzzles + 1) + " entries (puzzles + 1), found " +
                                           std::to_string(s.puzzle_indices.size()));
  }
  check_csr(s.puzzle_indices, s.examples(), false, file("puzzle_indices"), "examples");
  check_csr(s.group_indices, puzzles, true, file("group_indices"), "puzzles");

  s.puzzle_identifiers.resize(ids.size());
  for (size_t p = 0; p < ids.size(); ++p) {
    if (ids[p] < 0 || ids[p] >= m.num_puzzle_identifiers) {
      data_error(ids_npy.path, "puzzle " + std::to_string(p) + " has identifier " + std::to_string(ids[p]) +
                                   ", outside [0, num_puzzle_identifiers = " +
                                   std::to_string(m.num_puzzle_identifiers) + ")");
    }
    s.puzzle_identifiers[p] = static_cast<int32_t>(ids[p] + id_offset);
  }
  return s;
}

}  // namespace trm::data::detail
