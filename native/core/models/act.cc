#include "act.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <ATen/CPUGeneratorImpl.h>

#include "../errors.h"

namespace trm {

// The exploration stream is seeded apart from the initialisation stream.
constexpr uint64_t kExplorationSalt = 0x9E3779B97F4A7C15ULL;

ACTModel::ACTModel(const ModelConfig& cfg, uint64_t seed)
    : inner_(cfg, seed), gen_(at::make_generator<at::CPUGeneratorImpl>(seed ^ kExplorationSalt)) {}

void ACTModel::seed_exploration(uint64_t seed) {
  std::lock_guard<std::mutex> lock(gen_.mutex());
  gen_.set_current_seed(seed ^ kExplorationSalt);
}

at::Tensor ACTModel::rng_state() const {
  std::lock_guard<std::mutex> lock(gen_.mutex());
  return gen_.get_state();
}

void ACTModel::set_rng_state(const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen_.mutex());
  gen_.set_state(state);
}

Carry ACTModel::initial_carry(int64_t batch_size) const {
  const auto& cfg = config();
  const auto dev = inner_.device();
  auto i32 = at::TensorOptions().dtype(at::kInt).device(dev);
  Carry c;
  c.z = inner_.empty_carry(batch_size);
  c.steps = at::zeros({batch_size}, i32);
  c.halted = at::ones({batch_size}, at::TensorOptions().dtype(at::kBool).device(dev));
  c.current = {at::zeros({batch_size, cfg.seq_len}, i32), at::full({batch_size, cfg.seq_len}, kIgnoreLabel, i32),
               at::zeros({batch_size}, i32)};
  return c;
}

// Throws TokenRange when a value lies outside [lo, hi) and is not `allowed` (e.g. -100 in labels).
static void check_ints(const at::Tensor& t, const char* field, int64_t lo, int64_t hi, const char* what, int64_t allowed) {
  if (t.numel() == 0) return;
  auto flat = t.to(at::kLong);
  auto bad = ((flat < lo) | (flat >= hi)) & (flat != allowed);
  if (bad.any().item<bool>()) {
    auto v = flat.masked_select(bad)[0].item<int64_t>();
    throw Error(ErrorCode::TokenRange, std::string(field) + " contains " + std::to_string(v) + ", outside [" + std::to_string(lo) + ", " +
                                           std::to_string(hi) + ") " + what);
  }
}

void ACTModel::validate_batch(const Batch& b, BatchCheck check) const {
  const auto& cfg = config();
  auto is_int = [](const at::Tensor& t) { return at::isIntegralType(t.scalar_type(), /*includeBool=*/false); };
  if (!b.inputs.defined() || b.inputs.dim() != 2 || b.inputs.size(1) != cfg.seq_len)
    throw Error(ErrorCode::Shape, "inputs must have shape [batch, " + std::to_string(cfg.seq_len) + "], got " +
                                      (b.inputs.defined() ? c10::str(b.inputs.sizes()) : std::string("nothing")));
  const int64_t B = b.inputs.size(0);
  if (!b.puzzle_identifiers.defined() || b.puzzle_identifiers.dim() != 1 || b.puzzle_identifiers.size(0) != B)
    throw Error(ErrorCode::Shape, "puzzle_identifiers must have shape [" + std::to_string(B) + "]");
  if (b.labels.defined() && !b.labels.sizes().equals(b.inputs.sizes()))
    throw Error(ErrorCode::Shape,
                "labels must have the shape of inputs " + c10::str(b.inputs.sizes()) + ", got " + c10::str(b.labels.sizes()));
  if (!is_int(b.inputs) || !is_int(b.puzzle_identifiers) || (b.labels.defined() && !is_int(b.labels)))
    throw Error(ErrorCode::DType, "inputs, labels and puzzle_identifiers must be integer tensors");
  if (check == BatchCheck::ShapesOnly) return;
  check_ints(b.inputs, "inputs", 0, cfg.vocab_size, "(vocab_size)", 0);
  if (b.labels.defined()) check_ints(b.labels, "labels", 0, cfg.vocab_size, "and not -100 (vocab_size)", kIgnoreLabel);
  if (cfg.puzzle_emb_ndim > 0)
    check_ints(b.puzzle_identifiers, "puzzle_identifiers", 0, cfg.num_puzzle_identifiers, "(num_puzzle_identifiers)", 0);
}

