// The inner model: embeddings, the shared reasoning network(s), the recursion of one supervision
// step, and the heads (docs/algorithm.md §1.3–§1.10, §9). One class serves every architecture; the
// recursion itself lives in recursion.cc.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../config.h"
#include "nograd_cycles.h"
#include "../layers.h"
#include "../param_store.h"

namespace trm {

/** One batch: inputs [B, S] int32, labels [B, S] int32 (-100 = ignored), puzzle_identifiers [B] int32. */
struct Batch {
  at::Tensor inputs;
  at::Tensor labels;
  at::Tensor puzzle_identifiers;
};

/** What one inner forward returns (§1.9 steps 5–7). */
struct InnerOutput {
  std::vector<at::Tensor> carry;  // detached recurrent states
  at::Tensor logits;              // [B, S, V] in forward_dtype
  at::Tensor q_halt;              // [B] fp32
  at::Tensor q_continue;          // [B] fp32
};

class InnerModel {
 public:
  InnerModel(const ModelConfig& cfg, uint64_t seed);

  const ModelConfig& config() const { return cfg_; }
  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  at::ScalarType forward_dtype() const { return dtype_; }
  at::Device device() const { return device_; }
  /** Moves every tensor to `device` in place (handles stay valid). */
  void to(const at::Device& device);

  bool training = false;
  /** When set (from another thread), forward throws trm::Error(Cancelled) at the next recursion cycle. */
  const std::atomic<bool>* cancel = nullptr;

  /** Names of the carried states, e.g. {"z_H", "z_L"}; their inits are the `<X>_init` buffers. */
  const std::vector<std::string>& state_names() const { return state_names_; }
  /** Uninitialised states for a batch of B (every slot starts halted, so nothing leaks, §1.12). */
  std::vector<at::Tensor> empty_carry(int64_t batch) const;
  /** States reset to their init vectors where `reset` [B] is true (§1.11 step 1). */
  std::vector<at::Tensor> reset_carry(const at::Tensor& reset, const std::vector<at::Tensor>& carry) const;
  /** One supervision step: recursion with the no-grad/grad boundary, then the heads. */
  InnerOutput forward(const std::vector<at::Tensor>& carry, const Batch& batch);

  /** Train mode: the puzzle-embedding rows of the last forward (a leaf that receives the gradient, §3.3). */
  const at::Tensor& puzzle_local_weights() const { return local_weights_; }
  const at::Tensor& puzzle_local_ids() const { return local_ids_; }

 private:
  at::Tensor input_embeddings(const at::Tensor& inputs, const at::Tensor& puzzle_ids);
  at::Tensor puzzle_embedding(const at::Tensor& ids);
  std::vector<at::Tensor> recurse(std::vector<at::Tensor> z, const at::Tensor& x);
  /** Every tensor the recursion reads besides z and x (CUDA only; empty elsewhere). */
  std::vector<at::Tensor> graph_inputs() const;

  ModelConfig cfg_;
  at::ScalarType dtype_;
  at::Device device_{at::kCPU};
  at::Generator gen_;
  ParamStore params_;
  std::vector<std::string> state_names_;
  std::vector<at::Tensor> inits_;  // one [D] buffer per carried state
  std::optional<CastedEmbedding> embed_tokens_;
  std::optional<CastedLinear> lm_head_;
  std::optional<CastedLinear> q_head_;
  at::Tensor puzzle_weights_;  // [N_ids, puzzle_emb_ndim] persistent buffer, undefined when ndim == 0
  std::optional<CastedEmbedding> embed_pos_;
  std::optional<RotaryTables> rope_;
  std::optional<ReasoningModule> H_level_;  // HRM only
  std::optional<ReasoningModule> L_level_;
  at::Tensor local_weights_, local_ids_;
  NoGradCycles nograd_;
};

at::ScalarType dtype_from_name(const std::string& name);

}  // namespace trm
