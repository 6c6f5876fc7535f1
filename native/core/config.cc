#include "config.h"

#include <algorithm>
#include <cmath>

#include "errors.h"

namespace trm {

int64_t ModelConfig::prefix_len() const { return prefix_length(arch, puzzle_emb_ndim, puzzle_emb_len, hidden_size); }

int64_t prefix_length(Arch arch, int64_t puzzle_emb_ndim, int64_t puzzle_emb_len, int64_t hidden_size) {
  // docs/algorithm.md §1.3: -(ndim // -hidden) == ceil(ndim / hidden) when puzzle_emb_len is 0; HRM and the
  // transformers baseline have no puzzle_emb_len key and always use the ceiling (§9.1). Without a
  // puzzle embedding there is no prefix: the official code keeps puzzle_emb_len tokens in the
  // states but adds none to the input and fails on the shape mismatch; here the prefix is empty.
  if (puzzle_emb_ndim == 0) return 0;
  const bool ceiling = arch == Arch::HRM || arch == Arch::TransformersBaseline || puzzle_emb_len == 0;
  if (ceiling) {
    if (hidden_size < 1) throw Error(ErrorCode::Config, "hidden_size must be >= 1, got " + std::to_string(hidden_size));
    return (puzzle_emb_ndim + hidden_size - 1) / hidden_size;
  }
  return puzzle_emb_len;
}

int64_t swiglu_intermediate(int64_t hidden, double expansion) {
  // Python's round() is round-half-to-even; std::nearbyint under the default rounding mode is too.
  const auto inter = static_cast<int64_t>(std::nearbyint(expansion * static_cast<double>(hidden) * 2.0 / 3.0));
  return (inter + 255) / 256 * 256;
}

static void require(bool ok, const std::string& key, const std::string& why) {
  if (!ok) throw Error(ErrorCode::Config, "invalid model config: " + key + " " + why);
}

static void at_most(int64_t v, int64_t max, const std::string& key) {
  require(v <= max, key,
          "is " + std::to_string(v) + "; the most this build accepts is " + std::to_string(max) +
              " (ModelConfig limits in docs/robustness.md)");
}

double ModelConfig::element_count() const {
  // Counted in double so no config can overflow it; an upper bound of what InnerModel allocates.
  const double D = static_cast<double>(hidden_size), T = static_cast<double>(seq_len) + static_cast<double>(puzzle_emb_len) +
                                                         static_cast<double>(puzzle_emb_ndim) / std::max<double>(D, 1) + 1;
  const double swiglu = 3.0 * D * static_cast<double>(swiglu_intermediate(hidden_size, expansion));
  const double mixing = mlp_t ? 3.0 * T * static_cast<double>(swiglu_intermediate(static_cast<int64_t>(T), expansion)) : 4.0 * D * D;
  const double blocks = static_cast<double>(H_layers) + static_cast<double>(L_layers);
  return blocks * (swiglu + mixing) + 2.0 * static_cast<double>(vocab_size) * D + T * D + 16 * D +
         static_cast<double>(num_puzzle_identifiers) * static_cast<double>(puzzle_emb_ndim);
}

void ModelConfig::validate() const {
  // Upper limits far above every published recipe: a config past them is a typo or a hostile file,
  // and refusing it here stops the allocation, or a recursion that would never end, before it starts.
  at_most(seq_len, kMaxSeqLen, "seq_len");
  at_most(vocab_size, kMaxVocab, "vocab_size");
  at_most(hidden_size, kMaxHidden, "hidden_size");
  at_most(puzzle_emb_len, kMaxSeqLen, "puzzle_emb_len");
  at_most(H_layers, kMaxLayers, "H_layers");
  at_most(L_layers, kMaxLayers, "L_layers");
  at_most(H_cycles, kMaxCycles, "H_cycles");
  at_most(L_cycles, kMaxCycles, "L_cycles");
  at_most(halt_max_steps, kMaxHaltSteps, "halt_max_steps");
  require(std::isfinite(expansion) && expansion <= kMaxExpansion, "expansion",
          "must be a finite number <= " + std::to_string(static_cast<int>(kMaxExpansion)));
  require(std::isfinite(rms_norm_eps) && std::isfinite(rope_theta) && rope_theta > 0, "rms_norm_eps / rope_theta",
          "must be finite, rope_theta > 0");
  const double elements = element_count();
  require(elements <= static_cast<double>(kMaxElements), "size",
          "would need about " + std::to_string(static_cast<int64_t>(elements / 1e6)) + " M values, more than the " +
              std::to_string(kMaxElements / 1000000) +
              " M limit (hidden_size, layers, expansion, vocab_size, "
              "num_puzzle_identifiers x puzzle_emb_ndim)");
  require(seq_len > 0, "seq_len", "must be > 0 (it comes from dataset.json)");
  require(vocab_size > 1, "vocab_size", "must be > 1 (it comes from dataset.json)");
  require(num_puzzle_identifiers >= 1, "num_puzzle_identifiers", "must be >= 1");
  require(puzzle_emb_ndim >= 0, "puzzle_emb_ndim", "must be >= 0");
  require(puzzle_emb_len >= 0, "puzzle_emb_len", "must be >= 0");
  require(hidden_size > 0, "hidden_size", "must be > 0");
  require(puzzle_emb_ndim <= prefix_len() * hidden_size, "puzzle_emb_ndim",
          "must fit in puzzle_emb_len * hidden_size values (docs/algorithm.md §1.3)");
  require(H_cycles >= 1, "H_cycles", "must be >= 1");
  require(L_cycles >= 1, "L_cycles", "must be >= 1");
  const bool baseline = arch == Arch::TransformersBaseline;
  require(baseline || L_layers >= 1, "L_layers", "must be >= 1");
  require((arch != Arch::HRM && !baseline) || H_layers >= 1, "H_layers", "must be >= 1 for HRM and transformers_baseline");
  require(!baseline || pos_encodings != "none", "pos_encodings", "must be rope or learned for transformers_baseline");
  require(arch != Arch::TRMHier6 || L_cycles <= 6, "L_cycles", "must be <= 6 for trm_hier6 (docs/algorithm.md §9.2)");
  require(expansion > 0, "expansion", "must be > 0");
  require(num_heads >= 1 && num_heads <= hidden_size, "num_heads", "must be in [1, hidden_size]");
  require(pos_encodings != "rope" || head_dim() % 2 == 0, "num_heads", "must give an even head_dim for RoPE");
  require(pos_encodings == "rope" || pos_encodings == "learned" || pos_encodings == "none", "pos_encodings",
          "must be rope, learned or none, got '" + pos_encodings + "'");
  require(rms_norm_eps > 0, "rms_norm_eps", "must be > 0");
  require(halt_max_steps >= 1, "halt_max_steps", "must be >= 1");
  require(halt_exploration_prob >= 0 && halt_exploration_prob <= 1, "halt_exploration_prob", "must be in [0, 1]");
  require(forward_dtype == "bfloat16" || forward_dtype == "float32" || forward_dtype == "float16", "forward_dtype",
          "must be bfloat16, float32 or float16, got '" + forward_dtype + "'");
}

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::TRM: return "trm";
    case Arch::TRMSingleZ: return "trm_singlez";
    case Arch::TRMHier6: return "trm_hier6";
    case Arch::HRM: return "hrm";
    case Arch::TransformersBaseline: return "transformers_baseline";
  }
  return "trm";
}

Arch arch_from_name(const std::string& name) {
  if (name == "trm") return Arch::TRM;
  if (name == "trm_singlez") return Arch::TRMSingleZ;
  if (name == "trm_hier6") return Arch::TRMHier6;
  if (name == "hrm") return Arch::HRM;
  if (name == "transformers_baseline") return Arch::TransformersBaseline;
  throw Error(ErrorCode::Config,
              "unknown architecture '" + name + "' (expected trm, trm_singlez, trm_hier6, hrm or transformers_baseline)");
}

}  // namespace trm
