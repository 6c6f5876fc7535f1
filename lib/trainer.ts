/**
 * Training: the whole run of the official pretrain.py (docs/algorithm.md §7.2) on a native thread, reported
 * to JavaScript as events. JavaScript never touches a tensor per step (docs/design.md, principle 1).
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError, check } from './errors';
import type { TRM } from './model';
import { ArcEvaluator, isArcDataset } from './eval/arc';
import { writeArcSubmission } from './eval/arc-result';
import { batchView } from './eval/exact';
import { native, type NativeEvalBatch, type NativeTrainer } from './native';
import { writeAllConfig } from './all-config';
import { removeStaleTempFiles } from './atomic-write';
import { resolveTrainConfig, trainToOfficial, type TrainConfig } from './train-config';
import type { ModelConfig } from './config';

/** One report from the training loop. Metrics follow the official logs (docs/algorithm.md §2.4, §6.1). */
export interface TrainEvent {
  kind: 'start' | 'step' | 'eval' | 'checkpoint' | 'done';
  step: number;
  totalSteps: number;
  /** Dense learning rate of this step (after warm-up / cosine). */
  lr: number;
  elapsedSeconds: number;
  /** Global samples per second since the previous step event. */
  samplesPerSecond: number;
  /**
   * eval: the dataset set the metrics belong to ('all', 'all1', ...), or 'ARC' for the ARC
   * evaluator of the first test data path ('ARC1', 'ARC2', ... for further paths).
   */
  set?: string;
  /** checkpoint: the file written; ARC eval: the submission.json written (with a checkpointPath). */
  path?: string;
  /**
   * step: train/accuracy, exact_accuracy, q_halt_accuracy, steps (averages over rows that halted
   * this step), lm_loss, q_halt_loss (per global batch), count; host_syncs with countHostSyncs.
   * eval: the same per set, divided by count; for 'ARC', ARC/pass@K and ARC/predictions (the votes
   * in the pool: one per test row and evaluation with aggregated voting). done: stopped = 1 when
   * stop() ended the run.
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
  /**
   * ARC evaluator: pool the votes of every evaluation so far (default true, the official
   * `aggregated_voting`: its logged pass@K is that pool), or vote over each evaluation alone (false).
   */
  aggregatedVoting?: boolean;
  /** Process-group backend with `distributed` (default: NCCL for a model on CUDA, Gloo on the CPU). */
  distBackend?: 'gloo' | 'nccl';
  /** CUDA diagnostic: step events carry host_syncs, the host's waits for the GPU per step (target: at most 1). */
  countHostSyncs?: boolean;
}

/** The internal events of the native loop that feed the evaluators. */
interface NativeTrainEvent extends Omit<TrainEvent, 'kind'> {
  kind: TrainEvent['kind'] | 'eval_begin' | 'eval_batch' | 'eval_end';
  batch?: NativeEvalBatch;
}

/**
 * Every key the native trainer takes (it has no defaults of its own): the official keys of `config`
 * and the run limits with their defaults, the state file and whether evaluated batches are reported.
 */
