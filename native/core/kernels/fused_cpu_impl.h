// The bodies of the fused CPU kernels, written once with ATen's Vectorized<> and compiled once per
// instruction set: fused_cpu_{avx512,avx2,base}.cc define TRM_ISA (this copy's namespace) and
// ATen's CPU_CAPABILITY with matching -m flags, then include this file. Each function does one
// range of work on the calling thread; fused_cpu.cc splits the work over threads.
//
// Math is fp32 (bf16 in, fp32 accumulate). Where the unfused ATen ops round an intermediate to the
// activation dtype (a + b before the norm, silu(gate) before the product, the mul gradients),
// these kernels round it too, so fused and unfused bf16 agree to the last bit except where the
// order of a sum differs. The files are built with -ffp-contract=off: no FMA contraction, so
// a * b + c rounds like the separate ATen mul and add.
#pragma once

#ifndef TRM_ISA
#error "define TRM_ISA (and ATen's CPU_CAPABILITY) before including fused_cpu_impl.h"
#endif

#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <tuple>

#include "fused_cpu_table.h"

namespace trm::kernels::TRM_ISA {
namespace {

using BF16 = c10::BFloat16;
using fVec = at::vec::Vectorized<float>;
using bVec = at::vec::Vectorized<BF16>;
constexpr int64_t kW = fVec::size();
// One step = two float vectors = one bf16 vector, so both dtypes share the loop structure.
constexpr int64_t kStep = 2 * kW;
static_assert(kColumnBlock % kStep == 0, "the column block must be whole steps on every ISA");

// Loads / stores of one step (len == kStep) or a shorter tail (lanes past len load as 0).
template <typename T>
struct Io;

template <>
struct Io<float> {
  static void load(const float* p, int64_t len, fVec& a, fVec& b) {
    if (len == kStep) {
      a = fVec::loadu(p);
      b = fVec::loadu(p + kW);
    } else {
      a = fVec::loadu(p, std::min(len, kW));
      b = len > kW ? fVec::loadu(p + kW, len - kW) : fVec(0.0f);
    }
  }
  static void store(float* p, int64_t len, const fVec& a, const fVec& b) {
    if (len == kStep) {
      a.store(p);
      b.store(p + kW);
    } else {
      a.store(p, static_cast<int>(std::min(len, kW)));
      if (len > kW) b.store(p + kW, static_cast<int>(len - kW));
    }
  }
  static void round(fVec&, fVec&) {}
};

template <>
struct Io<BF16> {
  static void load(const BF16* p, int64_t len, fVec& a, fVec& b) {
    const bVec v = len == kStep ? bVec::loadu(p) : bVec::loadu(p, static_cast<int16_t>(len));
    std::tie(a, b) = at::vec::convert_to_float<BF16>(v);
  }
  static void store(BF16* p, int64_t len, const fVec& a, const fVec& b) {
    const bVec v = at::vec::convert_from_float<BF16>(a, b);
    if (len == kStep) {
      v.store(p);
    } else {
      v.store(p, static_cast<int>(len));
    }
  }
  /** Round to bf16 and back: the value an unfused op would have stored. */
  static void round(fVec& a, fVec& b) { std::tie(a, b) = at::vec::convert_to_float<BF16>(at::vec::convert_from_float<BF16>(a, b)); }
};

/** Calls f(offset, len) over [0, n) in steps of kStep, the last one possibly shorter. */
template <typename F>
inline void for_steps(int64_t n, F&& f) {
  int64_t i = 0;
  for (; i + kStep <= n; i += kStep) f(i, kStep);
  if (i < n) f(i, n - i);
}

inline fVec silu(const fVec& x) { return x / (fVec(1.0f) + x.neg().exp()); }
inline fVec sigmoid(const fVec& x) { return fVec(1.0f) / (fVec(1.0f) + x.neg().exp()); }

// ---- residual add + gain-less RMSNorm ----

// s = round(a + b) of one step; the sum the unfused `a + b` stores.
template <typename T>
inline void residual(const T* a, const T* b, int64_t len, fVec& s0, fVec& s1) {
  fVec a0, a1, b0, b1;
  Io<T>::load(a, len, a0, a1);
  Io<T>::load(b, len, b0, b1);
  s0 = a0 + b0;
  s1 = a1 + b1;
  Io<T>::round(s0, s1);
}

inline float inv_rms(float sum_sq, int64_t n, float eps) {
  // mean then + eps then 1/sqrt, each rounded in fp32 as the unfused square().mean() + eps, rsqrt.
  const float var = sum_sq / static_cast<float>(n);
  return 1.0f / std::sqrt(var + eps);
}

// Rows [begin, end) of a last-axis norm (inner == 1).
template <typename T>
void norm_rows(const T* a, const T* b, T* y, T* s_out, float* rstd, int64_t n, float eps, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const T* ar = a + r * n;
    const T* br = b + r * n;
    T* yr = y + r * n;
    fVec acc0(0.0f), acc1(0.0f);
    for_steps(n, [&](int64_t i, int64_t len) {
      fVec s0, s1;
      residual(ar + i, br + i, len, s0, s1);
      if (s_out) Io<T>::store(s_out + r * n + i, len, s0, s1);
      acc0 = acc0 + s0 * s0;
      acc1 = acc1 + s1 * s1;
    });
    const float inv = inv_rms(at::vec::vec_reduce_all<float>([](fVec& p, fVec& q) { return p + q; }, acc0 + acc1), n, eps);
    if (rstd) rstd[r] = inv;
    const fVec vinv(inv);
    for_steps(n, [&](int64_t i, int64_t len) {
      fVec s0, s1;
      residual(ar + i, br + i, len, s0, s1);
      Io<T>::store(yr + i, len, s0 * vinv, s1 * vinv);
    });
  }
}

// Tasks [begin, end) of a middle-axis norm: task t = (o, column block c) covers columns
// [c * kColumnBlock, ...) of slab o, each column normalised over its n rows.
template <typename T>
void norm_columns(const T* a, const T* b, T* y, T* s_out, float* rstd, const NormGeometry& g, float eps, int64_t begin, int64_t end) {
  const int64_t blocks = (g.inner + kColumnBlock - 1) / kColumnBlock;
  alignas(64) float acc[kColumnBlock];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t o = t / blocks, k0 = (t % blocks) * kColumnBlock;
    const int64_t width = std::min(kColumnBlock, g.inner - k0);
    std::fill(acc, acc + kColumnBlock, 0.0f);
    const int64_t base = o * g.n * g.inner + k0;
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t off = base + i * g.inner;
      for_steps(width, [&](int64_t k, int64_t len) {
        fVec s0, s1, q0, q1;
        residual(a + off + k, b + off + k, len, s0, s1);
        if (s_out) Io<T>::store(s_out + off + k, len, s0, s1);
        Io<float>::load(acc + k, kStep, q0, q1);
        Io<float>::store(acc + k, kStep, q0 + s0 * s0, q1 + s1 * s1);
      });
    }
    for (int64_t k = 0; k < width; ++k) acc[k] = inv_rms(acc[k], g.n, eps);
    if (rstd) std::copy(acc, acc + width, rstd + o * g.inner + k0);
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t off = base + i * g.inner;
      for_steps(width, [&](int64_t k, int64_t len) {
        fVec s0, s1, r0, r1;
        residual(a + off + k, b + off + k, len, s0, s1);
        Io<float>::load(acc + k, kStep, r0, r1);
        Io<T>::store(y + off + k, len, s0 * r0, s1 * r1);
      });
    }
  }
}

