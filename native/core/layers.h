// The building blocks of TRM and HRM (docs/algorithm.md §1.3–§1.6), registered in a ParamStore under the
// official module names so state dicts match (§7.4).
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <vector>

#include "config.h"
#include "param_store.h"

namespace trm {

/**
 * Casts of the fp32 master weights to the forward dtype, made once and reused while a scope is
 * alive on this thread and gradients are off (the T - 1 no-grad cycles and inference): the weights
 * cannot change inside one supervision step. With gradients on, every use casts again, as the
 * official CastedLinear does, so each use's gradient reaches the master weight in fp32.
 */
class CastCache {
 public:
  CastCache();
  ~CastCache();
  CastCache(const CastCache&) = delete;
  CastCache& operator=(const CastCache&) = delete;
  /** `w` in dtype `dt`: from the innermost live scope when gradients are off, else a fresh cast. */
  static at::Tensor cast(const at::Tensor& w, at::ScalarType dt);

 private:
  std::vector<std::pair<const void*, at::Tensor>> casts_;  // keyed by the master's TensorImpl
  CastCache* outer_;
};

/** Bias-free (or with bias) linear with an fp32 master weight cast to the input dtype at each call (§1.5). */
struct CastedLinear {
  at::Tensor weight;
  at::Tensor bias;  // undefined when the layer has none
  CastedLinear(ParamStore& ps, const std::string& name, int64_t in, int64_t out, bool with_bias, at::Generator& gen);
  at::Tensor operator()(const at::Tensor& x) const;
};

/** Embedding table stored in fp32 under `<name>.embedding_weight`, cast at lookup (§1.3). */
struct CastedEmbedding {
  at::Tensor weight;
  CastedEmbedding(ParamStore& ps, const std::string& name, int64_t num, int64_t dim, double init_std, at::Generator& gen);
  at::Tensor operator()(const at::Tensor& ids, at::ScalarType dtype) const;
};

/** SwiGLU with the fused gate|up projection (§1.5). */
struct SwiGLU {
  CastedLinear gate_up_proj;
  CastedLinear down_proj;
  SwiGLU(ParamStore& ps, const std::string& name, int64_t hidden, double expansion, at::Generator& gen);
  /** Over the last axis of x. */
  at::Tensor operator()(const at::Tensor& x) const;
  /** Over the sequence axis of h [B, L, D] (the mlp_t block), as W @ h: no transposed copies. */
  at::Tensor mix_tokens(const at::Tensor& h) const;
};

/** Rotary cos/sin tables [L, head_dim] in fp32, rotate-half convention (§1.4). Not persistent. */
struct RotaryTables {
  at::Tensor cos, sin;
  RotaryTables(int64_t head_dim, int64_t positions, double base);
};

/** Non-causal multi-head attention with a fused q|k|v projection and RoPE (§1.5). */
struct Attention {
  CastedLinear qkv_proj;
  CastedLinear o_proj;
  int64_t num_heads, head_dim;
  Attention(ParamStore& ps, const std::string& name, int64_t hidden, int64_t num_heads, at::Generator& gen);
  at::Tensor operator()(const at::Tensor& x, const RotaryTables* rope) const;
};

/** Post-norm block: attention (or the sequence-mixing mlp_t of §1.6), then the channel SwiGLU. */
struct Block {
  std::optional<Attention> self_attn;
  std::optional<SwiGLU> mlp_t;
  SwiGLU mlp;
  double eps;
  Block(ParamStore& ps, const std::string& name, const ModelConfig& cfg, at::Generator& gen);
  at::Tensor operator()(at::Tensor h, const RotaryTables* rope) const;
};

/** A stack of blocks with plain-addition input injection before the first block (§1.9 step 2). */
struct ReasoningModule {
  std::vector<Block> layers;
  ReasoningModule(ParamStore& ps, const std::string& name, int64_t num_layers, const ModelConfig& cfg, at::Generator& gen);
  at::Tensor operator()(const at::Tensor& h, const at::Tensor& injection, const RotaryTables* rope) const;
};

}  // namespace trm
