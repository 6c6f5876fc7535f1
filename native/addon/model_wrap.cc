#include "model_wrap.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "config_js.h"
#include "core/checkpoint.h"
#include "core/errors.h"
#include "errors.h"
#include "promise_worker.h"
#include "tensors.h"

namespace trm::addon {

namespace {

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) throw_invalid(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Object options_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[i].IsObject()) throw_invalid(info.Env(), "options must be an object");
  return info[i].As<Napi::Object>();
}

bool bool_opt(const Napi::Object& o, const char* key, bool dflt) {
  auto v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsBoolean()) throw_invalid(o.Env(), std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

int64_t int_opt(const Napi::Object& o, const char* key, int64_t dflt, int64_t lo, int64_t hi) {
  auto v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsNumber()) throw_invalid(o.Env(), std::string(key) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d)) || d < lo || d > hi)
    throw_invalid(o.Env(), std::string(key) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int64_t>(d);
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
  std::vector<std::pair<const char*, double>> metrics;
  bool all_halted = false;
};

StepSnapshot snapshot(const StepResult& r, const Carry& c, bool with_logits) {
  StepSnapshot s;
  auto cpu = [](const at::Tensor& t) { return t.defined() ? t.detach().to(at::kCPU) : t; };
  if (with_logits) s.logits = cpu(r.logits).to(at::kFloat);
  s.q_halt = cpu(r.q_halt);
  s.q_continue = cpu(r.q_continue);
  s.target_q_continue = cpu(r.target_q_continue);
  s.preds = cpu(r.preds).to(at::kInt);
  s.steps = cpu(c.steps);
  s.halted = cpu(c.halted);
  s.loss = scalar(r.loss.detach());
  const auto& m = r.metrics;
  s.metrics = {{"count", scalar(m.count)},
               {"accuracy", scalar(m.accuracy)},
               {"exact_accuracy", scalar(m.exact_accuracy)},
               {"q_halt_accuracy", scalar(m.q_halt_accuracy)},
               {"steps", scalar(m.steps)},
               {"lm_loss", scalar(m.lm_loss)},
               {"q_halt_loss", scalar(m.q_halt_loss)}};
  if (m.q_continue_loss.defined()) s.metrics.push_back({"q_continue_loss", scalar(m.q_continue_loss)});
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
  auto cls = DefineClass(env, "NativeModel",
                     {InstanceMethod<&ModelWrap::Config>("config"),
                      InstanceMethod<&ModelWrap::NumParameters>("numParameters"),
                      InstanceMethod<&ModelWrap::StateDict>("stateDict"),
                      InstanceMethod<&ModelWrap::GetTensor>("getTensor"),
                      InstanceMethod<&ModelWrap::SetTensor>("setTensor"),
                      InstanceMethod<&ModelWrap::SetTraining>("setTraining"),
                      InstanceMethod<&ModelWrap::SetEarlyHalt>("setEarlyHalt"),
                      InstanceMethod<&ModelWrap::InitialCarry>("initialCarry"),
                      InstanceMethod<&ModelWrap::CarryState>("carryState"),
                      InstanceMethod<&ModelWrap::Step>("step"),
                      InstanceMethod<&ModelWrap::Backward>("backward"),
                      InstanceMethod<&ModelWrap::Gradients>("gradients"),
                      InstanceMethod<&ModelWrap::ZeroGrad>("zeroGrad"),
                      InstanceMethod<&ModelWrap::Run>("run"),
                      InstanceMethod<&ModelWrap::LoadCheckpoint>("loadCheckpoint"),
                      InstanceMethod<&ModelWrap::SaveOfficial>("saveOfficial"),
                      InstanceMethod<&ModelWrap::SaveSafetensors>("saveSafetensors"),
                      InstanceMethod<&ModelWrap::To>("to"),
                      InstanceMethod<&ModelWrap::Dispose>("dispose")});
  constructor = Napi::Persistent(cls);
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
  auto opts = options_arg(info, 1);
  s.seed = static_cast<uint64_t>(int_opt(opts, "seed", 0, 0, (int64_t{1} << 53)));
  std::string device = "cpu";
  if (opts.Get("device").IsString()) device = opts.Get("device").As<Napi::String>().Utf8Value();
  s.device = device_from(env, device);
  return s;
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
    state_ = build(model_spec(info));
  });
}

Napi::Value ModelWrap::CreateAsync(const Napi::CallbackInfo& info) {
  // Allocating and initialising a model (a multi-GB ARC puzzle table included) runs on a worker.
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto spec = model_spec(info);
    return PromiseWorker::Start(env, [spec]() -> Finisher {
      auto state = build(spec);
      return [state](Napi::Env e) -> Napi::Value {
        auto holder = Napi::External<std::shared_ptr<ModelState>>::New(
            e, new std::shared_ptr<ModelState>(state), [](Napi::Env, std::shared_ptr<ModelState>* p) { delete p; });
        return constructor.New({holder});
      };
    });
  });
}

Napi::FunctionReference ModelWrap::constructor;

std::shared_ptr<ModelState> ModelWrap::state(Napi::Env env) const {
  if (!state_) throw make_error(env, {"ERR_TRM_DISPOSED", "this model was disposed", ""});
  if (state_->busy.load()) throw make_error(env, {"ERR_TRM_STATE", "this model is being trained; wait for the run to finish", ""});
  return state_;
}

std::shared_ptr<ModelState> ModelWrap::state_of(Napi::Env env, const Napi::Object& o) {
  if (constructor.IsEmpty() || !o.InstanceOf(constructor.Value())) throw_invalid(env, "expected a model (NativeModel)");
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
    s->model.set_training(info[0].ToBoolean().Value());
    return info.Env().Undefined();
  });
}

