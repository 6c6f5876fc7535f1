/**
 * The public model class: TRM (and HRM and the TRM variants) with its ACT wrapper and loss head,
 * backed by LibTorch. Every method that computes runs off the event loop and returns a Promise.
 */
import { readCheckpointConfig, writeCheckpoint, type CheckpointConfigOptions, type SaveOptions } from './checkpoint';
import { resolveConfig, toOfficial, type ModelConfig } from './config';
import { ErrorCodes, TrmError, check } from './errors';
import { native, type NativeCarry, type NativeModel, type NativeRunOptions, type RunOutput, type StepOutput } from './native';
import { preset, type PresetName } from './presets';
import { toInt32, type Tensor } from './tensor';

export type { RunOutput, StepMetrics, StepOutput } from './native';
export type { SaveOptions } from './checkpoint';

/** Where the model runs: 'cpu', 'cuda' or 'cuda:N' (CUDA needs a CUDA LibTorch). */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** Options of {@link TRM.create}. */
export interface CreateOptions {
  /** Seed of the initialisation and of the halting exploration draws (default 0). */
  seed?: number;
  /** Device (default 'cpu'). */
  device?: Device;
}

/**
 * One batch. `inputs` [B, seqLen] and `labels` [B, seqLen] hold token ids (labels: -100 = not
 * supervised), `puzzleIdentifiers` [B] the puzzle-embedding rows. Any integer dtype is accepted.
 */
export interface Batch {
  inputs: Tensor;
  puzzleIdentifiers: Tensor;
  labels?: Tensor;
}

/** Options of {@link TRM.run}. */
export interface RunOptions {
  /** Run this many steps (with earlyHalt: at most this many; default: until every row halts, i.e. haltMaxSteps in parity mode). */
  steps?: number;
  /** Halt a row as soon as q_halt > 0 and keep that step's answer (inference option, off in parity mode; docs/algorithm.md §11.2). */
  earlyHalt?: boolean;
  /**
   * With `earlyHalt`: halt a row once its answer passes this puzzle's rule check instead of at
   * q_halt > 0 — a solved Sudoku (every given kept, 1–9 once per row, column and box) or a maze
   * whose path is a shortest S→G path. The q head is not consulted, so a confidently wrong answer
   * keeps refining. Loss and metrics then count only the rows the model itself halted.
   */
  haltCheck?: 'sudoku' | 'maze';
  /** Also return the outputs after every step (`trace`). */
  trace?: boolean;
  /** Include logits (default true). */
  logits?: boolean;
  /**
   * Cancels the run: the native loop stops at its next supervision step (or recursion cycle) and
   * the promise rejects with ERR_TRM_CANCELLED.
   */
  signal?: AbortSignal;
}

/** Options of {@link TRM.load}. */
export interface LoadOptions extends CreateOptions, CheckpointConfigOptions {
  /** Device (default 'cpu'). */
  device?: Device;
  /** Reject missing / unexpected keys, and a config that disagrees with the tensors' sizes (default true). */
  strict?: boolean;
  /** Load tensors that hold NaN or infinite values (default false: such a checkpoint is refused). */
  allowNonFinite?: boolean;
}

/** One entry of the state dict. */
export interface StateDictEntry {
  name: string;
  shape: number[];
  dtype: string;
  /** A trained parameter (true) or a persistent buffer: H_init/L_init, puzzle_emb.weights. */
  trainable: boolean;
}

/** The state between supervision steps (§1.11): recurrent states, step counters, halted flags, current data. */
export class Carry {
  /** @internal */
  constructor(readonly native: NativeCarry) {}
  get batchSize(): number {
    return this.native.batchSize;
  }
}

function nativeBatch(b: Batch): { inputs: Tensor; puzzleIdentifiers: Tensor; labels?: Tensor } {
  check(b && typeof b === 'object', 'batch must be an object { inputs, puzzleIdentifiers, labels? }');
  check(b.inputs && b.puzzleIdentifiers, 'batch needs inputs and puzzleIdentifiers');
  const out: { inputs: Tensor; puzzleIdentifiers: Tensor; labels?: Tensor } = {
    inputs: toInt32(b.inputs, 'batch.inputs'),
    puzzleIdentifiers: toInt32(b.puzzleIdentifiers, 'batch.puzzleIdentifiers'),
  };
  if (b.labels) out.labels = toInt32(b.labels, 'batch.labels');
  return out;
}

/** `opts` as an options object: undefined gives {}, anything but a plain object is a TrmError. */
function optionsObject<T extends object>(opts: T | null | undefined, what: string): T {
  if (opts === undefined) return {} as T;
  check(
    opts !== null && typeof opts === 'object' && !Array.isArray(opts),
    `${what}: options must be an object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`,
  );
  return opts;
}

