// Model configuration with the official key names (docs/algorithm.md §1.2, §9.1, §9.2).
#pragma once

#include <cstdint>
#include <string>

namespace trm {

/**
 * Upper limits of a config, checked by ModelConfig::validate() before anything is allocated. Far above
 * every published recipe (hidden 512, 2-8 layers, 3x6 cycles, 16 steps, sequences of 900).
 */
constexpr int64_t kMaxSeqLen = 65536;
constexpr int64_t kMaxVocab = 1 << 20;
constexpr int64_t kMaxHidden = 16384;
constexpr int64_t kMaxLayers = 256;
constexpr int64_t kMaxCycles = 256;
constexpr int64_t kMaxHaltSteps = 1024;
constexpr double kMaxExpansion = 64;
/** Values (parameters, buffers and the puzzle table together): 8 GiB in float32. */
constexpr int64_t kMaxElements = int64_t{1} << 31;

/** Which model the official code builds (models/recursive_reasoning/<name>.py). */
enum class Arch {
  TRM,                   // trm.py (docs/algorithm.md §1.9)
  TRMSingleZ,            // trm_singlez.py (docs/algorithm.md §9.2)
  TRMHier6,              // trm_hier6.py (docs/algorithm.md §9.2)
  HRM,                   // hrm.py / sapientinc HRM (docs/algorithm.md §9.1)
  TransformersBaseline,  // transformers_baseline.py: H_layers post-norm blocks, one pass per step
};

/** Loss used for the language-model head (docs/algorithm.md §2.1, §2.2). */
enum class LossType { StablemaxCrossEntropy, SoftmaxCrossEntropy };

/**
 * Every key of the official config classes, official names. No defaults here: lib/config.ts
 * resolves them per architecture and the addon passes every key (config_js.cc).
 */
struct ModelConfig {
  Arch arch = Arch::TRM;
  int64_t batch_size = 0;  // informational: the trainer's local batch (docs/algorithm.md §1.2)
  int64_t seq_len = 0;
  int64_t vocab_size = 0;
  int64_t num_puzzle_identifiers = 0;
  int64_t puzzle_emb_ndim = 0;
  int64_t puzzle_emb_len = 0;
  int64_t H_cycles = 0;
  int64_t L_cycles = 0;
  int64_t H_layers = 0;
  int64_t L_layers = 0;
  int64_t hidden_size = 0;
  double expansion = 0;
  int64_t num_heads = 0;
  std::string pos_encodings;
  double rms_norm_eps = 0;
  double rope_theta = 0;
  int64_t halt_max_steps = 0;
  double halt_exploration_prob = 0;
  std::string forward_dtype;
  bool mlp_t = false;
  bool no_ACT_continue = false;
  bool act_enabled = false;    // transformers_baseline: ACT halting while training
  bool act_inference = false;  // transformers_baseline: ACT halting in evaluation
  LossType loss_type = LossType::StablemaxCrossEntropy;

  /** Prefix length P: puzzle_emb_len, or ceil(puzzle_emb_ndim / hidden_size) when it is 0 (docs/algorithm.md §1.3). HRM and the baseline
   * always use the latter. */
  int64_t prefix_len() const;
  /** P + S: the length of every recurrent state. */
  int64_t total_len() const { return prefix_len() + seq_len; }
  /** hidden_size // num_heads, as layers.Attention is built (the heads need not fill hidden_size). */
  int64_t head_dim() const { return hidden_size / num_heads; }
  /** Q-learning: the q_continue bootstrap target is computed and trained (HRM, or TRM with no_ACT_continue false). */
  bool learns_q_continue() const { return !no_ACT_continue && arch != Arch::TransformersBaseline; }
  /** An upper bound of the values the model holds (parameters, buffers, puzzle table), computed without allocating. */
  double element_count() const;
  /** Throws trm::Error(Config) naming the first invalid key or limit. */
  void validate() const;
};

/** The prefix length rule behind ModelConfig::prefix_len, from the keys that fix it (Config error if hidden_size < 1 is needed). */
int64_t prefix_length(Arch arch, int64_t puzzle_emb_ndim, int64_t puzzle_emb_len, int64_t hidden_size);

/** SwiGLU intermediate width: round(expansion * hidden * 2/3) rounded up to a multiple of 256 (docs/algorithm.md §1.5). */
int64_t swiglu_intermediate(int64_t hidden, double expansion);

const char* arch_name(Arch a);
Arch arch_from_name(const std::string& name);  // "trm", "trm_singlez", "trm_hier6", "hrm", "transformers_baseline"

}  // namespace trm