Napi::Value ModelWrap::SetEarlyHalt(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    auto s = state(info.Env());
    std::lock_guard<std::mutex> lock(s->mutex);
    s->model.early_halt = info[0].ToBoolean().Value();
    return info.Env().Undefined();
  });
}

Napi::Value ModelWrap::InitialCarry(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    if (info.Length() < 1 || !info[0].IsNumber()) throw_invalid(env, "initialCarry(batchSize) needs a number");
    const double b = info[0].As<Napi::Number>().DoubleValue();
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
    auto opts = options_arg(info, 2);
    const bool with_logits = bool_opt(opts, "logits", true);
    auto job = [s, carry, batch, with_logits]() -> Finisher {
      std::lock_guard<std::mutex> lock(s->mutex);
      s->pending_loss = at::Tensor();
      auto& m = s->model;
      StepSnapshot snap;
      if (m.training()) {
        auto r = m.step(*carry, batch);
        s->pending_loss = r.loss;
        snap = snapshot(r, *carry, with_logits);
      } else {
        c10::NoGradGuard no_grad;
        auto r = m.step(*carry, batch);
        snap = snapshot(r, *carry, with_logits);
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
    double scale = 1.0;
    if (info.Length() > 0 && !info[0].IsUndefined()) {
      if (!info[0].IsNumber()) throw_invalid(env, "backward(scale) needs a number");
      scale = info[0].As<Napi::Number>().DoubleValue();
    }
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
  // The whole eval ACT loop in one native call (DESIGN.md principle 1): a fresh carry, then steps
  // until every row halted or `steps` calls were made; optionally every step's outputs.
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    auto batch = batch_from_js(env, info[0]);
    auto opts = options_arg(info, 1);
    const int64_t max_steps = int_opt(opts, "steps", 0, 0, 1 << 20);
    const bool record = bool_opt(opts, "record", false);
    const bool early_halt = bool_opt(opts, "earlyHalt", false);
    const bool with_logits = bool_opt(opts, "logits", true);
    auto job = [s, batch, max_steps, record, early_halt, with_logits]() -> Finisher {
      std::lock_guard<std::mutex> lock(s->mutex);
      auto& m = s->model;
      const bool was_training = m.training(), was_early = m.early_halt;
      m.set_training(false);
      m.early_halt = early_halt;
      std::vector<StepSnapshot> snaps;
      try {
        c10::NoGradGuard no_grad;
        m.validate_batch(batch);
        auto carry = m.initial_carry(batch.inputs.size(0));
        const int64_t limit = max_steps > 0 ? max_steps : m.config().halt_max_steps;
        // With early halt a row's answer is the one of the step where it first halted: the ACT
        // wrapper would restart a halted row on the next call, so its outputs are frozen here.
        StepResult frozen;
        Carry frozen_carry;
        for (int64_t k = 0; k < limit; ++k) {
          auto r = m.step(carry, batch);
          bool finished = max_steps == 0 && !early_halt && carry.halted.all().item<bool>();
          if (early_halt) {
            if (!frozen_carry.halted.defined()) {
              frozen = r;
              frozen_carry.steps = carry.steps.clone();
              frozen_carry.halted = carry.halted.clone();
            } else {
              auto newly = carry.halted & ~frozen_carry.halted;
              frozen.logits = at::where(newly.view({-1, 1, 1}), r.logits, frozen.logits);
              frozen.preds = at::where(newly.view({-1, 1}), r.preds, frozen.preds);
              frozen.q_halt = at::where(newly, r.q_halt, frozen.q_halt);
              frozen.q_continue = at::where(newly, r.q_continue, frozen.q_continue);
              frozen_carry.steps = at::where(newly, carry.steps, frozen_carry.steps);
              frozen_carry.halted = frozen_carry.halted | carry.halted;
            }
            finished = frozen_carry.halted.all().item<bool>();
            frozen.loss = r.loss;
            frozen.metrics = r.metrics;
          }
          const bool last = k + 1 == limit || (max_steps == 0 && finished);
          if (record) snaps.push_back(snapshot(r, carry, with_logits));
          else if (last) snaps.push_back(early_halt ? snapshot(frozen, frozen_carry, with_logits) : snapshot(r, carry, with_logits));
          if (last) break;
        }
      } catch (...) {
        m.set_training(was_training);
        m.early_halt = was_early;
        throw;
      }
      m.set_training(was_training);
      m.early_halt = was_early;
      return [snaps](Napi::Env e) -> Napi::Value {
        auto arr = Napi::Array::New(e, snaps.size());
        for (size_t i = 0; i < snaps.size(); ++i) arr.Set(static_cast<uint32_t>(i), snapshot_to_js(e, snaps[i]));
        return arr;
      };
    };
    return PromiseWorker::Start(env, job, {info.This().As<Napi::Object>()});
  });
}

Napi::Value ModelWrap::LoadCheckpoint(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const auto path = string_arg(info, 0, "path");
    auto opts = options_arg(info, 1);
    LoadOptions lo;
    lo.strict = bool_opt(opts, "strict", true);
    lo.resize_puzzle_to_mean = bool_opt(opts, "resizePuzzleToMean", true);
    lo.allow_non_finite = bool_opt(opts, "allowNonFinite", false);
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
    auto opts = options_arg(info, 1);
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

Napi::Value ModelWrap::To(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto s = state(env);
    const auto dev = device_from(env, string_arg(info, 0, "device"));
    std::lock_guard<std::mutex> lock(s->mutex);
    s->model.inner().to(dev);
    return env.Undefined();
  });
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  state_.reset();  // in-flight jobs hold their own reference and finish first
  return info.Env().Undefined();
}

}  // namespace trm::addon
