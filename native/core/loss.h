// The ACT loss head: stablemax / softmax cross-entropy, q-halt (and q-continue) BCE, and the
// metrics of one supervision step (docs/algorithm.md §2).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <string_view>

#include "config.h"
#include "ignore_label.h"

namespace trm {

/** Per-token -log stablemax(logits)[label] in fp64, 0 where labels == -100 (§2.1). Output [B, S]. */
at::Tensor stablemax_cross_entropy(const at::Tensor& logits, const at::Tensor& labels);
/** Per-token softmax cross-entropy in fp32 with ignore_index -100 (§2.2, with the valid-mask fix of §1.12). */
at::Tensor softmax_cross_entropy(const at::Tensor& logits, const at::Tensor& labels);

/**
 * The metric names (losses.py's keys plus count), in the one order every list of metrics follows:
 * Metrics::fields(), metric vectors, step and evaluation results.
 */
inline constexpr std::array<std::string_view, 8> kMetricNames = {"count", "accuracy", "exact_accuracy", "q_halt_accuracy",
                                                                 "steps", "lm_loss",  "q_halt_loss",    "q_continue_loss"};

/** The index of `name` in kMetricNames (compile time). */
constexpr size_t metric_index(std::string_view name) {
  size_t i = 0;
  while (i < kMetricNames.size() && kMetricNames[i] != name) ++i;
  return i;
}

/** Metric sums of one step (§2.4): counts are sums over rows that halted at this step. */
struct Metrics {
  at::Tensor count, accuracy, exact_accuracy, q_halt_accuracy, steps;
  at::Tensor lm_loss, q_halt_loss, q_continue_loss;  // detached sums; q_continue_loss undefined if no target

  /** The tensors in kMetricNames order. */
  std::array<at::Tensor*, 8> fields() {
    return {&count, &accuracy, &exact_accuracy, &q_halt_accuracy, &steps, &lm_loss, &q_halt_loss, &q_continue_loss};
  }
  std::array<const at::Tensor*, 8> fields() const {
    return {&count, &accuracy, &exact_accuracy, &q_halt_accuracy, &steps, &lm_loss, &q_halt_loss, &q_continue_loss};
  }
};

struct LossInputs {
  at::Tensor logits;              // [B, S, V]
  at::Tensor labels;              // [B, S] int32, -100 ignored
  at::Tensor q_halt, q_continue;  // [B] fp32
  at::Tensor target_q_continue;   // [B] or undefined
  at::Tensor halted;              // [B] bool, after this step
  at::Tensor steps;               // [B] int32, after this step
};

struct LossOutput {
  at::Tensor total;  // lm_loss + 0.5 (q_halt_loss + q_continue_loss), fp64 for stablemax (§2.3)
  at::Tensor preds;  // argmax(logits) [B, S]
  Metrics metrics;
};

LossOutput act_loss(const LossInputs& in, LossType type);

}  // namespace trm
