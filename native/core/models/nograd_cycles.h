// The no-gradient part of a supervision step's recursion (the T - 1 cycles of TRM and its variants,
// or HRM's block), run eagerly, or on CUDA replayed from a CUDA graph captured once per static
// shape: a batch-1 recursion is thousands of small kernels, and a graph launches them all at once.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <vector>

namespace trm {

class NoGradCycles {
 public:
  /** One unit of work on the carried states z (updated in place) given the input embedding x. */
  using Body = std::function<void(std::vector<at::Tensor>& z, const at::Tensor& x)>;

  NoGradCycles();
  ~NoGradCycles();
  NoGradCycles(const NoGradCycles&) = delete;
  NoGradCycles& operator=(const NoGradCycles&) = delete;

  /**
   * Runs `body` `times` times under no_grad, calling `between` (a cancellation check, which may
   * throw) before each. On CUDA with graphs enabled (setFusions cudaGraphs) the first call for a
   * shape captures the whole run and later calls replay it, `between` then once before it;
   * `params` (every tensor the body reads besides z and x) must keep their storage between calls,
   * or the graph is re-captured.
   */
  void run(std::vector<at::Tensor>& z, const at::Tensor& x, int64_t times, const Body& body, const std::function<void()>& between,
           const std::vector<at::Tensor>& params);

  /** Drops every captured graph (the model moved, or its tensors were replaced). */
  void reset();

 private:
  struct Graphs;
  std::unique_ptr<Graphs> graphs_;  // only ever non-empty in CUDA builds
};

}  // namespace trm
