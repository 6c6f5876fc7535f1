// Plain-data arguments of the fused recursion kernels (the non-matmul work of one block: residual
// add + gain-less RMSNorm, SwiGLU's silu(gate) * up, RoPE on q and k), shared by the CPU kernels and
// their CUDA twins. No ATen or CUDA types, so g++ and a plain `nvcc -c` both include it.
#pragma once

#include <cstdint>

namespace trm::kernels {

/** Element type of the activations; bf16 is stored as its raw 16 bits. Math is always fp32. */
enum class Elem : uint8_t { F32, BF16 };

/**
 * Where the normalised axis lies: element (o, i, k) sits at (o * n + i) * inner + k, and the norm
 * runs over i for each (o, k). inner = 1 is the usual last-axis norm; inner > 1 normalises over a
 * middle axis in place (the token-mixing mlp_t block, which normalises over the sequence).
 */
struct NormGeometry {
  int64_t outer;
  int64_t n;
  int64_t inner;
  int64_t numel() const { return outer * n * inner; }
};

/**
 * gate | up halves: element k of half h of row o sits at (o * 2 + h) * inner + k, and the output
 * silu(gate) * up at o * inner + k. inner is the intermediate width for a channel SwiGLU, or
 * intermediate x hidden for the token-mixing one (whose halves are blocks of rows).
 */
struct SwigluGeometry {
  int64_t outer;
  int64_t inner;
};

/**
 * Rotary embedding on a fused q|k|v projection viewed as [rows, row_stride] with rows = B * L:
 * the first `heads` heads of `head_dim` elements of each row are rotated with the tables of
 * position (row % positions), rotate-half convention. With `copy_rest`, the rest of the row (v)
 * is copied from input to output (the backward writes a fresh gradient); otherwise it is untouched.
 */
struct RopeGeometry {
  int64_t rows;
  int64_t positions;
  int64_t row_stride;
  int64_t heads;
  int64_t head_dim;
  bool copy_rest;
};

}  // namespace trm::kernels
