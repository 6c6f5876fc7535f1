// The batch source of training and evaluation: the official PuzzleDataset (puzzle_dataset.py) over
// memory-mapped `.npy` arrays, with the sampling rules of docs/algorithm.md §5.8 and a prefetch thread (§7.2 consumes it).
//
// Deliberate differences from the official loader (all keep the batch layout and counts of §5.8):
//  * Randomness: NumPy's Philox stream cannot be reproduced, so each (iteration, set) walk uses std::mt19937_64
//    seeded with seed + counter (the counter of §5.8 step 1) and portable bounded-integer and shuffle routines
//    written here (std::uniform_int_distribution and std::shuffle differ between standard libraries). The
//    order of a puzzle's examples also comes from that seeded generator instead of the unseeded global NumPy
//    RNG, so every rank builds the identical global batch and a run is repeatable.
//  * Several dataset paths: the official code sums num_puzzle_identifiers but does not shift the ids, so
//    path k's puzzles collide with path 0's embedding rows. Here the ids of path k are offset by the sum of
//    the num_puzzle_identifiers of paths 0..k-1 (identifier_offsets()); offset_puzzle_identifiers = false
//    restores the official behaviour, including its requirement that all paths agree on the count.
//  * Validation: CSR invariants, shapes, seq_len and id ranges are checked when the dataset opens and
//    reported as trm::Error(DataFormat) naming the file (the official code fails later or silently).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../models/inner.h"   // trm::Batch
#include "dataset_metadata.h"  // trm::PuzzleDatasetMetadata

namespace trm {

/** PuzzleDatasetConfig of §5.8 plus the split and the native options. */
struct PuzzleDatasetConfig {
  std::vector<std::string> dataset_paths;
  std::string split = "train";  // "train" or "test": the folder under each path
  int64_t seed = 0;
  int64_t global_batch_size = 0;  // rows over all replicas; must be a multiple of num_replicas
  bool test_set_mode = false;
  int64_t epochs_per_iter = 1;  // train: epochs per begin_iteration() (the trainer passes eval_interval)
  int64_t rank = 0;
  int64_t num_replicas = 1;
  int64_t prefetch_batches = 8;           // queue bound of the prefetch thread (the official prefetch_factor)
  bool offset_puzzle_identifiers = true;  // the id-offset fix for several paths (see above)
  bool pin_memory = false;                // batches in page-locked memory, for non-blocking copies to a CUDA device
};

/**
 * Where the consumer stands: the iteration begun last (1-based, 0 = none yet), the set being walked
 * (== set_names().size() once the iteration is finished), and the batches of that set already returned.
 * Saving it with a checkpoint and passing it to restore() resumes the exact batch sequence, given the same
 * config and files.
 */
struct LoaderPosition {
  int64_t iteration = 0;
  int64_t set_index = 0;
  int64_t batch_index = 0;
};

/**
 * Opens the datasets (metadata, memory-mapped inputs/labels, index arrays in memory) and yields batches.
 * Typical use by the trainer: begin_iteration(); start(); while (next(batch, &set, &n)) { ... }.
 * The batch sequence depends only on the config and the files, never on thread timing. Methods are called
 * from one consumer thread; the prefetch thread is internal.
 */
class PuzzleDataset {
 public:
  /** Throws trm::Error(InvalidArgument) for a bad config, IO for missing files, DataFormat for bad data. */
  explicit PuzzleDataset(PuzzleDatasetConfig config);
  ~PuzzleDataset();  // stops and joins the prefetch thread
  PuzzleDataset(const PuzzleDataset&) = delete;
  PuzzleDataset& operator=(const PuzzleDataset&) = delete;

  /** True when `<dataset_path>/<split>/dataset.json` exists (the trainer skips evaluation otherwise, §7.2). */
  static bool split_exists(const std::string& dataset_path, const std::string& split);

  const PuzzleDatasetConfig& config() const;
  const PuzzleDatasetMetadata& metadata() const;
  /** The sets in iteration order: for each metadata set s, then each path k: s, then s + "1", s + "2", ... */
  const std::vector<std::string>& set_names() const;
  /** The id offset of each dataset path (all 0 when offset_puzzle_identifiers is false). */
  const std::vector<int64_t>& identifier_offsets() const;
  /** The dataset path (index into dataset_paths) set `set_index` of set_names() comes from. */
  int64_t path_of_set(int64_t set_index) const;
  /** Examples (rows of inputs) of each set, in set_names() order. */
  std::vector<int64_t> set_examples() const;
  /** global_batch_size / num_replicas: the rows of every yielded batch. */
  int64_t local_batch_size() const;
  /** int(epochs · total_groups · mean_puzzle_examples / global_batch_size) (§3.5); the trainer's total_steps. */
  int64_t total_steps_for(int64_t epochs) const;
  /** Batches iteration `iteration` (1-based) yields, by a dry run of the sampler (no data is read). */
  int64_t batches_in_iteration(int64_t iteration) const;

  /**
   * Moves to the start of the next iteration: train mode walks epochs_per_iter epochs of every set with
   * fresh seeds (§5.8 steps 1–4); test mode walks every set once in file order. Any batches of the previous
   * iteration not yet taken are dropped. Relaunches the prefetch thread when start() is in effect.
   */
  void begin_iteration();

  /**
   * The next batch of the current iteration: `out` gets int32 tensors inputs [b, S], labels [b, S] (-100 =
   * ignored) and puzzle_identifiers [b] with b = local_batch_size(); `set_name` the set it came from;
   * `effective_global_batch_size` the real rows over all ranks (global_batch_size in train, end − start in
   * test); `set_index` its index in set_names(). Returns false at the end of the iteration. Blocks on the prefetch queue when start() is in
   * effect, otherwise builds the batch on the calling thread. Rethrows errors of the producer; after one, next() keeps throwing it until
   * begin_iteration() or restore(). Throws trm::Error(State) before any begin_iteration().
   */
  bool next(Batch& out, std::string* set_name = nullptr, int64_t* effective_global_batch_size = nullptr, int64_t* set_index = nullptr);

  /** Starts prefetching: a background thread keeps up to prefetch_batches batches ready. Idempotent. */
  void start();
  /**
   * Stops prefetching and joins the thread (at most the batch being built is awaited). Batches already
   * prefetched are kept and returned first by next(), so the sequence is unchanged. Idempotent.
   */
  void stop();
  bool prefetching() const;

  /** The consumer's position: what the batches returned so far have covered. */
  LoaderPosition position() const;
  /**
   * Continues from a saved position: the next batch returned is the one that followed it. Replays the
   * sampler's random draws up to that point (no data is read). Throws trm::Error(State) for a position
   * this config cannot reach.
   */
  void restore(const LoaderPosition& position);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trm
