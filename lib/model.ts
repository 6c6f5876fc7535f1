/**
 * The public model class: TRM (and HRM and the TRM variants) with its ACT wrapper and loss head,
 * backed by LibTorch. Every method that computes runs off the event loop and returns a Promise.
 */
import { resolveConfig, toOfficial, type ModelConfig } from './config';
import { ErrorCodes, TrmError, check } from './errors';
import { native, type NativeCarry, type NativeModel } from './native';
import { preset, type PresetName } from './presets';
import { toInt32, type Tensor } from './tensor';

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
  /** Which slots halted at this step. */
  halted: Tensor<'bool'>;
  /** Total loss lm_loss + 0.5 (q_halt_loss + q_continue_loss), summed over the batch (§2.3). */
  loss: number;
  metrics: StepMetrics;
  /** True once every slot has halted. */
  allHalted: boolean;
}

/** Options of {@link TRM.run}. */
export interface RunOptions {
  /** Run exactly this many steps (default: until every row halts, i.e. haltMaxSteps in parity mode). */
  steps?: number;
  /** Halt a row as soon as q_halt > 0 (inference option, off in parity mode; SPEC §11.2). */
  earlyHalt?: boolean;
  /** Return every step's outputs, not just the last one's. */
  record?: boolean;
  /** Include logits (default true). */
  logits?: boolean;
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
  check(opts !== null && typeof opts === 'object' && !Array.isArray(opts), `${what}: options must be an object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
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
   * Builds a freshly initialised model (SPEC §1.7) from a preset name, or from a config (missing
   * keys take the trm.yaml defaults; seqLen, vocabSize and numPuzzleIdentifiers are required), or
   * a preset plus overrides: `TRM.create('sudoku-mlp', { hiddenSize: 64 })`. Without a
   * forwardDtype, the device decides: bfloat16 on CUDA, float32 on the CPU (forward-dtype.ts).
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
  static async createAsync(configOrPreset: Partial<ModelConfig> | PresetName, overrides: Partial<ModelConfig> = {}, opts: CreateOptions = {}): Promise<TRM> {
    const base = typeof configOrPreset === 'string' ? preset(configOrPreset) : configOrPreset;
    const config = resolveConfig({ ...base, ...overrides }, opts.device);
    return new TRM(config, await native().createModel(toOfficial(config), TRM.nativeOptions(opts)));
  }

  /**
   * Loads an official `step_N` checkpoint (architecture from the all_config.yaml beside it) or a
   * safetensors file written by {@link TRM.save}.
   */
  static async load(file: string, opts: import('./checkpoint').LoadOptions = {}): Promise<TRM> {
    const { loadModel } = await import('./checkpoint');
    return loadModel(file, opts);
  }

  /** Saves as safetensors + config (default) or in the official layout (`{ format: 'official' }`). */
  async save(file: string, opts: import('./checkpoint').SaveOptions = {}): Promise<void> {
    const { saveModel } = await import('./checkpoint');
    return saveModel(this, file, opts);
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
    return this.n.step(carry.native, nativeBatch(batch), optionsObject(opts, 'step'));
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
   * Solves a batch from a fresh carry in evaluation mode, all ACT steps in one native call.
   * Returns the last step's outputs, or every step's with `record: true`.
   */
  async run(batch: Batch, opts: RunOptions = {}): Promise<StepOutput[]> {
    opts = optionsObject(opts, 'run');
    if (opts.steps !== undefined) check(Number.isInteger(opts.steps) && opts.steps > 0, `steps must be a positive integer, got ${opts.steps}`);
    return this.n.run(nativeBatch(batch), opts);
  }

  /**
   * Copies tensors from a checkpoint file (official `step_N` or our safetensors) into this model.
   * Refused, leaving the model unchanged: missing or unexpected names (`strict`, default true), other
   * shapes, a floating tensor stored as integers (or the reverse), NaN or infinite values (unless
   * `allowNonFinite`).
   */
  async loadState(file: string, opts: { strict?: boolean; resizePuzzleToMean?: boolean; allowNonFinite?: boolean } = {}) {
    return this.n.loadCheckpoint(file, opts);
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
