#include "trainer_wrap.h"

#include <ATen/ATen.h>

#include <chrono>

#include "core/engine/dataset_source.h"
#include "compute_thread.h"
#include "core/errors.h"
#include "js_args.h"
#include "promise_worker.h"
#include "tensors.h"

namespace trm::addon {

namespace {

/** What crosses from the training thread to JavaScript: an event, or the end of the run (deferred set). */
struct Message {
  TrainEvent event;
  bool failed = false;
  Failure failure;
  std::shared_ptr<Napi::Promise::Deferred> deferred;
};

Napi::Object event_to_js(Napi::Env env, const TrainEvent& e) {
  auto o = Napi::Object::New(env);
  o.Set("kind", e.kind);
  o.Set("step", static_cast<double>(e.step));
  o.Set("totalSteps", static_cast<double>(e.total_steps));
  o.Set("lr", e.lr);
  o.Set("elapsedSeconds", e.elapsed_seconds);
  o.Set("samplesPerSecond", e.samples_per_second);
  if (!e.set.empty()) o.Set("set", e.set);
  if (!e.path.empty()) o.Set("path", e.path);
  auto m = Napi::Object::New(env);
  for (const auto& [k, v] : e.metrics) m.Set(k, v);
  o.Set("metrics", m);
  if (e.outputs) {
    const auto& b = *e.outputs;
    auto batch = Napi::Object::New(env);
    batch.Set("set", b.set);
    batch.Set("pathIndex", static_cast<double>(b.path_index));
    batch.Set("identifierOffset", static_cast<double>(b.identifier_offset));
    batch.Set("rows", static_cast<double>(b.rows));
    batch.Set("inputs", tensor_to_js(env, b.inputs));
    batch.Set("puzzleIdentifiers", tensor_to_js(env, b.puzzle_identifiers));
    batch.Set("preds", tensor_to_js(env, b.preds));
    batch.Set("qHalt", tensor_to_js(env, b.q_halt));
    o.Set("batch", batch);
  }
  return o;
}

// At most this many evaluated batches wait for JavaScript; the evaluation waits for the evaluators.
constexpr int kMaxQueuedEvalBatches = 16;

}  // namespace

Napi::Function TrainerWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeTrainer",
                     {InstanceMethod<&TrainerWrap::Start>("start"), InstanceMethod<&TrainerWrap::Stop>("stop"),
                      InstanceMethod<&TrainerWrap::SaveState>("saveState"), InstanceMethod<&TrainerWrap::Info>("info")});
}

TrainerWrap::TrainerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrainerWrap>(info) {
  auto env = info.Env();
  guarded(env, [&] {
    if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsObject() || !info[2].IsFunction())
      throw_invalid(env, "NativeTrainer(model, options, onEvent) needs a model, an options object and a callback");
    model_ = ModelWrap::state_of(env, info[0].As<Napi::Object>());
    auto o = info[1].As<Napi::Object>();
    // Every key is required: lib/train-config.ts and lib/trainer.ts hold the defaults and pass them all.
    constexpr const char* kWhere = "options";
    auto i64 = [&](const char* key) { return read_number<int64_t>(o, kWhere, key); };
    auto dbl = [&](const char* key) { return read_number<double>(o, kWhere, key); };
    auto flag = [&](const char* key) { return read_bool(o, kWhere, key); };
    auto* spec = &spec_;
    auto& t = spec->opts;
    t.global_batch_size = i64("global_batch_size");
    t.epochs = i64("epochs");
    t.eval_interval = i64("eval_interval");
    t.min_eval_interval = i64("min_eval_interval");
    t.checkpoint_every_eval = flag("checkpoint_every_eval");
    t.lr = dbl("lr");
    t.lr_min_ratio = dbl("lr_min_ratio");
    t.lr_warmup_steps = i64("lr_warmup_steps");
    t.beta1 = dbl("beta1");
    t.beta2 = dbl("beta2");
    t.weight_decay = dbl("weight_decay");
    t.puzzle_emb_weight_decay = dbl("puzzle_emb_weight_decay");
    t.puzzle_emb_lr = dbl("puzzle_emb_lr");
    t.ema = flag("ema");
    t.ema_rate = dbl("ema_rate");
    t.freeze_weights = flag("freeze_weights");
    t.checkpoint_path = read_optional_string(o, kWhere, "checkpoint_path");
    t.state_path = read_optional_string(o, kWhere, "state_path");
    t.eval_save_outputs = read_strings(o, kWhere, "eval_save_outputs");
    check_save_keys(t.eval_save_outputs);  // now, not after the first evaluation
    t.eval_outputs = flag("eval_outputs");
    t.count_host_syncs = flag("count_host_syncs");
    t.max_steps = i64("max_steps");
    t.max_seconds = dbl("max_seconds");
    t.log_every = i64("log_every");
    spec->seed = read_number<uint64_t>(o, kWhere, "seed");
    spec->distributed = flag("distributed");
    spec->dist_backend = read_optional_string(o, kWhere, "dist_backend");
    spec->train.paths = read_strings(o, kWhere, "data_paths");
    if (spec->train.paths.empty()) throw_invalid(env, "options.data_paths must list at least one dataset folder");
    auto test_paths = read_strings(o, kWhere, "data_paths_test");
    spec->eval.paths = test_paths.empty() ? spec->train.paths : test_paths;
    spec->has_eval = flag("evaluate");
    on_event_ = Napi::Persistent(info[2].As<Napi::Function>());
  });
}

