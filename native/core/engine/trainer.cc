#include "trainer.h"

#include <ATen/ATen.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/GradMode.h>

#include <chrono>
#include <filesystem>

#include "../checkpoint.h"
#include "../errors.h"
#include "../io/torch_zip.h"
#include "../optim/schedule.h"
#include "../optim/sign_sgd.h"
#include "host_syncs.h"

namespace trm {

namespace {

double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

}  // namespace

Trainer::Trainer(ACTModel& model, TrainOptions opts, std::unique_ptr<BatchSource> train, std::unique_ptr<BatchSource> eval,
                 std::unique_ptr<Dist> dist, std::function<void(const TrainEvent&)> emit)
    : model_(model),
      opts_(std::move(opts)),
      train_(std::move(train)),
      eval_(std::move(eval)),
      dist_(std::move(dist)),
      emit_(std::move(emit)) {
  if (opts_.global_batch_size % dist_->world_size() != 0)
    throw Error(ErrorCode::Config, "global_batch_size " + std::to_string(opts_.global_batch_size) +
                                       " must be divisible by the world size " + std::to_string(dist_->world_size()));
  if (opts_.eval_interval == 0) opts_.eval_interval = opts_.epochs;
  if (opts_.epochs % opts_.eval_interval != 0) throw Error(ErrorCode::Config, "eval_interval must divide epochs (docs/algorithm.md §7.1)");
  check_save_keys(opts_.eval_save_outputs);
  // Token values were checked against each dataset's own sizes when it loaded; checking those sizes
  // against the model here means no step ever has to read a batch back from the device.
  check_data_fits_model(train_->metadata(), model_.config(), train_->describe());
  if (eval_) check_data_fits_model(eval_->metadata(), model_.config(), eval_->describe());
  total_steps_ = train_->total_steps(opts_.epochs);

  // docs/algorithm.md §7.2 step 4: every rank starts from rank 0's parameters and buffers.
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
  const c10::DeviceGuard on_device(model_.inner().device());  // the model's GPU is this thread's current one
  HostSyncCounter syncs(opts_.count_host_syncs);
  host_syncs_ = &syncs;
  struct Forget {
    HostSyncCounter*& p;
    ~Forget() { p = nullptr; }
  } forget{host_syncs_};
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
      if (ema_) ema_->update(trainable_entries());  // after every batch, even past total_steps (docs/algorithm.md §4)
      budget_hit_ =
          (opts_.max_steps > 0 && step_ >= opts_.max_steps) || (opts_.max_seconds > 0 && now_seconds() - started_ > opts_.max_seconds);
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
  if (step_ > total_steps_) return;  // the loader may yield a few batches past total_steps (docs/algorithm.md §5.8)
  const int64_t local_b = sb.batch.inputs.size(0);
  if (!carry_) carry_ = model_.initial_carry(local_b);  // persists across steps and iterations (§7.2)

  // Nothing below waits for the device (the batch comes from page-locked memory on CUDA, its values
  // were checked when the dataset loaded); the log reads the metrics back, once (§7.2 train_batch).
  auto r = model_.step(*carry_, sb.batch, BatchCheck::ShapesOnly);
  (r.loss / static_cast<double>(opts_.global_batch_size)).backward();

  // Dense gradients: SUM over ranks (with the 1/global_batch scale, the global mean; §2.3, §3.4).
  const double lr = cosine_schedule_with_warmup(step_, opts_.lr, opts_.lr_warmup_steps, total_steps_, opts_.lr_min_ratio);
  const double puzzle_lr = cosine_schedule_with_warmup(step_, opts_.puzzle_emb_lr, opts_.lr_warmup_steps, total_steps_, opts_.lr_min_ratio);
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
    SparseSignSGD{}.step(table, g, ids, puzzle_lr, opts_.puzzle_emb_weight_decay, /*check_ids=*/false);
    local.mutable_grad() = at::Tensor();
  }
  if (!frozen) adam_->step(lr);
  adam_->zero_grad();

  samples_since_log_ += opts_.global_batch_size;
  ++steps_since_log_;
  if (opts_.log_every > 0 && (step_ % opts_.log_every == 0 || step_ == total_steps_)) log_step(r, logged_lr);
}

