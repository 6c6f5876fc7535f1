// The one thread that runs the addon's LibTorch work: model steps and runs, model creation and
// checkpoint IO, optimizer steps, and the training loop, in arrival order.
//
// Why one: LibTorch's CPU parallelism is an OpenMP pool per calling thread. libgomp counts the
// threads of every pool in the process, and once that count exceeds the cores (a second calling
// thread: another libuv worker, or the JavaScript thread) every pool stops spinning between
// parallel regions, so each of the thousands of small regions of a batch-1 recursion pays a futex
// wake-up. One calling thread keeps one pool, as in a Python process (docs/performance.md).
#pragma once

#include <functional>

namespace trm::addon {

/**
 * Runs `fn` on the compute thread and waits for it; rethrows what it throws. Runs it inline when
 * called from the compute thread itself, or while a long job (training) holds that thread, so
 * nothing ever waits for a training run to end.
 */
void run_on_compute_thread(const std::function<void()>& fn);

/** Runs `fn` as a long job (a training run): other work meanwhile runs on its callers' threads. */
void run_long_on_compute_thread(const std::function<void()>& fn);

}  // namespace trm::addon
