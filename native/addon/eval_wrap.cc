#include "eval_wrap.h"

#include <ATen/ATen.h>
#include <c10/core/DeviceGuard.h>

#include <chrono>

#include "compute_thread.h"
#include "core/errors.h"
#include "js_args.h"
#include "js_errors.h"
#include "tensors.h"

namespace trm::addon {

namespace {

/** What crosses to JavaScript: the opening facts, a batch, or the end (which settles the promise). */
struct Message {
  enum class Kind { Begin, Batch, End } kind = Kind::Batch;
  std::vector<std::string> sets;
  std::vector<int64_t> set_examples;
  EvalBatchOutputs batch;
  EvalPassResult result;
  bool failed = false;
  Failure failure;
  std::shared_ptr<Napi::Promise::Deferred> deferred;
  std::atomic<int>* queued = nullptr;  // a batch's slot in the back-pressure count
};

constexpr int kMaxQueued = 16;

Napi::Object batch_to_js(Napi::Env env, const EvalBatchOutputs& b) {
  auto o = Napi::Object::New(env);
  o.Set("kind", "batch");
  o.Set("set", b.set);
  o.Set("effective", static_cast<double>(b.effective));
  o.Set("rows", static_cast<double>(b.rows));
  o.Set("pathIndex", static_cast<double>(b.path_index));
  o.Set("identifierOffset", static_cast<double>(b.identifier_offset));
  if (b.preds.defined()) {
    o.Set("inputs", tensor_to_js(env, b.inputs));
    o.Set("puzzleIdentifiers", tensor_to_js(env, b.puzzle_identifiers));
    o.Set("preds", tensor_to_js(env, b.preds));
    o.Set("qHalt", tensor_to_js(env, b.q_halt));
  }
  return o;
}

Napi::Value result_to_js(Napi::Env env, const EvalPassResult& r) {
  auto o = Napi::Object::New(env);
  auto sets = Napi::Array::New(env, r.sets.size());
  auto sums = Napi::Object::New(env);
  for (size_t i = 0; i < r.sets.size(); ++i) {
    sets.Set(static_cast<uint32_t>(i), r.sets[i]);
    auto m = Napi::Object::New(env);
    const auto& v = r.sums.at(r.sets[i]);
    for (size_t k = 0; k < kMetricNames.size(); ++k) m.Set(std::string(kMetricNames[k]), v[k]);
    sums.Set(r.sets[i], m);
  }
  o.Set("sets", sets);
  o.Set("sums", sums);
  o.Set("batches", static_cast<double>(r.batches));
  return o;
}

}  // namespace

Napi::Function EvaluationWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeEvaluation",
                     {InstanceMethod<&EvaluationWrap::Start>("start"), InstanceMethod<&EvaluationWrap::Cancel>("cancel")});
}

EvaluationWrap::EvaluationWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EvaluationWrap>(info) {
  auto env = info.Env();
  guarded(env, [&] {
    if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsObject() || !info[2].IsFunction())
      throw_invalid(env, "NativeEvaluation(model, options, onEvent) needs a model, an options object and a callback");
    model_ = ModelWrap::state_of(env, info[0].As<Napi::Object>());
    auto o = info[1].As<Napi::Object>();
    // Every key is required: lib/eval/exact.ts holds the defaults and passes them all.
    constexpr const char* kWhere = "options";
    data_.paths = read_strings(o, kWhere, "data_paths");
    if (data_.paths.empty()) throw_invalid(env, "options.data_paths must list a dataset folder");
    data_.test_mode = true;
    data_.global_batch_size = read_number<int64_t>(o, kWhere, "global_batch_size");
    data_.rank = read_number<int32_t>(o, kWhere, "rank");
    data_.world_size = read_number<int32_t>(o, kWhere, "world_size");
    opts_.outputs = read_bool(o, kWhere, "outputs");
    opts_.exclude_padding_loss = read_bool(o, kWhere, "exclude_padding_loss");
    opts_.sets = read_strings(o, kWhere, "sets");  // empty: every set
    on_event_ = Napi::Persistent(info[2].As<Napi::Function>());
  });
}

