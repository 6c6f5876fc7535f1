// The addon's entry point: sets up this environment's data, registers the classes and the free
// functions. Loaded once per environment (the main thread and each worker thread).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <napi.h>

#include <chrono>

#if __has_include(<torch/headeronly/version.h>)
#include <torch/headeronly/version.h>
#else
#include <torch/version.h>
#endif

#include "addon_data.h"
#include "cancel_token.h"
#include "core/checkpoint.h"
#include "core/cpu_bf16.h"
#include "core/engine/answer_check.h"
#include "core/fused.h"
#include "core/loss.h"
#include "js_args.h"
#include "js_errors.h"
#include "model_wrap.h"
#include "eval_wrap.h"
#include "trainer_wrap.h"
#include "optim_wrap.h"
#include "process_group_wrap.h"
#include "core/dist/dist.h"
#include "promise_worker.h"
#include "tensors.h"

namespace trm::addon {

namespace {

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setErrorClass(TrmError) needs a class");
  set_error_class(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value CheckAnswers(const Napi::CallbackInfo& info) {
  // The rule check early halting uses (core/engine/answer_check.h), exposed so tests hold it to
  // the solver's verdicts. Cheap: runs on the calling thread.
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto check = answer_check_from(string_arg(info, 0, "checkAnswers(kind, inputs, preds): kind"));
    const auto inputs = tensor_from_js(env, info[1], "inputs"), preds = tensor_from_js(env, info[2], "preds");
    if (inputs.dim() != 2 || !inputs.sizes().equals(preds.sizes()))
      throw_invalid(env, "checkAnswers: inputs and preds must both be [B, S]");
    return tensor_to_js(env, answers_solved(check, inputs, preds));
  });
}

Napi::Value ReadCheckpointIndex(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto path = string_arg(info, 0, "readCheckpointIndex(path): path");
    auto job = [path]() -> Finisher {
      std::map<std::string, std::string> metadata;
      auto tensors = read_checkpoint_tensors(path, &metadata);
      return [tensors, metadata](Napi::Env e) -> Napi::Value {
        auto arr = Napi::Array::New(e, tensors.size());
        for (size_t i = 0; i < tensors.size(); ++i) {
          auto o = Napi::Object::New(e);
          o.Set("name", tensors[i].name);
          o.Set("dtype", io::dtype_name(tensors[i].dtype));
          auto shape = Napi::Array::New(e, tensors[i].shape.size());
          for (size_t d = 0; d < tensors[i].shape.size(); ++d)
            shape.Set(static_cast<uint32_t>(d), static_cast<double>(tensors[i].shape[d]));
          o.Set("shape", shape);
          arr.Set(static_cast<uint32_t>(i), o);
        }
        auto meta = Napi::Object::New(e);
        for (const auto& [k, v] : metadata) meta.Set(k, v);
        auto out = Napi::Object::New(e);
        out.Set("tensors", arr);
        out.Set("metadata", meta);
        return out;
      };
    };
    return PromiseWorker::Start(env, job);
  });
}

// The per-token losses of docs/algorithm.md §2.1/§2.2 on given logits, for tests and for users checking numbers.
Napi::Value TokenLoss(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto logits = tensor_from_js(env, info[0], "logits");
    auto labels = tensor_from_js(env, info[1], "labels");
    const bool softmax = bool_arg(info, 2, "tokenLoss(logits, labels, softmax): softmax");
    if (logits.dim() < 1 || labels.sizes() != logits.sizes().slice(0, logits.dim() - 1))
      throw_invalid(env, "labels must have the shape of logits without its last axis");
    return tensor_to_js(env, softmax ? softmax_cross_entropy(logits, labels) : stablemax_cross_entropy(logits, labels));
  });
}

// The prefix length of {arch, puzzle_emb_ndim, puzzle_emb_len, hidden_size} (core/config.h: the one rule).
Napi::Value PrefixLength(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw_invalid(env, "prefixLength(config) needs an object");
    auto o = info[0].As<Napi::Object>();
    const auto p = prefix_length(arch_from_name(read_string(o, "config", "arch")), read_number<int64_t>(o, "config", "puzzle_emb_ndim"),
                                 read_number<int64_t>(o, "config", "puzzle_emb_len"), read_number<int64_t>(o, "config", "hidden_size"));
    return Napi::Number::New(env, static_cast<double>(p));
  });
}

// The SwiGLU intermediate width for (hidden, expansion) (core/config.h: the one rule).
Napi::Value SwigluIntermediate(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsObject()) throw_invalid(env, "swigluIntermediate({ hidden_size, expansion }) needs an object");
    auto o = info[0].As<Napi::Object>();
    const auto hidden = read_number<int64_t>(o, "config", "hidden_size");
    const auto expansion = read_number<double>(o, "config", "expansion");
    if (hidden < 1 || !(expansion > 0 && expansion <= kMaxExpansion))
      throw_invalid(env, "swigluIntermediate needs hidden_size >= 1 and expansion in (0, " + std::to_string(kMaxExpansion) + "]");
    return Napi::Number::New(env, static_cast<double>(swiglu_intermediate(hidden, expansion)));
  });
}

