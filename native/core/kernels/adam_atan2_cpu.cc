#include "adam_atan2_cpu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#include "atan2_approx.h"

// ATen's OpenMP backend (the pip and conda LibTorch) implements at::parallel_for inline in its
// header with `#pragma omp parallel`: without -fopenmp on this file the loop runs on one thread.
// Build this file with -fopenmp (at run time it then uses LibTorch's own libgomp.so.1 and thread
// count, so at::set_num_threads applies).
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#define TRM_ADAM_ATAN2_THREADED 0
#pragma message("adam_atan2_cpu.cc is compiled without -fopenmp: the fused Adam-atan2 CPU kernel will run single-threaded")
#else
#define TRM_ADAM_ATAN2_THREADED 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TRM_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TRM_ALWAYS_INLINE inline
#endif

// Both builds target baseline x86-64 (SSE2, 4 floats per vector). With GCC on x86-64 Linux the range
// functions are also compiled for x86-64-v3 (AVX2 + FMA) and the copy is picked at load time
// (ifunc): 25 -> 20 ms per step on 6.8M parameters, where the kernel becomes memory-bound (an
// AVX-512 copy measured no faster). Copies can differ by an ulp (FMA contraction); a machine always
// runs the same copy, so resume stays bit-exact there. -DTRM_NO_VECTOR_CLONES builds the baseline
// copy only (the native tests run both).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__) && defined(__linux__) && \
    !defined(TRM_NO_VECTOR_CLONES)
#define TRM_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TRM_VECTOR_CLONES
#endif

