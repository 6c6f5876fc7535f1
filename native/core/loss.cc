#include "loss.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

namespace trm {

at::Tensor stablemax_cross_entropy(const at::Tensor& logits, const at::Tensor& labels) {
  auto x = logits.to(at::kDouble);
  // s(x) = x + 1 for x >= 0, 1 / (1 - x + 1e-30) for x < 0 (§2.1).
  auto s = at::where(x < 0, 1.0 / (1.0 - x + 1e-30), x + 1.0);
  auto logprobs = at::log(s / s.sum(-1, /*keepdim=*/true));
  auto valid = labels != kIgnoreLabel;
  auto safe = at::where(valid, labels, at::zeros_like(labels)).to(at::kLong);
  auto picked = logprobs.gather(-1, safe.unsqueeze(-1)).squeeze(-1);
  return -at::where(valid, picked, at::zeros_like(picked));
}

at::Tensor softmax_cross_entropy(const at::Tensor& logits, const at::Tensor& labels) {
  const int64_t V = logits.size(-1);
  auto flat = at::cross_entropy_loss(logits.to(at::kFloat).reshape({-1, V}), labels.to(at::kLong).reshape({-1}),
                                     /*weight=*/{}, at::Reduction::None, kIgnoreLabel);
  return flat.view(labels.sizes());
}

LossOutput act_loss(const LossInputs& in, LossType type) {
  LossOutput out;
  const auto& labels = in.labels;
  at::Tensor mask, loss_counts, divisor, seq_is_correct;
  {
    c10::NoGradGuard no_grad;
    out.preds = in.logits.argmax(-1);
    mask = labels != kIgnoreLabel;
    loss_counts = mask.sum(-1);
    divisor = loss_counts.clamp_min(1).unsqueeze(-1);
    auto is_correct = mask & (out.preds == labels);
    seq_is_correct = is_correct.sum(-1) == loss_counts;
    auto valid = in.halted & (loss_counts > 0);
    auto& m = out.metrics;
    m.count = valid.sum();
    // The zero is made on the device: a CPU scalar copied over would make the host wait every step.
    m.accuracy = at::where(valid, (is_correct.to(at::kFloat) / divisor).sum(-1), at::zeros({}, valid.options().dtype(at::kFloat))).sum();
    m.exact_accuracy = (valid & seq_is_correct).sum();
    m.q_halt_accuracy = (valid & ((in.q_halt >= 0) == seq_is_correct)).sum();
    m.steps = at::where(valid, in.steps, at::zeros_like(in.steps)).sum();
  }
  auto token_loss =
      type == LossType::StablemaxCrossEntropy ? stablemax_cross_entropy(in.logits, labels) : softmax_cross_entropy(in.logits, labels);
  auto lm_loss = (token_loss / divisor).sum();  // per-sequence mean, summed over the batch (§2.3)
  auto q_halt_loss =
      at::binary_cross_entropy_with_logits(in.q_halt, seq_is_correct.to(in.q_halt.scalar_type()), {}, {}, at::Reduction::Sum);
  auto q_terms = q_halt_loss;
  out.metrics.lm_loss = lm_loss.detach();
  out.metrics.q_halt_loss = q_halt_loss.detach();
  if (in.target_q_continue.defined()) {
    auto q_continue_loss = at::binary_cross_entropy_with_logits(in.q_continue, in.target_q_continue, {}, {}, at::Reduction::Sum);
    out.metrics.q_continue_loss = q_continue_loss.detach();
    q_terms = q_terms + q_continue_loss;
  }
  out.total = lm_loss + 0.5 * q_terms;
  return out;
}

}  // namespace trm
