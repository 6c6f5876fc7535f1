#include "compute_thread.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace trm::addon {
namespace {

struct Task {
  const std::function<void()>* fn;
  bool long_job;
  bool started = false;
  bool done = false;
  std::exception_ptr error;
};

// Process-wide and never destroyed: the thread outlives every addon instance (worker threads
// included) and is not joined at exit, where it just sleeps.
class ComputeThread {
 public:
  static ComputeThread& get() {
    static ComputeThread* instance = new ComputeThread();
    return *instance;
  }

  void run(const std::function<void()>& fn, bool long_job) {
    if (std::this_thread::get_id() == id_ || long_job_running_.load()) {
      fn();
      return;
    }
    Task task{&fn, long_job, false, false, {}};
    std::unique_lock<std::mutex> lock(mutex_);
    queue_.push_back(&task);
    wake_.notify_all();
    done_.wait(lock, [&] { return task.done || (!task.started && long_job_running_.load()); });
    if (!task.done) {  // a long job took the thread while this one queued: run it here instead
      queue_.erase(std::find(queue_.begin(), queue_.end(), &task));
      lock.unlock();
      fn();
      return;
    }
    if (task.error) std::rethrow_exception(task.error);
  }

 private:
  ComputeThread() : thread_([this] { loop(); }) {
    id_ = thread_.get_id();
    thread_.detach();
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return !queue_.empty(); });
      Task* task = queue_.front();
      queue_.pop_front();
      task->started = true;
      if (task->long_job) {
        long_job_running_.store(true);
        done_.notify_all();  // queued callers take their work back
      }
      lock.unlock();
      try {
        (*task->fn)();
      } catch (...) {
        task->error = std::current_exception();
      }
      lock.lock();
      long_job_running_.store(false);
      task->done = true;
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<Task*> queue_;
  std::atomic<bool> long_job_running_{false};
  std::thread thread_;
  std::thread::id id_;
};

}  // namespace

void run_on_compute_thread(const std::function<void()>& fn) { ComputeThread::get().run(fn, false); }

void run_long_on_compute_thread(const std::function<void()>& fn) { ComputeThread::get().run(fn, true); }

}  // namespace trm::addon
