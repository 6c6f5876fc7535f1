// Benchmark: each fused recursion op (core/fused.h) against the unfused ATen ops it replaces, at the
// shapes of the Sudoku-MLP recipe (L = 97 with the puzzle prefix, hidden 512, SwiGLU 1536, mlp_t
// 512) and ARC-Att reduced (L = 241, 8 heads of 64) for RoPE, batch 1 and 16, fp32 and bf16,
// forward alone and forward + backward. A and B alternate rep by rep; medians. Prints a table;
// `--json PATH` also writes JSON. Built and run by `npm run test:native -- --bench` (test/native/CMakeLists.txt).
// `--threads N` (default 1: steadier on a shared machine), `--reps N`, `--only NAME` (one op, e.g.
// under valgrind --tool=callgrind for instruction counts).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/fused.h"

namespace {

constexpr int64_t kL = 97, kD = 512, kI = 1536, kIt = 512;  // Sudoku-MLP
constexpr int64_t kLr = 241, kHeads = 8, kDh = 64;          // ARC-Att reduced

struct Row {
  std::string op;
  std::string dtype;
  int64_t batch;
  bool backward;
  double unfused_ms, fused_ms;
};

double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  if (f) f >> l;
  return l;
}

trm::FusionOptions all(bool on) { return {on, on, on, on, on, on}; }