// How the element loops are made to auto-vectorise under every build of the addon (CMake Release
// is -O3, node-gyp -O2):
//  - at -O2 GCC's "very cheap" cost model refuses loops that need a scalar epilogue, so the work
//    goes in fixed blocks of kBlock elements (a multiple of every float vector width: 4, 8, 16);
//  - std::sqrt keeps errno semantics without -fno-math-errno (which we cannot set per file in
//    both builds, and `#pragma GCC optimize` does not change it): GCC then emits a branch to libm
//    and gives up on the loop. So the block splits in two straight loops around one explicit
//    vector sqrt (SSE2 on x86-64, NEON on arm64; both are the IEEE correctly rounded sqrt).
namespace trm::kernels {
namespace {

constexpr int kBlock = 16;

/** Loop-invariant constants of one slice, in the fp32 math type. */
struct Consts {
  float wd_alpha, w1, w2, step_size, bc2_sqrt;
};

// at::lerp's two forms (ATen/native/Lerp.h): start-anchored for |w| < 0.5, end-anchored otherwise.
// The form is chosen once per step from the scalar weight, outside the element loop (template).
template <bool kSmallWeight>
TRM_ALWAYS_INLINE float lerp(float start, float end, float w) {
  if constexpr (kSmallWeight) {
    return start + w * (end - start);
  } else {
    return end - (end - start) * (1.0f - w);
  }
}

/** x[i] = sqrt(x[i]) for a full block, as vector instructions. */
TRM_ALWAYS_INLINE void sqrt_block(float* x) {
#if defined(__SSE2__)
  for (int i = 0; i < kBlock; i += 4) _mm_storeu_ps(x + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
#elif defined(__aarch64__) && defined(__ARM_NEON)
  for (int i = 0; i < kBlock; i += 4) vst1q_f32(x + i, vsqrtq_f32(vld1q_f32(x + i)));
#else
  for (int i = 0; i < kBlock; ++i) x[i] = std::sqrt(x[i]);
#endif
}

// Steps 2–3 of §3.2 for n elements: both moments; also leaves v in `root` for the sqrt.
template <bool kSmall1, bool kSmall2>
TRM_ALWAYS_INLINE void update_moments(const float* __restrict g, float* __restrict m, float* __restrict v, float* __restrict root, int n,
                                      const Consts& c) {
  for (int i = 0; i < n; ++i) {
    const float gi = g[i];
    const float vi = lerp<kSmall2>(v[i], gi * gi, c.w2);
    m[i] = lerp<kSmall1>(m[i], gi, c.w1);
    v[i] = vi;
    root[i] = vi;
  }
}

// Steps 1 and 4 of §3.2 for n elements, given root = sqrt(v). Decay first, then the atan2 step of
// size lr / (1 - β1^t), with sqrt(v) divided by sqrt(1 - β2^t) (adam-atan2 0.0.3).
TRM_ALWAYS_INLINE void update_params(float* __restrict p, const float* __restrict m, const float* __restrict root, int n, const Consts& c) {
  for (int i = 0; i < n; ++i) {
    const float decayed = p[i] * c.wd_alpha;
    p[i] = decayed - c.step_size * atan2_nonneg_x(m[i], root[i] / c.bc2_sqrt);
  }
}

template <bool kSmall1, bool kSmall2>
TRM_ALWAYS_INLINE void update_range(const AdamAtan2Slice& s, int64_t begin, int64_t end, const Consts& c) {
  float* p = s.param + begin;
  const float* g = s.grad + begin;
  float* m = s.exp_avg + begin;
  float* v = s.exp_avg_sq + begin;
  const int64_t n = end - begin;
  alignas(64) float root[kBlock];
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    update_moments<kSmall1, kSmall2>(g + i, m + i, v + i, root, kBlock, c);
    sqrt_block(root);
    update_params(p + i, m + i, root, kBlock, c);
  }
  const int tail = static_cast<int>(n - i);  // < kBlock elements, scalar
  update_moments<kSmall1, kSmall2>(g + i, m + i, v + i, root, tail, c);
  for (int j = 0; j < tail; ++j) root[j] = std::sqrt(root[j]);
  update_params(p + i, m + i, root, tail, c);
}

// The four lerp-form combinations as plain functions (target_clones does not take templates).
TRM_VECTOR_CLONES void range_small_small(const AdamAtan2Slice& s, int64_t b, int64_t e, const Consts& c) {
  update_range<true, true>(s, b, e, c);
}
TRM_VECTOR_CLONES void range_small_large(const AdamAtan2Slice& s, int64_t b, int64_t e, const Consts& c) {
  update_range<true, false>(s, b, e, c);
}
TRM_VECTOR_CLONES void range_large_small(const AdamAtan2Slice& s, int64_t b, int64_t e, const Consts& c) {
  update_range<false, true>(s, b, e, c);
}
TRM_VECTOR_CLONES void range_large_large(const AdamAtan2Slice& s, int64_t b, int64_t e, const Consts& c) {
  update_range<false, false>(s, b, e, c);
}

using RangeFn = void (*)(const AdamAtan2Slice&, int64_t, int64_t, const Consts&);

RangeFn pick_range_fn(float w1, float w2) {
  const bool s1 = std::fabs(w1) < 0.5f, s2 = std::fabs(w2) < 0.5f;
  if (s1 && s2) return &range_small_small;  // every real config: β1, β2 > 0.5
  if (s1) return &range_small_large;
  if (s2) return &range_large_small;
  return &range_large_large;
}

}  // namespace

bool adam_atan2_cpu_threaded() { return TRM_ADAM_ATAN2_THREADED != 0; }

void adam_atan2_cpu(const AdamAtan2Slice* slices, size_t count, const AdamAtan2Scalars& scalars, int64_t grain) {
  if (count == 0) return;
  // offsets[k] = first element of slice k in the concatenation of all slices.
  std::vector<int64_t> offsets(count + 1, 0);
  for (size_t k = 0; k < count; ++k) offsets[k + 1] = offsets[k] + slices[k].numel;
  const int64_t total = offsets[count];
  if (total == 0) return;
  const RangeFn range_fn = pick_range_fn(scalars.mbeta1, scalars.mbeta2);

  at::parallel_for(0, total, std::max<int64_t>(grain, 1), [&](int64_t begin, int64_t end) {
    // The slice holding `begin`: the last k with offsets[k] <= begin (skips empty slices).
    size_t k = static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), begin) - offsets.begin()) - 1;
    while (begin < end) {
      const int64_t stop = std::min(end, offsets[k + 1]);
      const AdamAtan2Slice& s = slices[k];
      const Consts c{scalars.wd_alpha, scalars.mbeta1, scalars.mbeta2, s.step_size, s.bias_correction2_sqrt};
      range_fn(s, begin - offsets[k], stop - offsets[k], c);
      begin = stop;
      ++k;
    }
  });
}

}  // namespace trm::kernels
