// The trainer's full-state checkpoint: everything a run needs to continue exactly —
// model tensors, Adam-atan2 moments and step counters, the EMA shadow, the ACT carry with the data
// in its slots, the exploration RNG, the loader position and the step — in one safetensors file,
// written atomically. The official step_N files carry only the model (docs/algorithm.md §7.3).
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <sstream>

#include "../checkpoint.h"
#include "../errors.h"
#include "../io/safetensors.h"
#include "trainer.h"

namespace trm {

namespace {

constexpr const char* kFormat = "trm-native-train-state-1";

std::string join(const std::vector<int64_t>& v) {
  std::ostringstream s;
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  return s.str();
}

std::vector<int64_t> split(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ','))
    if (!item.empty()) out.push_back(std::stoll(item));
  return out;
}

int64_t meta_int(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
  auto it = m.find(key);
  if (it == m.end()) throw Error(ErrorCode::CheckpointFormat, path + " is not a trm-native training state (no '" + key + "')");
  return std::stoll(it->second);
}

}  // namespace

void Trainer::save_state(const std::string& path) { write_state(path, iteration_, mid_iteration_); }

void Trainer::write_state(const std::string& path, int64_t iteration, bool mid_iteration) {
  std::vector<std::pair<std::string, at::Tensor>> named;
  for (const auto& e : model_.inner().params().entries()) named.emplace_back("model/" + e.name, e.tensor);
  const auto adam = adam_->state_tensors();
  for (size_t i = 0; i < adam.size(); ++i) named.emplace_back("adam/" + std::to_string(i), adam[i]);
  if (ema_) {
    const auto& shadow = ema_->shadow();
    for (size_t i = 0; i < shadow.size(); ++i) named.emplace_back("ema/" + std::to_string(i), shadow[i]);
  }
  if (carry_) {
    for (size_t i = 0; i < carry_->z.size(); ++i) named.emplace_back("carry/z" + std::to_string(i), carry_->z[i]);
    named.emplace_back("carry/steps", carry_->steps);
    named.emplace_back("carry/halted", carry_->halted);
    named.emplace_back("carry/inputs", carry_->current.inputs);
    named.emplace_back("carry/labels", carry_->current.labels);
    named.emplace_back("carry/puzzle_identifiers", carry_->current.puzzle_identifiers);
  }
  named.emplace_back("rng/explore", model_.rng_state());
  std::map<std::string, std::string> meta = {{"format", kFormat},
                                             {"step", std::to_string(step_)},
                                             {"iteration", std::to_string(iteration)},
                                             {"mid_iteration", mid_iteration ? "1" : "0"},
                                             {"loader", join(train_->position())},
                                             {"world_size", std::to_string(dist_->world_size())}};
  std::vector<at::Tensor> keep;
  io::write_safetensors(path, tensors_to_write(named, keep), meta);
}

void Trainer::load_state(const std::string& path) {
  auto file = io::read_safetensors(path);
  if (file.metadata["format"] != kFormat)
    throw Error(ErrorCode::CheckpointFormat, path + " is not a trm-native training state (format '" + file.metadata["format"] + "')");
  if (meta_int(file.metadata, "world_size", path) != dist_->world_size())
    throw Error(ErrorCode::Config,
                path + " was written by a run of " + file.metadata["world_size"] + " processes; resume it with the same number");
  std::map<std::string, at::Tensor> t;
  for (const auto& raw : file.tensors) t[raw.name] = tensor_from_raw(raw).clone();
  auto take = [&](const std::string& name) {
    auto it = t.find(name);
    if (it == t.end()) throw Error(ErrorCode::CheckpointKey, path + " has no tensor " + name);
    return it->second;
  };
  c10::NoGradGuard no_grad;
  for (auto& e : model_.inner().params().entries()) {
    auto src = take("model/" + e.name);
    if (!src.sizes().equals(e.tensor.sizes())) throw Error(ErrorCode::CheckpointKey, path + ": model/" + e.name + " has another shape");
    e.tensor.copy_(src);
  }
  std::vector<at::Tensor> adam;
  for (size_t i = 0; t.count("adam/" + std::to_string(i)); ++i) adam.push_back(take("adam/" + std::to_string(i)));
  adam_->load_state(adam);
  if (ema_) {
    std::vector<at::Tensor> shadow;
    for (size_t i = 0; t.count("ema/" + std::to_string(i)); ++i) shadow.push_back(take("ema/" + std::to_string(i)));
    ema_->load_state(shadow);
  }
  const auto dev = model_.inner().device();
  if (t.count("carry/steps")) {
    Carry c;
    for (size_t i = 0; t.count("carry/z" + std::to_string(i)); ++i) c.z.push_back(take("carry/z" + std::to_string(i)).to(dev));
    c.steps = take("carry/steps").to(dev);
    c.halted = take("carry/halted").to(dev);
    c.current = {take("carry/inputs").to(dev), take("carry/labels").to(dev), take("carry/puzzle_identifiers").to(dev)};
    carry_ = std::move(c);
  } else {
    carry_.reset();
  }
  model_.set_rng_state(take("rng/explore"));
  step_ = meta_int(file.metadata, "step", path);
  iteration_ = meta_int(file.metadata, "iteration", path);
  mid_iteration_ = meta_int(file.metadata, "mid_iteration", path) != 0;
  train_->restore(split(file.metadata["loader"]));
}

}  // namespace trm
