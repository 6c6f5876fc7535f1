// The seeded sampler of §5.8: which rows of which set make each local batch, for the train walk and the test
// windows. It only plans (no data is touched, no ATen); collate.h turns a plan into tensors.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "dataset_arrays.h"

namespace trm::data::detail {

/** The config fields the sampler reads (from PuzzleDatasetConfig; local_batch = global / num_replicas). */
struct SamplerSpec {
  int64_t seed = 0;
  int64_t global_batch_size = 0;
  int64_t local_batch = 0;
  int64_t rank = 0;
  int64_t epochs_per_iter = 1;
  bool test_set_mode = false;
};

// Portable randomness: std::mt19937_64 is specified bit for bit by the standard, the distributions are not
// (batch_sampler.cc holds the bounded-integer routine).
using Rng = std::mt19937_64;

// Sampling plans: which rows of a set make one local batch (no data is touched here).

struct Plan {
  std::vector<int64_t> rows;     // example rows of this rank, at most local_batch
  std::vector<int64_t> puzzles;  // the puzzle of each row
  int64_t effective = 0;         // yielded effective global batch size
};

/**
 * One set's train walk (§5.8 steps 2–4): group order = epochs_per_iter independent permutations (each drawn
 * when the walk reaches it; the stream is deterministic either way), one uniformly chosen puzzle per group,
 * its examples in random order, truncated at the batch end; a batch that cannot be filled ends the walk.
 */
class TrainWalk {
 public:
  TrainWalk(const SetData& set, uint64_t seed, int64_t epochs) : set_(&set), rng_(seed), epochs_left_(epochs) {}

  /** The next global batch into rows/puzzles (exactly `global` rows); false when only a partial one is left. */
  bool next_global(int64_t global, std::vector<int64_t>* rows, std::vector<int64_t>* puzzles);

 private:
  bool next_group(int64_t* g);

  const SetData* set_;
  Rng rng_;
  int64_t epochs_left_;
  std::vector<int64_t> perm_;
  size_t pos_ = 0;
  std::vector<int64_t> order_;
};

/**
 * The producer's cursor: where in an iteration the next batch comes from. Holds pointers to `sets` and
 * `spec`, which must outlive it (they may be filled after construction, before the first reset()).
 */
class Cursor {
 public:
  Cursor(const std::vector<SetData>& sets, const SamplerSpec& spec) : sets_(&sets), spec_(&spec) {}

  /** Positions at the start of iteration `iteration` (1-based; 0 = none). */
  void reset(int64_t iteration);
  int64_t iteration() const { return iteration_; }
  int64_t set_index() const { return set_index_; }
  int64_t batch_index() const { return batch_index_; }
  bool finished() const { return iteration_ == 0 || set_index_ >= static_cast<int64_t>(sets_->size()); }

  /** The next batch's rows; false at the end of the iteration. */
  bool next_plan(Plan* plan);

  /** Skips `n` batches of the current set; false if the set ends first. */
  bool skip_in_set(int64_t n);

  /** Moves to set `s` of the current iteration (train: replays nothing; the walk is re-seeded). */
  void seek_set(int64_t s);

  static int64_t test_windows(const SetData& s, int64_t global) { return (s.examples() + global - 1) / global; }

 private:
  void open_set();
  bool plan_in_set(Plan* plan);

  const std::vector<SetData>* sets_;
  const SamplerSpec* spec_;
  int64_t iteration_ = 0;
  int64_t set_index_ = 0;
  int64_t batch_index_ = 0;
  std::unique_ptr<TrainWalk> walk_;
  std::vector<int64_t> global_rows_, global_puzzles_;
};

}  // namespace trm::data::detail
