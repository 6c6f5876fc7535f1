// Model configuration with the official key names (SPEC.md §1.2, §9.1, §9.2).
#pragma once

#include <cstdint>
#include <string>

namespace trm {

/** Which recursion the inner model runs. */
enum class Arch {
  TRM,         // recursive_reasoning.trm (SPEC §1.9)
  TRMSingleZ,  // recursive_reasoning.trm_singlez (SPEC §9.2)
  TRMHier6,    // recursive_reasoning.trm_hier6 (SPEC §9.2)
  HRM,         // recursive_reasoning.hrm / sapientinc HRM (SPEC §9.1)
};

/** Loss used for the language-model head (SPEC §2.1, §2.2). */
enum class LossType { StablemaxCrossEntropy, SoftmaxCrossEntropy };

/** Every key of TinyRecursiveReasoningModel_ACTV1Config (SPEC §1.2), official names. */
struct ModelConfig {
  Arch arch = Arch::TRM;
  int64_t batch_size = 1;  // informational: the trainer's local batch (SPEC §1.2)
  int64_t seq_len = 0;
  int64_t vocab_size = 0;
  int64_t num_puzzle_identifiers = 1;
  int64_t puzzle_emb_ndim = 512;
  int64_t puzzle_emb_len = 16;
  int64_t H_cycles = 3;
  int64_t L_cycles = 6;
  int64_t H_layers = 0;
  int64_t L_layers = 2;
  int64_t hidden_size = 512;
  double expansion = 4.0;
  int64_t num_heads = 8;
  std::string pos_encodings = "rope";
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  int64_t halt_max_steps = 16;
  double halt_exploration_prob = 0.1;
  std::string forward_dtype = "bfloat16";
  bool mlp_t = false;
  bool no_ACT_continue = true;
  LossType loss_type = LossType::StablemaxCrossEntropy;

  /** Prefix length P: puzzle_emb_len, or ceil(puzzle_emb_ndim / hidden_size) when it is 0 (SPEC §1.3). HRM always uses the latter. */
  int64_t prefix_len() const;
  /** P + S: the length of every recurrent state. */
  int64_t total_len() const { return prefix_len() + seq_len; }
  int64_t head_dim() const { return hidden_size / num_heads; }
  /** Throws trm::Error(Config) naming the first invalid key. */
  void validate() const;
};

/** SwiGLU intermediate width: round(expansion * hidden * 2/3) rounded up to a multiple of 256 (SPEC §1.5). */
int64_t swiglu_intermediate(int64_t hidden, double expansion);

const char* arch_name(Arch a);
Arch arch_from_name(const std::string& name);  // "trm", "trm_singlez", "trm_hier6", "hrm"

}  // namespace trm
