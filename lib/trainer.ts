/**
 * Training: the whole run of the official pretrain.py (SPEC.md §7.2) on a native thread, reported
 * to JavaScript as events. JavaScript never touches a tensor per step (DESIGN.md principle 1).
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError, check } from './errors';
import type { TRM } from './model';
import { isArcDataset } from './eval/arc';
import { native, type NativeTrainer } from './native';
import { writeAllConfig } from './all-config';
import { resolveTrainConfig, trainToOfficial, type TrainConfig } from './train-config';
import type { ModelConfig } from './config';

/** One report from the training loop. Metrics follow the official logs (SPEC §2.4, §6.1). */
export interface TrainEvent {
  kind: 'start' | 'step' | 'eval' | 'checkpoint' | 'done';
  step: number;
  totalSteps: number;
  /** Dense learning rate of this step (after warm-up / cosine). */
  lr: number;
  elapsedSeconds: number;
  /** Global samples per second since the previous step event. */
  samplesPerSecond: number;
  /** eval: the dataset set the metrics belong to ('all', 'all1', ...). */
  set?: string;
  /** checkpoint: the file written. */
  path?: string;
  /**
   * step: train/accuracy, exact_accuracy, q_halt_accuracy, steps (averages over rows that halted
   * this step), lm_loss, q_halt_loss (per global batch), count. eval: the same per set, divided by
   * count. done: stopped = 1 when stop() ended the run.
   */
  metrics: Record<string, number>;
}

/** Limits beyond the official keys, for bounded runs. */
export interface RunLimits {
  /** Stop after this many optimizer steps (then evaluate and checkpoint). */
  maxSteps?: number;
  /** Stop after this many seconds (then evaluate and checkpoint). */
  maxSeconds?: number;
  /** Emit a step event every N steps (default 1). */
  logEvery?: number;
  /** Evaluate on the test split at each eval interval (default true). */
  evaluate?: boolean;
  /** Join a multi-process job described by the torchrun variables (RANK, WORLD_SIZE, ...). */
  distributed?: boolean;
  /** JSONL file receiving every event (default: metrics.jsonl in checkpointPath, if set). */
  metricsLog?: string;
}

/**
 * A training run of `model`. Events: 'event' (every {@link TrainEvent}) and one per kind
 * ('step', 'eval', 'checkpoint', 'done'); or iterate with `for await (const e of trainer)`.
 */
export class Trainer extends EventEmitter {
  readonly config: TrainConfig;
  readonly limits: RunLimits;
  readonly #model: TRM;
  readonly #native: NativeTrainer;
  #queue: TrainEvent[] = [];
  #wake: (() => void) | undefined;
  #finished = false;
  #log: number | undefined;

  constructor(model: TRM, config: Partial<TrainConfig> & RunLimits) {
    super();
    const { maxSteps, maxSeconds, logEvery, evaluate, distributed, metricsLog, ...train } = config;
    this.config = resolveTrainConfig(train);
    this.limits = { maxSteps, maxSeconds, logEvery, evaluate, distributed, metricsLog };
    for (const [k, v] of Object.entries({ maxSteps, maxSeconds, logEvery })) {
      check(v === undefined || (typeof v === 'number' && v >= 0), `${k} must be a non-negative number, got ${v}`);
    }
    check(this.config.dataPaths.every((p) => fs.existsSync(p)), `dataPaths must exist: ${this.config.dataPaths.filter((p) => !fs.existsSync(p)).join(', ')}`, ErrorCodes.IO);
    // Evaluators are checked now, not after hours of training.
    for (const e of this.config.evaluators) check(e === 'arc@ARC', `unknown evaluator '${e}' (known: arc@ARC)`, ErrorCodes.CONFIG);
    const evalData = this.config.dataPathsTest[0] ?? this.config.dataPaths[0];
    check(!this.config.evaluators.includes('arc@ARC') || isArcDataset(evalData),
      `evaluators include arc@ARC, but ${evalData} is not an ARC dataset (no identifiers.json / test_puzzles.json); use evaluators: [] for Sudoku and Maze, as the official recipes do`, ErrorCodes.CONFIG);
    this.#model = model;
    const official = {
      ...trainToOfficial(this.config),
      max_steps: maxSteps ?? 0,
      max_seconds: maxSeconds ?? 0,
      log_every: logEvery ?? 1,
      evaluate: evaluate ?? true,
      distributed: distributed ?? false,
    };
    this.#native = new (native().NativeTrainer)<TrainEvent>(model.nativeHandle(), official, (e) => this.#onEvent(e));
  }

  #onEvent(e: TrainEvent): void {
    if (this.#log !== undefined) fs.writeSync(this.#log, JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
    this.emit('event', e);
    this.emit(e.kind, e);
    this.#queue.push(e);
    this.#wake?.();
  }

