// Exponential moving average of the trainable parameters (`EMAHelper`, docs/algorithm.md §4): the shadow
// starts as a copy of the parameters (no warm-up, no bias correction) and after every training batch
// becomes (1 - mu)·param + mu·shadow. Buffers (puzzle table, H_init, L_init) are not averaged, so
// evaluation and checkpoints use the EMA dense weights with the live puzzle table.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "../param_store.h"

namespace trm {

class EMA {
 public:
  explicit EMA(double mu = 0.999);

  /** Clones every trainable entry (ParamStore::entries() with trainable = true) into the shadow, by name. */
  void register_params(const std::vector<NamedTensor>& params);
  /**
   * shadow = (1 - mu)·param + mu·shadow for every trainable entry, computed as the official code does
   * (two products, then their sum, in the parameter's dtype). Throws trm::Error(State) when a trainable
   * entry has no shadow (register_params() not called, or another model).
   */
  void update(const std::vector<NamedTensor>& params);
  /** Copies the shadow into the trainable entries (what `ema_copy` does to its deep copy). */
  void copy_to(const std::vector<NamedTensor>& params) const;
  /**
   * Exchanges shadow and parameter values (call again to undo, bit-exactly): lets the trainer evaluate
   * or checkpoint with the EMA weights in place without a second copy of the model.
   */
  void swap(const std::vector<NamedTensor>& params);

  double mu() const { return mu_; }
  bool registered() const { return !names_.empty(); }
  /** Names of the averaged parameters, in registration order (the order of shadow()). */
  const std::vector<std::string>& names() const { return names_; }
  /** The live shadow tensors in registration order; also the state to save for resume. */
  const std::vector<at::Tensor>& shadow() const { return shadow_; }
  /**
   * Restores a saved shadow (names() order, same shapes); copied into the live shadow tensors.
   * Throws trm::Error(State) on a count or shape mismatch, leaving the shadow unchanged.
   */
  void load_state(const std::vector<at::Tensor>& shadow);

 private:
  /** The shadow of a named parameter; throws State when there is none. */
  at::Tensor& shadow_of(const std::string& name);
  const at::Tensor& shadow_of(const std::string& name) const;

  double mu_;
  std::vector<std::string> names_;
  std::vector<at::Tensor> shadow_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace trm
