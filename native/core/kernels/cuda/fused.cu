// CUDA twins of kernels/fused_cpu_impl.h (see there for the math and the roundings they mimic).
// Last-axis norms: one block per row, a shared-memory sum; middle-axis norms (token mixing): one
// thread per column, coalesced across the contiguous inner axis; elementwise ops: grid-stride loops.
#include "fused_cuda.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace trm::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535;

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T>
__device__ __forceinline__ T from_f(float x);
template <>
__device__ __forceinline__ float from_f<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}
/** The value an unfused op would have stored in T. */
template <typename T>
__device__ __forceinline__ float round_to(float x) {
  return to_f(from_f<T>(x));
}

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float silu(float x) { return x / (1.0f + expf(-x)); }

__device__ float block_sum(float v) {
  __shared__ float partial[kThreads / 32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < kThreads / 32; ++w) total += partial[w];
  __syncthreads();  // partial is reused by the next call
  return total;
}

int64_t blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b);
}

// ---- residual add + RMSNorm ----

template <typename T>
__global__ void norm_rows(const T* a, const T* b, T* y, T* s, float* rstd, int64_t rows, int64_t n, float eps) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * n;
    float acc = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const float v = round_to<T>(to_f(a[base + i]) + to_f(b[base + i]));
      if (s) s[base + i] = from_f<T>(v);
      acc += v * v;
    }
    const float inv = 1.0f / sqrtf(block_sum(acc) / static_cast<float>(n) + eps);
    if (rstd && threadIdx.x == 0) rstd[r] = inv;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
      const float v = round_to<T>(to_f(a[base + i]) + to_f(b[base + i]));
      y[base + i] = from_f<T>(v * inv);
    }
  }
}

template <typename T>
__global__ void norm_columns(const T* a, const T* b, T* y, T* s, float* rstd, NormGeometry g, float eps) {
  const int64_t columns = g.outer * g.inner;
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < columns;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = c / g.inner, k = c % g.inner, base = o * g.n * g.inner + k;
    float acc = 0.0f;
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t at = base + i * g.inner;
      const float v = round_to<T>(to_f(a[at]) + to_f(b[at]));
      if (s) s[at] = from_f<T>(v);
      acc += v * v;
    }
    const float inv = 1.0f / sqrtf(acc / static_cast<float>(g.n) + eps);
    if (rstd) rstd[c] = inv;
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t at = base + i * g.inner;
      y[at] = from_f<T>(round_to<T>(to_f(a[at]) + to_f(b[at])) * inv);
    }
  }
}

template <typename T>
__global__ void norm_rows_backward(const T* s, const float* rstd, const T* gy, T* gs, int64_t rows, int64_t n) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * n;
    float acc = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += to_f(gy[base + i]) * to_f(s[base + i]);
    const float dot = block_sum(acc), inv = rstd[r];
    const float coef = -dot * inv * inv * inv / static_cast<float>(n);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) gs[base + i] = from_f<T>(to_f(gy[base + i]) * inv + to_f(s[base + i]) * coef);
  }
}

template <typename T>
__global__ void norm_columns_backward(const T* s, const float* rstd, const T* gy, T* gs, NormGeometry g) {
  const int64_t columns = g.outer * g.inner;
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < columns;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = c / g.inner, k = c % g.inner, base = o * g.n * g.inner + k;
    float dot = 0.0f;
    for (int64_t i = 0; i < g.n; ++i) dot += to_f(gy[base + i * g.inner]) * to_f(s[base + i * g.inner]);
    const float inv = rstd[c];
    const float coef = -dot * inv * inv * inv / static_cast<float>(g.n);
    for (int64_t i = 0; i < g.n; ++i) {
      const int64_t at = base + i * g.inner;
      gs[at] = from_f<T>(to_f(gy[at]) * inv + to_f(s[at]) * coef);
    }
  }
}

// ---- SwiGLU ----

template <typename T>
__global__ void swiglu_kernel(const T* gu, T* out, SwigluGeometry g) {
  const int64_t total = g.outer * g.inner;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = i / g.inner, k = i % g.inner;
    const T* gate = gu + o * 2 * g.inner;
    out[i] = from_f<T>(round_to<T>(silu(to_f(gate[k]))) * to_f(gate[g.inner + k]));
  }
}

template <typename T>
__global__ void swiglu_backward_kernel(const T* gu, const T* gout, T* ggu, SwigluGeometry g) {
  const int64_t total = g.outer * g.inner;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t o = i / g.inner, k = i % g.inner;
    const int64_t gate_at = o * 2 * g.inner + k, up_at = gate_at + g.inner;
    const float x = to_f(gu[gate_at]), up = to_f(gu[up_at]), go = to_f(gout[i]);
    ggu[up_at] = from_f<T>(go * round_to<T>(silu(x)));
    const float d = round_to<T>(go * up), sg = sigmoid(x);
    ggu[gate_at] = from_f<T>(d * sg * (1.0f + x * (1.0f - sg)));
  }
}

// ---- RoPE ----

