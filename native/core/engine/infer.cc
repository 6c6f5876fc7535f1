#include "infer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <string>

#include "../errors.h"

namespace trm {

namespace {

/** Puts the model in inference mode for one run and restores it however the run ends. */
class InferenceMode {
 public:
  InferenceMode(ACTModel& m, const InferOptions& o) : m_(m), training_(m.training()), early_halt_(m.early_halt) {
    m_.set_training(false);
    // With a rule check, infer() decides halting itself; the model halts rows only at the last step.
    m_.early_halt = o.early_halt && o.halt_check == AnswerCheck::None;
    m_.inner().cancel = o.cancel;
  }
  ~InferenceMode() {
    m_.set_training(training_);
    m_.early_halt = early_halt_;
    m_.inner().cancel = nullptr;
  }
  InferenceMode(const InferenceMode&) = delete;
  InferenceMode& operator=(const InferenceMode&) = delete;

 private:
  ACTModel& m_;
  bool training_, early_halt_;
};

Error cancelled(int64_t done, int64_t limit) {
  return Error(ErrorCode::Cancelled, "run cancelled after " + std::to_string(done) + " of " + std::to_string(limit) + " supervision steps");
}

/** A step's outputs as a run keeps them: int32 predictions, float32 logits or none. */
StepResult outputs_of(StepResult r, bool logits) {
  r.logits = logits ? r.logits.to(at::kFloat) : at::Tensor();
  r.preds = r.preds.to(at::kInt);
  return r;
}

StepResult copy_of(const StepResult& s) {
  auto clone = [](const at::Tensor& t) { return t.defined() ? t.clone() : t; };
  StepResult c = s;
  c.logits = clone(s.logits);
  c.preds = clone(s.preds);
  c.q_halt = clone(s.q_halt);
  c.q_continue = clone(s.q_continue);
  c.steps = clone(s.steps);
  c.halted = clone(s.halted);
  return c;
}

/** Writes the running rows' outputs (rows `rows` of the batch) into the answer. */
void scatter_rows(StepResult& answer, const at::Tensor& rows, const StepResult& out) {
  if (answer.logits.defined()) answer.logits.index_copy_(0, rows, out.logits);
  answer.preds.index_copy_(0, rows, out.preds);
  answer.q_halt.index_copy_(0, rows, out.q_halt);
  answer.q_continue.index_copy_(0, rows, out.q_continue);
  answer.steps.index_copy_(0, rows, out.steps);
  answer.halted.index_copy_(0, rows, out.halted);
}

at::Tensor plus(const at::Tensor& a, const at::Tensor& b) { return a.defined() && b.defined() ? a + b : a.defined() ? a : b; }

void add_metrics(Metrics& into, const Metrics& m) {
  const auto to = into.fields();
  const auto from = m.fields();
  for (size_t i = 0; i < to.size(); ++i) *to[i] = plus(*to[i], *from[i]);
}

Batch take_rows(const Batch& b, const at::Tensor& idx) {
  return {b.inputs.index_select(0, idx), b.labels.defined() ? b.labels.index_select(0, idx) : b.labels,
          b.puzzle_identifiers.index_select(0, idx)};
}

Carry take_rows(const Carry& c, const at::Tensor& idx) {
  Carry out;
  for (const auto& z : c.z) out.z.push_back(z.index_select(0, idx));
  out.steps = c.steps.index_select(0, idx);
  out.halted = c.halted.index_select(0, idx);
  out.current = take_rows(c.current, idx);
  return out;
}

}  // namespace

InferResult infer(ACTModel& model, const Batch& batch, const InferOptions& opts) {
  if (opts.max_steps < 0) throw Error(ErrorCode::InvalidArgument, "steps must be ≥ 0, got " + std::to_string(opts.max_steps));
  InferenceMode mode(model, opts);
  c10::NoGradGuard no_grad;
  model.validate_batch(batch);
  const int64_t B = batch.inputs.size(0);
  const int64_t limit = opts.max_steps > 0 ? opts.max_steps : model.config().halt_max_steps;
  const auto dev = model.inner().device();
  auto carry = model.initial_carry(B);
  // Early halt: the rows still running, as indices into the batch, with their data and carry.
  Batch work{batch.inputs.to(dev), batch.labels.defined() ? batch.labels.to(dev) : batch.labels, batch.puzzle_identifiers.to(dev)};
  at::Tensor rows = at::arange(B, at::TensorOptions().dtype(at::kLong).device(dev));

  InferResult res;
  for (int64_t k = 0; k < limit; ++k) {
    if (opts.cancel && opts.cancel->load(std::memory_order_relaxed)) throw cancelled(k, limit);
    StepResult r;
    try {
      r = model.step(carry, work);
    } catch (const Error& e) {
      if (e.code() == ErrorCode::Cancelled) throw cancelled(k, limit);
      throw;
    }
    res.steps_run = k + 1;

    if (!opts.early_halt) {
      // Parity: every row runs until all have halted (or `max_steps` steps), and the answer is the
      // last step's, as in the official evaluation loop (pretrain.py evaluate).
      const bool last = k + 1 == limit || (opts.max_steps == 0 && r.halted.all().item<bool>());
      if (opts.trace) res.trace.push_back(outputs_of(r, opts.logits));
      if (last) {
        res.answer = opts.trace ? res.trace.back() : outputs_of(std::move(r), opts.logits);
        break;
      }
      continue;
    }

    auto out = outputs_of(r, opts.logits);
    if (opts.halt_check != AnswerCheck::None) {
      out.halted = out.halted | answers_solved(opts.halt_check, work.inputs, out.preds);
      r.halted = out.halted;
    }

    // Early halt: a halted row would restart on the next step (the ACT wrapper reloads halted
    // slots), so its answer is frozen here and it leaves the batch.
    if (k == 0) {
      res.answer = out;
    } else {
      scatter_rows(res.answer, rows, out);
      res.answer.loss = res.answer.loss + r.loss;
      add_metrics(res.answer.metrics, r.metrics);
    }
    const auto running = ~r.halted;
    const int64_t left = running.sum().item<int64_t>();
    if (opts.trace) {
      auto snap = copy_of(res.answer);
      snap.loss = r.loss;
      snap.metrics = r.metrics;
      res.trace.push_back(std::move(snap));
    }
    if (left == 0 || k + 1 == limit) break;
    if (left < rows.size(0)) {
      const auto keep = running.nonzero().squeeze(1);
      rows = rows.index_select(0, keep);
      carry = take_rows(carry, keep);
      work = take_rows(work, keep);
    }
  }
  return res;
}

}  // namespace trm
