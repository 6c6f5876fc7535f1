// Benchmark: one Adam-atan2 step (docs/algorithm.md §3.2) over the dense parameters of TRM-Att ARC (6,829,058
// elements in 12 tensors), fused CPU kernel (through trm::AdamAtan2) against the same formula as
// unfused ATen ops, with 1 and 2 intra-op threads. Prints a table; `--json PATH` also writes JSON.
// Built and run by `node scripts/native-tests.js --bench`.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/kernels/adam_atan2_cpu.h"
#include "core/optim/adam_atan2.h"

namespace {

struct Result {
  std::string impl;
  int threads;
  double ms;
  double elements_per_s;
};

/** The trainable dense shapes of TRM-Att ARC (hidden 512, 2 layers, SwiGLU 1536, vocab 12). */
std::vector<std::vector<int64_t>> arc_att_shapes() {
  std::vector<std::vector<int64_t>> s = {{12, 512}};  // embed_tokens
  for (int layer = 0; layer < 2; ++layer) {
    s.push_back({1536, 512});  // qkv_proj
    s.push_back({512, 512});   // o_proj
    s.push_back({3072, 512});  // gate_up_proj
    s.push_back({512, 1536});  // down_proj
  }
  s.push_back({12, 512});  // lm_head
  s.push_back({2, 512});   // q_head.weight
  s.push_back({2});        // q_head.bias
  return s;
}

/** The 1-minute load average (Linux), or -1: 2-thread figures mean little on a busy machine. */
double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  if (f) f >> l;
  return l;
}

template <typename F>
double median_ms(F&& f, int reps) {
  for (int i = 0; i < 3; ++i) f();  // warm-up: page in, settle the thread pool
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    f();
    const auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_path;
  int reps = 21;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) json_path = argv[++i];
    if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
  }
  c10::NoGradGuard no_grad;
  at::manual_seed(0);
  const double lr = 1e-4, b1 = 0.9, b2 = 0.95, wd = 0.1;

  std::vector<at::Tensor> params, grads, m, v;
  int64_t total = 0;
  for (const auto& shape : arc_att_shapes()) {
    params.push_back(at::randn(shape) * 0.02);
    grads.push_back(at::randn(shape) * 1e-3);
    m.push_back(at::zeros(shape));
    v.push_back(at::zeros(shape));
    total += params.back().numel();
  }
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].requires_grad_(true);
    params[i].mutable_grad() = grads[i];
  }
  trm::AdamAtan2 fused(params, {lr, b1, b2, wd});
  int64_t t = 0;

  // The §3.2 formula as separate ATen ops: what a plain LibTorch port would run.
  auto unfused_step = [&] {
    ++t;
    const double bc1 = 1.0 - std::pow(b1, static_cast<double>(t));
    const double bc2 = std::sqrt(1.0 - std::pow(b2, static_cast<double>(t)));
    for (size_t i = 0; i < params.size(); ++i) {
      at::Tensor p = params[i].detach();
      p.mul_(1.0 - lr * wd);
      m[i].lerp_(grads[i], 1.0 - b1);
      v[i].lerp_(grads[i] * grads[i], 1.0 - b2);
      p.sub_(at::atan2(m[i], v[i].sqrt() / bc2), lr / bc1);
    }
  };

  std::vector<Result> results;
  const int max_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::printf("Adam-atan2 step, TRM-Att ARC dense parameters: %lld elements in %zu tensors\n", static_cast<long long>(total),
              params.size());
  const double load_before = load_average();
  std::printf("kernel threaded: %s; %d hardware threads; load average before: %.2f\n",
              trm::kernels::adam_atan2_cpu_threaded() ? "yes" : "no (built without -fopenmp)", max_threads, load_before);
  std::printf("%-22s %8s %10s %14s\n", "implementation", "threads", "ms/step", "elements/s");
  for (int threads : {1, 2}) {
    if (threads > max_threads) continue;
    at::set_num_threads(threads);
    const double f_ms = median_ms([&] { fused.step(lr); }, reps);
    const double u_ms = median_ms(unfused_step, reps);
    results.push_back({"fused (trm kernel)", threads, f_ms, total / (f_ms * 1e-3)});
    results.push_back({"unfused ATen ops", threads, u_ms, total / (u_ms * 1e-3)});
    for (size_t k = results.size() - 2; k < results.size(); ++k)
      std::printf("%-22s %8d %10.2f %14.3e\n", results[k].impl.c_str(), results[k].threads, results[k].ms, results[k].elements_per_s);
    std::printf("%-22s %8d %10.2fx\n", "speed-up", threads, u_ms / f_ms);
  }

  if (!json_path.empty()) {
    const auto slash = json_path.find_last_of('/');
    if (slash != std::string::npos) std::system(("mkdir -p '" + json_path.substr(0, slash) + "'").c_str());
    std::ofstream f(json_path);
    f << "{\n  \"bench\": \"optim.adam_atan2\",\n  \"elements\": " << total << ",\n  \"tensors\": " << params.size()
      << ",\n  \"kernel_threaded\": " << (trm::kernels::adam_atan2_cpu_threaded() ? "true" : "false")
      << ",\n  \"hardware_threads\": " << max_threads << ",\n  \"load_average_before\": " << load_before << ",\n  \"results\": [\n";
    for (size_t i = 0; i < results.size(); ++i)
      f << "    {\"impl\": \"" << results[i].impl << "\", \"threads\": " << results[i].threads << ", \"ms_per_step\": " << results[i].ms
        << ", \"elements_per_s\": " << results[i].elements_per_s << "}" << (i + 1 < results.size() ? "," : "") << "\n";
    f << "  ]\n}\n";
    std::printf("wrote %s\n", json_path.c_str());
  }
  return 0;
}
