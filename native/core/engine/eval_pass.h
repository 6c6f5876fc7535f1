// The evaluation pass of pretrain.py's `evaluate` (docs/algorithm.md §6.1), shared by the trainer and `trm eval`:
// every test batch of the native sampler, from a fresh carry through every ACT step on the model's
// device and dtype; the final step's metric sums per set, added up on the device and read back once;
// for the evaluators (the ARC voting of §6.2), each batch's inputs, puzzle ids, predictions and halting
// logits; for `eval_save_outputs`, the requested tensors of every batch.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../dist/dist.h"
#include "../models/act.h"
#include "batch_source.h"

namespace trm {

/** One evaluated batch as the evaluators see it (CPU tensors, undefined unless EvalPassOptions::outputs). */
struct EvalBatchOutputs {
  std::string set;
  int64_t effective = 0;          // real rows of the global batch (the test window)
  int64_t path_index = 0;         // the dataset path of the set
  int64_t identifier_offset = 0;  // added to that path's puzzle ids
  int64_t rows = 0;               // real rows, a prefix of the batch (the rest is padding)
  at::Tensor inputs;              // int32 [B, S]
  at::Tensor puzzle_identifiers;  // int32 [B]
  at::Tensor preds;               // int32 [B, S], argmax of the final step's logits
  at::Tensor q_halt;              // float32 [B], the final step's halting logits
};

struct EvalPassOptions {
  bool outputs = false;                // fill the tensors of EvalBatchOutputs
  bool gather_to_rank0 = false;        // on_batch runs on rank 0 only, with the whole global batch in rank order
  std::vector<std::string> sets;       // only these sets (empty: all)
  bool exclude_padding_loss = false;   // leave padding rows out of q_halt_loss (the official code keeps them)
  std::vector<std::string> save_keys;  // eval_save_outputs: batch keys and model outputs to keep (kSaveKeys)
  std::function<bool()> stop;          // polled between batches; true ends the pass with Error(Cancelled)
};

struct EvalPassResult {
  std::vector<std::string> sets;                          // evaluated, in order
  std::map<std::string, std::vector<double>> sums;        // per set, kMetricNames order, summed over ranks
  std::vector<std::pair<std::string, at::Tensor>> saved;  // save_keys, each concatenated over this rank's batches
  int64_t batches = 0;
};

/** The metric sums of a step (§2.4), in the order of EvalPassResult::sums and the trainer's step metrics. */
/** What eval_save_outputs may name (pretrain.py saves batch keys and the loss head's outputs). */
extern const std::vector<std::string> kSaveKeys;

/** trm::Error(Config) unless every key is one of kSaveKeys. */
void check_save_keys(const std::vector<std::string>& keys);
/** trm::Error(Config) naming `where` unless a dataset with metadata `m` fits the model (seq_len, vocab, ids). */
void check_data_fits_model(const PuzzleDatasetMetadata& m, const ModelConfig& cfg, const std::string& where);

/** The §2.4 sums of `m` as one float64 vector on the metrics' device (kMetricNames order). */
at::Tensor metric_vector(const Metrics& m);

/**
 * One pass over the test-mode `source` (begin_iteration() is called here) in evaluation mode; the model's
 * mode is restored afterwards. The batch values must have been checked against the model
 * (check_data_fits_model): steps check shapes only. `on_batch` (if set) is called after every batch.
 * `dist` sums the metrics over ranks (and gathers the outputs with gather_to_rank0); every rank must
 * run the pass with the same options.
 */
EvalPassResult run_eval_pass(ACTModel& model, BatchSource& source, Dist& dist, const EvalPassOptions& opts,
                             const std::function<void(EvalBatchOutputs&&)>& on_batch);

}  // namespace trm
