// Inference: a batch from a fresh carry through its supervision steps in one call. The one place
// that decides which step's outputs are a row's answer (the last step in parity mode, the step
// where the row first halted with early halting), and where a run can be cancelled.
#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>
#include <vector>

#include "../models/act.h"
#include "answer_check.h"

namespace trm {

struct InferOptions {
  /** Run this many steps (with early_halt: at most this many); 0 = until every row has halted. */
  int64_t max_steps = 0;
  /** A row halts at its first q_halt > 0 and keeps that step's answer; halted rows leave the batch. */
  bool early_halt = false;
  /**
   * With early_halt: a row halts once its answer passes this rule check instead (the q head is not
   * consulted): a solved Sudoku or maze is done, and one the rules reject is not, however sure
   * the model is. The answer's loss and metrics then count only the rows the model itself halted.
   */
  AnswerCheck halt_check = AnswerCheck::None;
  /** Keep the logits ([B, S, V] float32 per kept step). Predictions are int32 either way. */
  bool logits = true;
  /** Keep the outputs after every step. */
  bool trace = false;
  /** Set from another thread to stop the run at the next supervision step or recursion cycle. */
  const std::atomic<bool>* cancel = nullptr;
};

struct InferResult {
  /**
   * Each row's answer. Parity mode: the last step's outputs, as the official evaluation loop keeps
   * them. Early halt: each row's outputs at the step where it first halted (the last step's for a
   * row cut short by max_steps); loss and metrics add up the steps, each over the rows still
   * running then, so the halted-row counts (count, accuracy, exact_accuracy, ...) cover every row
   * once, at its halting step.
   */
  StepResult answer;
  /** Supervision steps executed. */
  int64_t steps_run = 0;
  /** With InferOptions::trace: the outputs after each step; with early halt, rows that halted keep their answer. */
  std::vector<StepResult> trace;
};

/**
 * Runs `batch` in evaluation mode without gradients from a fresh carry. The model's training
 * mode is restored afterwards. Throws trm::Error(Cancelled) naming the steps run when `cancel`
 * is set, and the batch checks of ACTModel::validate_batch.
 */
InferResult infer(ACTModel& model, const Batch& batch, const InferOptions& opts);

}  // namespace trm
