// The five arrays of one set (§5.3): inputs and labels memory-mapped, the index arrays in memory, checked
// (shapes, seq_len, CSR invariants, id ranges) when the set is loaded. No ATen.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataset_metadata.h"
#include "npy.h"

namespace trm::data::detail {

struct SetData {
  std::string name;                         // loader name (s, s1, s2, ...)
  data::NpyArray inputs;                    // [E, S], memory-mapped
  data::NpyArray labels;                    // [E, S], memory-mapped
  std::vector<int32_t> puzzle_identifiers;  // [P], offset already applied
  std::vector<int64_t> puzzle_indices;      // [P + 1]
  std::vector<int64_t> group_indices;       // [G + 1]
  int64_t examples() const { return inputs.shape.empty() ? 0 : inputs.shape[0]; }
  int64_t groups() const { return static_cast<int64_t>(group_indices.size()) - 1; }
};

/**
 * Loads set `set` from `dir` (`<dir>/<set>__<field>.npy`) under the loader name `loader_name`, checks it
 * against the path's metadata `m` and adds `id_offset` to its puzzle identifiers.
 */
SetData load_set(const std::string& dir, const std::string& set, const std::string& loader_name, const PuzzleDatasetMetadata& m,
                 int64_t id_offset);

}  // namespace trm::data::detail
