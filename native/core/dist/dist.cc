#include "dist.h"

#include <ATen/ATen.h>

#include <cstdlib>

#include "../errors.h"

#ifdef TRM_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef TRM_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace trm {

namespace {

int env_int(const char* key, int dflt) {
  const char* v = std::getenv(key);
  if (!v || !*v) return dflt;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < 0)
    throw Error(ErrorCode::Config, std::string("environment variable ") + key + "='" + v + "' is not a non-negative integer");
  return static_cast<int>(x);
}

/** World of one: every collective is the identity. */
class LocalDist final : public Dist {
 public:
  explicit LocalDist(DistConfig cfg) : Dist(std::move(cfg)) {}
  const char* backend() const override { return "none"; }
  void broadcast_(std::vector<at::Tensor>&, int) override {}
  void all_reduce_sum_(std::vector<at::Tensor>&) override {}
  at::Tensor all_gather(const at::Tensor& t) override { return t; }
  void barrier() override {}
};

#ifdef TRM_WITH_GLOO

constexpr int64_t kBucketBytes = 32 << 20;

/** What a collective was given, for messages: "3 float32 tensors on cuda:0". */
std::string describe(const std::vector<at::Tensor>& ts) {
  if (ts.empty()) return "no tensors";
  return std::to_string(ts.size()) + " " + c10::toString(ts[0].scalar_type()) + " tensor" + (ts.size() > 1 ? "s" : "") + " on " +
         ts[0].device().str();
}

/**
 * Runs a collective and says what really failed: a broken connection or a timeout (a peer died or hangs)
 * differs from a collective the backend refuses (wrong device, dtype or shape), which no peer caused.
 */
template <typename F>
void collective(const std::string& what, F&& f) {
  auto fail = [&](const std::string& msg) {
    const bool timeout = msg.find("imed out") != std::string::npos || msg.find("imeout") != std::string::npos;
    throw Error(ErrorCode::Dist, what + " failed" + (timeout ? " (a peer process died or did not answer in time)" : "") + ": " + msg);
  };
  try {
    f();
  } catch (const c10::DistNetworkError& e) {
    throw Error(ErrorCode::Dist, what + " failed: the connection to a peer broke (did a peer process die?): " + e.what_without_backtrace());
  } catch (const c10::Error& e) {
    fail(e.what_without_backtrace());
  } catch (const std::exception& e) {  // gloo::IoException and friends: a connection reset by a dead peer
    fail(e.what());
  }
}

class C10dDist final : public Dist {
 public:
  C10dDist(DistConfig cfg, c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::Backend> pg, bool nccl)
      : Dist(std::move(cfg)), store_(std::move(store)), pg_(std::move(pg)), nccl_(nccl) {}

  const char* backend() const override { return nccl_ ? "nccl" : "gloo"; }

  ~C10dDist() override {
    try {
      pg_->shutdown();
    } catch (...) {
    }
  }

  void broadcast_(std::vector<at::Tensor>& tensors, int root) override {
    const auto what = named("broadcast", tensors);
    for_each_bucket(tensors, [&](std::vector<at::Tensor>& flat) {
      c10d::BroadcastOptions o;
      o.rootRank = root;
      o.timeout = cfg_.timeout;
      collective(what, [&] { pg_->broadcast(flat, o)->wait(); });
    });
  }

  void all_reduce_sum_(std::vector<at::Tensor>& tensors) override {
    const auto what = named("all_reduce", tensors);
    for_each_bucket(tensors, [&](std::vector<at::Tensor>& flat) {
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      o.timeout = cfg_.timeout;
      collective(what, [&] { pg_->allreduce(flat, o)->wait(); });
    });
  }