void Trainer::log_step(const StepResult& r, double lr) {
  // Metrics: SUM over ranks on the device, then the step's one read-back; the official train/ keys (§2.4).
  std::vector<at::Tensor> mvs = {metric_vector(r.metrics)};
  dist_->all_reduce_sum_(mvs);
  const auto host = mvs[0].to(at::kCPU);
  const double* acc = host.data_ptr<double>();
  TrainEvent e{.kind = "step", .step = step_, .lr = lr};
  const double count = std::max(acc[0], 1.0);
  for (size_t i = 0; i < kMetricNames.size(); ++i) {
    const std::string k(kMetricNames[i]);
    if (k == "q_continue_loss" && !r.metrics.q_continue_loss.defined()) continue;
    const bool is_loss = k.size() >= 4 && k.compare(k.size() - 4, 4, "loss") == 0;
    e.metrics[k] = is_loss ? acc[i] / opts_.global_batch_size : acc[i] / count;
  }
  if (host_syncs_ && opts_.count_host_syncs) e.metrics["host_syncs"] = static_cast<double>(host_syncs_->take()) / steps_since_log_;
  const double t = now_seconds();
  e.samples_per_second = samples_since_log_ / std::max(t - last_log_, 1e-9);
  samples_since_log_ = steps_since_log_ = 0;
  last_log_ = t;
  emit(e);
}

void Trainer::run_evaluation() {
  // docs/algorithm.md §6.1 on this device and dtype: per-set metrics reduced over ranks, every batch's predictions to
  // the evaluators (rank 0 gets the global batch), eval_save_outputs per rank.
  emit({.kind = "eval_begin", .step = step_});
  EvalPassOptions o;
  o.outputs = opts_.eval_outputs;
  o.gather_to_rank0 = true;
  o.save_keys = opts_.checkpoint_path.empty() ? std::vector<std::string>{} : opts_.eval_save_outputs;
  auto result = run_eval_pass(model_, *eval_, *dist_, o, [&](EvalBatchOutputs&& out) {
    if (!opts_.eval_outputs) return;
    TrainEvent e{.kind = "eval_batch", .step = step_, .set = out.set};
    e.outputs = std::make_shared<const EvalBatchOutputs>(std::move(out));
    emit(e);
  });
  for (const auto& set : result.sets) {
    const auto& v = result.sums[set];
    const double count = std::max(v[0], 1.0);
    TrainEvent e{.kind = "eval", .step = step_, .set = set};
    for (size_t i = 1; i < kMetricNames.size(); ++i)
      if (kMetricNames[i] != "q_continue_loss") e.metrics[std::string(kMetricNames[i])] = v[i] / count;
    e.metrics["count"] = v[0];
    emit(e);
  }
  if (!o.save_keys.empty() && result.batches > 0) {
    // pretrain.py: every rank saves its own predictions, torch.save({key: cat over batches}).
    std::filesystem::create_directories(opts_.checkpoint_path);
    const auto file =
        (std::filesystem::path(opts_.checkpoint_path) / ("step_" + std::to_string(step_) + "_all_preds." + std::to_string(dist_->rank())))
            .string();
    std::vector<at::Tensor> keep;
    io::write_torch_zip(file, tensors_to_write(result.saved, keep));
  }
  emit({.kind = "eval_end", .step = step_});
}

void Trainer::evaluate(int64_t iteration) {
  const int64_t total_iters = opts_.epochs / opts_.eval_interval;
  const bool last = iteration + 1 >= total_iters || budget_hit_;
  // With EMA, evaluate and checkpoint the averaged dense weights with the live puzzle table (§4).
  if (ema_) ema_->swap(trainable_entries());
  if (eval_) run_evaluation();
  const bool save = !opts_.checkpoint_path.empty() && (opts_.checkpoint_every_eval || last);
  if (save) checkpoint("step_" + std::to_string(step_));
  if (ema_) ema_->swap(trainable_entries());  // back to the live weights, bit-exactly
  // With every checkpoint, every rank's full state as the loop continues from here (the next iteration
  // unless a budget cut this one short), so a run killed later resumes from this checkpoint.
  if (save && !opts_.state_path.empty()) write_state(opts_.state_path, mid_iteration_ ? iteration_ : iteration_ + 1, mid_iteration_);
}

void Trainer::checkpoint(const std::string& name) {
  if (dist_->rank() != 0) return;
  std::filesystem::create_directories(opts_.checkpoint_path);
  const auto path = (std::filesystem::path(opts_.checkpoint_path) / name).string();
  save_official(model_, path);
  emit({.kind = "checkpoint", .step = step_, .path = path});
}

}  // namespace trm
