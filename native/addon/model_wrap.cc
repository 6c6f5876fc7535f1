#include "model_wrap.h"

#include "compute_thread.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "addon_data.h"
#include "cancel_token.h"
#include "config_js.h"
#include "core/checkpoint.h"
#include "core/engine/infer.h"
#include "core/errors.h"
#include "js_args.h"
#include "js_errors.h"
#include "promise_worker.h"
#include "tensors.h"

namespace trm::addon {

namespace {

/** A seed: an integer in [0, 2^53] (doubles are exact there). */
uint64_t seed_of(const Napi::Object& o, const char* where) {
  const auto seed = read_number<int64_t>(o, where, "seed");
  if (seed < 0) throw_invalid(o.Env(), std::string(where) + ".seed must be ≥ 0, got " + std::to_string(seed));
  return static_cast<uint64_t>(seed);
}

Batch batch_from_js(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) throw_invalid(env, "batch must be an object { inputs, puzzleIdentifiers, labels? }");
  auto o = v.As<Napi::Object>();
  Batch b;
  b.inputs = tensor_from_js(env, o.Get("inputs"), "batch.inputs");
  b.puzzle_identifiers = tensor_from_js(env, o.Get("puzzleIdentifiers"), "batch.puzzleIdentifiers");
  auto labels = o.Get("labels");
  if (!labels.IsUndefined() && !labels.IsNull()) b.labels = tensor_from_js(env, labels, "batch.labels");
  return b;
}

double scalar(const at::Tensor& t) { return t.defined() ? t.to(at::kDouble).item<double>() : 0.0; }

/** Everything a step hands back, detached and on the CPU, ready to convert on the main thread. */
struct StepSnapshot {
  at::Tensor logits, q_halt, q_continue, target_q_continue, preds, steps, halted;
  double loss = 0;
  std::vector<std::pair<std::string, double>> metrics;
  bool all_halted = false;
};

at::Tensor cpu(const at::Tensor& t) { return t.defined() ? t.detach().to(at::kCPU) : t; }

/** The defined metrics by name (q_continue_loss only with a continue target). */
std::vector<std::pair<std::string, double>> metric_list(const Metrics& m) {
  std::vector<std::pair<std::string, double>> out;
  const auto fields = m.fields();
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i]->defined()) out.emplace_back(kMetricNames[i], scalar(*fields[i]));
  return out;
}

StepSnapshot snapshot(const StepResult& r, bool with_logits) {
  StepSnapshot s;
  if (with_logits) s.logits = cpu(r.logits).to(at::kFloat);
  s.q_halt = cpu(r.q_halt);
  s.q_continue = cpu(r.q_continue);
  s.target_q_continue = cpu(r.target_q_continue);
  s.preds = cpu(r.preds).to(at::kInt);
  s.steps = cpu(r.steps);
  s.halted = cpu(r.halted);
  s.loss = scalar(r.loss.detach());
  s.metrics = metric_list(r.metrics);
  s.all_halted = s.halted.all().item<bool>();
  return s;
}

Napi::Object snapshot_to_js(Napi::Env env, const StepSnapshot& s) {
  auto o = Napi::Object::New(env);
  if (s.logits.defined()) o.Set("logits", tensor_to_js(env, s.logits));
  o.Set("qHalt", tensor_to_js(env, s.q_halt));
  o.Set("qContinue", tensor_to_js(env, s.q_continue));
  if (s.target_q_continue.defined()) o.Set("targetQContinue", tensor_to_js(env, s.target_q_continue));
  o.Set("preds", tensor_to_js(env, s.preds));
  o.Set("steps", tensor_to_js(env, s.steps));
  o.Set("halted", tensor_to_js(env, s.halted));
  o.Set("loss", s.loss);
  auto m = Napi::Object::New(env);
  for (const auto& [k, v] : s.metrics) m.Set(k, v);
  o.Set("metrics", m);
  o.Set("allHalted", s.all_halted);
  return o;
}

Carry* carry_of(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject() || !v.As<Napi::Object>().Get("handle").IsExternal())
    throw_invalid(env, "carry must be an object returned by initialCarry()");
  return v.As<Napi::Object>().Get("handle").As<Napi::External<Carry>>().Data();
}

