#include "config_js.h"

#include <cmath>

#include "js_errors.h"

namespace trm::addon {

namespace {

// Every key is required: the defaults live in lib/config.ts alone, which always passes the full config.
Napi::Value required(Napi::Env env, const Napi::Object& o, const char* key) {
  if (!o.Has(key) || o.Get(key).IsUndefined()) throw_invalid(env, std::string("config.") + key + " is missing");
  return o.Get(key);
}

template <typename T>
void read_number(Napi::Env env, const Napi::Object& o, const char* key, T& out) {
  auto v = required(env, o, key);
  if (!v.IsNumber()) throw_invalid(env, std::string("config.") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if constexpr (std::is_integral_v<T>) {
    // Range first: casting a double outside int64 to an integer is undefined behaviour.
    if (!(std::fabs(d) <= 9007199254740992.0) || d != std::trunc(d))
      throw_invalid(env, std::string("config.") + key + " must be an integer of at most 2^53, got " + std::to_string(d));
  }
  out = static_cast<T>(d);
}

void read_bool(Napi::Env env, const Napi::Object& o, const char* key, bool& out) {
  auto v = required(env, o, key);
  if (!v.IsBoolean()) throw_invalid(env, std::string("config.") + key + " must be a boolean");
  out = v.As<Napi::Boolean>().Value();
}

void read_string(Napi::Env env, const Napi::Object& o, const char* key, std::string& out) {
  auto v = required(env, o, key);
  if (!v.IsString()) throw_invalid(env, std::string("config.") + key + " must be a string");
  out = v.As<Napi::String>().Utf8Value();
}

}  // namespace

ModelConfig config_from_js(Napi::Env env, const Napi::Object& o) {
  ModelConfig c;
  std::string arch, loss;
  read_string(env, o, "arch", arch);
  c.arch = arch_from_name(arch);
  read_number(env, o, "batch_size", c.batch_size);
  read_number(env, o, "seq_len", c.seq_len);
  read_number(env, o, "vocab_size", c.vocab_size);
  read_number(env, o, "num_puzzle_identifiers", c.num_puzzle_identifiers);
  read_number(env, o, "puzzle_emb_ndim", c.puzzle_emb_ndim);
  read_number(env, o, "puzzle_emb_len", c.puzzle_emb_len);
  read_number(env, o, "H_cycles", c.H_cycles);
  read_number(env, o, "L_cycles", c.L_cycles);
  read_number(env, o, "H_layers", c.H_layers);
  read_number(env, o, "L_layers", c.L_layers);
  read_number(env, o, "hidden_size", c.hidden_size);
  read_number(env, o, "expansion", c.expansion);
  read_number(env, o, "num_heads", c.num_heads);
  read_string(env, o, "pos_encodings", c.pos_encodings);
  read_number(env, o, "rms_norm_eps", c.rms_norm_eps);
  read_number(env, o, "rope_theta", c.rope_theta);
  read_number(env, o, "halt_max_steps", c.halt_max_steps);
  read_number(env, o, "halt_exploration_prob", c.halt_exploration_prob);
  read_string(env, o, "forward_dtype", c.forward_dtype);
  read_bool(env, o, "mlp_t", c.mlp_t);
  read_bool(env, o, "no_ACT_continue", c.no_ACT_continue);
  read_bool(env, o, "act_enabled", c.act_enabled);
  read_bool(env, o, "act_inference", c.act_inference);
  read_string(env, o, "loss_type", loss);
  if (loss == "stablemax_cross_entropy") c.loss_type = LossType::StablemaxCrossEntropy;
  else if (loss == "softmax_cross_entropy") c.loss_type = LossType::SoftmaxCrossEntropy;
  else throw_invalid(env, "config.loss_type must be stablemax_cross_entropy or softmax_cross_entropy, got '" + loss + "'");
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
