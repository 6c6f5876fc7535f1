// The training run of pretrain.py (docs/algorithm.md §7.2) as one native loop: batches -> one supervision
// step with the persistent carry -> backward of loss / global_batch -> gradient all-reduce ->
// sign-SGD on the puzzle rows and Adam-atan2 on the dense weights with the scheduled lr -> EMA ->
// periodic evaluation and checkpoints. JavaScript only receives events (docs/design.md, principle 1).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../dist/dist.h"
#include "../models/act.h"
#include "../optim/adam_atan2.h"
#include "../optim/ema.h"
#include "batch_source.h"
#include "eval_pass.h"

namespace trm {

class HostSyncCounter;

/**
 * The PretrainConfig keys the loop needs (docs/algorithm.md §7.1), official names. No defaults here:
 * lib/train-config.ts resolves them and the addon passes every key (trainer_wrap.cc).
 */
struct TrainOptions {
  int64_t global_batch_size = 0;
  int64_t epochs = 0;
  int64_t eval_interval = 0;  // 0 = epochs
  int64_t min_eval_interval = 0;
  bool checkpoint_every_eval = false;
  double lr = 0;
  double lr_min_ratio = 0;
  int64_t lr_warmup_steps = 0;
  double beta1 = 0, beta2 = 0;
  double weight_decay = 0;
  double puzzle_emb_weight_decay = 0;
  double puzzle_emb_lr = 0;
  bool ema = false;
  double ema_rate = 0;
  bool freeze_weights = false;
  std::string checkpoint_path;                 // empty: no checkpoint files
  std::string state_path;                      // written with every checkpoint (this rank's full state); empty: not
  std::vector<std::string> eval_save_outputs;  // saved as {checkpoint_path}/step_N_all_preds.<rank> (kSaveKeys)
  // Beyond the official keys: bounded runs (0 = unbounded) and how often to report steps.
  int64_t max_steps = 0;
  double max_seconds = 0;
  int64_t log_every = 0;
  bool eval_outputs = false;      // report every evaluated batch ("eval_batch") for evaluators such as ARC voting
  bool count_host_syncs = false;  // CUDA diagnostic: step events carry host_syncs (waits for the device per step)
};

/** What the loop reports (rank 0 only, except errors). */
struct TrainEvent {
  // "start", "step", "eval_begin", "eval_batch", "eval", "eval_end", "checkpoint", "done"
  std::string kind;
  int64_t step = 0;
  int64_t total_steps = 0;
  double lr = 0;
  double elapsed_seconds = 0;
  double samples_per_second = 0;
  std::string set;   // eval: the set name
  std::string path;  // checkpoint: the file written
  std::map<std::string, double> metrics;
  std::shared_ptr<const EvalBatchOutputs> outputs;  // eval_batch: the global batch, for the evaluators
};

class Trainer {
 public:
  Trainer(ACTModel& model, TrainOptions opts, std::unique_ptr<BatchSource> train, std::unique_ptr<BatchSource> eval,
          std::unique_ptr<Dist> dist, std::function<void(const TrainEvent&)> emit);
  ~Trainer();

  /** Runs to the end (or to a stop request / budget); rethrows failures as trm::Error. */
  void run();
  /** Asks the loop to stop after the current step; safe from any thread. */
  void request_stop() { stop_.store(true); }

  /** Writes the complete state (model, optimizers, EMA, carry, RNG, loader position, step), atomically. */
  void save_state(const std::string& path);
  /** Restores what save_state wrote; the next run() continues exactly where that run stopped. */
  void load_state(const std::string& path);

  int64_t step() const { return step_; }
  int64_t total_steps() const { return total_steps_; }

 private:
  void train_batch(const SourcedBatch& b);
  void log_step(const StepResult& r, double lr);
  void evaluate(int64_t iteration);
  void run_evaluation();
  void checkpoint(const std::string& name);
  /** save_state with the loop position the state resumes at (iteration, and whether it is under way). */
  void write_state(const std::string& path, int64_t iteration, bool mid_iteration);
  std::vector<at::Tensor> dense_params() const;
  std::vector<NamedTensor> trainable_entries() const;
  void emit(TrainEvent e);

  ACTModel& model_;
  TrainOptions opts_;
  std::unique_ptr<BatchSource> train_, eval_;
  std::unique_ptr<Dist> dist_;
  std::function<void(const TrainEvent&)> emit_;
  std::unique_ptr<AdamAtan2> adam_;
  std::unique_ptr<EMA> ema_;
  std::optional<Carry> carry_;
  std::atomic<bool> stop_{false};
  int64_t step_ = 0, total_steps_ = 0, iteration_ = 0;
  bool mid_iteration_ = false;  // resumed inside an iteration: do not restart the loader
  bool budget_hit_ = false;     // max_steps / max_seconds reached
  double started_ = 0;
  int64_t samples_since_log_ = 0, steps_since_log_ = 0;
  double last_log_ = 0;
  HostSyncCounter* host_syncs_ = nullptr;  // run()'s, while it runs
};

}  // namespace trm