template <typename T>
__global__ void rope_kernel(const T* in, T* out, const float* cos, const float* sin, RopeGeometry g, bool inverse) {
  const int64_t half = g.head_dim / 2;
  const int64_t pairs = g.rows * g.heads * half;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < pairs;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = i % half, h = (i / half) % g.heads, r = i / (half * g.heads);
    const int64_t off = r * g.row_stride + h * g.head_dim;
    const float* c = cos + (r % g.positions) * g.head_dim;
    const float* s = sin + (r % g.positions) * g.head_dim;
    const float x1 = to_f(in[off + j]), x2 = to_f(in[off + half + j]);
    if (!inverse) {
      out[off + j] = from_f<T>(x1 * c[j] + (-x2) * s[j]);
      out[off + half + j] = from_f<T>(x2 * c[half + j] + x1 * s[half + j]);
    } else {
      out[off + j] = from_f<T>(x1 * c[j] + x2 * s[half + j]);
      out[off + half + j] = from_f<T>(x2 * c[half + j] + (-(x1 * s[j])));
    }
  }
}

template <typename T>
__global__ void copy_rest_kernel(const T* in, T* out, RopeGeometry g) {
  const int64_t done = g.heads * g.head_dim, rest = g.row_stride - done, total = g.rows * rest;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t at = (i / rest) * g.row_stride + done + i % rest;
    out[at] = in[at];
  }
}

// Elem -> the typed kernel launch.
template <typename F>
cudaError_t by_elem(Elem e, F&& f) {
  if (e == Elem::BF16) {
    f(__nv_bfloat16{});
  } else {
    f(float{});
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t add_rms_norm_cuda(Elem e, const void* a, const void* b, void* y, void* s, float* rstd, const NormGeometry& g, float eps,
                              cudaStream_t stream) {
  if (g.numel() == 0) return cudaSuccess;
  return by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    const T *pa = static_cast<const T*>(a), *pb = static_cast<const T*>(b);
    if (g.inner == 1) {
      norm_rows<T><<<blocks_for(g.outer * kThreads), kThreads, 0, stream>>>(pa, pb, static_cast<T*>(y), static_cast<T*>(s), rstd, g.outer,
                                                                            g.n, eps);
    } else {
      norm_columns<T><<<blocks_for(g.outer * g.inner), kThreads, 0, stream>>>(pa, pb, static_cast<T*>(y), static_cast<T*>(s), rstd, g, eps);
    }
  });
}

cudaError_t add_rms_norm_backward_cuda(Elem e, const void* s, const float* rstd, const void* gy, void* gs, const NormGeometry& g,
                                       cudaStream_t stream) {
  if (g.numel() == 0) return cudaSuccess;
  return by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    const T *ps = static_cast<const T*>(s), *pg = static_cast<const T*>(gy);
    if (g.inner == 1) {
      norm_rows_backward<T><<<blocks_for(g.outer * kThreads), kThreads, 0, stream>>>(ps, rstd, pg, static_cast<T*>(gs), g.outer, g.n);
    } else {
      norm_columns_backward<T><<<blocks_for(g.outer * g.inner), kThreads, 0, stream>>>(ps, rstd, pg, static_cast<T*>(gs), g);
    }
  });
}

cudaError_t swiglu_cuda(Elem e, const void* gate_up, void* out, const SwigluGeometry& g, cudaStream_t stream) {
  if (g.outer * g.inner == 0) return cudaSuccess;
  return by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    swiglu_kernel<T><<<blocks_for(g.outer * g.inner), kThreads, 0, stream>>>(static_cast<const T*>(gate_up), static_cast<T*>(out), g);
  });
}

cudaError_t swiglu_backward_cuda(Elem e, const void* gate_up, const void* gout, void* ggate_up, const SwigluGeometry& g,
                                 cudaStream_t stream) {
  if (g.outer * g.inner == 0) return cudaSuccess;
  return by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    swiglu_backward_kernel<T><<<blocks_for(g.outer * g.inner), kThreads, 0, stream>>>(
        static_cast<const T*>(gate_up), static_cast<const T*>(gout), static_cast<T*>(ggate_up), g);
  });
}

cudaError_t rope_cuda(Elem e, const void* in, void* out, const float* cos, const float* sin, const RopeGeometry& g, bool inverse,
                      cudaStream_t stream) {
  if (g.rows == 0) return cudaSuccess;
  return by_elem(e, [&](auto tag) {
    using T = decltype(tag);
    const T* pin = static_cast<const T*>(in);
    T* pout = static_cast<T*>(out);
    rope_kernel<T><<<blocks_for(g.rows * g.heads * (g.head_dim / 2)), kThreads, 0, stream>>>(pin, pout, cos, sin, g, inverse);
    if (g.copy_rest && g.row_stride > g.heads * g.head_dim)
      copy_rest_kernel<T><<<blocks_for(g.rows * (g.row_stride - g.heads * g.head_dim)), kThreads, 0, stream>>>(pin, pout, g);
  });
}

}  // namespace trm::kernels