export class TRM {
  #native: NativeModel | undefined;
  readonly config: Readonly<ModelConfig>;

  private constructor(config: ModelConfig, handle: NativeModel) {
    this.config = Object.freeze(config);
    this.#native = handle;
  }

  private static nativeOptions(opts: CreateOptions) {
    return { seed: opts.seed ?? 0, device: opts.device ?? 'cpu' };
  }

  /**
   * Builds a freshly initialised model (docs/algorithm.md §1.7) from a preset name, or from a config (missing
   * keys take the trm.yaml defaults; seqLen, vocabSize and numPuzzleIdentifiers are required), or
   * a preset plus overrides: `TRM.create('sudoku-mlp', { hiddenSize: 64 })`. Without a
   * forwardDtype, the device decides (forward-dtype.ts): bfloat16 on CUDA and on CPUs with native bf16.
   */
  static create(configOrPreset: Partial<ModelConfig> | PresetName, overrides: Partial<ModelConfig> = {}, opts: CreateOptions = {}): TRM {
    const base = typeof configOrPreset === 'string' ? preset(configOrPreset) : configOrPreset;
    const config = resolveConfig({ ...base, ...overrides }, opts.device);
    return new TRM(config, new (native().NativeModel)(toOfficial(config), TRM.nativeOptions(opts)));
  }

  /**
   * {@link TRM.create} with the allocation and initialisation on a worker thread: use it in
   * services, or for models with large puzzle tables (the ARC-1 table is 1.8 GB).
   */
  static async createAsync(
    configOrPreset: Partial<ModelConfig> | PresetName,
    overrides: Partial<ModelConfig> = {},
    opts: CreateOptions = {},
  ): Promise<TRM> {
    const base = typeof configOrPreset === 'string' ? preset(configOrPreset) : configOrPreset;
    const config = resolveConfig({ ...base, ...overrides }, opts.device);
    return new TRM(config, await native().createModel(toOfficial(config), TRM.nativeOptions(opts)));
  }