TrainerWrap::~TrainerWrap() {
  stop_requested_.store(true);
  if (auto* t = published_.load()) t->request_stop();
  if (thread_.joinable()) thread_.join();
}

void TrainerWrap::ensure_idle(Napi::Env env) const {
  if (running_.load())
    throw make_error(env, {"ERR_TRM_STATE", "the training run is in progress; stop() it and wait for start() to settle first", ""});
}

Napi::Value TrainerWrap::Start(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ensure_idle(env);
    if (thread_.joinable()) thread_.join();
    // "" starts fresh; lib/trainer.ts always passes the path or "".
    const auto resume = string_arg(info, 0, "start(resumeFrom): resumeFrom");
    auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
    tsfn_ = Napi::ThreadSafeFunction::New(env, on_event_.Value(), "trm-trainer", 0, 1);
    running_.store(true);
    model_->busy.store(true);
    stop_requested_.store(false);
    const RunSpec* spec = &spec_;
    thread_ = std::thread([this, spec, resume, deferred] {
      auto msg = new Message();
      msg->deferred = deferred;
      // The loop runs on the compute thread (compute_thread.h); this thread only waits for it.
      try {
        run_long_on_compute_thread([&] {
          std::lock_guard<std::mutex> lock(model_->mutex);
          if (!trainer_) {
            auto dist_cfg = spec->distributed ? dist_config_from_env() : DistConfig{};
            dist_cfg.backend = spec->dist_backend;
            const auto device = model_->model.inner().device();
            // distributed: the real backend even for a world of one (as torchrun --nproc-per-node 1).
            auto dist = Dist::create(dist_cfg, device, spec->distributed);
            // pretrain.py seeds torch with seed + RANK: each rank explores differently, whatever seed built the model.
            model_->model.seed_exploration(spec->seed + static_cast<uint64_t>(dist->rank()));
            DataSpec train = spec->train, eval = spec->eval;
            train.seed = eval.seed = spec->seed;
            train.global_batch_size = eval.global_batch_size = spec->opts.global_batch_size;
            train.epochs_per_iter = spec->opts.eval_interval > 0 ? spec->opts.eval_interval : spec->opts.epochs;
            train.rank = eval.rank = dist->rank();
            train.world_size = eval.world_size = dist->world_size();
            train.pin_memory = eval.pin_memory = device.is_cuda();
            eval.test_mode = true;
            auto eval_source = spec->has_eval ? make_dataset_source(eval) : nullptr;
            auto emit = [this](const TrainEvent& e) {
              const bool eval_batch = e.outputs != nullptr;
              if (eval_batch) {
                // Back-pressure without blocking the queue itself (a full queue could deadlock with a
                // finalizer that joins this thread): wait while JavaScript is behind, unless stopping.
                while (eval_batches_queued_.load() >= kMaxQueuedEvalBatches && !stop_requested_.load())
                  std::this_thread::sleep_for(std::chrono::milliseconds(1));
                ++eval_batches_queued_;
              }
              auto m = new Message();
              m->event = e;
              auto* queued = eval_batch ? &eval_batches_queued_ : nullptr;
              if (tsfn_.BlockingCall(m, [queued](Napi::Env env, Napi::Function cb, Message* m) {
                    if (queued) --*queued;
                    cb.Call({event_to_js(env, m->event)});
                    delete m;
                  }) != napi_ok) {
                if (queued) --*queued;
                delete m;
              }
            };
            trainer_ = std::make_unique<Trainer>(model_->model, spec->opts, make_dataset_source(train), std::move(eval_source),
                                                 std::move(dist), emit);
            published_.store(trainer_.get());
          }
          if (!resume.empty()) trainer_->load_state(resume);
          if (stop_requested_.load()) trainer_->request_stop();
          trainer_->run();
        });
      } catch (...) {
        msg->failed = true;
        msg->failure = current_failure();
      }
      model_->model.set_training(false);
      model_->busy.store(false);
      running_.store(false);
      tsfn_.BlockingCall(msg, [](Napi::Env env, Napi::Function, Message* m) {
        if (m->failed)
          m->deferred->Reject(make_error(env, m->failure).Value());
        else
          m->deferred->Resolve(env.Undefined());
        delete m;
      });
      tsfn_.Release();
    });
    return deferred->Promise();
  });
}

Napi::Value TrainerWrap::Stop(const Napi::CallbackInfo& info) {
  stop_requested_.store(true);
  if (auto* t = published_.load()) t->request_stop();
  return info.Env().Undefined();
}

Napi::Value TrainerWrap::SaveState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ensure_idle(env);
    if (thread_.joinable()) thread_.join();
    if (!trainer_) throw make_error(env, {"ERR_TRM_STATE", "nothing to save: start() has not run", ""});
    const auto path = string_arg(info, 0, "saveState(path): path");
    auto* trainer = trainer_.get();
    auto model = model_;
    return PromiseWorker::Start(env,
                                [trainer, model, path]() -> Finisher {
                                  std::lock_guard<std::mutex> lock(model->mutex);
                                  trainer->save_state(path);
                                  return nullptr;
                                },
                                {info.This().As<Napi::Object>()});
  });
}

Napi::Value TrainerWrap::Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("running", running_.load());
  auto* t = published_.load();
  o.Set("step", t ? static_cast<double>(t->step()) : 0.0);
  o.Set("totalSteps", t ? static_cast<double>(t->total_steps()) : 0.0);
  return o;
}

}  // namespace trm::addon
