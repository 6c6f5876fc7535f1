#include "eval_pass.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "../errors.h"

namespace trm {

const std::vector<std::string> kSaveKeys = {"inputs", "labels",        "puzzle_identifiers", "logits",
                                            "preds",  "q_halt_logits", "q_continue_logits"};

namespace {

constexpr int64_t kQHaltLoss = metric_index("q_halt_loss");
// pretrain.py loops without a bound until every row has halted in the same step; this one gives up.
constexpr int64_t kMaxInferenceRounds = 64;

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

/** Evaluation mode in parity (no early halting) for the pass; the model's flags are restored however it ends. */
struct EvalMode {
  ACTModel& model;
  bool was_training, was_early;
  explicit EvalMode(ACTModel& m) : model(m), was_training(m.training()), was_early(m.early_halt) {
    model.set_training(false);
    model.early_halt = false;
  }
  ~EvalMode() {
    model.set_training(was_training);
    model.early_halt = was_early;
  }
};

/** The tensor eval_save_outputs key `key` names, for one batch. */
at::Tensor saved_tensor(const std::string& key, const Batch& batch, const StepResult& r) {
  if (key == "inputs") return batch.inputs;
  if (key == "labels") return batch.labels;
  if (key == "puzzle_identifiers") return batch.puzzle_identifiers;
  if (key == "logits") return r.logits;
  if (key == "preds") return r.preds;
  if (key == "q_halt_logits") return r.q_halt;
  return r.q_continue;
}

}  // namespace

void check_save_keys(const std::vector<std::string>& keys) {
  for (const auto& k : keys) {
    if (contains(kSaveKeys, k)) continue;
    std::string known;
    for (const auto& s : kSaveKeys) known += (known.empty() ? "" : ", ") + s;
    throw Error(ErrorCode::Config, "eval_save_outputs names '" + k + "', which is not one of " + known);
  }
}

void check_data_fits_model(const PuzzleDatasetMetadata& m, const ModelConfig& cfg, const std::string& where) {
  auto bad = [&](const std::string& what) { throw Error(ErrorCode::Config, "the dataset " + where + " " + what); };
  if (m.seq_len != cfg.seq_len)
    bad("has seq_len " + std::to_string(m.seq_len) + " but the model was built for seq_len " + std::to_string(cfg.seq_len));
  if (m.vocab_size > cfg.vocab_size || m.pad_id < 0 || m.pad_id >= cfg.vocab_size)
    bad("has vocab_size " + std::to_string(m.vocab_size) + " (pad_id " + std::to_string(m.pad_id) + ") but the model only knows " +
        std::to_string(cfg.vocab_size) + " tokens");
  if (cfg.puzzle_emb_ndim > 0 && (m.num_puzzle_identifiers > cfg.num_puzzle_identifiers || m.blank_identifier_id < 0 ||
                                  m.blank_identifier_id >= cfg.num_puzzle_identifiers))
    bad("has num_puzzle_identifiers " + std::to_string(m.num_puzzle_identifiers) + " but the model's puzzle table has " +
        std::to_string(cfg.num_puzzle_identifiers) + " rows; was it built for another version of this dataset?");
}

at::Tensor metric_vector(const Metrics& m) {
  const auto dev = m.count.device();
  auto d = [&](const at::Tensor& t) {
    return t.defined() ? t.detach().to(at::kDouble) : at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(dev));
  };
  std::vector<at::Tensor> values;
  for (const auto* t : m.fields()) values.push_back(d(*t));
  return at::stack(values);
}