  /**
   * Loads an official `step_N` checkpoint (architecture from the all_config.yaml beside it) or a
   * safetensors file written by {@link TRM.save}.
   */
  static async load(file: string, opts: LoadOptions = {}): Promise<TRM> {
    const config = await readCheckpointConfig(file, opts);
    const model = await TRM.createAsync(config, {}, opts);
    try {
      await model.loadState(file, { strict: opts.strict ?? true, resizePuzzleToMean: true, allowNonFinite: opts.allowNonFinite ?? false });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  /** Saves as safetensors + config (default) or in the official layout (`{ format: 'official' }`). */
  async save(file: string, opts: SaveOptions = {}): Promise<void> {
    return writeCheckpoint(this.n, this.config, file, opts);
  }

  private get n(): NativeModel {
    if (!this.#native) throw new TrmError(ErrorCodes.DISPOSED, 'this TRM was disposed');
    return this.#native;
  }

  /** Number of trained parameters (excludes the puzzle table, H_init and L_init, as the official `num_params`). */
  numParameters(): number {
    return this.n.numParameters();
  }

  /** Every state-dict entry in official order, names without the `_orig_mod.model.inner.` prefix (§7.4). */
  stateDict(): StateDictEntry[] {
    return this.n.stateDict();
  }

  /** A copy of one state-dict tensor. */
  getTensor(name: string): Tensor {
    return this.n.getTensor(name);
  }

  /** Overwrites one state-dict tensor (same shape; converted to its dtype). */
  setTensor(name: string, t: Tensor): void {
    this.n.setTensor(name, t);
  }

  #training = false;
  /** Training mode: q-halt halting with exploration, puzzle embeddings collect gradients (§1.11, §3.3). */
  train(): this {
    this.n.setTraining(true);
    this.#training = true;
    return this;
  }
  /** Evaluation mode (the default): every row runs haltMaxSteps steps. */
  eval(): this {
    this.n.setTraining(false);
    this.#training = false;
    return this;
  }
  get training(): boolean {
    return this.#training;
  }

  /** A fresh carry: every slot halted, so the first step loads the whole batch. */
  initialCarry(batchSize: number): Carry {
    check(Number.isInteger(batchSize) && batchSize > 0, `batchSize must be a positive integer, got ${batchSize}`);
    return new Carry(this.n.initialCarry(batchSize));
  }

  /** Step counters and halted flags of a carry. */
  carryState(carry: Carry): { steps: Tensor<'int32'>; halted: Tensor<'bool'> } {
    return this.n.carryState(carry.native);
  }

  /**
   * One supervision step (§1.11): halted slots take the batch's fresh rows, the recursion runs,
   * the loss head scores it. In training mode the loss keeps its graph for {@link backward}.
   */
  async step(carry: Carry, batch: Batch, opts: { logits?: boolean } = {}): Promise<StepOutput> {
    check(carry instanceof Carry, 'step: carry must come from initialCarry()');
    const o = optionsObject(opts, 'step');
    return this.n.step(carry.native, nativeBatch(batch), { logits: o.logits ?? true });
  }

  /** Back-propagates `scale` x the last training step's loss (the trainer uses 1/global_batch, §2.3). */
  async backward(scale = 1): Promise<void> {
    // A NaN or infinite scale would fill every gradient with NaN without any error.
    check(typeof scale === 'number' && Number.isFinite(scale), `backward: scale must be a finite number, got ${scale}`);
    await this.n.backward(scale);
  }

  /** Accumulated gradients by parameter name, plus `puzzle_emb.local_weights` / `puzzle_emb.local_ids` (§3.3). */
  gradients(): Record<string, Tensor> {
    return this.n.gradients();
  }

  /** Drops accumulated gradients. */
  zeroGrad(): void {
    this.n.zeroGrad();
  }

  /**
   * Solves a batch from a fresh carry in evaluation mode, every ACT step in one native call:
   * each row's answer and the step it halted at, and with `trace: true` every step's outputs.
   */
  async run(batch: Batch, opts: RunOptions = {}): Promise<RunOutput> {
    const { signal, ...o } = optionsObject(opts, 'run');
    if (o.steps !== undefined) check(Number.isInteger(o.steps) && o.steps > 0, `steps must be a positive integer, got ${o.steps}`);
    check(signal === undefined || signal instanceof AbortSignal, 'signal must be an AbortSignal');
    const rest: NativeRunOptions = {
      steps: o.steps ?? 0, // 0: until every row halts
      earlyHalt: o.earlyHalt ?? false,
      haltCheck: o.haltCheck ?? '',
      trace: o.trace ?? false,
      logits: o.logits ?? true,
    };
    const b = nativeBatch(batch);
    if (!signal) return this.n.run(b, rest);
    if (signal.aborted) throw new TrmError(ErrorCodes.CANCELLED, 'run cancelled by its AbortSignal before it started');
    const token = new (native().CancelToken)();
    const onAbort = (): void => token.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.n.run(b, rest, token);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A new model with `rows` puzzle-embedding rows: every tensor copied from this one, the existing
   * puzzle rows bit for bit and each new row at their mean (the row a checkpoint's unknown puzzle
   * starts from). Test-time adaptation grows a model this way. Built off the event loop; this model
   * is not changed.
   */
  async withPuzzleRows(rows: number, opts: CreateOptions = {}): Promise<TRM> {
    check(
      this.config.puzzleEmbNdim > 0,
      'this model has no puzzle embeddings (puzzleEmbNdim 0), so it has no puzzle table to grow',
      ErrorCodes.CONFIG,
    );
    check(
      Number.isInteger(rows) && rows >= this.config.numPuzzleIdentifiers,
      `rows must be an integer ≥ the current ${this.config.numPuzzleIdentifiers}, got ${rows}`,
    );
    // Without a device the copy stays on this model's device.
    const handle = await this.n.withPuzzleRows(rows, { seed: opts.seed ?? 0, ...(opts.device ? { device: opts.device } : {}) });
    return new TRM({ ...this.config, numPuzzleIdentifiers: rows }, handle);
  }

  /**
   * Copies tensors from a checkpoint file (official `step_N` or our safetensors) into this model.
   * Refused, leaving the model unchanged: missing or unexpected names (`strict`, default true), other
   * shapes, a floating tensor stored as integers (or the reverse), NaN or infinite values (unless
   * `allowNonFinite`).
   */
  async loadState(file: string, opts: { strict?: boolean; resizePuzzleToMean?: boolean; allowNonFinite?: boolean } = {}) {
    const o = optionsObject(opts, 'loadState');
    return this.n.loadCheckpoint(file, {
      strict: o.strict ?? true,
      resizePuzzleToMean: o.resizePuzzleToMean ?? true,
      allowNonFinite: o.allowNonFinite ?? false,
    });
  }

  /** @internal */
  nativeHandle(): NativeModel {
    return this.n;
  }

  /** Moves the model to another device. */
  to(device: Device): this {
    this.n.to(device);
    return this;
  }

  /** Frees the native model (GPU memory included) now rather than at garbage collection. */
  dispose(): void {
    this.#native?.dispose();
    this.#native = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
