// A CUDA diagnostic: counts the calling thread's host syncs (the host waiting for the device: .item(),
// blocking copies, stream syncs) while it lives, through c10's sync-debug mode in "warn" mode and a
// thread-local warning handler. It is how the GPU check proves the training step waits at most once.
// Without CUDA, or when disabled, it counts nothing.
#pragma once

#include <cstdint>
#include <memory>

namespace trm {

class HostSyncCounter {
 public:
  explicit HostSyncCounter(bool enabled);
  ~HostSyncCounter();
  HostSyncCounter(const HostSyncCounter&) = delete;
  HostSyncCounter& operator=(const HostSyncCounter&) = delete;

  /** Syncs counted since the previous take(). */
  int64_t take();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trm
