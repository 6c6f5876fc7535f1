// dataset.json (§5.2): the public PuzzleDatasetMetadata, the reader of one path's file, and the agreement
// checks and merge over several dataset paths (§5.8). No ATen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace trm {

/** dataset.json (§5.2), merged over the dataset paths as §5.8 describes. */
struct PuzzleDatasetMetadata {
  int64_t pad_id = 0;
  std::optional<int64_t> ignore_label_id;  // nullopt = JSON null: labels are not remapped
  int64_t blank_identifier_id = 0;
  int64_t vocab_size = 0;
  int64_t seq_len = 0;
  int64_t num_puzzle_identifiers = 0;  // merged: the sum over paths
  int64_t total_groups = 0;            // merged: the sum
  double mean_puzzle_examples = 0;     // merged: weighted by total_puzzles
  int64_t total_puzzles = 0;           // merged: the sum; defaulted to the puzzle count when absent (HRM)
  std::vector<std::string> sets;       // as listed by the files (the loader's set names: set_names())
};

namespace data::detail {

/** One path's metadata as written; total_puzzles is absent in HRM files (§5.2) and defaulted later. */
struct FileMetadata {
  PuzzleDatasetMetadata m;
  bool has_total_puzzles = false;
};

/** Reads and checks one dataset.json; trm::Error(DataFormat) naming the file for bad content. */
FileMetadata read_metadata(const std::string& file);

/**
 * Checks that the metadata of every path agree where they must (§5.8) and returns each path's id offset
 * (all 0 when `offset_puzzle_identifiers` is false); `*total_identifiers` gets the sum of the
 * num_puzzle_identifiers. `dataset_paths` (parallel to `metas`) only name the paths in errors.
 */
std::vector<int64_t> identifier_offsets(const std::vector<FileMetadata>& metas, const std::vector<std::string>& dataset_paths,
                                        bool offset_puzzle_identifiers, int64_t* total_identifiers);

/**
 * The merged metadata (§5.8): the first path's, with ids and groups summed and the mean weighted by
 * total_puzzles. `path_puzzles[k]` (puzzles loaded from path k) stands in for an absent total_puzzles.
 */
PuzzleDatasetMetadata merge_metadata(const std::vector<FileMetadata>& metas, const std::vector<int64_t>& path_puzzles,
                                     int64_t total_identifiers);

}  // namespace data::detail
}  // namespace trm
