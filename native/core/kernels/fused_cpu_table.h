// The per-instruction-set entry points of the fused CPU kernels (fused_cpu_impl.h compiled once per
// ISA). Each entry does one range of work on the calling thread; fused_cpu.cc picks the table for
// this CPU and splits the work over LibTorch's intra-op threads.
#pragma once

#include <cstdint>

#include "fused_args.h"

namespace trm::kernels {

/** Columns per task of a middle-axis norm (a multiple of every ISA's step: 32 bf16 on AVX-512). */
constexpr int64_t kColumnBlock = 128;

/** Tasks of a norm: rows for a last-axis norm, (slab, column block) pairs otherwise. */
inline int64_t norm_tasks(const NormGeometry& g) {
  return g.inner == 1 ? g.outer : g.outer * ((g.inner + kColumnBlock - 1) / kColumnBlock);
}

struct FusedCpuTable {
  const char* isa;
  /** y = rms_norm(a + b); with s / rstd non-null also the rounded sum and 1/rms (for the backward). Tasks [begin, end). */
  void (*add_rms_norm)(Elem, const void* a, const void* b, void* y, void* s, float* rstd, const NormGeometry&, float eps, int64_t begin,
                       int64_t end);
  /** gs = d rms_norm(s) / ds applied to gy. Tasks [begin, end). */
  void (*add_rms_norm_backward)(Elem, const void* s, const float* rstd, const void* gy, void* gs, const NormGeometry&, int64_t begin,
                                int64_t end);
  /** out = silu(gate) * up over the flat output range [begin, end). */
  void (*swiglu)(Elem, const void* gate_up, void* out, const SwigluGeometry&, int64_t begin, int64_t end);
  /** The gate|up gradient over the flat output range [begin, end). */
  void (*swiglu_backward)(Elem, const void* gate_up, const void* gout, void* ggate_up, const SwigluGeometry&, int64_t begin, int64_t end);
  /** Rotates rows [begin, end) from `in` to `out` (may be the same buffer); `inverse` applies R^T. */
  void (*rope)(Elem, const void* in, void* out, const float* cos, const float* sin, const RopeGeometry&, bool inverse, int64_t begin,
               int64_t end);
};

namespace base {
extern const FusedCpuTable kTable;
}
#if defined(TRM_X86_KERNELS)
namespace avx2 {
extern const FusedCpuTable kTable;
}
namespace avx512 {
extern const FusedCpuTable kTable;
}
#endif

}  // namespace trm::kernels