export function nativeTrainOptions(
  config: TrainConfig,
  limits: RunLimits,
  run: { statePath?: string; evalOutputs: boolean },
): Record<string, unknown> {
  return {
    ...trainToOfficial(config),
    max_steps: limits.maxSteps ?? 0,
    max_seconds: limits.maxSeconds ?? 0,
    log_every: limits.logEvery ?? 1,
    evaluate: limits.evaluate ?? true,
    distributed: limits.distributed ?? false,
    dist_backend: limits.distBackend,
    eval_outputs: run.evalOutputs,
    count_host_syncs: limits.countHostSyncs ?? false,
    state_path: run.statePath,
  };
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
  /** One ARC evaluator per test data path (the official create_evaluators), fed by every evaluation. */
  readonly #arc: ArcEvaluator[];
  #queue: TrainEvent[] = [];
  #failure: unknown;
  #wake: (() => void) | undefined;
  #finished = false;
  #log: number | undefined;

  /**
   * Where this process's full training state is written with every checkpoint (and by the CLI when a
   * run ends or is interrupted): `<checkpointPath>/state.safetensors`, one `state.rank<R>.safetensors`
   * per rank in a distributed run. Undefined without a checkpointPath.
   */
  readonly statePath: string | undefined;

  constructor(model: TRM, config: Partial<TrainConfig> & RunLimits) {
    super();
    const { maxSteps, maxSeconds, logEvery, evaluate, distributed, metricsLog, aggregatedVoting, distBackend, countHostSyncs, ...train } =
      config;
    this.config = resolveTrainConfig(train);
    this.limits = { maxSteps, maxSeconds, logEvery, evaluate, distributed, metricsLog, aggregatedVoting, distBackend, countHostSyncs };
    check(
      distBackend === undefined || distBackend === 'gloo' || distBackend === 'nccl',
      `distBackend must be 'gloo' or 'nccl', got ${distBackend}`,
      ErrorCodes.CONFIG,
    );
    for (const [k, v] of Object.entries({ maxSteps, maxSeconds, logEvery })) {
      check(v === undefined || (typeof v === 'number' && v >= 0), `${k} must be a non-negative number, got ${v}`);
    }
    check(
      this.config.dataPaths.every((p) => fs.existsSync(p)),
      `dataPaths must exist: ${this.config.dataPaths.filter((p) => !fs.existsSync(p)).join(', ')}`,
      ErrorCodes.IO,
    );
    // Evaluators are checked now, not after hours of training.
    for (const e of this.config.evaluators) check(e === 'arc@ARC', `unknown evaluator '${e}' (known: arc@ARC)`, ErrorCodes.CONFIG);
    const evalPaths = this.config.dataPathsTest.length > 0 ? this.config.dataPathsTest : this.config.dataPaths;
    const arc = this.config.evaluators.includes('arc@ARC') && (evaluate ?? true);
    for (const p of arc ? evalPaths : []) {
      check(
        isArcDataset(p),
        `evaluators include arc@ARC, but ${p} is not an ARC dataset (no identifiers.json / test_puzzles.json); use evaluators: [] for Sudoku and Maze, as the official recipes do`,
        ErrorCodes.CONFIG,
      );
    }
    this.#arc = arc ? evalPaths.map((p) => ArcEvaluator.fromDataset(p, { aggregatedVoting: aggregatedVoting ?? true })) : [];
    this.#model = model;
    const world = distributed ? Number(process.env.WORLD_SIZE ?? 1) : 1;
    const dir = this.config.checkpointPath;
    this.statePath = dir
      ? path.join(dir, world > 1 ? `state.rank${Number(process.env.RANK ?? 0)}.safetensors` : 'state.safetensors')
      : undefined;
    const official = nativeTrainOptions(this.config, this.limits, { statePath: this.statePath, evalOutputs: this.#arc.length > 0 });
    this.#native = new (native().NativeTrainer)<NativeTrainEvent>(model.nativeHandle(), official, (e) => this.#onNativeEvent(e));
  }

  /**
   * Routes the evaluators' events; every other event is public. A failure here (an evaluator, a
   * listener) stops the run, which then rejects with it, rather than escaping into the addon.
   */
  #onNativeEvent(e: NativeTrainEvent): void {
    try {
      if (e.kind === 'eval_begin') {
        for (const ev of this.#arc) ev.beginEval();
      } else if (e.kind === 'eval_batch') {
        this.#arc[e.batch!.pathIndex]?.updateBatch(batchView(e.batch!));
      } else if (e.kind === 'eval_end') {
        this.#arcResults(e);
      } else {
        this.#onEvent(e as TrainEvent);
      }
    } catch (err) {
      this.#failure ??= err;
      this.#native.stop();
    }
  }

  /**
   * The ARC evaluators' results at the end of an evaluation (docs/algorithm.md §6.2): an 'eval' event per test
   * path with ARC/pass@K and, with a checkpointPath, evaluator_ARC_step_N/submission.json, as the
   * official trainer writes them (evaluator_ARC1_step_N, ... for further paths).
   */
  #arcResults(e: NativeTrainEvent): void {
    this.#arc.forEach((ev, k) => {
      const r = ev.result();
      const name = k === 0 ? 'ARC' : `ARC${k}`;
      let file: string | undefined;
      if (this.config.checkpointPath) {
        const dir = path.join(this.config.checkpointPath, `evaluator_${name}_step_${e.step}`);
        fs.mkdirSync(dir, { recursive: true });
        file = writeArcSubmission(dir, r.submission);
      }
      const metrics = { ...r.metrics, 'ARC/predictions': ev.predictionCount };
      this.#onEvent({
        kind: 'eval',
        step: e.step,
        totalSteps: e.totalSteps,
        lr: 0,
        elapsedSeconds: e.elapsedSeconds,
        samplesPerSecond: 0,
        set: name,
        path: file,
        metrics,
      });
    });
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
      // Temp files of a run killed while writing a checkpoint (its process is gone) are dropped now.
      removeStaleTempFiles(dir);
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
    if (resume && fs.existsSync(resume) && fs.statSync(resume).isDirectory())
      resume = path.join(resume, path.basename(this.statePath ?? 'state.safetensors'));
    if (resume && !fs.existsSync(resume)) throw new TrmError(ErrorCodes.IO, `no training state at ${resume}`);
    // load_checkpoint (docs/algorithm.md §7.3): start from a step_N file; a puzzle table of another size becomes its row mean.
    if (this.config.loadCheckpoint && !resume) {
      await this.#model.loadState(this.config.loadCheckpoint, { strict: true, resizePuzzleToMean: true });
    }
    this.#prepareOutputs();
    this.#finished = false;
    this.#failure = undefined;
    try {
      await this.#native.start(resume ?? '');
      if (this.#failure !== undefined) throw this.#failure;
    } finally {
      this.#finished = true;
      this.#wake?.();
      if (this.#log !== undefined) {
        fs.closeSync(this.#log);
        this.#log = undefined;
      }
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
