// JAX-style truncated-normal initialisation (docs/algorithm.md §1.7).
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace trm {

/**
 * A float32 tensor of `sizes` drawn from a standard normal truncated to [-2, 2] by inverse CDF,
 * scaled so the empirical std equals `std` (comp_std = std / 0.879625...), clipped to +-2 comp_std.
 * std == 0 gives zeros. (torch.nn.init.trunc_normal_ is a different rule; docs/algorithm.md §1.7.)
 */
at::Tensor trunc_normal(at::IntArrayRef sizes, double std, at::Generator& gen);

}  // namespace trm