  /** Rank 0 writes all_config.yaml into checkpointPath, as the official trainer does (§7.2 step 5). */
  #prepareOutputs(): void {
    const rank = Number(process.env.RANK ?? 0);
    const dir = this.config.checkpointPath;
    if (dir && (!this.limits.distributed || rank === 0)) {
      fs.mkdirSync(dir, { recursive: true });
      writeAllConfig(path.join(dir, 'all_config.yaml'), this.config, this.#model.config as ModelConfig);
    }
    const log = this.limits.metricsLog ?? (dir ? path.join(dir, 'metrics.jsonl') : undefined);
    if (log && (!this.limits.distributed || rank === 0)) {
      fs.mkdirSync(path.dirname(path.resolve(log)), { recursive: true });
      this.#log = fs.openSync(log, 'a');
    }
  }

  /**
   * Runs to the end (or to stop() / the limits). With `resumeFrom` (a state file written by
   * {@link saveState}, or the folder holding state.safetensors), continues exactly where it stopped.
   * `loadCheckpoint` in the config is applied first, as the official trainer does. Resolves when the loop has finished; rejects with a TrmError.
   */
  async run(opts: { resumeFrom?: string } = {}): Promise<void> {
    let resume = opts.resumeFrom;
    if (resume && fs.existsSync(resume) && fs.statSync(resume).isDirectory()) resume = path.join(resume, 'state.safetensors');
    if (resume && !fs.existsSync(resume)) throw new TrmError(ErrorCodes.IO, `no training state at ${resume}`);
    // load_checkpoint (SPEC §7.3): start from a step_N file; a puzzle table of another size becomes its row mean.
    if (this.config.loadCheckpoint && !resume) {
      await this.#model.loadState(this.config.loadCheckpoint, { strict: true, resizePuzzleToMean: true });
    }
    this.#prepareOutputs();
    this.#finished = false;
    let lastCheckpoint: string | undefined;
    const onCheckpoint = (e: TrainEvent) => (lastCheckpoint = e.path);
    this.on('checkpoint', onCheckpoint);
    try {
      await this.#native.start(resume);
      if (lastCheckpoint && this.config.evaluators.includes('arc@ARC') && Number(process.env.RANK ?? 0) === 0) {
        await this.#arcEvaluation(lastCheckpoint);
      }
    } finally {
      this.off('checkpoint', onCheckpoint);
      this.#finished = true;
      this.#wake?.();
      if (this.#log !== undefined) {
        fs.closeSync(this.#log);
        this.#log = undefined;
      }
    }
  }

  /**
   * The ARC evaluator (SPEC §6.2) on the final checkpoint: the native loop reports exact accuracy
   * at every evaluation; the voting evaluator needs every row's prediction, so it runs once at the
   * end on the checkpoint (and with `trm eval --arc` on any other). Emits an 'eval' event for set
   * 'ARC' and writes evaluator_ARC_step_N/submission.json beside the checkpoint, as the official trainer.
   */
  async #arcEvaluation(checkpoint: string): Promise<void> {
    const { TRM: Model } = await import('./model');
    const { evaluateExact } = await import('./eval/exact');
    const { ArcEvaluator } = await import('./eval/arc');
    const { writeArcSubmission } = await import('./eval/arc-result');
    const data = this.config.dataPathsTest[0] ?? this.config.dataPaths[0];
    const model = await Model.load(checkpoint, { dataDir: data });
    try {
      const evaluator = ArcEvaluator.fromDataset(data);
      await evaluateExact(model, data, { globalBatchSize: this.config.globalBatchSize, evaluators: [evaluator] });
      const r = evaluator.result();
      const step = Number(/step_(\d+)$/.exec(checkpoint)?.[1] ?? 0);
      const out = path.join(path.dirname(checkpoint), `evaluator_ARC_step_${step}`);
      fs.mkdirSync(out, { recursive: true });
      const file = writeArcSubmission(out, r.submission);
      const p = this.progress();
      this.#onEvent({ kind: 'eval', step, totalSteps: p.totalSteps, lr: 0, elapsedSeconds: 0, samplesPerSecond: 0, set: 'ARC', path: file, metrics: r.metrics });
    } finally {
      model.dispose();
    }
  }

  /** Asks the loop to stop after the current step; run() then resolves. */
  stop(): void {
    this.#native.stop();
  }

  /** Writes the complete training state (after run() settled) for an exact resume. */
  async saveState(file: string): Promise<void> {
    await this.#native.saveState(file);
  }

  /** Current step, total steps, and whether the loop is running. */
  progress(): { running: boolean; step: number; totalSteps: number } {
    return this.#native.info();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<TrainEvent> {
    for (;;) {
      while (this.#queue.length > 0) yield this.#queue.shift()!;
      if (this.#finished) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
