// An ordered name -> tensor table standing in for torch.nn.Module's registry, so state-dict
// names, order and persistence match the official module tree exactly (docs/algorithm.md §7.3, §7.4).
// Non-persistent tensors (rotary tables, puzzle scratch) never live here.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace trm {

struct NamedTensor {
  std::string name;  // canonical name, without the `_orig_mod.model.inner.` prefix
  at::Tensor tensor;
  bool trainable;  // a Parameter (true) or a persistent buffer (false)
};

class ParamStore {
 public:
  /** Registers a tensor and returns a handle to it (same TensorImpl); names must be unique. */
  at::Tensor add(const std::string& name, at::Tensor t, bool trainable);
  /** The entry with this name, or nullptr. */
  NamedTensor* find(const std::string& name);
  const NamedTensor* find(const std::string& name) const;
  /** The tensor with this name; throws trm::Error(CheckpointKey) when absent. */
  at::Tensor& at(const std::string& name);
  std::vector<NamedTensor>& entries() { return entries_; }
  const std::vector<NamedTensor>& entries() const { return entries_; }
  /** Sum of numel over trainable entries (what the official `num_params` counts, docs/algorithm.md §2.4). */
  int64_t num_parameters() const;

 private:
  std::vector<NamedTensor> entries_;
};

}  // namespace trm
