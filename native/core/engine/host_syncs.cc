#include "host_syncs.h"

#include <c10/util/Exception.h>

#include <string>

#ifdef TRM_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace trm {

#ifdef TRM_WITH_CUDA

namespace {

/** Counts c10's "called a synchronizing CUDA operation" warnings; passes every other warning on. */
class Counting final : public c10::WarningHandler {
 public:
  explicit Counting(c10::WarningHandler* next) : next_(next) {}
  void process(const c10::Warning& w) override {
    if (w.msg().find("synchroniz") != std::string::npos) {
      ++count;
    } else if (next_) {
      next_->process(w);
    }
  }
  int64_t count = 0;

 private:
  c10::WarningHandler* next_;
};

}  // namespace

struct HostSyncCounter::Impl {
  Counting handler{c10::WarningUtils::get_warning_handler()};
  c10::WarningUtils::WarningHandlerGuard guard{&handler};
  c10::cuda::SyncDebugMode previous = c10::cuda::warning_state().get_sync_debug_mode();
  int64_t taken = 0;
  Impl() { c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_WARN); }
  ~Impl() { c10::cuda::warning_state().set_sync_debug_mode(previous); }
};

HostSyncCounter::HostSyncCounter(bool enabled) {
  if (enabled) impl_ = std::make_unique<Impl>();
}

int64_t HostSyncCounter::take() {
  if (!impl_) return 0;
  const int64_t n = impl_->handler.count - impl_->taken;
  impl_->taken = impl_->handler.count;
  return n;
}

#else

struct HostSyncCounter::Impl {};
HostSyncCounter::HostSyncCounter(bool) {}
int64_t HostSyncCounter::take() { return 0; }

#endif

HostSyncCounter::~HostSyncCounter() = default;

}  // namespace trm