at::Device device_from(Napi::Env env, const std::string& s) {
  try {
    at::Device d(s);
    if (d.is_cuda() && !at::hasCUDA())
      throw trm::Error(ErrorCode::Device, "device '" + s + "' requested, but this LibTorch build or machine has no CUDA");
    if (!d.is_cpu() && !d.is_cuda()) throw trm::Error(ErrorCode::Device, "device '" + s + "' is not supported (use cpu or cuda[:N])");
    return d;
  } catch (const c10::Error&) {
    throw trm::Error(ErrorCode::Device, "'" + s + "' is not a device (use cpu, cuda or cuda:N)");
  }
}

}  // namespace

Napi::Function ModelWrap::Define(Napi::Env env) {
  auto cls =
      DefineClass(env, "NativeModel",
                  {InstanceMethod<&ModelWrap::Config>("config"), InstanceMethod<&ModelWrap::NumParameters>("numParameters"),
                   InstanceMethod<&ModelWrap::StateDict>("stateDict"), InstanceMethod<&ModelWrap::GetTensor>("getTensor"),
                   InstanceMethod<&ModelWrap::SetTensor>("setTensor"), InstanceMethod<&ModelWrap::SetTraining>("setTraining"),
                   InstanceMethod<&ModelWrap::InitialCarry>("initialCarry"), InstanceMethod<&ModelWrap::CarryState>("carryState"),
                   InstanceMethod<&ModelWrap::Step>("step"), InstanceMethod<&ModelWrap::Backward>("backward"),
                   InstanceMethod<&ModelWrap::Gradients>("gradients"), InstanceMethod<&ModelWrap::ZeroGrad>("zeroGrad"),
                   InstanceMethod<&ModelWrap::Run>("run"), InstanceMethod<&ModelWrap::LoadCheckpoint>("loadCheckpoint"),
                   InstanceMethod<&ModelWrap::SaveOfficial>("saveOfficial"), InstanceMethod<&ModelWrap::SaveSafetensors>("saveSafetensors"),
                   InstanceMethod<&ModelWrap::WithPuzzleRows>("withPuzzleRows"), InstanceMethod<&ModelWrap::To>("to"),
                   InstanceMethod<&ModelWrap::Dispose>("dispose")});
  addon_data(env).model_class = Napi::Persistent(cls);
  return cls;
}

namespace {

/** The config, seed and device of a NativeModel(config, options) call, read on the main thread. */
struct ModelSpec {
  ModelConfig cfg;
  uint64_t seed = 0;
  at::Device device{at::kCPU};
};

ModelSpec model_spec(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_invalid(env, "a model needs a config object");
  ModelSpec s;
  s.cfg = config_from_js(env, info[0].As<Napi::Object>());
  auto opts = object_arg(info, 1, "model options");
  s.seed = seed_of(opts, "model options");
  s.device = device_from(env, read_string(opts, "model options", "device"));
  return s;
}

/** A NativeModel object around a model built on a worker thread (handed over as an External). */
Napi::Value model_object(Napi::Env env, const std::shared_ptr<ModelState>& state) {
  auto holder = Napi::External<std::shared_ptr<ModelState>>::New(env, new std::shared_ptr<ModelState>(state),
                                                                 [](Napi::Env, std::shared_ptr<ModelState>* p) { delete p; });
  return addon_data(env).model_class.New({holder});
}

std::shared_ptr<ModelState> build(const ModelSpec& s) {
  auto state = std::make_shared<ModelState>(s.cfg, s.seed);
  if (!s.device.is_cpu()) state->model.inner().to(s.device);
  return state;
}

}  // namespace

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  auto env = info.Env();
  guarded(env, [&] {
    // createModel() builds the state off the event loop and hands it over as an External.
    if (info.Length() == 1 && info[0].IsExternal()) {
      state_ = *info[0].As<Napi::External<std::shared_ptr<ModelState>>>().Data();
      return;
    }
    const auto spec = model_spec(info);
    run_on_compute_thread([&] { state_ = build(spec); });
  });
}

Napi::Value ModelWrap::CreateAsync(const Napi::CallbackInfo& info) {
  // Allocating and initialising a model (a multi-GB ARC puzzle table included) runs on a worker.
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto spec = model_spec(info);
    return PromiseWorker::Start(env, [spec]() -> Finisher {
      auto state = build(spec);
      return [state](Napi::Env e) -> Napi::Value { return model_object(e, state); };
    });
  });
}

