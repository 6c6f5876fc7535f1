#include "config_js.h"

#include "js_args.h"

namespace trm::addon {

// Every key is required: the defaults live in lib/config.ts alone, which always passes the full config.
constexpr const char* kWhere = "config";

ModelConfig config_from_js(Napi::Env env, const Napi::Object& o) {
  ModelConfig c;
  c.arch = arch_from_name(read_string(o, kWhere, "arch"));
  c.batch_size = read_number<int64_t>(o, kWhere, "batch_size");
  c.seq_len = read_number<int64_t>(o, kWhere, "seq_len");
  c.vocab_size = read_number<int64_t>(o, kWhere, "vocab_size");
  c.num_puzzle_identifiers = read_number<int64_t>(o, kWhere, "num_puzzle_identifiers");
  c.puzzle_emb_ndim = read_number<int64_t>(o, kWhere, "puzzle_emb_ndim");
  c.puzzle_emb_len = read_number<int64_t>(o, kWhere, "puzzle_emb_len");
  c.H_cycles = read_number<int64_t>(o, kWhere, "H_cycles");
  c.L_cycles = read_number<int64_t>(o, kWhere, "L_cycles");
  c.H_layers = read_number<int64_t>(o, kWhere, "H_layers");
  c.L_layers = read_number<int64_t>(o, kWhere, "L_layers");
  c.hidden_size = read_number<int64_t>(o, kWhere, "hidden_size");
  c.expansion = read_number<double>(o, kWhere, "expansion");
  c.num_heads = read_number<int64_t>(o, kWhere, "num_heads");
  c.pos_encodings = read_string(o, kWhere, "pos_encodings");
  c.rms_norm_eps = read_number<double>(o, kWhere, "rms_norm_eps");
  c.rope_theta = read_number<double>(o, kWhere, "rope_theta");
  c.halt_max_steps = read_number<int64_t>(o, kWhere, "halt_max_steps");
  c.halt_exploration_prob = read_number<double>(o, kWhere, "halt_exploration_prob");
  c.forward_dtype = read_string(o, kWhere, "forward_dtype");
  c.mlp_t = read_bool(o, kWhere, "mlp_t");
  c.no_ACT_continue = read_bool(o, kWhere, "no_ACT_continue");
  c.act_enabled = read_bool(o, kWhere, "act_enabled");
  c.act_inference = read_bool(o, kWhere, "act_inference");
  const auto loss = read_string(o, kWhere, "loss_type");
  if (loss == "stablemax_cross_entropy")
    c.loss_type = LossType::StablemaxCrossEntropy;
  else if (loss == "softmax_cross_entropy")
    c.loss_type = LossType::SoftmaxCrossEntropy;
  else
    throw_invalid(env, "config.loss_type must be stablemax_cross_entropy or softmax_cross_entropy, got '" + loss + "'");
  c.validate();
  return c;
}

Napi::Object config_to_js(Napi::Env env, const ModelConfig& c) {
  auto o = Napi::Object::New(env);
  auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  o.Set("arch", arch_name(c.arch));
  num("batch_size", c.batch_size);
  num("seq_len", c.seq_len);
  num("vocab_size", c.vocab_size);
  num("num_puzzle_identifiers", c.num_puzzle_identifiers);
  num("puzzle_emb_ndim", c.puzzle_emb_ndim);
  num("puzzle_emb_len", c.puzzle_emb_len);
  num("H_cycles", c.H_cycles);
  num("L_cycles", c.L_cycles);
  num("H_layers", c.H_layers);
  num("L_layers", c.L_layers);
  num("hidden_size", c.hidden_size);
  num("expansion", c.expansion);
  num("num_heads", c.num_heads);
  o.Set("pos_encodings", c.pos_encodings);
  num("rms_norm_eps", c.rms_norm_eps);
  num("rope_theta", c.rope_theta);
  num("halt_max_steps", c.halt_max_steps);
  num("halt_exploration_prob", c.halt_exploration_prob);
  o.Set("forward_dtype", c.forward_dtype);
  o.Set("mlp_t", c.mlp_t);
  o.Set("no_ACT_continue", c.no_ACT_continue);
  o.Set("act_enabled", c.act_enabled);
  o.Set("act_inference", c.act_inference);
  o.Set("loss_type", c.loss_type == LossType::StablemaxCrossEntropy ? "stablemax_cross_entropy" : "softmax_cross_entropy");
  return o;
}

}  // namespace trm::addon
