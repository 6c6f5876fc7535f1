#include "trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <chrono>
#include <filesystem>

#include "../checkpoint.h"
#include "../errors.h"
#include "../io/safetensors.h"
#include "../optim/schedule.h"
#include "../optim/sign_sgd.h"

namespace trm {

namespace {

double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

const char* kMetricNames[] = {"count", "accuracy", "exact_accuracy", "q_halt_accuracy", "steps", "lm_loss", "q_halt_loss", "q_continue_loss"};

/** The §2.4 metric sums of one step as a float64 vector (order: kMetricNames). */
at::Tensor metric_vector(const Metrics& m) {
  auto v = [](const at::Tensor& t) { return t.defined() ? t.detach().to(at::kCPU).to(at::kDouble).item<double>() : 0.0; };
  return at::tensor({v(m.count), v(m.accuracy), v(m.exact_accuracy), v(m.q_halt_accuracy), v(m.steps), v(m.lm_loss),
                     v(m.q_halt_loss), v(m.q_continue_loss)},
                    at::kDouble);
}

}  // namespace

Trainer::Trainer(ACTModel& model, TrainOptions opts, std::unique_ptr<BatchSource> train, std::unique_ptr<BatchSource> eval,
                 std::unique_ptr<Dist> dist, std::function<void(const TrainEvent&)> emit)
    : model_(model), opts_(std::move(opts)), train_(std::move(train)), eval_(std::move(eval)), dist_(std::move(dist)),
      emit_(std::move(emit)) {
  if (opts_.global_batch_size % dist_->world_size() != 0)
    throw Error(ErrorCode::Config, "global_batch_size " + std::to_string(opts_.global_batch_size) + " must be divisible by the world size " +
                                       std::to_string(dist_->world_size()));
  if (opts_.eval_interval == 0) opts_.eval_interval = opts_.epochs;
  if (opts_.epochs % opts_.eval_interval != 0)
    throw Error(ErrorCode::Config, "eval_interval must divide epochs (SPEC §7.1)");
  total_steps_ = train_->total_steps(opts_.epochs);

  // SPEC §7.2 step 4: every rank starts from rank 0's parameters and buffers.
  std::vector<at::Tensor> all;
  for (auto& e : model_.inner().params().entries()) all.push_back(e.tensor.data());
  dist_->broadcast_(all, 0);

  AdamAtan2Options ao;
  ao.lr = opts_.lr;
  ao.beta1 = opts_.beta1;
  ao.beta2 = opts_.beta2;
  ao.weight_decay = opts_.weight_decay;
  adam_ = std::make_unique<AdamAtan2>(dense_params(), ao);
  if (opts_.ema) {
    ema_ = std::make_unique<EMA>(opts_.ema_rate);
    ema_->register_params(trainable_entries());
  }
}

Trainer::~Trainer() = default;

std::vector<NamedTensor> Trainer::trainable_entries() const {
  std::vector<NamedTensor> out;
  for (const auto& e : model_.inner().params().entries())
    if (e.trainable) out.push_back(e);
  return out;
}

std::vector<at::Tensor> Trainer::dense_params() const {
  std::vector<at::Tensor> out;
  for (const auto& e : model_.inner().params().entries())
    if (e.trainable) out.push_back(e.tensor);
  return out;
}

void Trainer::emit(TrainEvent e) {
  if (dist_->rank() != 0 || !emit_) return;
  e.total_steps = total_steps_;
  e.elapsed_seconds = now_seconds() - started_;
  emit_(e);
}

void Trainer::run() {
  started_ = last_log_ = now_seconds();
  const int64_t total_iters = opts_.epochs / opts_.eval_interval;
  emit({.kind = "start", .step = step_});
  for (; iteration_ < total_iters && !stop_.load() && !budget_hit_; ++iteration_) {
    model_.set_training(true);
    if (!mid_iteration_) train_->begin_iteration();
    mid_iteration_ = true;
    SourcedBatch b;
    while (!stop_.load() && !budget_hit_ && train_->next(b)) {
      train_batch(b);
      if (ema_) ema_->update(trainable_entries());  // after every batch, even past total_steps (SPEC §4)
      budget_hit_ = (opts_.max_steps > 0 && step_ >= opts_.max_steps) ||
                    (opts_.max_seconds > 0 && now_seconds() - started_ > opts_.max_seconds);
    }
    if (stop_.load() || budget_hit_) break;
    mid_iteration_ = false;
    if (iteration_ >= opts_.min_eval_interval) evaluate(iteration_);
  }
  // A run cut short by its step or time budget still evaluates and checkpoints what it reached;
  // one stopped on request only stops (its state can be saved and resumed).
  if (budget_hit_ && !stop_.load()) evaluate(iteration_);
  TrainEvent done{.kind = "done", .step = step_};
  done.metrics["stopped"] = stop_.load() ? 1 : 0;
  emit(done);
}

void Trainer::train_batch(const SourcedBatch& sb) {
  ++step_;
  if (step_ > total_steps_) return;  // the loader may yield a few batches past total_steps (SPEC §5.8)
  const int64_t local_b = sb.batch.inputs.size(0);
  if (!carry_) carry_ = model_.initial_carry(local_b);  // persists across steps and iterations (§7.2)

  auto r = model_.step(*carry_, sb.batch);
  (r.loss / static_cast<double>(opts_.global_batch_size)).backward();

  // Dense gradients: SUM over ranks (with the 1/global_batch scale, the global mean; §2.3, §3.4).
  const double lr = cosine_schedule_with_warmup(step_, opts_.lr, opts_.lr_warmup_steps, total_steps_, opts_.lr_min_ratio);
  const double puzzle_lr =
      cosine_schedule_with_warmup(step_, opts_.puzzle_emb_lr, opts_.lr_warmup_steps, total_steps_, opts_.lr_min_ratio);
  // pretrain.py: freeze_weights only applies with a puzzle embedding (without one, Adam-atan2 trains
  // everything), and train/lr is the lr of the last optimizer it steps: the puzzle lr when frozen.
  const bool frozen = opts_.freeze_weights && model_.config().puzzle_emb_ndim > 0;
  const double logged_lr = frozen ? puzzle_lr : lr;
  if (!frozen) {
    std::vector<at::Tensor> grads;
    for (auto& p : dense_params())
      if (p.grad().defined()) grads.push_back(p.mutable_grad());
    dist_->all_reduce_sum_(grads);
  }
  // Puzzle rows: all-gather ids and gradients, then sign-SGD on the touched rows (§3.3).
  const auto& local = model_.inner().puzzle_local_weights();
  if (local.defined() && local.grad().defined()) {
    auto g = dist_->all_gather(local.grad());
    auto ids = dist_->all_gather(model_.inner().puzzle_local_ids());
    auto& table = model_.inner().params().at("puzzle_emb.weights");
    SparseSignSGD{}.step(table, g, ids, puzzle_lr, opts_.puzzle_emb_weight_decay);
    local.mutable_grad() = at::Tensor();
  }
  if (!frozen) adam_->step(lr);
  adam_->zero_grad();

  // Metrics: SUM over ranks; logged as the official train/ keys (§2.4).
  auto mv = metric_vector(r.metrics);
  std::vector<at::Tensor> mvs = {mv};
  dist_->all_reduce_sum_(mvs);
  samples_since_log_ += opts_.global_batch_size;
  if (opts_.log_every > 0 && (step_ % opts_.log_every == 0 || step_ == total_steps_)) {
    TrainEvent e{.kind = "step", .step = step_, .lr = logged_lr};
    auto acc = mv.accessor<double, 1>();
    const double count = std::max(acc[0], 1.0);
    for (size_t i = 0; i < std::size(kMetricNames); ++i) {
      const std::string k = kMetricNames[i];
      if (k == "q_continue_loss" && !r.metrics.q_continue_loss.defined()) continue;
      const bool is_loss = k.size() >= 4 && k.compare(k.size() - 4, 4, "loss") == 0;
      e.metrics[k] = is_loss ? acc[i] / opts_.global_batch_size : acc[i] / count;
    }
    const double t = now_seconds();
    e.samples_per_second = samples_since_log_ / std::max(t - last_log_, 1e-9);
    samples_since_log_ = 0;
    last_log_ = t;
    emit(e);
  }
}

std::map<std::string, std::map<std::string, double>> Trainer::eval_metrics() {
  // SPEC §6.1: per test batch a fresh carry, all ACT steps; metric sums of the final step per set,
  // reduced over ranks and divided by that set's count.
  std::map<std::string, at::Tensor> sums;
  c10::NoGradGuard no_grad;
  const bool was_training = model_.training();
  model_.set_training(false);
  eval_->begin_iteration();
  SourcedBatch b;
  while (eval_->next(b)) {
    auto carry = model_.initial_carry(b.batch.inputs.size(0));
    StepResult r;
    do {
      r = model_.step(carry, b.batch);
    } while (!r.all_halted);
    auto mv = metric_vector(r.metrics);
    auto& s = sums[b.set_name];
    s = s.defined() ? s + mv : mv;
  }
  model_.set_training(was_training);
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& set : eval_->sets()) {
    auto mv = sums.count(set) ? sums[set] : at::zeros({static_cast<int64_t>(std::size(kMetricNames))}, at::kDouble);
    std::vector<at::Tensor> mvs = {mv};
    dist_->all_reduce_sum_(mvs);
    auto acc = mv.accessor<double, 1>();
    const double count = std::max(acc[0], 1.0);
    auto& m = out[set];
    for (size_t i = 1; i < std::size(kMetricNames); ++i)
      if (std::string(kMetricNames[i]) != "q_continue_loss") m[kMetricNames[i]] = acc[i] / count;
    m["count"] = acc[0];
  }
  return out;
}

void Trainer::evaluate(int64_t iteration) {
  const int64_t total_iters = opts_.epochs / opts_.eval_interval;
  const bool last = iteration + 1 >= total_iters || budget_hit_;
  // With EMA, evaluate and checkpoint the averaged dense weights with the live puzzle table (§4).
  if (ema_) ema_->swap(trainable_entries());
  if (eval_) {
    for (auto& [set, m] : eval_metrics()) emit({.kind = "eval", .step = step_, .set = set, .metrics = m});
  }
  if (!opts_.checkpoint_path.empty() && (opts_.checkpoint_every_eval || last)) checkpoint("step_" + std::to_string(step_));
  if (ema_) ema_->swap(trainable_entries());  // back to the live weights, bit-exactly
}

void Trainer::checkpoint(const std::string& name) {
  if (dist_->rank() != 0) return;
  std::filesystem::create_directories(opts_.checkpoint_path);
  const auto path = (std::filesystem::path(opts_.checkpoint_path) / name).string();
  save_official(model_, path);
  emit({.kind = "checkpoint", .step = step_, .path = path});
}

}  // namespace trm
