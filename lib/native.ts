/**
 * The native addon: loaded once per thread, handed the TrmError class, and its whole surface typed
 * here, once. Every other module imports these types; nothing here imports them back. The data
 * shapes the addon returns (step and run outputs) are public and re-exported by lib/model.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError } from './errors';
import type { Tensor } from './tensor';

/** A batch as the addon takes it: int32 tensors (lib/model.ts converts). */
export interface NativeBatch {
  inputs: Tensor;
  puzzleIdentifiers: Tensor;
  labels?: Tensor;
}

/** The §2.4 metric sums of one step (counts are sums over rows that halted at this step). */
export interface StepMetrics {
  count: number;
  accuracy: number;
  exact_accuracy: number;
  q_halt_accuracy: number;
  steps: number;
  lm_loss: number;
  q_halt_loss: number;
  q_continue_loss?: number;
}

/** What one supervision step returns. */
export interface StepOutput {
  /** [B, seqLen, vocab] float32 (omitted when `logits: false` was asked). */
  logits?: Tensor<'float32'>;
  /** [B] halting logits; sigmoid(qHalt) is the model's confidence that the answer is right. */
  qHalt: Tensor<'float32'>;
  qContinue: Tensor<'float32'>;
  /** Q-learning target (HRM / noACTContinue = false, training only). */
  targetQContinue?: Tensor<'float32'>;
  /** argmax of the logits, [B, seqLen]. */
  preds: Tensor<'int32'>;
  /** Supervision steps each slot has run, after this step. */
  steps: Tensor<'int32'>;
  /** Which slots have halted. */
  halted: Tensor<'bool'>;
  /** Total loss lm_loss + 0.5 (q_halt_loss + q_continue_loss), summed over the batch (§2.3). */
  loss: number;
  metrics: StepMetrics;
  /** True once every slot has halted. */
  allHalted: boolean;
}

/**
 * What {@link TRM.run} returns: each row's answer (`preds`, `qHalt`, `logits`, ...) and, per row,
 * `steps` = the supervision step it halted at (or the steps it ran, when `steps` cut the run short).
 * In parity mode the answer is the last step's outputs, as the official evaluation keeps them;
 * with `earlyHalt` each row's outputs at its first halting step, and `loss` / `metrics` add up the
 * steps, each over the rows still running then (so count, accuracy, exact_accuracy, q_halt_accuracy
 * and steps count every row once, at the step where it halted).
 */
export interface RunOutput extends Omit<StepOutput, 'targetQContinue'> {
  /** Supervision steps executed (less than haltMaxSteps when every row halted early). */
  stepsRun: number;
  /**
   * With `trace: true`: the outputs after each step. With `earlyHalt`, a row that has halted keeps
   * its answer in later entries, and each entry's loss and metrics cover the rows still running.
   */
  trace?: StepOutput[];
}

/** Options of the addon's run(). */
/** Every key is required (defaults in model.ts): steps 0 runs until every row halts; haltCheck '' is none. */
export interface NativeRunOptions {
  steps: number;
  earlyHalt: boolean;
  haltCheck: '' | 'sudoku' | 'maze';
  trace: boolean;
  logits: boolean;
}

/** Options of NativeModel.loadCheckpoint, every key required. */
export interface NativeLoadOptions {
  strict: boolean;
  resizePuzzleToMean: boolean;
  allowNonFinite: boolean;
}

/** Opaque carry handle. */
export interface NativeCarry {
  readonly handle: unknown;
  readonly batchSize: number;
}

/** A flag the native run loop checks between supervision steps and recursion cycles. */
export interface CancelToken {
  cancel(): void;
  readonly cancelled: boolean;
}

/** The official snake_case model config. */
export type OfficialConfig = Record<string, string | number | boolean>;

/** Seed and device of a new native model. */
/** Every key is required: the addon has no defaults (they live in lib/). */
export interface NativeModelOptions {
  seed: number;
  device: string;
}