// Measured fp32 matmul throughput of this machine through LibTorch (for bench/: achieved vs peak).
Napi::Value MatmulGflops(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const double nd = number_arg(info, 0, "matmulGflops(n, seconds): n"),
                 seconds = number_arg(info, 1, "matmulGflops(n, seconds): seconds");
    if (!(nd >= 16 && nd <= 8192) || nd != std::trunc(nd) || !(seconds > 0 && seconds <= 60))
      throw_invalid(env, "matmulGflops(n an integer in [16, 8192], seconds in (0, 60])");
    const auto n = static_cast<int64_t>(nd);
    auto job = [n, seconds]() -> Finisher {
      auto a = at::randn({n, n}), b = at::randn({n, n});
      at::mm(a, b);  // warm-up
      int64_t reps = 0;
      const auto t0 = std::chrono::steady_clock::now();
      double elapsed = 0;
      while (elapsed < seconds) {
        at::mm(a, b);
        ++reps;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
      const double gflops = 2.0 * n * n * n * reps / elapsed / 1e9;
      return [gflops](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, gflops); };
    };
    return PromiseWorker::Start(env, job);
  });
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("torchVersion", TORCH_VERSION);
#ifdef TRM_WITH_CUDA
  o.Set("cudaCompiled", true);
#else
  o.Set("cudaCompiled", false);
#endif
  o.Set("cudaAvailable", at::hasCUDA());
  o.Set("distributed", dist_available());
#ifdef TRM_WITH_NCCL
  o.Set("nccl", true);
#else
  o.Set("nccl", false);
#endif
  o.Set("numThreads", at::get_num_threads());
  o.Set("fusedCpuKernels", fused_cpu_isa());
  const auto bf16 = cpu_bf16();
  auto cpu = Napi::Object::New(env);
  cpu.Set("native", bf16.native);
  cpu.Set("onednn", bf16.onednn);
  auto features = Napi::Array::New(env, bf16.features.size());
  for (size_t i = 0; i < bf16.features.size(); ++i) features.Set(static_cast<uint32_t>(i), bf16.features[i]);
  cpu.Set("features", features);
  o.Set("cpuBf16", cpu);
  return o;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const double n = number_arg(info, 0, "setNumThreads(n): n");
    if (!(n >= 1 && n <= 65536) || n != std::trunc(n)) throw_invalid(env, "setNumThreads(n) needs a positive integer");
    at::set_num_threads(static_cast<int>(n));
    return env.Undefined();
  });
}

// The fusion switches as { norm, swiglu, rope, tokenMix, castCache, cudaGraphs } (see core/fused.h).
Napi::Object fusions_to_js(Napi::Env env, const FusionOptions& f) {
  auto o = Napi::Object::New(env);
  o.Set("norm", f.norm);
  o.Set("swiglu", f.swiglu);
  o.Set("rope", f.rope);
  o.Set("tokenMix", f.token_mix);
  o.Set("castCache", f.cast_cache);
  o.Set("cudaGraphs", f.cuda_graphs);
  return o;
}

Napi::Value Fusions(const Napi::CallbackInfo& info) { return fusions_to_js(info.Env(), fusion_options()); }

Napi::Value SetFusions(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw_invalid(env, "setFusions(options) needs an object");
  auto o = info[0].As<Napi::Object>();
  auto f = fusion_options();
  const std::pair<const char*, bool*> fields[] = {{"norm", &f.norm},          {"swiglu", &f.swiglu},        {"rope", &f.rope},
                                                  {"tokenMix", &f.token_mix}, {"castCache", &f.cast_cache}, {"cudaGraphs", &f.cuda_graphs}};
  for (const auto& [name, field] : fields) {
    if (!o.Has(name)) continue;
    auto v = o.Get(name);
    if (!v.IsBoolean()) throw_invalid(env, std::string("setFusions: ") + name + " must be a boolean");
    *field = v.As<Napi::Boolean>().Value();
  }
  set_fusion_options(f);
  return fusions_to_js(env, f);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());  // freed by N-API when the environment exits
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
  exports.Set("CancelToken", CancelToken::Define(env));
  exports.Set("NativeModel", ModelWrap::Define(env));
  exports.Set("createModel", Napi::Function::New(env, ModelWrap::CreateAsync));
  exports.Set("NativeTrainer", TrainerWrap::Define(env));
  exports.Set("NativeEvaluation", EvaluationWrap::Define(env));
  exports.Set("NativeAdamAtan2", AdamAtan2Wrap::Define(env));
  exports.Set("NativeSignSGD", SignSGDWrap::Define(env));
  exports.Set("NativeEMA", EMAWrap::Define(env));
  exports.Set("NativeProcessGroup", ProcessGroupWrap::Define(env));
  exports.Set("cosineSchedule", Napi::Function::New(env, CosineSchedule));
  exports.Set("readCheckpointIndex", Napi::Function::New(env, ReadCheckpointIndex));
  exports.Set("checkAnswers", Napi::Function::New(env, CheckAnswers));
  exports.Set("tokenLoss", Napi::Function::New(env, TokenLoss));
  exports.Set("prefixLength", Napi::Function::New(env, PrefixLength));
  exports.Set("swigluIntermediate", Napi::Function::New(env, SwigluIntermediate));
  exports.Set("matmulGflops", Napi::Function::New(env, MatmulGflops));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("fusions", Napi::Function::New(env, Fusions));
  exports.Set("setFusions", Napi::Function::New(env, SetFusions));
  return exports;
}

}  // namespace

}  // namespace trm::addon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return trm::addon::Init(env, exports); }

NODE_API_MODULE(trm_native, InitModule)