  at::Tensor all_gather(const at::Tensor& t) override {
    const auto what = named("all_gather", {t});
    auto in = t.contiguous();
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < world_size(); ++r) out[0].push_back(at::empty_like(in));
    std::vector<at::Tensor> inputs = {in};
    c10d::AllgatherOptions o;
    o.timeout = cfg_.timeout;
    collective(what, [&] { pg_->allgather(out, inputs, o)->wait(); });
    return at::cat(out[0], 0);
  }

  void barrier() override {
    c10d::BarrierOptions o;
    o.timeout = cfg_.timeout;
    collective("barrier", [&] { pg_->barrier(o)->wait(); });
  }

 private:
  /** "all_reduce of 2 float32 tensors on cpu over NCCL (rank 0 of 2)"; NCCL refuses CPU tensors up front. */
  std::string named(const char* op, const std::vector<at::Tensor>& ts) const {
    const std::string what = std::string(op) + " of " + describe(ts) + " over " + (nccl_ ? "NCCL" : "Gloo") + " (rank " +
                             std::to_string(rank()) + " of " + std::to_string(world_size()) + ")";
    for (const auto& t : ts)
      if (nccl_ && !t.is_cuda())
        throw Error(ErrorCode::Device, what + ": NCCL only takes CUDA tensors; this one is on " + t.device().str());
    return what;
  }

  /** Flattens same-dtype runs of tensors into buckets of ~32 MB, runs `op` on each, copies back. */
  template <typename Op>
  void for_each_bucket(std::vector<at::Tensor>& tensors, Op&& op) {
    size_t i = 0;
    while (i < tensors.size()) {
      std::vector<at::Tensor> group;
      int64_t bytes = 0;
      const auto dtype = tensors[i].scalar_type();
      while (i < tensors.size() && tensors[i].scalar_type() == dtype && (group.empty() || bytes + tensors[i].nbytes() <= kBucketBytes)) {
        bytes += tensors[i].nbytes();
        group.push_back(tensors[i++]);
      }
      std::vector<at::Tensor> views;
      for (auto& g : group) views.push_back(g.reshape({-1}));
      std::vector<at::Tensor> flat = {at::cat(views)};
      op(flat);
      int64_t off = 0;
      for (auto& g : group) {
        g.copy_(flat[0].narrow(0, off, g.numel()).view(g.sizes()));
        off += g.numel();
      }
    }
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Backend> pg_;
  bool nccl_;
};

#endif  // TRM_WITH_GLOO

}  // namespace

DistConfig dist_config_from_env() {
  DistConfig c;
  c.rank = env_int("RANK", 0);
  c.world_size = env_int("WORLD_SIZE", 1);
  c.local_rank = env_int("LOCAL_RANK", c.rank);
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) c.master_addr = a;
  c.master_port = env_int("MASTER_PORT", 29500);
  if (c.world_size < 1 || c.rank >= c.world_size)
    throw Error(ErrorCode::Config, "RANK=" + std::to_string(c.rank) + " must be below WORLD_SIZE=" + std::to_string(c.world_size));
  return c;
}

bool dist_available() {
#ifdef TRM_WITH_GLOO
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Dist> Dist::create(const DistConfig& cfg, const at::Device& device, bool always_group) {
  if (!cfg.backend.empty() && cfg.backend != "gloo" && cfg.backend != "nccl")
    throw Error(ErrorCode::Config, "distributed backend '" + cfg.backend + "' is not one of gloo, nccl");
  if (cfg.backend == "nccl" && !device.is_cuda())
    throw Error(ErrorCode::Device, "the NCCL backend needs the model on a CUDA device; it is on " + device.str());
  if (cfg.world_size == 1 && !always_group) return std::make_unique<LocalDist>(cfg);
#ifdef TRM_WITH_GLOO
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(cfg.master_port);
    so.isServer = cfg.rank == 0;
    so.numWorkers = cfg.world_size;
    so.waitWorkers = true;
    so.timeout = cfg.timeout;
    store = c10::make_intrusive<c10d::TCPStore>(cfg.master_addr, so);
  } catch (const c10::Error& e) {
    throw Error(ErrorCode::Dist, "rendezvous at " + cfg.master_addr + ":" + std::to_string(cfg.master_port) + " failed for rank " +
                                     std::to_string(cfg.rank) + " of " + std::to_string(cfg.world_size) + ": " +
                                     e.what_without_backtrace());
  }
  if (cfg.backend == "nccl" || (cfg.backend.empty() && device.is_cuda())) {
#ifdef TRM_WITH_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = cfg.timeout;
    try {
      auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, cfg.rank, cfg.world_size, opts);
      return std::make_unique<C10dDist>(cfg, store, pg, true);
    } catch (const c10::Error& e) {
      throw Error(ErrorCode::Dist, std::string("creating the NCCL process group failed: ") + e.what_without_backtrace());
    }
#else
    throw Error(ErrorCode::Device, "multi-GPU training needs a build against a CUDA LibTorch with NCCL (TRM_WITH_NCCL)");
#endif
  }
  try {
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(cfg.master_addr));
    opts->timeout = cfg.timeout;
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, cfg.rank, cfg.world_size, opts);
    return std::make_unique<C10dDist>(cfg, store, pg, false);
  } catch (const c10::Error& e) {
    throw Error(ErrorCode::Dist, std::string("creating the Gloo process group failed: ") + e.what_without_backtrace());
  }
#else
  throw Error(ErrorCode::Config, "WORLD_SIZE=" + std::to_string(cfg.world_size) +
                                     " needs distributed support, but this build has none: install Gloo's headers "
                                     "(Debian: apt-get install libgloo-dev) and rebuild (npm run build)");
#endif
}

}  // namespace trm