/** Median ms of a and b, alternating rep by rep, each with its fusion setting. */
std::pair<double, double> ab(const std::function<void()>& a, const std::function<void()>& b, int reps) {
  std::vector<double> ta, tb;
  auto time = [](const std::function<void()>& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  for (int i = 0; i < 3; ++i) {
    trm::set_fusion_options(all(false));
    a();
    trm::set_fusion_options(all(true));
    b();
  }
  for (int i = 0; i < reps; ++i) {
    trm::set_fusion_options(all(false));
    ta.push_back(time(a));
    trm::set_fusion_options(all(true));
    tb.push_back(time(b));
  }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  return {ta[ta.size() / 2], tb[tb.size() / 2]};
}

/** Runs f on fresh leaves; with `backward`, also back-propagates a fixed upstream gradient. */
std::function<void()> pass(std::function<at::Tensor(const std::vector<at::Tensor>&)> f, std::vector<at::Tensor> inputs, bool backward) {
  return [f, inputs, backward]() {
    if (!backward) {
      c10::NoGradGuard no_grad;
      f(inputs);
      return;
    }
    std::vector<at::Tensor> leaves;
    for (const auto& t : inputs) leaves.push_back(t.detach().requires_grad_(true));
    auto y = f(leaves);
    y.backward(at::ones_like(y));
  };
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_path, only;
  int reps = 31, threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) json_path = argv[++i];
    if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    if (a == "--only" && i + 1 < argc) only = argv[++i];
  }
  at::set_num_threads(threads);
  at::manual_seed(0);
  const double load_before = load_average();
  const double eps = 1e-5;
  std::vector<Row> rows;

  for (auto dt : {at::kFloat, at::kBFloat16}) {
    const std::string dts = dt == at::kBFloat16 ? "bf16" : "fp32";
    for (int64_t B : {1, 16}) {
      auto r = [&](std::vector<int64_t> shape) { return at::randn(shape).to(dt); };
      struct Op {
        std::string name;
        std::function<at::Tensor(const std::vector<at::Tensor>&)> unfused, fused;
        std::vector<at::Tensor> in_unfused, in_fused;
      };
      auto wgu = r({2 * kIt, kL}), wdown = r({kL, kIt});
      std::vector<Op> ops = {
          {"residual + RMSNorm (channels)",
           [&](const std::vector<at::Tensor>& x) { return trm::add_rms_norm(x[0], x[1], eps, -1); },
           [&](const std::vector<at::Tensor>& x) { return trm::add_rms_norm(x[0], x[1], eps, -1); },
           {r({B, kL, kD}), r({B, kL, kD})},
           {r({B, kL, kD}), r({B, kL, kD})}},
          // Before: the official mlp_t layout (h transposed, the mixer's output [B, D, L]); after: norm over L in place.
          {"residual + RMSNorm (tokens, mlp_t)",
           [&](const std::vector<at::Tensor>& x) { return trm::add_rms_norm(x[0].transpose(1, 2), x[1], eps, -1).transpose(1, 2); },
           [&](const std::vector<at::Tensor>& x) { return trm::add_rms_norm(x[0], x[1], eps, 1); },
           {r({B, kL, kD}), r({B, kD, kL})},
           {r({B, kL, kD}), r({B, kL, kD})}},
          {"SwiGLU silu(gate)*up (channels)",
           [](const std::vector<at::Tensor>& x) { return trm::swiglu(x[0], -1); },
           [](const std::vector<at::Tensor>& x) { return trm::swiglu(x[0], -1); },
           {r({B, kL, 2 * kI})},
           {r({B, kL, 2 * kI})}},
          {"SwiGLU silu(gate)*up (tokens, mlp_t)",
           [](const std::vector<at::Tensor>& x) { return trm::swiglu(x[0], -1); },
           [](const std::vector<at::Tensor>& x) { return trm::swiglu(x[0], 1); },
           {r({B, kD, 2 * kIt})},
           {r({B, 2 * kIt, kD})}},
          // rope_qk works in place when fused: x[0] * 1 gives both sides a fresh tensor each pass.
          {"RoPE on q and k (ARC-Att, L 241)",
           [](const std::vector<at::Tensor>& x) { return trm::rope_qk(x[0] * 1, x[1], x[2], kHeads, kDh); },
           [](const std::vector<at::Tensor>& x) { return trm::rope_qk(x[0] * 1, x[1], x[2], kHeads, kDh); },
           {r({B, kLr, 3 * kHeads * kDh}), at::rand({kLr, kDh}), at::rand({kLr, kDh})},
           {r({B, kLr, 3 * kHeads * kDh}), at::rand({kLr, kDh}), at::rand({kLr, kDh})}},
          // The whole token-mixing sub-block, matmuls included: official transposed layout vs W @ h
          // (trm::mix_tokens); the weights are inputs, so fwd+bwd also computes their gradients.
          {"mlp_t sub-block (matmuls + SwiGLU + norm)",
           [&](const std::vector<at::Tensor>& x) {
             auto t = x[0].transpose(1, 2);
             auto out = at::linear(trm::swiglu(at::linear(t, x[1]), -1), x[2]);
             return trm::add_rms_norm(t, out, eps, -1).transpose(1, 2);
           },
           [&](const std::vector<at::Tensor>& x) { return trm::add_rms_norm(x[0], trm::mix_tokens(x[0], x[1], x[2]), eps, 1); },
           {r({B, kL, kD}), wgu, wdown},
           {r({B, kL, kD}), wgu, wdown}},
      };
      for (const auto& op : ops) {
        if (!only.empty() && op.name.find(only) == std::string::npos) continue;
        for (bool bwd : {false, true}) {
          auto [u, f] = ab(pass(op.unfused, op.in_unfused, bwd), pass(op.fused, op.in_fused, bwd), reps);
          rows.push_back({op.name, dts, B, bwd, u, f});
          std::printf("%-44s %-4s B=%-3lld %-9s unfused %9.3f ms  fused %9.3f ms  x%.2f\n", op.name.c_str(), dts.c_str(),
                      static_cast<long long>(B), bwd ? "fwd+bwd" : "forward", u, f, u / f);
        }
      }
    }
  }
  if (!json_path.empty()) {
    std::ofstream o(json_path);
    o << "{\n  \"bench\": \"fused recursion ops vs unfused ATen ops\",\n  \"threads\": " << threads << ",\n  \"cpu_capability\": \""
      << at::get_cpu_capability() << "\",\n  \"fused_cpu_kernels\": \"" << trm::fused_cpu_isa()
      << "\",\n  \"load_average_before\": " << load_before << ",\n  \"load_average_after\": " << load_average() << ",\n  \"results\": [\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      o << "    {\"op\": \"" << r.op << "\", \"dtype\": \"" << r.dtype << "\", \"batch\": " << r.batch << ", \"pass\": \""
        << (r.backward ? "forward+backward" : "forward") << "\", \"unfused_ms\": " << r.unfused_ms << ", \"fused_ms\": " << r.fused_ms
        << ", \"speedup\": " << r.unfused_ms / r.fused_ms << "}" << (i + 1 < rows.size() ? ",\n" : "\n");
    }
    o << "  ]\n}\n";
    std::printf("wrote %s\n", json_path.c_str());
  }
  return 0;
}