// d/ds of y = s * r, r = (mean(s^2) + eps)^-1/2:  g * r - s * (r^3 / n) * sum(g * s).
template <typename T>
void norm_rows_backward(const T* s, const float* rstd, const T* gy, T* gs, int64_t n, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const T* sr = s + r * n;
    const T* gr = gy + r * n;
    fVec acc0(0.0f), acc1(0.0f);
    for_steps(n, [&](int64_t i, int64_t len) {
      fVec s0, s1, g0, g1;
      Io<T>::load(sr + i, len, s0, s1);
      Io<T>::load(gr + i, len, g0, g1);
      acc0 = acc0 + g0 * s0;
      acc1 = acc1 + g1 * s1;
    });
    const float dot = at::vec::vec_reduce_all<float>([](fVec& p, fVec& q) { return p + q; }, acc0 + acc1);
    const float inv = rstd[r];
    const fVec vinv(inv), coef(-dot * inv * inv * inv / static_cast<float>(n));
    for_steps(n, [&](int64_t i, int64_t len) {
      fVec s0, s1, g0, g1;
      Io<T>::load(sr + i, len, s0, s1);
      Io<T>::load(gr + i, len, g0, g1);
      Io<T>::store(gs + r * n + i, len, g0 * vinv + s0 * coef, g1 * vinv + s1 * coef);
    });
  }
}

