#include "fused_cpu.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>

#include <algorithm>
#include <string>

#include "fused_cpu_table.h"

namespace trm::kernels {
namespace {

// Elements per thread task, as ATen's own elementwise kernels (at::internal::GRAIN_SIZE): smaller
// jobs run on the calling thread, where waking the pool would cost more than the work.
constexpr int64_t kGrainElements = 32768;

const FusedCpuTable& table() {
  static const FusedCpuTable* chosen = []() -> const FusedCpuTable* {
#if defined(TRM_X86_KERNELS)
    // ATen's own dispatch decision ("AVX512" needs F/BW/VL/DQ + FMA, as our build flags), honouring
    // ATEN_CPU_CAPABILITY, so one environment variable moves both to the same instruction set.
    const std::string cap = at::get_cpu_capability();
    if (cap == "AVX512") return &avx512::kTable;
    if (cap == "AVX2") return &avx2::kTable;
#endif
    return &base::kTable;
  }();
  return *chosen;
}

int64_t grain(int64_t elements_per_task) { return std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, elements_per_task)); }

int64_t norm_task_elements(const NormGeometry& g) { return g.inner == 1 ? g.n : g.n * std::min(g.inner, kColumnBlock); }

}  // namespace

const char* fused_cpu_isa() { return table().isa; }

void add_rms_norm_cpu(Elem e, const void* a, const void* b, void* y, void* s, float* rstd, const NormGeometry& g, float eps) {
  const auto& t = table();
  at::parallel_for(0, norm_tasks(g), grain(norm_task_elements(g)),
                   [&](int64_t begin, int64_t end) { t.add_rms_norm(e, a, b, y, s, rstd, g, eps, begin, end); });
}

void add_rms_norm_backward_cpu(Elem e, const void* s, const float* rstd, const void* gy, void* gs, const NormGeometry& g) {
  const auto& t = table();
  at::parallel_for(0, norm_tasks(g), grain(norm_task_elements(g)),
                   [&](int64_t begin, int64_t end) { t.add_rms_norm_backward(e, s, rstd, gy, gs, g, begin, end); });
}

void swiglu_cpu(Elem e, const void* gate_up, void* out, const SwigluGeometry& g) {
  const auto& t = table();
  at::parallel_for(0, g.outer * g.inner, kGrainElements, [&](int64_t begin, int64_t end) { t.swiglu(e, gate_up, out, g, begin, end); });
}

void swiglu_backward_cpu(Elem e, const void* gate_up, const void* gout, void* ggate_up, const SwigluGeometry& g) {
  const auto& t = table();
  at::parallel_for(0, g.outer * g.inner, kGrainElements,
                   [&](int64_t begin, int64_t end) { t.swiglu_backward(e, gate_up, gout, ggate_up, g, begin, end); });
}

void rope_cpu(Elem e, const void* in, void* out, const float* cos, const float* sin, const RopeGeometry& g, bool inverse) {
  const auto& t = table();
  at::parallel_for(0, g.rows, grain(g.row_stride),
                   [&](int64_t begin, int64_t end) { t.rope(e, in, out, cos, sin, g, inverse, begin, end); });
}

}  // namespace trm::kernels