std::shared_ptr<ModelState> ModelWrap::state(Napi::Env env) const {
  if (!state_) throw make_error(env, {"ERR_TRM_DISPOSED", "this model was disposed", ""});
  if (state_->busy.load()) throw make_error(env, {"ERR_TRM_STATE", "this model is being trained; wait for the run to finish", ""});
  return state_;
}

std::shared_ptr<ModelState> ModelWrap::state_of(Napi::Env env, const Napi::Object& o) {
  auto& cls = addon_data(env).model_class;
  if (cls.IsEmpty() || !o.InstanceOf(cls.Value())) throw_invalid(env, "expected a model (NativeModel)");
  return Unwrap(o)->state(env);
}

Napi::Value ModelWrap::Config(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return config_to_js(info.Env(), state(info.Env())->model.config()); });
}

Napi::Value ModelWrap::NumParameters(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(state(info.Env())->model.inner().params().num_parameters()));
  });
}

Napi::Value ModelWrap::StateDict(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    std::lock_guard<std::mutex> lock(s->mutex);
    const auto& entries = s->model.inner().params().entries();
    auto arr = Napi::Array::New(env, entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      auto o = Napi::Object::New(env);
      o.Set("name", entries[i].name);
      auto shape = Napi::Array::New(env);
      for (int64_t d = 0; d < entries[i].tensor.dim(); ++d)
        shape.Set(static_cast<uint32_t>(d), static_cast<double>(entries[i].tensor.size(d)));
      o.Set("shape", shape);
      o.Set("dtype", std::string(c10::toString(entries[i].tensor.scalar_type())));
      o.Set("trainable", entries[i].trainable);
      arr.Set(static_cast<uint32_t>(i), o);
    }
    return arr;
  });
}

Napi::Value ModelWrap::GetTensor(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const auto name = string_arg(info, 0, "name");
    std::lock_guard<std::mutex> lock(s->mutex);
    return tensor_to_js(env, s->model.inner().params().at(name));
  });
}

Napi::Value ModelWrap::SetTensor(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const auto name = string_arg(info, 0, "name");
    auto src = tensor_from_js(env, info[1], "tensor");
    std::lock_guard<std::mutex> lock(s->mutex);
    auto& dst = s->model.inner().params().at(name);
    if (!src.sizes().equals(dst.sizes()))
      throw trm::Error(ErrorCode::Shape, name + " has shape " + c10::str(dst.sizes()) + ", got " + c10::str(src.sizes()));
    c10::NoGradGuard no_grad;
    dst.copy_(src);
    return env.Undefined();
  });
}

Napi::Value ModelWrap::SetTraining(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto s = state(info.Env());
    std::lock_guard<std::mutex> lock(s->mutex);
    s->model.set_training(bool_arg(info, 0, "setTraining(on): on"));
    return info.Env().Undefined();
  });
}

Napi::Value ModelWrap::InitialCarry(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const double b = number_arg(info, 0, "initialCarry(batchSize): batchSize");
    if (!(b >= 1) || b != static_cast<double>(static_cast<int64_t>(b)) || b > 1e6)
      throw_invalid(env, "batchSize must be a positive integer");
    std::lock_guard<std::mutex> lock(s->mutex);
    auto* carry = new Carry(s->model.initial_carry(static_cast<int64_t>(b)));
    auto o = Napi::Object::New(env);
    o.Set("handle", Napi::External<Carry>::New(env, carry, [](Napi::Env, Carry* c) { delete c; }));
    o.Set("batchSize", b);
    return o;
  });
}

Napi::Value ModelWrap::CarryState(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    auto* c = carry_of(env, info[0]);
    std::lock_guard<std::mutex> lock(s->mutex);
    auto o = Napi::Object::New(env);
    o.Set("steps", tensor_to_js(env, c->steps));
    o.Set("halted", tensor_to_js(env, c->halted));
    return o;
  });
}

Napi::Value ModelWrap::Step(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    auto* carry = carry_of(env, info[0]);
    auto batch = batch_from_js(env, info[1]);
    const bool with_logits = read_bool(object_arg(info, 2, "step options"), "step options", "logits");
    auto job = [s, carry, batch, with_logits]() -> Finisher {
      std::lock_guard<std::mutex> lock(s->mutex);
      s->pending_loss = at::Tensor();
      auto& m = s->model;
      StepSnapshot snap;
      if (m.training()) {
        auto r = m.step(*carry, batch);
        s->pending_loss = r.loss;
        snap = snapshot(r, with_logits);
      } else {
        c10::NoGradGuard no_grad;
        auto r = m.step(*carry, batch);
        snap = snapshot(r, with_logits);
      }
      return [snap](Napi::Env e) -> Napi::Value { return snapshot_to_js(e, snap); };
    };
    return PromiseWorker::Start(env, job, {info[0].As<Napi::Object>(), info.This().As<Napi::Object>()});
  });
}