template <typename T>
void norm_columns_backward(const T* s, const float* rstd, const T* gy, T* gs, const NormGeometry& g, int64_t begin, int64_t end) {
  const int64_t blocks = (g.inner + kColumnBlock - 1) / kColumnBlock;
  alignas(64) float dot[kColumnBlock];
  alignas(64) float coef[kColumnBlock];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t o = t / blocks, k0 = (t % blocks) * kColumnBlock;
    const int64_t width = std::min(kColumnBlock, g.inner - k0);
    std::fill(dot, dot + kColumnBlock, 0.0f);
    const int64_t base = o * g.n * g.inner + k0;
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t off = base + i * g.inner;
      for_steps(width, [&](int64_t k, int64_t len) {
        fVec s0, s1, g0, g1, d0, d1;
        Io<T>::load(s + off + k, len, s0, s1);
        Io<T>::load(gy + off + k, len, g0, g1);
        Io<float>::load(dot + k, kStep, d0, d1);
        Io<float>::store(dot + k, kStep, d0 + g0 * s0, d1 + g1 * s1);
      });
    }
    const float* inv = rstd + o * g.inner + k0;
    for (int64_t k = 0; k < width; ++k) coef[k] = -dot[k] * inv[k] * inv[k] * inv[k] / static_cast<float>(g.n);
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t off = base + i * g.inner;
      for_steps(width, [&](int64_t k, int64_t len) {
        fVec s0, s1, g0, g1, r0, r1, c0, c1;
        Io<T>::load(s + off + k, len, s0, s1);
        Io<T>::load(gy + off + k, len, g0, g1);
        Io<float>::load(inv + k, len, r0, r1);
        Io<float>::load(coef + k, kStep, c0, c1);
        Io<T>::store(gs + off + k, len, g0 * r0 + s0 * c0, g1 * r1 + s1 * c1);
      });
    }
  }
}

// ---- SwiGLU: silu(gate) * up ----

// Calls f(o, k0, k1) for the pieces of the flat range [begin, end) of an [outer, inner] output.
template <typename F>
inline void for_pieces(int64_t inner, int64_t begin, int64_t end, F&& f) {
  while (begin < end) {
    const int64_t o = begin / inner, k0 = begin % inner;
    const int64_t k1 = std::min(inner, k0 + (end - begin));
    f(o, k0, k1);
    begin += k1 - k0;
  }
}

template <typename T>
void swiglu(const T* gu, T* out, int64_t inner, int64_t begin, int64_t end) {
  for_pieces(inner, begin, end, [&](int64_t o, int64_t k0, int64_t k1) {
    const T* gate = gu + o * 2 * inner;
    const T* up = gate + inner;
    T* y = out + o * inner;
    for_steps(k1 - k0, [&](int64_t i, int64_t len) {
      const int64_t k = k0 + i;
      fVec g0, g1, u0, u1;
      Io<T>::load(gate + k, len, g0, g1);
      Io<T>::load(up + k, len, u0, u1);
      fVec a0 = silu(g0), a1 = silu(g1);
      Io<T>::round(a0, a1);
      Io<T>::store(y + k, len, a0 * u0, a1 * u1);
    });
  });
}

// d gate = round(go * up) * sigmoid * (1 + gate * (1 - sigmoid)), d up = go * round(silu(gate)):
// the mul backward then ATen's silu_backward formula, in the same order.
template <typename T>
void swiglu_backward(const T* gu, const T* gout, T* ggu, int64_t inner, int64_t begin, int64_t end) {
  const fVec one(1.0f);
  for_pieces(inner, begin, end, [&](int64_t o, int64_t k0, int64_t k1) {
    const T* gate = gu + o * 2 * inner;
    const T* up = gate + inner;
    const T* go = gout + o * inner;
    T* dgate = ggu + o * 2 * inner;
    T* dup = dgate + inner;
    for_steps(k1 - k0, [&](int64_t i, int64_t len) {
      const int64_t k = k0 + i;
      fVec g0, g1, u0, u1, y0, y1;
      Io<T>::load(gate + k, len, g0, g1);
      Io<T>::load(up + k, len, u0, u1);
      Io<T>::load(go + k, len, y0, y1);
      fVec a0 = silu(g0), a1 = silu(g1);
      Io<T>::round(a0, a1);
      Io<T>::store(dup + k, len, y0 * a0, y1 * a1);
      fVec d0 = y0 * u0, d1 = y1 * u1;
      Io<T>::round(d0, d1);
      const fVec s0 = sigmoid(g0), s1 = sigmoid(g1);
      Io<T>::store(dgate + k, len, d0 * s0 * (one + g0 * (one - s0)), d1 * s1 * (one + g1 * (one - s1)));
    });
  });
}

// ---- RoPE, rotate-half convention ----

