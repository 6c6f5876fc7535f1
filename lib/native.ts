/**
 * Loads the native addon once, hands it the TrmError class, and types its surface. Everything in
 * here is internal: the public API wraps it (ECOSYSTEM.md B.3 #1, #2).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError } from './errors';
import type { StepOutput } from './model';
import type { Tensor } from './tensor';

/** A batch as the addon takes it. */
export interface NativeBatch {
  inputs: Tensor;
  puzzleIdentifiers: Tensor;
  labels?: Tensor;
}

/** One supervision step's outputs as the addon returns them (documented on the public type). */
export type NativeStepOutput = StepOutput;

/** Opaque carry handle. */
export interface NativeCarry {
  readonly handle: unknown;
  readonly batchSize: number;
}

export interface NativeModel {
  config(): Record<string, string | number | boolean>;
  numParameters(): number;
  stateDict(): { name: string; shape: number[]; dtype: string; trainable: boolean }[];
  getTensor(name: string): Tensor;
  setTensor(name: string, t: Tensor): void;
  setTraining(on: boolean): void;
  setEarlyHalt(on: boolean): void;
  initialCarry(batchSize: number): NativeCarry;
  carryState(c: NativeCarry): { steps: Tensor<'int32'>; halted: Tensor<'bool'> };
  step(c: NativeCarry, b: NativeBatch, opts?: { logits?: boolean }): Promise<NativeStepOutput>;
  backward(scale?: number): Promise<void>;
  gradients(): Record<string, Tensor>;
  zeroGrad(): void;
  run(b: NativeBatch, opts?: { steps?: number; record?: boolean; earlyHalt?: boolean; logits?: boolean }): Promise<NativeStepOutput[]>;
  loadCheckpoint(p: string, opts?: { strict?: boolean; resizePuzzleToMean?: boolean; allowNonFinite?: boolean }): Promise<{ missing: string[]; unexpected: string[]; puzzleTableResized: boolean }>;
  saveOfficial(p: string): Promise<void>;
  saveSafetensors(p: string, metadata: Record<string, string>): Promise<void>;
  to(device: string): void;
  dispose(): void;
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
  sets?: readonly string[];
  exclude_padding_loss: boolean;
  outputs: boolean;
}

export interface NativeAddon {
  NativeEvaluation: new (model: NativeModel, opts: NativeEvaluationOptions, onEvent: (e: NativeEvalEvent) => void) => NativeEvaluation;
  setErrorClass(cls: typeof TrmError): void;
  NativeModel: new (config: Record<string, string | number | boolean>, opts: { seed?: number; device?: string }) => NativeModel;
  createModel(config: Record<string, string | number | boolean>, opts: { seed?: number; device?: string }): Promise<NativeModel>;
  readCheckpointIndex(p: string): Promise<{ tensors: { name: string; dtype: string; shape: number[] }[]; metadata: Record<string, string> }>;
  tokenLoss(logits: Tensor, labels: Tensor, softmax: boolean): Tensor<'float64' | 'float32'>;
  buildInfo(): { torchVersion: string; cudaCompiled: boolean; cudaAvailable: boolean; distributed: boolean; nccl: boolean; numThreads: number };
  setNumThreads(n: number): void;
  matmulGflops(n: number, seconds: number): Promise<number>;
}

let cached: NativeAddon | undefined;

/** The package root, from lib/ (ts-node, jest) or from dist/cjs/ (compiled). */
function packageRoot(): string {
  const up1 = path.resolve(__dirname, '..');
  return fs.existsSync(path.join(up1, 'package.json')) ? up1 : path.resolve(__dirname, '..', '..');
}

/** The addon, loaded on first use. Throws TrmError(NATIVE_LOAD) explaining what was tried and how to fix it. */
export function native(): NativeAddon {
  if (cached) return cached;
  const override = process.env.TRM_NATIVE_ADDON;
  let addon: NativeAddon;
  try {
    addon = override
      ? (require(path.resolve(override)) as NativeAddon)
      : (require('bindings')({ bindings: 'trm_native.node', module_root: packageRoot() }) as NativeAddon);
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
