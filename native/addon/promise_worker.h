// Off-event-loop work returning a Promise (docs/design.md, "Threads"). The job runs on the compute thread
// (compute_thread.h; a libuv worker waits for it), or on the libuv worker itself for jobs that
// block on other processes (collectives), and returns a finisher that builds the JavaScript
// result back on the main thread; any exception becomes a rejected TrmError whose stack is the one
// of the call that started the job (as sharp does), so it points at the caller's line.
#pragma once

#include <napi.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "compute_thread.h"
#include "js_errors.h"

namespace trm::addon {

using Finisher = std::function<Napi::Value(Napi::Env)>;
using Job = std::function<Finisher()>;

/** Where a job runs: the compute thread (LibTorch work), or its own libuv worker (waits on peers). */
enum class Lane { Compute, Own };

class PromiseWorker : public Napi::AsyncWorker {
 public:
  /** Queues `job`; `keep_alive` objects stay referenced until the job is done. */
  static Napi::Promise Start(Napi::Env env, Job job, const std::vector<Napi::Object>& keep_alive = {}, Lane lane = Lane::Compute) {
    auto* w = new PromiseWorker(env, std::move(job), lane);
    for (const auto& o : keep_alive) w->refs_.push_back(Napi::Persistent(o));
    w->call_site_ = Napi::Persistent(Napi::Error::New(env, "").Value());
    auto promise = w->deferred_.Promise();
    w->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      if (lane_ == Lane::Compute) {
        run_on_compute_thread([this] { finisher_ = job_(); });
      } else {
        finisher_ = job_();
      }
    } catch (...) {
      failure_ = current_failure();
      failed_ = true;
    }
  }

  void OnOK() override {
    auto env = Env();
    if (failed_) {
      reject(make_error(env, failure_).Value());
      return;
    }
    try {
      deferred_.Resolve(finisher_ ? finisher_(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      reject(e.Value());
    } catch (...) {
      reject(make_error(env, current_failure()).Value());
    }
  }

  void OnError(const Napi::Error& e) override { reject(e.Value()); }

 private:
  PromiseWorker(Napi::Env env, Job job, Lane lane)
      : Napi::AsyncWorker(env), job_(std::move(job)), lane_(lane), deferred_(Napi::Promise::Deferred::New(env)) {}

  /** Rejects with `error`, its stack replaced by the frames of the call site. */
  void reject(Napi::Value error) {
    if (error.IsObject()) {
      auto err = error.As<Napi::Object>();
      auto site = call_site_.Value().Get("stack");
      if (site.IsString()) {
        const auto frames = site.As<Napi::String>().Utf8Value();
        const auto nl = frames.find('\n');  // the site's own first line is "Error"
        const auto head = err.Get("name").ToString().Utf8Value() + ": " + err.Get("message").ToString().Utf8Value();
        err.Set("stack", head + (nl == std::string::npos ? "" : frames.substr(nl)));
      }
    }
    deferred_.Reject(error);
  }

  Job job_;
  Lane lane_;
  Finisher finisher_;
  Napi::ObjectReference call_site_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
  Failure failure_;
  bool failed_ = false;
};

}  // namespace trm::addon