// Forward: y1 = x1 c1 + (-x2) s1, y2 = x2 c2 + x1 s2 (x in fp32, rounded once at the store).
// Inverse (the backward, R^T): y1 = x1 c1 + x2 s2, y2 = x2 c2 + (-(x1 s1)).
template <typename T>
void rope(const T* in, T* out, const float* cos, const float* sin, const RopeGeometry& g, bool inverse, int64_t begin, int64_t end) {
  const int64_t half = g.head_dim / 2;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t pos = r % g.positions;
    const float* c = cos + pos * g.head_dim;
    const float* s = sin + pos * g.head_dim;
    for (int64_t h = 0; h < g.heads; ++h) {
      const int64_t off = r * g.row_stride + h * g.head_dim;
      const T* x = in + off;
      T* y = out + off;
      for_steps(half, [&](int64_t j, int64_t len) {
        fVec x1a, x1b, x2a, x2b, c1a, c1b, c2a, c2b, s1a, s1b, s2a, s2b;
        Io<T>::load(x + j, len, x1a, x1b);
        Io<T>::load(x + half + j, len, x2a, x2b);
        Io<float>::load(c + j, len, c1a, c1b);
        Io<float>::load(c + half + j, len, c2a, c2b);
        Io<float>::load(s + j, len, s1a, s1b);
        Io<float>::load(s + half + j, len, s2a, s2b);
        if (!inverse) {
          Io<T>::store(y + j, len, x1a * c1a + x2a.neg() * s1a, x1b * c1b + x2b.neg() * s1b);
          Io<T>::store(y + half + j, len, x2a * c2a + x1a * s2a, x2b * c2b + x1b * s2b);
        } else {
          Io<T>::store(y + j, len, x1a * c1a + x2a * s2a, x1b * c1b + x2b * s2b);
          Io<T>::store(y + half + j, len, x2a * c2a + (x1a * s1a).neg(), x2b * c2b + (x1b * s1b).neg());
        }
      });
    }
    if (g.copy_rest) {
      const int64_t done = g.heads * g.head_dim;
      std::memcpy(out + r * g.row_stride + done, in + r * g.row_stride + done, sizeof(T) * (g.row_stride - done));
    }
  }
}

// ---- the table entries: Elem -> the typed template ----

template <typename F>
inline void by_elem(Elem e, F&& f) {
  if (e == Elem::BF16) {
    f(BF16{});
  } else {
    f(float{});
  }
}

void add_rms_norm_entry(Elem e, const void* a, const void* b, void* y, void* s, float* rstd, const NormGeometry& g, float eps,
                        int64_t begin, int64_t end) {
  by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    if (g.inner == 1) {
      norm_rows(static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(y), static_cast<T*>(s), rstd, g.n, eps, begin, end);
    } else {
      norm_columns(static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(y), static_cast<T*>(s), rstd, g, eps, begin, end);
    }
  });
}

void add_rms_norm_backward_entry(Elem e, const void* s, const float* rstd, const void* gy, void* gs, const NormGeometry& g, int64_t begin,
                                 int64_t end) {
  by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    if (g.inner == 1) {
      norm_rows_backward(static_cast<const T*>(s), rstd, static_cast<const T*>(gy), static_cast<T*>(gs), g.n, begin, end);
    } else {
      norm_columns_backward(static_cast<const T*>(s), rstd, static_cast<const T*>(gy), static_cast<T*>(gs), g, begin, end);
    }
  });
}

void swiglu_entry(Elem e, const void* gu, void* out, const SwigluGeometry& g, int64_t begin, int64_t end) {
  by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    swiglu(static_cast<const T*>(gu), static_cast<T*>(out), g.inner, begin, end);
  });
}

void swiglu_backward_entry(Elem e, const void* gu, const void* gout, void* ggu, const SwigluGeometry& g, int64_t begin, int64_t end) {
  by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    swiglu_backward(static_cast<const T*>(gu), static_cast<const T*>(gout), static_cast<T*>(ggu), g.inner, begin, end);
  });
}

void rope_entry(Elem e, const void* in, void* out, const float* cos, const float* sin, const RopeGeometry& g, bool inverse, int64_t begin,
                int64_t end) {
  by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    rope(static_cast<const T*>(in), static_cast<T*>(out), cos, sin, g, inverse, begin, end);
  });
}

}  // namespace

extern const FusedCpuTable kTable;
const FusedCpuTable kTable = {TRM_ISA_NAME,  &add_rms_norm_entry,    &add_rms_norm_backward_entry,
                              &swiglu_entry, &swiglu_backward_entry, &rope_entry};

}  // namespace trm::kernels::TRM_ISA
