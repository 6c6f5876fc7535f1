// Standalone C++ test of the c10d adapter (native/core/dist): a real Gloo process group of one rank,
// its collectives, and errors that say what failed. A collective the backend refuses (here: Gloo has
// no uint16 reduction) must not be reported as a dead peer. A doctest case, built and run by CTest when
// Gloo's headers are installed.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <ATen/ATen.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/dist/dist.h"
#include "core/errors.h"

namespace {

void check(bool ok, const std::string& what) { CHECK_MESSAGE(ok, what); }

template <typename F>
std::string error_of(trm::ErrorCode code, F&& f, const std::string& what) {
  try {
    f();
    check(false, what + " (did not throw)");
  } catch (const trm::Error& e) {
    check(e.code() == code, what + " (wrong code " + trm::error_code_name(e.code()) + ": " + e.what() + ")");
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("c10d adapter: a Gloo group of one, its collectives and the errors that name what failed") {
  trm::DistConfig cfg;
  cfg.master_port = 29600 + static_cast<int>(getpid() % 1000);
  const at::Device cpu(at::kCPU);

  check(std::string(trm::Dist::create(cfg, cpu)->backend()) == "none", "a world of one needs no group by default");
  auto d = trm::Dist::create(cfg, cpu, /*always_group=*/true);
  check(std::string(d->backend()) == "gloo", "always_group: a real Gloo group on the CPU");

  std::vector<at::Tensor> ts = {at::arange(6, at::kFloat).view({2, 3}), at::ones({4}, at::kFloat)};
  d->all_reduce_sum_(ts);
  check(ts[0].equal(at::arange(6, at::kFloat).view({2, 3})) && ts[1].equal(at::ones({4})), "all_reduce over one rank");
  check(d->all_gather(at::arange(3, at::kInt)).equal(at::arange(3, at::kInt)), "all_gather over one rank");

  std::vector<at::Tensor> bad = {at::ones({3}, at::kUInt16)};
  const auto msg = error_of(
      trm::ErrorCode::Dist, [&] { d->all_reduce_sum_(bad); }, "Gloo refuses uint16");
  check(msg.find("all_reduce of 1 UInt16 tensor on cpu over Gloo (rank 0 of 1)") != std::string::npos,
        "the message names the collective and its tensors: " + msg);
  check(msg.find("peer") == std::string::npos, "a refused collective is not blamed on a peer: " + msg);

  auto nccl = cfg;
  nccl.backend = "nccl";
  error_of(
      trm::ErrorCode::Device, [&] { trm::Dist::create(nccl, cpu, true); }, "NCCL for a model on the CPU");
  auto mpi = cfg;
  mpi.backend = "mpi";
  error_of(
      trm::ErrorCode::Config, [&] { trm::Dist::create(mpi, cpu, true); }, "unknown backend");
}
