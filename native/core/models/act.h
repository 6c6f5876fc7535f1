// The ACT wrapper with its carry (docs/algorithm.md §1.11) and the loss head on top (§2): one call = one
// supervision step of the whole model, exactly as ACTLossHead(TinyRecursiveReasoningModel_ACTV1).
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

#include "../loss.h"
#include "inner.h"

namespace trm {

/** The persistent state between supervision steps. */
struct Carry {
  std::vector<at::Tensor> z;  // recurrent states [B, P+S, D]
  at::Tensor steps;           // [B] int32
  at::Tensor halted;          // [B] bool
  Batch current;              // the data each slot is working on
};

struct StepResult {
  at::Tensor logits, q_halt, q_continue, target_q_continue, preds;
  at::Tensor steps, halted;  // the carry's step counters and halted flags after this step
  at::Tensor loss;           // total loss of this step; carries the autograd graph when gradients are on
  Metrics metrics;
};

/**
 * How much of a batch step() checks. Full: shapes, dtypes and every token and puzzle id against the
 * model's sizes (reading values back from the device). ShapesOnly: for batches whose values were checked
 * when their dataset loaded (the trainer's), so a step never waits for the device.
 */
enum class BatchCheck { Full, ShapesOnly };

class ACTModel {
 public:
  ACTModel(const ModelConfig& cfg, uint64_t seed);

  InnerModel& inner() { return inner_; }
  const InnerModel& inner() const { return inner_; }
  const ModelConfig& config() const { return inner_.config(); }

  /** Train mode: ACT halting with exploration; eval: halt only at halt_max_steps, or by act_inference (§1.11). */
  void set_training(bool training) { inner_.training = training; }
  bool training() const { return inner_.training; }
  /** Inference option (off by default, parity mode): in eval, also halt a row once q_halt > 0. */
  bool early_halt = false;

  /** A fresh carry for batches of `batch_size`: every slot halted, so the first step loads everything. */
  Carry initial_carry(int64_t batch_size) const;
  /** Checks shapes, dtypes and (Full) token / puzzle-id ranges; throws trm::Error naming the field. */
  void validate_batch(const Batch& batch, BatchCheck check = BatchCheck::Full) const;
  /** Restarts the exploration draws from `seed` (the trainer uses seed + rank, as pretrain.py seeds torch). */
  void seed_exploration(uint64_t seed);
  /** The exploration RNG's state (for exact resume) and its restore. */
  at::Tensor rng_state() const;
  void set_rng_state(const at::Tensor& state);
  /**
   * One supervision step on `carry` (updated in place) with the fresh `batch` (§1.11 steps 1–6, §2).
   * Nothing in it waits for the device unless `check` is Full; whether every row halted is
   * `carry.halted.all()`, read by callers that need it.
   */
  StepResult step(Carry& carry, const Batch& batch, BatchCheck check = BatchCheck::Full);

 private:
  InnerModel inner_;
  mutable at::Generator gen_;  // exploration draws (mutable: reading its state locks it)
};

}  // namespace trm
