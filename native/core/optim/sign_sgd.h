// Sign-SGD for the sparse puzzle-embedding table (docs/algorithm.md §3.3, `CastedSparseEmbeddingSignSGD_Distributed`):
// only the rows present in the (already all-gathered) batch move, by -lr·sign(summed gradient), after
// a decoupled decay of those rows alone. Stateless; every rank computes the same thing, so the
// tables stay in sync without a broadcast. The all-gather across ranks is the caller's job.
#pragma once

#include <ATen/core/Tensor.h>

namespace trm {

class SparseSignSGD {
 public:
  /**
   * table [N, De] (fp32, updated in place); grad [b, De] the gradient of the batch's rows (the
   * puzzle_local_weights() leaf's .grad(), gathered over ranks); ids [b] integer row ids of those rows.
   * Rows with duplicate ids have their gradients summed first; each touched row then becomes
   * row · (1 - lr·wd) - lr · sign(summed) (computed with the table's dtype); untouched rows keep their
   * values exactly. Throws trm::Error: State when grad is undefined (no backward since the forward),
   * Shape / DType / Device on mismatched inputs, InvalidArgument for an id outside [0, N) (checked only
   * with `check_ids`: reading the ids' range waits for the device; the trainer's ids were checked when
   * the dataset loaded). Nothing else in a step waits for the device.
   */
  void step(at::Tensor& table, const at::Tensor& grad, const at::Tensor& ids, double lr, double weight_decay, bool check_ids = true) const;
};

}  // namespace trm
