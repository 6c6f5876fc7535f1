// Moving model state to and from files: official `step_N` torch.save checkpoints (docs/algorithm.md §7.3,
// §7.5) and our own safetensors + JSON config. The file formats themselves live in io/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/raw_tensor.h"
#include "models/act.h"

namespace trm {

/** Strips the `_orig_mod.` / `model.` / `inner.` wrapper prefixes to the canonical name (§7.3, §7.5). */
std::string canonical_name(const std::string& name);

struct LoadOptions {
  bool strict = true;                 // missing or unexpected keys are errors
  bool resize_puzzle_to_mean = true;  // §7.3: a puzzle table of another shape becomes its row-mean
  bool allow_non_finite = false;      // NaN / infinite values are refused unless asked for (a diverged run)
};

struct LoadReport {
  std::vector<std::string> missing, unexpected;
  bool puzzle_table_resized = false;
};

/**
 * Copies tensors (canonical or prefixed names) into the model. Throws trm::Error before changing anything:
 * DType when a tensor's kind (floating, integer, bool) differs from the model's, CheckpointKey on a name or
 * shape mismatch, CheckpointFormat when a tensor holds NaN or infinity (unless allow_non_finite).
 */
LoadReport load_state(ACTModel& model, const std::vector<io::RawTensor>& tensors, const LoadOptions& opts);

/**
 * Copies every tensor of `src` into `dst`, a model of the same architecture whose puzzle table
 * may have more rows: existing rows are copied bit for bit, each new row is the mean of `src`'s
 * rows (the row load_state gives a puzzle the checkpoint does not know). Test-time adaptation
 * grows a trained model this way. Throws trm::Error(Config / Shape) for another architecture.
 */
void copy_state_growing_puzzles(const ACTModel& src, ACTModel& dst);

/** Reads official torch.save files or safetensors (by content, not by name) without copying the data. */
std::vector<io::RawTensor> read_checkpoint_tensors(const std::string& path, std::map<std::string, std::string>* metadata);

/** A CPU tensor over a file's bytes (zero copy when aligned); valid while the RawTensor's mapping lives. */
at::Tensor tensor_from_raw(const io::RawTensor& raw);

/** Contiguous CPU copies of `tensors` kept alive in `keep`, described for the io writers. */
std::vector<io::TensorToWrite> tensors_to_write(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                                std::vector<at::Tensor>& keep);

/** Writes the official layout: keys prefixed `_orig_mod.model.inner.`, loadable by the Python code. */
void save_official(const ACTModel& model, const std::string& path);
/** Writes safetensors with canonical names and `metadata` (our config JSON goes there). */
void save_safetensors(const ACTModel& model, const std::string& path, const std::map<std::string, std::string>& metadata);

}  // namespace trm
