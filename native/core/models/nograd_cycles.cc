#include "nograd_cycles.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "../fused.h"
#include "../layers.h"

#ifdef TRM_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#include <cstdint>
#include <list>
#include <tuple>

namespace trm {

namespace {

void run_eager(std::vector<at::Tensor>& z, const at::Tensor& x, int64_t times, const NoGradCycles::Body& body,
               const std::function<void()>& between) {
  c10::NoGradGuard no_grad;
  for (int64_t i = 0; i < times; ++i) {
    between();
    body(z, x);
  }
}

}  // namespace

#ifdef TRM_WITH_CUDA

// One captured run: static inputs (copied in before each replay), outputs in the graph's pool.
struct CapturedRun {
  std::vector<int64_t> key;  // shapes, dtype, device, times, fusion switches, parameter addresses
  std::vector<at::Tensor> z_in, z_out;
  at::Tensor x_in;
  std::unique_ptr<at::cuda::CUDAGraph> graph;
};

struct NoGradCycles::Graphs {
  std::list<CapturedRun> runs;       // most recently used first
  static constexpr size_t kMax = 4;  // e.g. the training batch, the eval batch, and a last partial one
};

namespace {

std::vector<int64_t> key_of(const std::vector<at::Tensor>& z, const at::Tensor& x, int64_t times, const std::vector<at::Tensor>& params) {
  std::vector<int64_t> k = {times, static_cast<int64_t>(x.scalar_type()), x.device().index()};
  k.insert(k.end(), x.sizes().begin(), x.sizes().end());
  for (const auto& t : z) {
    k.push_back(static_cast<int64_t>(t.scalar_type()));
    k.insert(k.end(), t.sizes().begin(), t.sizes().end());
  }
  const auto f = fusion_options();
  k.push_back(f.norm | f.swiglu << 1 | f.rope << 2 | f.token_mix << 3 | f.cast_cache << 4);
  for (const auto& p : params) k.push_back(reinterpret_cast<int64_t>(p.data_ptr()));
  return k;
}

bool capturing(const at::Device& device) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  cudaStreamIsCapturing(c10::cuda::getCurrentCUDAStream(device.index()).stream(), &status);
  return status != cudaStreamCaptureStatusNone;
}

// Warm-up and capture on a side stream (capture is illegal on the legacy default stream), with the
// casts made inside the capture so the graph owns them (a fresh CastCache scope: none from outside).
void capture(CapturedRun& r, const std::vector<at::Tensor>& z, const at::Tensor& x, int64_t times, const NoGradCycles::Body& body) {
  c10::NoGradGuard no_grad;
  const auto device = x.device();
  for (const auto& t : z) r.z_in.push_back(t.clone());
  r.x_in = x.clone();
  auto side = c10::cuda::getStreamFromPool(false, device.index());
  C10_CUDA_CHECK(cudaDeviceSynchronize());
  {
    const c10::cuda::CUDAStreamGuard on_side(side);
    {
      CastCache warm_casts;
      auto warm = r.z_in;  // the first run loads lazy libraries and sizes the workspaces
      for (int64_t i = 0; i < times; ++i) body(warm, r.x_in);
    }
    C10_CUDA_CHECK(cudaStreamSynchronize(side.stream()));
    r.graph = std::make_unique<at::cuda::CUDAGraph>();
    r.graph->capture_begin();
    {
      CastCache captured_casts;
      auto zz = r.z_in;
      for (int64_t i = 0; i < times; ++i) body(zz, r.x_in);
      r.z_out = zz;
    }
    r.graph->capture_end();
  }
  C10_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace

NoGradCycles::NoGradCycles() : graphs_(std::make_unique<Graphs>()) {}

void NoGradCycles::run(std::vector<at::Tensor>& z, const at::Tensor& x, int64_t times, const Body& body,
                       const std::function<void()>& between, const std::vector<at::Tensor>& params) {
  if (times <= 0) return;
  if (!x.is_cuda() || !fusion_options().cuda_graphs || capturing(x.device())) return run_eager(z, x, times, body, between);
  between();  // the graph runs as a whole: one cancellation point before it
  const c10::cuda::CUDAGuard guard(x.device());
  const auto key = key_of(z, x, times, params);
  auto& runs = graphs_->runs;
  auto it = runs.begin();
  while (it != runs.end() && it->key != key) ++it;
  if (it == runs.end()) {
    if (runs.size() == Graphs::kMax) runs.pop_back();
    runs.emplace_front();
    runs.front().key = key;
    capture(runs.front(), z, x, times, body);
  } else if (it != runs.begin()) {
    runs.splice(runs.begin(), runs, it);
  }
  CapturedRun& r = runs.front();
  c10::NoGradGuard no_grad;
  for (size_t k = 0; k < z.size(); ++k) r.z_in[k].copy_(z[k]);
  r.x_in.copy_(x);
  r.graph->replay();
  // Copies out: the next replay overwrites the graph's outputs, and the gradient cycle may save these.
  for (size_t k = 0; k < z.size(); ++k) z[k] = r.z_out[k].clone();
}

#else

struct NoGradCycles::Graphs {};

NoGradCycles::NoGradCycles() = default;

void NoGradCycles::run(std::vector<at::Tensor>& z, const at::Tensor& x, int64_t times, const Body& body,
                       const std::function<void()>& between, const std::vector<at::Tensor>&) {
  run_eager(z, x, times, body, between);
}

#endif

NoGradCycles::~NoGradCycles() = default;

void NoGradCycles::reset() {
#ifdef TRM_WITH_CUDA
  graphs_->runs.clear();
#endif
}

}  // namespace trm
