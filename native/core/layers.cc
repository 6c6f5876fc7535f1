#include "layers.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>

#include "fused.h"
#include "init.h"

namespace trm {

namespace {
thread_local CastCache* live_cast_cache = nullptr;
}

CastCache::CastCache() : outer_(live_cast_cache) { live_cast_cache = this; }

CastCache::~CastCache() { live_cast_cache = outer_; }

at::Tensor CastCache::cast(const at::Tensor& w, at::ScalarType dt) {
  CastCache* c = live_cast_cache;
  if (w.scalar_type() == dt || !c || c10::GradMode::is_enabled() || !fusion_options().cast_cache) return w.to(dt);
  const void* key = w.unsafeGetTensorImpl();
  for (const auto& [k, t] : c->casts_)
    if (k == key && t.scalar_type() == dt) return t;
  c->casts_.emplace_back(key, w.to(dt));
  return c->casts_.back().second;
}

CastedLinear::CastedLinear(ParamStore& ps, const std::string& name, int64_t in, int64_t out, bool with_bias, at::Generator& gen) {
  // LeCun truncated normal, std = 1/sqrt(in) (§1.7).
  weight = ps.add(name + ".weight", trunc_normal({out, in}, 1.0 / std::sqrt(static_cast<double>(in)), gen), true);
  if (with_bias) bias = ps.add(name + ".bias", at::zeros({out}, at::kFloat), true);
}

at::Tensor CastedLinear::operator()(const at::Tensor& x) const {
  const auto dt = x.scalar_type();
  return at::linear(x, CastCache::cast(weight, dt), bias.defined() ? std::optional<at::Tensor>(CastCache::cast(bias, dt)) : std::nullopt);
}

CastedEmbedding::CastedEmbedding(ParamStore& ps, const std::string& name, int64_t num, int64_t dim, double init_std, at::Generator& gen) {
  weight = ps.add(name + ".embedding_weight", trunc_normal({num, dim}, init_std, gen), true);
}

at::Tensor CastedEmbedding::operator()(const at::Tensor& ids, at::ScalarType dtype) const { return at::embedding(weight.to(dtype), ids); }

SwiGLU::SwiGLU(ParamStore& ps, const std::string& name, int64_t hidden, double expansion, at::Generator& gen)
    : gate_up_proj(ps, name + ".gate_up_proj", hidden, 2 * swiglu_intermediate(hidden, expansion), false, gen),
      down_proj(ps, name + ".down_proj", swiglu_intermediate(hidden, expansion), hidden, false, gen) {}

at::Tensor SwiGLU::operator()(const at::Tensor& x) const {
  return down_proj(swiglu(gate_up_proj(x), -1));  // gate = first half, up = second half (§11.1)
}

at::Tensor SwiGLU::mix_tokens(const at::Tensor& h) const {
  const auto dt = h.scalar_type();
  return trm::mix_tokens(h, CastCache::cast(gate_up_proj.weight, dt), CastCache::cast(down_proj.weight, dt));
}

RotaryTables::RotaryTables(int64_t head_dim, int64_t positions, double base) {
  // inv_freq = 1 / base^(arange(0, dim, 2) / dim), all in fp32 as the official module computes it.
  auto exponent = at::arange(0, head_dim, 2, at::kFloat) / static_cast<double>(head_dim);
  auto inv_freq = 1.0 / at::pow(base, exponent);
  auto t = at::arange(positions, at::kFloat);
  auto freqs = at::outer(t, inv_freq);
  auto emb = at::cat({freqs, freqs}, -1);
  cos = emb.cos();
  sin = emb.sin();
}

// head_dim = hidden // heads; the heads' output (heads * head_dim wide) need not fill hidden (layers.Attention).
Attention::Attention(ParamStore& ps, const std::string& name, int64_t hidden, int64_t heads, at::Generator& gen)
    : qkv_proj(ps, name + ".qkv_proj", hidden, 3 * heads * (hidden / heads), false, gen),
      o_proj(ps, name + ".o_proj", heads * (hidden / heads), hidden, false, gen),
      num_heads(heads),
      head_dim(hidden / heads) {}

at::Tensor Attention::operator()(const at::Tensor& x, const RotaryTables* rope) const {
  const int64_t B = x.size(0), L = x.size(1);
  auto qkv = qkv_proj(x);
  if (rope) qkv = rope_qk(qkv, rope->cos, rope->sin, num_heads, head_dim);  // in fp32, cast back (§1.4)
  qkv = qkv.view({B, L, 3 * num_heads, head_dim});
  auto q = qkv.narrow(2, 0, num_heads);
  auto k = qkv.narrow(2, num_heads, num_heads);
  auto v = qkv.narrow(2, 2 * num_heads, num_heads);
  // [B, L, H, D] -> [B, H, L, D]; non-causal, no mask, default scale 1/sqrt(D) (§1.5).
  auto out = at::scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2));
  return o_proj(out.transpose(1, 2).reshape({B, L, num_heads * head_dim}));
}

Block::Block(ParamStore& ps, const std::string& name, const ModelConfig& cfg, at::Generator& gen)
    : self_attn(cfg.mlp_t ? std::nullopt
                          : std::optional<Attention>(std::in_place, ps, name + ".self_attn", cfg.hidden_size, cfg.num_heads, gen)),
      mlp_t(cfg.mlp_t ? std::optional<SwiGLU>(std::in_place, ps, name + ".mlp_t", cfg.total_len(), cfg.expansion, gen) : std::nullopt),
      mlp(ps, name + ".mlp", cfg.hidden_size, cfg.expansion, gen),
      eps(cfg.rms_norm_eps) {}

at::Tensor Block::operator()(at::Tensor h, const RotaryTables* rope) const {
  if (mlp_t) {
    // Token mixing along the sequence axis, normalised over L (§1.6), on h's own [B, L, D] layout;
    // with token_mix off the mixing runs on the transposed view as the official code does.
    auto mixed = fusion_options().token_mix ? mlp_t->mix_tokens(h) : (*mlp_t)(h.transpose(1, 2)).transpose(1, 2);
    h = add_rms_norm(h, mixed, eps, 1);
  } else {
    h = add_rms_norm(h, (*self_attn)(h, rope), eps, -1);
  }
  return add_rms_norm(h, mlp(h), eps, -1);
}

ReasoningModule::ReasoningModule(ParamStore& ps, const std::string& name, int64_t num_layers, const ModelConfig& cfg, at::Generator& gen) {
  layers.reserve(static_cast<size_t>(num_layers));
  for (int64_t i = 0; i < num_layers; ++i) layers.emplace_back(ps, name + ".layers." + std::to_string(i), cfg, gen);
}

at::Tensor ReasoningModule::operator()(const at::Tensor& h, const at::Tensor& injection, const RotaryTables* rope) const {
  auto x = h + injection;
  for (const auto& layer : layers) x = layer(x, rope);
  return x;
}

}  // namespace trm