Napi::Value ModelWrap::Backward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const double scale = number_arg(info, 0, "backward(scale): scale");
    auto job = [s, scale]() -> Finisher {
      std::lock_guard<std::mutex> lock(s->mutex);
      if (!s->pending_loss.defined())
        throw trm::Error(ErrorCode::State, "backward() needs a training-mode step() before it (and runs once per step)");
      auto loss = s->pending_loss;
      s->pending_loss = at::Tensor();
      (loss * scale).backward();
      return nullptr;
    };
    return PromiseWorker::Start(env, job, {info.This().As<Napi::Object>()});
  });
}

Napi::Value ModelWrap::Gradients(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    std::lock_guard<std::mutex> lock(s->mutex);
    auto out = Napi::Object::New(env);
    for (const auto& e : s->model.inner().params().entries())
      if (e.trainable && e.tensor.grad().defined()) out.Set(e.name, tensor_to_js(env, e.tensor.grad()));
    const auto& lw = s->model.inner().puzzle_local_weights();
    if (lw.defined() && lw.grad().defined()) {
      out.Set("puzzle_emb.local_weights", tensor_to_js(env, lw.grad()));
      out.Set("puzzle_emb.local_ids", tensor_to_js(env, s->model.inner().puzzle_local_ids()));
    }
    return out;
  });
}

Napi::Value ModelWrap::ZeroGrad(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto s = state(info.Env());
    std::lock_guard<std::mutex> lock(s->mutex);
    for (auto& e : s->model.inner().params().entries())
      if (e.tensor.grad().defined()) e.tensor.mutable_grad() = at::Tensor();
    return info.Env().Undefined();
  });
}

Napi::Value ModelWrap::Run(const Napi::CallbackInfo& info) {
  // The whole evaluation ACT loop in one native call (core/engine/infer.h); this converts only.
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    auto batch = batch_from_js(env, info[0]);
    auto opts = object_arg(info, 1, "run options");
    InferOptions o;
    o.max_steps = read_number<int64_t>(opts, "run options", "steps");
    if (o.max_steps < 0 || o.max_steps > (1 << 20))
      throw_invalid(env, "run options.steps must be in [0, 2^20] (0: until every row halts), got " + std::to_string(o.max_steps));
    o.trace = read_bool(opts, "run options", "trace");
    o.early_halt = read_bool(opts, "run options", "earlyHalt");
    o.halt_check = answer_check_from(read_string(opts, "run options", "haltCheck"));
    o.logits = read_bool(opts, "run options", "logits");
    auto cancel = CancelToken::flag_of(env, info.Length() > 2 ? info[2] : env.Undefined());
    auto job = [s, batch, o, cancel]() mutable -> Finisher {
      std::lock_guard<std::mutex> lock(s->mutex);
      o.cancel = cancel.get();
      auto r = infer(s->model, batch, o);
      auto answer = snapshot(r.answer, o.logits);
      std::vector<StepSnapshot> trace;
      for (const auto& step : r.trace) trace.push_back(snapshot(step, o.logits));
      const int64_t steps_run = r.steps_run;
      return [answer, trace, steps_run, with_trace = o.trace](Napi::Env e) -> Napi::Value {
        auto out = snapshot_to_js(e, answer);
        out.Set("stepsRun", static_cast<double>(steps_run));
        if (with_trace) {
          auto arr = Napi::Array::New(e, trace.size());
          for (size_t i = 0; i < trace.size(); ++i) arr.Set(static_cast<uint32_t>(i), snapshot_to_js(e, trace[i]));
          out.Set("trace", arr);
        }
        return out;
      };
    };
    std::vector<Napi::Object> keep = {info.This().As<Napi::Object>()};
    if (cancel) keep.push_back(info[2].As<Napi::Object>());
    return PromiseWorker::Start(env, job, keep);
  });
}

