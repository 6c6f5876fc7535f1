#include "param_store.h"

#include "errors.h"

namespace trm {

at::Tensor ParamStore::add(const std::string& name, at::Tensor t, bool trainable) {
  if (find(name)) throw Error(ErrorCode::Internal, "duplicate state-dict entry " + name);
  if (trainable) t.requires_grad_(true);
  entries_.push_back({name, std::move(t), trainable});
  return entries_.back().tensor;  // a handle sharing the same TensorImpl
}

NamedTensor* ParamStore::find(const std::string& name) {
  for (auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const NamedTensor* ParamStore::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

at::Tensor& ParamStore::at(const std::string& name) {
  auto* e = find(name);
  if (!e) throw Error(ErrorCode::CheckpointKey, "no state-dict entry named " + name);
  return e->tensor;
}

int64_t ParamStore::num_parameters() const {
  int64_t n = 0;
  for (const auto& e : entries_)
    if (e.trainable) n += e.tensor.numel();
  return n;
}

}  // namespace trm
