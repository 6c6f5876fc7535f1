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
  loadCheckpoint(p: string, opts?: { strict?: boolean; resizePuzzleToMean?: boolean }): Promise<{ missing: string[]; unexpected: string[]; puzzleTableResized: boolean }>;
  saveOfficial(p: string): Promise<void>;
  saveSafetensors(p: string, metadata: Record<string, string>): Promise<void>;
  to(device: string): void;
  dispose(): void;
}

/** What the addon reports about itself and this machine (see runtime.ts buildInfo). */
export interface NativeBuildInfo {
  torchVersion: string;
  cudaCompiled: boolean;
  cudaAvailable: boolean;
  distributed: boolean;
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

export interface NativeAddon {
  setErrorClass(cls: typeof TrmError): void;
  NativeModel: new (config: Record<string, string | number | boolean>, opts: { seed?: number; device?: string }) => NativeModel;
  createModel(config: Record<string, string | number | boolean>, opts: { seed?: number; device?: string }): Promise<NativeModel>;
  readCheckpointIndex(p: string): Promise<{ tensors: { name: string; dtype: string; shape: number[] }[]; metadata: Record<string, string> }>;
  tokenLoss(logits: Tensor, labels: Tensor, softmax: boolean): Tensor<'float64' | 'float32'>;
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

/** The addon, loaded on first use. Throws TrmError(NATIVE_LOAD) explaining what was tried and how to fix it. */
export function native(): NativeAddon {
  if (cached) return cached;
  // LibTorch's OpenMP workers spin before they sleep; libgomp reads how long when LibTorch loads.
  // Its default (300,000 rounds, milliseconds) wastes whole time slices wherever other processes
  // share the cores; a short spin keeps the gain of a hot pool (docs/performance.md).
  if (process.env.GOMP_SPINCOUNT === undefined && process.env.OMP_WAIT_POLICY === undefined) process.env.GOMP_SPINCOUNT = String(GOMP_SPINCOUNT);
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