export interface NativeModel {
  config(): OfficialConfig;
  numParameters(): number;
  stateDict(): { name: string; shape: number[]; dtype: string; trainable: boolean }[];
  getTensor(name: string): Tensor;
  setTensor(name: string, t: Tensor): void;
  setTraining(on: boolean): void;
  initialCarry(batchSize: number): NativeCarry;
  carryState(c: NativeCarry): { steps: Tensor<'int32'>; halted: Tensor<'bool'> };
  step(c: NativeCarry, b: NativeBatch, opts: { logits: boolean }): Promise<StepOutput>;
  backward(scale: number): Promise<void>;
  gradients(): Record<string, Tensor>;
  zeroGrad(): void;
  run(b: NativeBatch, opts: NativeRunOptions, cancel?: CancelToken): Promise<RunOutput>;
  loadCheckpoint(p: string, opts: NativeLoadOptions): Promise<{ missing: string[]; unexpected: string[]; puzzleTableResized: boolean }>;
  saveOfficial(p: string): Promise<void>;
  saveSafetensors(p: string, metadata: Record<string, string>): Promise<void>;
  /** A copy with `rows` puzzle rows: existing rows kept, new ones at their mean. */
  withPuzzleRows(rows: number, opts: { seed: number; device?: string }): Promise<NativeModel>;
  to(device: string): void;
  dispose(): void;
}

/** What the addon reports about itself and this machine (see runtime.ts buildInfo). */
export interface NativeBuildInfo {
  torchVersion: string;
  cudaCompiled: boolean;
  cudaAvailable: boolean;
  distributed: boolean;
  nccl: boolean;
  numThreads: number;
  /** The copy of the fused CPU kernels this CPU runs: 'avx512', 'avx2' or 'base'. */
  fusedCpuKernels: string;
  /** Native bf16 on this CPU: the ISA features found (avx512_bf16, amx_bf16) and whether LibTorch has oneDNN to use them. */
  cpuBf16: { native: boolean; onednn: boolean; features: string[] };
}

/** The recursion's optimisations (native/core/fused.h), all on by default. */
export interface Fusions {
  /** Residual add + RMSNorm as one kernel. */
  norm: boolean;
  /** silu(gate) * up as one kernel. */
  swiglu: boolean;
  /** RoPE on q and k as one kernel, in place. */
  rope: boolean;
  /** The mlp_t block as W @ h, without transposed copies. */
  tokenMix: boolean;
  /** Weights cast to the forward dtype once per supervision step in the no-grad cycles. */
  castCache: boolean;
  /** On CUDA, the no-grad cycles replayed from a CUDA graph captured once per batch shape. */
  cudaGraphs: boolean;
}

/** One batch of the native evaluation pass (the tensors only when its outputs were asked for). */
export interface NativeEvalBatch {
  set: string;
  /** Real rows of the global batch (the test window). */
  effective: number;
  /** Real rows of this batch, a prefix (the rest is padding). */
  rows: number;
  /** The dataset path the set comes from, and the offset added to its puzzle ids. */
  pathIndex: number;
  identifierOffset: number;
  inputs?: Tensor<'int32'>;
  puzzleIdentifiers?: Tensor<'int32'>;
  preds?: Tensor<'int32'>;
  qHalt?: Tensor<'float32'>;
}

/** What the native evaluation reports while it runs. */
export type NativeEvalEvent = { kind: 'begin'; sets: string[]; setExamples: number[] } | ({ kind: 'batch' } & NativeEvalBatch);

/** One pass of the native evaluation over a test split; start() settles after the last event. */
export interface NativeEvaluation {
  start(): Promise<{ sets: string[]; sums: Record<string, Record<string, number>>; batches: number }>;
  cancel(): void;
}

export interface NativeEvaluationOptions {
  data_paths: string[];
  global_batch_size: number;
  rank: number;
  world_size: number;
  /** [] = every set. */
  sets: readonly string[];
  exclude_padding_loss: boolean;
  outputs: boolean;
}

export interface NativeTrainer {
  /** `resumeFrom` '' starts fresh. */
  start(resumeFrom: string): Promise<void>;
  stop(): void;
  saveState(file: string): Promise<void>;
  info(): { running: boolean; step: number; totalSteps: number };
}

export interface NativeAdamAtan2 {
  step(lr?: number): Promise<void>;
  zeroGrad(): void;
  steps(): number[];
}

export interface NativeSignSGD {
  step(lr: number): Promise<void>;
}

export interface NativeEMA {
  update(): Promise<void>;
  copyTo(): void;
  swap(): void;
  shadow(name: string): Tensor;
}

export interface NativeProcessGroup {
  join(): Promise<void>;
  rank(): number;
  worldSize(): number;
  allReduceSum(v: Float64Array): Promise<Float64Array>;
  allGatherBytes(b: Uint8Array): Promise<Uint8Array[]>;
  close(): void;
}

