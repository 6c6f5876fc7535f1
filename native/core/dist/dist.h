// Data-parallel communication over PyTorch's c10d (docs/design.md, principle 4): a TCPStore rendezvous,
// ProcessGroupGloo on CPU and ProcessGroupNCCL on CUDA, with the torchrun environment contract.
// A world of one needs none of it and runs without a process group.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace trm {

/** Where this process sits in the job (torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). */
struct DistConfig {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};  // a dead peer fails the job after this
  std::string backend;                                         // "gloo" or "nccl"; empty = by device (NCCL on CUDA, Gloo on the CPU)
};

/** Reads the torchrun variables; absent ones keep the single-process defaults. */
DistConfig dist_config_from_env();

/** True when this build can create process groups (Gloo headers were found at build time). */
bool dist_available();

class Dist {
 public:
  /**
   * Joins the job: rendezvous on the TCPStore, then the backend for `device` (Gloo on CPU, NCCL on CUDA).
   * A world of one gets no process group unless `always_group` (to run the real backend with one rank).
   * Every collective then takes tensors on `device` (Gloo also takes CUDA tensors); a failure says which
   * collective on what failed and why, as trm::Error(Dist), or Device for a tensor NCCL cannot take.
   */
  static std::unique_ptr<Dist> create(const DistConfig& cfg, const at::Device& device, bool always_group = false);
  virtual ~Dist() = default;

  int rank() const { return cfg_.rank; }
  int world_size() const { return cfg_.world_size; }
  /** "none" (a world of one without a group), "gloo" or "nccl". */
  virtual const char* backend() const = 0;

  /** Overwrites every tensor with rank `root`'s values (used once at start, docs/algorithm.md §7.2 step 4). */
  virtual void broadcast_(std::vector<at::Tensor>& tensors, int root) = 0;
  /** In-place SUM over ranks, as a few flat buckets rather than one collective per tensor (§3.4). */
  virtual void all_reduce_sum_(std::vector<at::Tensor>& tensors) = 0;
  /** Concatenates every rank's `t` along dim 0 in rank order (the sparse-embedding gather, §3.3). */
  virtual at::Tensor all_gather(const at::Tensor& t) = 0;
  virtual void barrier() = 0;

 protected:
  explicit Dist(DistConfig cfg) : cfg_(std::move(cfg)) {}
  DistConfig cfg_;
};

}  // namespace trm