EvaluationWrap::~EvaluationWrap() {
  cancelled_.store(true);
  if (thread_.joinable()) thread_.join();
}

Napi::Value EvaluationWrap::Start(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (started_.exchange(true)) throw make_error(env, {"ERR_TRM_STATE", "this evaluation was already started", ""});
    if (model_->busy.load()) throw make_error(env, {"ERR_TRM_STATE", "this model is being trained; wait for the run to finish", ""});
    auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
    tsfn_ = Napi::ThreadSafeFunction::New(env, on_event_.Value(), "trm-evaluation", 0, 1);
    thread_ = std::thread([this, deferred] {
      auto send = [this](Message* m) {
        if (tsfn_.BlockingCall(m, [](Napi::Env env, Napi::Function cb, Message* m) {
              if (m->kind == Message::Kind::Begin) {
                auto o = Napi::Object::New(env);
                o.Set("kind", "begin");
                auto sets = Napi::Array::New(env, m->sets.size());
                auto examples = Napi::Array::New(env, m->sets.size());
                for (size_t i = 0; i < m->sets.size(); ++i) {
                  sets.Set(static_cast<uint32_t>(i), m->sets[i]);
                  examples.Set(static_cast<uint32_t>(i), static_cast<double>(m->set_examples[i]));
                }
                o.Set("sets", sets);
                o.Set("setExamples", examples);
                cb.Call({o});
              } else if (m->kind == Message::Kind::Batch) {
                --*m->queued;
                cb.Call({batch_to_js(env, m->batch)});
              } else if (m->failed) {
                m->deferred->Reject(make_error(env, m->failure).Value());
              } else {
                m->deferred->Resolve(result_to_js(env, m->result));
              }
              delete m;
            }) != napi_ok) {
          if (m->queued) --*m->queued;
          delete m;
        }
      };
      auto end = new Message();
      end->kind = Message::Kind::End;
      end->deferred = deferred;
      // The pass runs on the compute thread (compute_thread.h) as a long job; this thread waits.
      try {
        run_long_on_compute_thread([&] {
          std::lock_guard<std::mutex> lock(model_->mutex);
          auto& model = model_->model;
          const auto device = model.inner().device();
          const c10::DeviceGuard on_device(device);
          DataSpec spec = data_;
          spec.pin_memory = device.is_cuda();
          auto source = make_dataset_source(spec);
          if (!source) throw Error(ErrorCode::IO, "no test split in " + spec.paths[0] + " (test/dataset.json is missing)");
          check_data_fits_model(source->metadata(), model.config(), source->describe());
          auto begin = new Message();
          begin->kind = Message::Kind::Begin;
          begin->sets = source->sets();
          begin->set_examples = source->set_examples();
          send(begin);
          auto dist = Dist::create(DistConfig{}, device);  // this process's slice only; callers reduce
          EvalPassOptions opts = opts_;
          opts.stop = [this] { return cancelled_.load(); };
          end->result = run_eval_pass(model, *source, *dist, opts, [&](EvalBatchOutputs&& b) {
            // Back-pressure: the pass waits while JavaScript's evaluators are behind.
            while (queued_.load() >= kMaxQueued && !cancelled_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            ++queued_;
            auto m = new Message();
            m->batch = std::move(b);
            m->queued = &queued_;
            send(m);
          });
        });
      } catch (...) {
        end->failed = true;
        end->failure = current_failure();
      }
      send(end);
      tsfn_.Release();
    });
    return deferred->Promise();
  });
}

Napi::Value EvaluationWrap::Cancel(const Napi::CallbackInfo& info) {
  cancelled_.store(true);
  return info.Env().Undefined();
}

}  // namespace trm::addon