export interface NativeAddon {
  NativeEvaluation: new (model: NativeModel, opts: NativeEvaluationOptions, onEvent: (e: NativeEvalEvent) => void) => NativeEvaluation;
  setErrorClass(cls: typeof TrmError): void;
  NativeModel: new (config: OfficialConfig, opts: NativeModelOptions) => NativeModel;
  createModel(config: OfficialConfig, opts: NativeModelOptions): Promise<NativeModel>;
  CancelToken: new () => CancelToken;
  /** The events' shape is the trainer's own (lib/trainer.ts), passed as `E`. */
  NativeTrainer: new <E>(model: NativeModel, config: Record<string, unknown>, onEvent: (e: E) => void) => NativeTrainer;
  NativeAdamAtan2: new (model: NativeModel, opts: { lr: number; beta1: number; beta2: number; weightDecay: number }) => NativeAdamAtan2;
  NativeSignSGD: new (model: NativeModel, opts: { weightDecay: number }) => NativeSignSGD;
  NativeEMA: new (model: NativeModel, mu: number) => NativeEMA;
  NativeProcessGroup: new () => NativeProcessGroup;
  cosineSchedule(step: number, base: number, warmup: number, total: number, minRatio: number): number;
  readCheckpointIndex(
    p: string,
  ): Promise<{ tensors: { name: string; dtype: string; shape: number[] }[]; metadata: Record<string, string> }>;
  /** Per row, whether `preds` solves `inputs` by the rules early halting checks (core/engine/answer_check.h). */
  checkAnswers(kind: 'sudoku' | 'maze', inputs: Tensor, preds: Tensor): Tensor<'bool'>;
  tokenLoss(logits: Tensor, labels: Tensor, softmax: boolean): Tensor<'float64' | 'float32'>;
  /** The number of puzzle-embedding prefix tokens these keys give (the rule of native/core/config.cc). */
  prefixLength(config: { arch: string; puzzle_emb_ndim: number; puzzle_emb_len: number; hidden_size: number }): number;
  /** The SwiGLU intermediate width (the rule of native/core/config.cc). */
  swigluIntermediate(config: { hidden_size: number; expansion: number }): number;
  buildInfo(): NativeBuildInfo;
  setNumThreads(n: number): void;
  fusions(): Fusions;
  setFusions(f: Partial<Fusions>): Fusions;
  matmulGflops(n: number, seconds: number): Promise<number>;
}

let cached: NativeAddon | undefined;

/** The OpenMP spin count set when the environment names none (docs/performance.md). */
export const GOMP_SPINCOUNT = 3000;

/** The package root, from lib/ (ts-node, jest) or from dist/cjs/ (compiled). */
function packageRoot(): string {
  const up1 = path.resolve(__dirname, '..');
  return fs.existsSync(path.join(up1, 'package.json')) ? up1 : path.resolve(__dirname, '..', '..');
}

/**
 * The addon, loaded on first use in this thread (each worker thread loads its own instance).
 * Throws TrmError(NATIVE_LOAD) explaining what was tried and how to fix it.
 */
export function native(): NativeAddon {
  if (cached) return cached;
  // LibTorch's OpenMP workers spin before they sleep; libgomp reads how long when LibTorch loads.
  // Its default (300,000 rounds, milliseconds) wastes whole time slices wherever other processes
  // share the cores; a short spin keeps the gain of a hot pool (docs/performance.md).
  if (process.env.GOMP_SPINCOUNT === undefined && process.env.OMP_WAIT_POLICY === undefined)
    process.env.GOMP_SPINCOUNT = String(GOMP_SPINCOUNT);
  const override = process.env.TRM_NATIVE_ADDON;
  let addon: NativeAddon;
  try {
    // A native module loads through require() only (import cannot load a .node file by a computed path).
    /* eslint-disable @typescript-eslint/no-require-imports */
    addon = override
      ? (require(path.resolve(override)) as NativeAddon)
      : (require('bindings')({ bindings: 'trm_native.node', module_root: packageRoot() }) as NativeAddon);
    /* eslint-enable @typescript-eslint/no-require-imports */
  } catch (e) {
    throw new TrmError(
      ErrorCodes.NATIVE_LOAD,
      [
        `trm-native: the native addon could not be loaded${override ? ` from TRM_NATIVE_ADDON=${override}` : ''}:`,
        `  ${(e as Error).message.split('\n').join('\n  ')}`,
        'Possible fixes:',
        '  - build it: npm run build (needs LibTorch: pip install torch==2.13.0, or LIBTORCH=/path/to/libtorch)',
        '  - point TRM_NATIVE_ADDON at a built trm_native.node',
      ].join('\n'),
    );
  }
  addon.setErrorClass(TrmError);
  cached = addon;
  return addon;
}
