// The trainer's batch sources over dataset folders: the native PuzzleDataset loader (docs/algorithm.md §5.8)
// behind the BatchSource interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch_source.h"

namespace trm {

/** Which data and how to walk it. */
struct DataSpec {
  std::vector<std::string> paths;
  bool test_mode = false;
  int64_t global_batch_size = 768;
  int64_t epochs_per_iter = 1;
  uint64_t seed = 0;
  int rank = 0;
  int world_size = 1;
  bool pin_memory = false;  // for a CUDA consumer: batches in page-locked memory
};

/** A BatchSource over the folders of `spec` (train or test split by test_mode). */
std::unique_ptr<BatchSource> make_dataset_source(const DataSpec& spec);

}  // namespace trm