EvalPassResult run_eval_pass(ACTModel& model, BatchSource& source, Dist& dist, const EvalPassOptions& opts,
                             const std::function<void(EvalBatchOutputs&&)>& on_batch) {
  check_save_keys(opts.save_keys);
  for (const auto& s : opts.sets)
    if (!contains(source.sets(), s)) throw Error(ErrorCode::InvalidArgument, "set '" + s + "' is not in " + source.describe());
  c10::NoGradGuard no_grad;
  EvalMode mode(model);
  const auto dev = model.inner().device();
  const int64_t n_metrics = static_cast<int64_t>(kMetricNames.size());

  EvalPassResult out;
  for (const auto& s : source.sets())
    if (opts.sets.empty() || contains(opts.sets, s)) out.sets.push_back(s);
  std::map<std::string, at::Tensor> sums;  // on the device until the end
  for (const auto& s : out.sets) sums[s] = at::zeros({n_metrics}, at::TensorOptions().dtype(at::kDouble).device(dev));
  std::vector<std::vector<at::Tensor>> saved(opts.save_keys.size());

  source.begin_iteration();
  SourcedBatch b;
  while (source.next(b)) {
    if (opts.stop && opts.stop()) throw Error(ErrorCode::Cancelled, "evaluation stopped");
    if (!sums.count(b.set_name)) continue;
    const int64_t B = b.batch.inputs.size(0);
    auto to_dev = [&](const at::Tensor& t) { return t.to(dev, at::kInt, /*non_blocking=*/t.is_pinned()); };
    const Batch batch{to_dev(b.batch.inputs), to_dev(b.batch.labels), to_dev(b.batch.puzzle_identifiers)};
    // From a fresh carry every row halts after exactly halt_max_steps steps in evaluation mode (§1.11),
    // so the loop never asks the device whether all have halted. A baseline with act_inference halts
    // rows early (and restarts them), so it runs until all have halted at once, as pretrain.py's loop.
    auto carry = model.initial_carry(B);
    StepResult r;
    const int64_t max_steps = model.config().halt_max_steps;
    if (!model.config().act_inference) {
      for (int64_t k = 0; k < max_steps; ++k) r = model.step(carry, batch, BatchCheck::ShapesOnly);
    } else {
      int64_t k = 0;
      do {
        if (++k > kMaxInferenceRounds * max_steps)
          throw Error(ErrorCode::State, "evaluation with act_inference: the rows of a batch did not halt together within " +
                                            std::to_string(kMaxInferenceRounds * max_steps) + " steps");
        r = model.step(carry, batch, BatchCheck::ShapesOnly);
      } while (!carry.halted.all().item<bool>());
    }
    auto mv = metric_vector(r.metrics);
    if (opts.exclude_padding_loss && b.rows < B) {
      // The loss head summed the halting BCE of padding rows too (target "correct": no labels).
      auto pad = r.q_halt.narrow(0, b.rows, B - b.rows).to(at::kDouble);
      mv.select(0, kQHaltLoss).sub_(at::softplus(-pad).sum());
    }
    sums[b.set_name] += mv;
    for (size_t i = 0; i < opts.save_keys.size(); ++i) saved[i].push_back(saved_tensor(opts.save_keys[i], batch, r).detach().to(at::kCPU));
    EvalBatchOutputs o{b.set_name, b.effective_global_batch, b.path_index, b.identifier_offset, b.rows};
    const bool gather = opts.gather_to_rank0 && dist.world_size() > 1;
    if (opts.outputs) {
      o.inputs = batch.inputs;
      o.puzzle_identifiers = batch.puzzle_identifiers;
      o.preds = r.preds.to(at::kInt);
      o.q_halt = r.q_halt.to(at::kFloat);
      if (gather) {
        // Test windows are split by rank in order, so rank order restores the global batch (§5.8).
        o.inputs = dist.all_gather(o.inputs);
        o.puzzle_identifiers = dist.all_gather(o.puzzle_identifiers);
        o.preds = dist.all_gather(o.preds);
        o.q_halt = dist.all_gather(o.q_halt);
      }
    }
    if (gather) o.rows = b.effective_global_batch;
    if (on_batch && (!opts.gather_to_rank0 || dist.rank() == 0)) {
      if (opts.outputs) {
        o.inputs = o.inputs.to(at::kCPU);
        o.puzzle_identifiers = o.puzzle_identifiers.to(at::kCPU);
        o.preds = o.preds.to(at::kCPU);
        o.q_halt = o.q_halt.to(at::kCPU);
      }
      on_batch(std::move(o));
    }
    ++out.batches;
  }

  // One collective and one read-back for every set's sums.
  if (out.sets.empty()) return out;
  std::vector<at::Tensor> rows;
  for (const auto& s : out.sets) rows.push_back(sums[s]);
  std::vector<at::Tensor> all = {at::stack(rows)};
  dist.all_reduce_sum_(all);
  const auto host = all[0].to(at::kCPU).contiguous();
  for (size_t i = 0; i < out.sets.size(); ++i) {
    const double* p = host.data_ptr<double>() + i * n_metrics;
    out.sums[out.sets[i]] = std::vector<double>(p, p + n_metrics);
  }
  for (size_t i = 0; i < opts.save_keys.size(); ++i)
    out.saved.emplace_back(opts.save_keys[i], saved[i].empty() ? at::Tensor() : at::cat(saved[i], 0));
  return out;
}

}  // namespace trm
