// Where the trainer's batches come from: the native dataset loader (data/puzzle_dataset.h) or an
// in-memory source for tests and small jobs. Both yield this rank's slice of one global batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../data/dataset_metadata.h"
#include "../models/inner.h"

namespace trm {

/** One yielded batch with the set it comes from and the global rows it stands for (docs/algorithm.md §5.8). */
struct SourcedBatch {
  Batch batch;
  std::string set_name;
  int64_t effective_global_batch = 0;
  int64_t rows = 0;               // this rank's real rows, a prefix of the batch (test windows pad the rest)
  int64_t path_index = 0;         // which dataset path the set belongs to
  int64_t identifier_offset = 0;  // added to that path's puzzle ids (PuzzleDatasetConfig)
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  /** Starts one iteration (train: epochs_per_iter epochs; test: one pass over the split). */
  virtual void begin_iteration() = 0;
  /** The next batch of this iteration, or false when it is over. */
  virtual bool next(SourcedBatch& out) = 0;
  /** The set names in evaluation order. */
  virtual std::vector<std::string> sets() const = 0;
  /** Examples of each set, in sets() order. */
  virtual std::vector<int64_t> set_examples() const = 0;
  /** dataset.json merged over the paths: the sizes a model must fit. */
  virtual const PuzzleDatasetMetadata& metadata() const = 0;
  /** The folders read, for messages. */
  virtual std::string describe() const = 0;
  /** int(epochs * total_groups * mean_puzzle_examples / global_batch) (docs/algorithm.md §3.5). */
  virtual int64_t total_steps(int64_t epochs) const = 0;
  /** Opaque position (iteration counter, cursor) for exact resume, and its restore. */
  virtual std::vector<int64_t> position() const = 0;
  virtual void restore(const std::vector<int64_t>& position) = 0;
};

}  // namespace trm