StepResult ACTModel::step(Carry& carry, const Batch& batch_in, BatchCheck check) {
  validate_batch(batch_in, check);
  const auto& cfg = config();
  const auto dev = inner_.device();
  const int64_t B = carry.steps.size(0);
  if (batch_in.inputs.size(0) != B)
    throw Error(ErrorCode::Shape, "batch has " + std::to_string(batch_in.inputs.size(0)) + " rows but the carry has " + std::to_string(B) +
                                      "; make a new carry for this batch size");
  // Page-locked batches (the trainer's loader on CUDA) reach the device without blocking the host.
  auto i32 = [&](const at::Tensor& t) { return t.to(dev, at::kInt, /*non_blocking=*/t.is_pinned()); };
  Batch batch{i32(batch_in.inputs),
              batch_in.labels.defined() ? i32(batch_in.labels) : at::full({B, cfg.seq_len}, kIgnoreLabel, i32(batch_in.inputs).options()),
              i32(batch_in.puzzle_identifiers)};

  // 1–2. Halted slots restart from the init states and take the fresh sample; the others keep theirs.
  auto halted = carry.halted;
  auto z = inner_.reset_carry(halted, carry.z);
  auto steps = at::where(halted, at::zeros_like(carry.steps), carry.steps);
  auto row = halted.view({-1, 1});
  Batch current{at::where(row, batch.inputs, carry.current.inputs), at::where(row, batch.labels, carry.current.labels),
                at::where(halted, batch.puzzle_identifiers, carry.current.puzzle_identifiers)};

  // 3. The inner forward.
  auto out = inner_.forward(z, current);

  StepResult r;
  // 4–5. Halting, under no_grad.
  {
    c10::NoGradGuard no_grad;
    steps = steps + 1;
    auto is_last = steps >= cfg.halt_max_steps;
    auto new_halted = is_last;
    // ACT halting while training (every architecture but a baseline with act_enabled false); in
    // evaluation only the baseline's act_inference halts early (every other model runs all steps).
    const bool adaptive = cfg.halt_max_steps > 1 && (training() ? cfg.act_enabled : cfg.act_inference);
    if (adaptive) new_halted = new_halted | (cfg.no_ACT_continue ? out.q_halt > 0 : out.q_halt > out.q_continue);
    if (adaptive && training()) {
      // Exploration: with probability p a row must run at least U{2..halt_max_steps} steps. Drawn
      // on the CPU generator (resumable, the same on every device), sent without a host sync.
      auto explore = at::rand({B}, gen_) < cfg.halt_exploration_prob;
      auto min_steps = at::randint(2, cfg.halt_max_steps + 1, {B}, gen_, at::kInt) * explore.to(at::kInt);
      if (dev.is_cuda()) min_steps = min_steps.pin_memory().to(dev, /*non_blocking=*/true);
      new_halted = new_halted & (steps >= min_steps);
      if (cfg.learns_q_continue()) {
        // Q-learning bootstrap target from one more inner pass on the new carry (HRM §9.1; fixes the
        // TRM unpack bug of §1.12). Eval-mode puzzle lookup keeps this step's gradient leaf intact.
        inner_.training = false;
        auto next = inner_.forward(out.carry, current);
        inner_.training = true;
        r.target_q_continue = at::sigmoid(at::where(is_last, next.q_halt, at::maximum(next.q_halt, next.q_continue)));
      }
    }
    if (!training() && early_halt) new_halted = new_halted | (out.q_halt > 0);
    halted = new_halted;
  }

  auto loss = act_loss({out.logits, current.labels, out.q_halt, out.q_continue, r.target_q_continue, halted, steps}, cfg.loss_type);
  r.logits = out.logits;
  r.q_halt = out.q_halt;
  r.q_continue = out.q_continue;
  r.preds = loss.preds;
  r.steps = steps;
  r.halted = halted;
  r.loss = loss.total;
  r.metrics = loss.metrics;

  carry.z = std::move(out.carry);
  carry.steps = steps;
  carry.halted = halted;
  carry.current = current;
  return r;
}

}  // namespace trm