Napi::Value ModelWrap::LoadCheckpoint(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const auto path = string_arg(info, 0, "path");
    auto opts = object_arg(info, 1, "load options");
    LoadOptions lo;
    lo.strict = read_bool(opts, "load options", "strict");
    lo.resize_puzzle_to_mean = read_bool(opts, "load options", "resizePuzzleToMean");
    lo.allow_non_finite = read_bool(opts, "load options", "allowNonFinite");
    auto job = [s, path, lo]() -> Finisher {
      std::lock_guard<std::mutex> lock(s->mutex);
      auto tensors = read_checkpoint_tensors(path, nullptr);
      auto report = load_state(s->model, tensors, lo);
      return [report](Napi::Env e) -> Napi::Value {
        auto o = Napi::Object::New(e);
        auto list = [&](const std::vector<std::string>& v) {
          auto a = Napi::Array::New(e, v.size());
          for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), v[i]);
          return a;
        };
        o.Set("missing", list(report.missing));
        o.Set("unexpected", list(report.unexpected));
        o.Set("puzzleTableResized", report.puzzle_table_resized);
        return o;
      };
    };
    return PromiseWorker::Start(env, job, {info.This().As<Napi::Object>()});
  });
}

Napi::Value ModelWrap::SaveOfficial(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const auto path = string_arg(info, 0, "path");
    auto job = [s, path]() -> Finisher {
      std::lock_guard<std::mutex> lock(s->mutex);
      save_official(s->model, path);
      return nullptr;
    };
    return PromiseWorker::Start(env, job, {info.This().As<Napi::Object>()});
  });
}

Napi::Value ModelWrap::SaveSafetensors(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const auto path = string_arg(info, 0, "path");
    std::map<std::string, std::string> metadata;
    auto opts = object_arg(info, 1, "metadata");
    auto keys = opts.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      auto k = keys.Get(i).As<Napi::String>().Utf8Value();
      auto v = opts.Get(k);
      if (!v.IsString()) throw_invalid(env, "metadata values must be strings (" + k + ")");
      metadata[k] = v.As<Napi::String>().Utf8Value();
    }
    auto job = [s, path, metadata]() -> Finisher {
      std::lock_guard<std::mutex> lock(s->mutex);
      save_safetensors(s->model, path, metadata);
      return nullptr;
    };
    return PromiseWorker::Start(env, job, {info.This().As<Napi::Object>()});
  });
}

Napi::Value ModelWrap::WithPuzzleRows(const Napi::CallbackInfo& info) {
  // A copy with a larger puzzle table, built off the event loop (an ARC table is 1.8 GB).
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    auto cfg = s->model.config();
    if (cfg.puzzle_emb_ndim <= 0)
      throw trm::Error(ErrorCode::Config, "this model has no puzzle embeddings (puzzle_emb_ndim 0), so it has no puzzle table to grow");
    const double rows = number_arg(info, 0, "withPuzzleRows(rows): rows");
    if (!(rows >= static_cast<double>(cfg.num_puzzle_identifiers)) || rows > 1e9 || rows != static_cast<double>(static_cast<int64_t>(rows)))
      throw_invalid(env, "rows must be an integer from the current " + std::to_string(cfg.num_puzzle_identifiers) + " to 1e9, got " +
                             Napi::Number::New(env, rows).ToString().Utf8Value());
    auto opts = object_arg(info, 1, "withPuzzleRows options");
    const auto seed = seed_of(opts, "withPuzzleRows options");
    const auto device_name = read_optional_string(opts, "withPuzzleRows options", "device");
    const auto device = device_name.empty() ? s->model.inner().device() : device_from(env, device_name);
    cfg.num_puzzle_identifiers = static_cast<int64_t>(rows);
    auto job = [s, cfg, seed, device]() -> Finisher {
      auto grown = std::make_shared<ModelState>(cfg, seed);
      if (!device.is_cpu()) grown->model.inner().to(device);
      {
        std::lock_guard<std::mutex> lock(s->mutex);
        copy_state_growing_puzzles(s->model, grown->model);
      }
      return [grown](Napi::Env e) -> Napi::Value { return model_object(e, grown); };
    };
    return PromiseWorker::Start(env, job, {info.This().As<Napi::Object>()});
  });
}

Napi::Value ModelWrap::To(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const auto dev = device_from(env, string_arg(info, 0, "device"));
    std::lock_guard<std::mutex> lock(s->mutex);
    run_on_compute_thread([&] { s->model.inner().to(dev); });
    return env.Undefined();
  });
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  state_.reset();  // in-flight jobs hold their own reference and finish first
  return info.Env().Undefined();
}

}  // namespace trm::addon
