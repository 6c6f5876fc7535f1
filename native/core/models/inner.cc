#include "inner.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "../errors.h"
#include "../init.h"

namespace trm {

at::ScalarType dtype_from_name(const std::string& name) {
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float32") return at::kFloat;
  if (name == "float16") return at::kHalf;
  throw Error(ErrorCode::Config, "unsupported forward_dtype '" + name + "' (expected bfloat16, float32 or float16)");
}

static std::vector<std::string> states_of(const ModelConfig& cfg) {
  switch (cfg.arch) {
    case Arch::TRMSingleZ: return {"L"};
    case Arch::TRMHier6: return {"H", "L1", "L2", "L3", "L4", "L5", "L6"};
    case Arch::TransformersBaseline: return {"H"};
    default: return {"H", "L"};
  }
}

InnerModel::InnerModel(const ModelConfig& cfg, uint64_t seed)
    : cfg_(cfg), dtype_(dtype_from_name(cfg.forward_dtype)), gen_(at::make_generator<at::CPUGeneratorImpl>(seed)) {
  cfg_.validate();
  const int64_t D = cfg_.hidden_size;
  const double embed_init_std = 1.0 / std::sqrt(static_cast<double>(D));
  // State-dict order = the module's own buffers first, then children in registration order (§7.3).
  state_names_ = states_of(cfg_);
  for (const auto& s : state_names_) {
    // Created in forward_dtype (bf16 by default), std 1, never trained (§1.7, §1.8).
    inits_.push_back(params_.add(s + "_init", trunc_normal({D}, 1.0, gen_).to(dtype_), false));
  }
  embed_tokens_.emplace(params_, "embed_tokens", cfg_.vocab_size, D, embed_init_std, gen_);
  lm_head_.emplace(params_, "lm_head", D, cfg_.vocab_size, false, gen_);
  q_head_.emplace(params_, "q_head", D, 2, true, gen_);
  {
    c10::NoGradGuard no_grad;
    q_head_->weight.zero_();
    q_head_->bias.fill_(-5.0);  // sigmoid(q_halt) ~ 0.0067 at the start (§1.7)
  }
  if (cfg_.puzzle_emb_ndim > 0)
    puzzle_weights_ = params_.add("puzzle_emb.weights", at::zeros({cfg_.num_puzzle_identifiers, cfg_.puzzle_emb_ndim}), false);
  if (cfg_.pos_encodings == "rope")
    rope_.emplace(cfg_.head_dim(), cfg_.total_len(), cfg_.rope_theta);
  else if (cfg_.pos_encodings == "learned")
    embed_pos_.emplace(params_, "embed_pos", cfg_.total_len(), D, embed_init_std, gen_);
  const bool baseline = cfg_.arch == Arch::TransformersBaseline;
  if (cfg_.arch == Arch::HRM || baseline) H_level_.emplace(params_, "H_level", cfg_.H_layers, cfg_, gen_);
  if (!baseline) L_level_.emplace(params_, "L_level", cfg_.L_layers, cfg_, gen_);
}

void InnerModel::to(const at::Device& device) {
  c10::NoGradGuard no_grad;
  for (auto& e : params_.entries()) e.tensor.set_data(e.tensor.data().to(device));
  if (rope_) {
    rope_->cos = rope_->cos.to(device);
    rope_->sin = rope_->sin.to(device);
  }
  device_ = device;
}

std::vector<at::Tensor> InnerModel::empty_carry(int64_t batch) const {
  std::vector<at::Tensor> out;
  for (size_t i = 0; i < state_names_.size(); ++i)
    out.push_back(at::empty({batch, cfg_.total_len(), cfg_.hidden_size}, at::TensorOptions().dtype(dtype_).device(device_)));
  return out;
}

std::vector<at::Tensor> InnerModel::reset_carry(const at::Tensor& reset, const std::vector<at::Tensor>& carry) const {
  std::vector<at::Tensor> out;
  auto flag = reset.view({-1, 1, 1});
  for (size_t i = 0; i < carry.size(); ++i) out.push_back(at::where(flag, inits_[i], carry[i]));
  return out;
}

at::Tensor InnerModel::puzzle_embedding(const at::Tensor& ids) {
  if (!training) return puzzle_weights_.index_select(0, ids).to(dtype_);
  // Train mode (§3.3): the rows are copied into a leaf that collects the gradient for sign-SGD.
  {
    c10::NoGradGuard no_grad;
    local_weights_ = puzzle_weights_.index_select(0, ids).clone();
    local_ids_ = ids.clone();
  }
  local_weights_.requires_grad_(true);
  return local_weights_.to(dtype_);
}

at::Tensor InnerModel::input_embeddings(const at::Tensor& inputs, const at::Tensor& puzzle_ids) {
  const int64_t D = cfg_.hidden_size, P = cfg_.prefix_len();
  auto emb = (*embed_tokens_)(inputs.to(at::kInt), dtype_);
  if (cfg_.puzzle_emb_ndim > 0) {
    auto pe = puzzle_embedding(puzzle_ids);
    const int64_t pad = P * D - pe.size(-1);
    if (pad > 0) pe = at::constant_pad_nd(pe, {0, pad});  // zero-pad on the right (§1.3)
    emb = at::cat({pe.view({-1, P, D}), emb}, -2);
  }
  if (embed_pos_) emb = 0.707106781 * (emb + embed_pos_->weight.to(dtype_));
  return std::sqrt(static_cast<double>(D)) * emb;  // embed_scale, prefix included (§1.3 step 4)
}

InnerOutput InnerModel::forward(const std::vector<at::Tensor>& carry, const Batch& batch) {
  auto x = input_embeddings(batch.inputs, batch.puzzle_identifiers);
  auto z = recurse(carry, x);
  const auto& y = z[0];  // the answer state the heads read: z_H, or z_L for trm_singlez
  InnerOutput out;
  out.logits = (*lm_head_)(y).narrow(1, cfg_.prefix_len(), cfg_.seq_len);  // drop the prefix (§1.9 step 6)
  auto q = (*q_head_)(y.select(1, 0)).to(at::kFloat);                      // position 0 only (§1.9 step 7)
  out.q_halt = q.select(-1, 0);
  out.q_continue = q.select(-1, 1);
  for (auto& s : z) out.carry.push_back(s.detach());
  return out;
}

}  // namespace trm
