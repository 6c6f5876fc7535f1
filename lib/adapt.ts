/**
 * Test-time adaptation for unseen ARC tasks (docs/algorithm.md §10 item 3, §7.3, §3.3).
 *
 * A TRM knows an ARC task only through the puzzle-embedding rows of the task's augmented versions
 * (`id|||t{tid}|||{perm}`, §5.7). For a task it never saw, {@link adaptToTask}:
 *  1. builds the task's augmented versions with the official builder (`buildArc`), numbered after
 *     the model's existing rows: demonstration pairs in split train, test inputs in split test;
 *  2. makes a new model whose puzzle table is the old one plus one row per new version, every
 *     other tensor copied bit for bit, the new rows set to the mean of the old rows
 *     ({@link TRM.withPuzzleRows}, natively);
 *  3. fine-tunes only the puzzle rows of the batch with sign-SGD (§3.3, `freezeWeights`) through
 *     the native {@link Trainer}, on the task's demonstration pairs.
 * The old model is left untouched. The heavy parts (copying the model, training) run on native
 * threads, so the event loop stays free.
 *
 *     const { model: adapted, identifiers } = await adaptToTask(model, readIdentifiers(dataDir), task);
 *     const solver = Solver.fromModel(adapted, { kind: 'arc', identifiers });
 *     const [answer] = (await solver.solve({ taskId: task.id, input: task.test[0].input })).attempts;
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildArc } from './data/arc';
import { ARC_SEQ_LEN, ARC_VOCAB_SIZE } from './data/arc-grid';
import { arcGridFromJson } from './data/arc-input';
import { ARC_NAME_SEPARATOR, parseArcPuzzleName } from './data/arc-names';
import { readIdentifiers } from './data/format';
import { ErrorCodes, TrmError, check } from './errors';
import { TRM, type Device } from './model';
import { Trainer, type TrainEvent } from './trainer';

/** An ARC task to adapt to: its id, demonstration pairs and test inputs (outputs optional, never trained on). */
export interface AdaptTask {
  /** The task id; its versions are named `{id}|||t{tid}|||{perm}` (must not contain `|||`). */
  id: string;
  /** Demonstration pairs (at least one); the only pairs the embeddings are trained on. */
  train: Array<{ input: number[][]; output: number[][] }>;
  /** Test inputs (may be empty). Their outputs, if given, are ignored. */
  test: Array<{ input: number[][]; output?: number[][] }>;
}

/** A stage of the adaptation, reported before it starts. */
export interface AdaptStageEvent {
  kind: 'stage';
  stage: 'build' | 'extend' | 'train';
  /** One human-readable line. */
  message: string;
}

/** What {@link AdaptOptions.onEvent} receives: stage reports and every event of the training run. */
export type AdaptEvent = AdaptStageEvent | TrainEvent;

/** Options of {@link adaptToTask}. */
export interface AdaptOptions {
  /** Augmented versions wanted besides the original (default 100); each gets its own puzzle row. */
  numAug?: number;
  /** Training epochs over the one-task dataset (default: enough for about {@link DEFAULT_ADAPT_STEPS} optimizer steps). */
  epochs?: number;
  /** Stop after this many optimizer steps. */
  maxSteps?: number;
  /** Stop after this many seconds. */
  maxSeconds?: number;
  /** Examples per optimizer step (default 32). */
  globalBatchSize?: number;
  /** Sign-SGD learning rate of the puzzle rows (default 1e-2, the official ARC value). */
  puzzleEmbLr?: number;
  /** Decoupled weight decay of the touched puzzle rows (default 0.1, the official value). */
  puzzleEmbWeightDecay?: number;
  /** Linear warm-up steps of the puzzle learning rate (default 0: a short run should not spend its steps warming up). */
  lrWarmupSteps?: number;
  /** Seeds the builder's augmentations and translations, the batch sampling and the halting exploration (default 0). */
  seed?: number;
  /** Device of the adapted model (default: the model's). */
  device?: Device;
  /** Folder for the temporary dataset (default: the OS temp folder); the files are removed afterwards. */
  workDir?: string;
  /** Stops the training early; adaptToTask then rejects with ERR_TRM_CANCELLED. */
  signal?: AbortSignal;
  /** Receives progress: stages, then the trainer's 'start', 'step' and 'done' events. */
  onEvent?: (e: AdaptEvent) => void;
}

/** What {@link adaptToTask} returns. */
export interface AdaptResult {
  /** The adapted model (a new model; the caller owns it and should `dispose()` it). */
  model: TRM;
  /** The old identifiers (padded with `<blank>` to the old table size) followed by the new versions' names. */
  identifiers: string[];
  /** Puzzle ids of the task's versions (rows of the new table), in order. */
  taskIds: number[];
  /** Optimizer steps run. */
  steps: number;
}

/** Optimizer steps the default `epochs` aims at. */
export const DEFAULT_ADAPT_STEPS = 200;

const BLANK = '<blank>';
const SUBSET = 'task';

interface Resolved {
  numAug: number;
  epochs?: number;
  maxSteps?: number;
  maxSeconds?: number;
  globalBatchSize: number;
  puzzleEmbLr: number;
  puzzleEmbWeightDecay: number;
  lrWarmupSteps: number;
  seed: number;
}

function resolveOptions(o: AdaptOptions): Resolved {
  check(o !== null && typeof o === 'object', 'adapt options must be an object');
  const int = (v: unknown, what: string, min: number): void =>
    check(
      v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= min),
      `${what} must be an integer ≥ ${min}, got ${String(v)}`,
    );
  const real = (v: unknown, what: string, positive: boolean): void =>
    check(
      v === undefined || (typeof v === 'number' && Number.isFinite(v) && (positive ? v > 0 : v >= 0)),
      `${what} must be a ${positive ? 'positive' : 'non-negative'} number, got ${String(v)}`,
    );
  int(o.numAug, 'numAug', 0);
  int(o.epochs, 'epochs', 1);
  int(o.maxSteps, 'maxSteps', 1);
  int(o.globalBatchSize, 'globalBatchSize', 1);
  int(o.lrWarmupSteps, 'lrWarmupSteps', 0);
  int(o.seed, 'seed', 0);
  real(o.maxSeconds, 'maxSeconds', true);
  real(o.puzzleEmbLr, 'puzzleEmbLr', true);
  real(o.puzzleEmbWeightDecay, 'puzzleEmbWeightDecay', false);
  check(o.seed === undefined || o.seed <= 0xffffffff, `seed must be below 2^32, got ${o.seed}`);
  return {
    numAug: o.numAug ?? 100,
    epochs: o.epochs,
    maxSteps: o.maxSteps,
    maxSeconds: o.maxSeconds,
    globalBatchSize: o.globalBatchSize ?? 32,
    puzzleEmbLr: o.puzzleEmbLr ?? 1e-2,
    puzzleEmbWeightDecay: o.puzzleEmbWeightDecay ?? 0.1,
    lrWarmupSteps: o.lrWarmupSteps ?? 0,
    seed: o.seed ?? 0,
  };
}

/** The model must take the builder's encoding (seq 900, tokens 0..11) and have a puzzle table the identifiers fit. */
function checkModel(model: TRM, identifiers: readonly string[]): void {
  check(model instanceof TRM, 'model must be a TRM');
  const { seqLen, vocabSize, puzzleEmbNdim, numPuzzleIdentifiers } = model.config;
  if (seqLen !== ARC_SEQ_LEN || vocabSize < ARC_VOCAB_SIZE) {
    throw new TrmError(
      ErrorCodes.CONFIG,
      `adapt needs an ARC model (seqLen ${ARC_SEQ_LEN} and vocabSize ≥ ${ARC_VOCAB_SIZE}, the ARC builder's encoding); this one has seqLen ${seqLen} and vocabSize ${vocabSize}`,
    );
  }
  if (puzzleEmbNdim <= 0)
    throw new TrmError(
      ErrorCodes.CONFIG,
      'adapt needs a model with puzzle embeddings (puzzleEmbNdim > 0); this one has none, so there is nothing to adapt',
    );
  check(
    Array.isArray(identifiers) && identifiers.length > 0 && identifiers.every((s) => typeof s === 'string'),
    "identifiers must be the non-empty list of names from the model dataset's identifiers.json",
  );
  if (identifiers.length > numPuzzleIdentifiers) {
    throw new TrmError(
      ErrorCodes.CONFIG,
      `identifiers.json has ${identifiers.length} names but the model's puzzle table has ${numPuzzleIdentifiers} rows; pass the identifiers of the dataset this model was trained on`,
    );
  }
}

function grid(raw: unknown, where: string): void {
  try {
    arcGridFromJson(raw, where);
  } catch (e) {
    if (e instanceof TrmError) throw new TrmError(ErrorCodes.INVALID_ARGUMENT, e.message);
    throw e;
  }
}

/** Validates the task; returns it as a builder challenge (test outputs dropped, so they cannot leak into training). */
function challenge(task: AdaptTask, identifiers: readonly string[]): { train: AdaptTask['train']; test: Array<{ input: number[][] }> } {
  check(task !== null && typeof task === 'object', 'task must be an object { id, train, test }');
  const { id } = task;
  check(
    typeof id === 'string' && id.length > 0 && !id.includes(ARC_NAME_SEPARATOR) && id !== BLANK,
    `task id must be a non-empty string without "${ARC_NAME_SEPARATOR}" (and not "${BLANK}"), got ${JSON.stringify(id)}`,
  );
  check(
    Array.isArray(task.train) && task.train.length > 0,
    `task ${id}: train must list at least one {input, output} demonstration pair; they are what the new embeddings learn from`,
  );
  check(Array.isArray(task.test), `task ${id}: test must be a list of {input} (it may be empty)`);
  task.train.forEach((p, i) => {
    check(p !== null && typeof p === 'object', `task ${id}: train[${i}] must be an {input, output} pair`);
    grid(p.input, `task ${id}: train[${i}].input`);
    grid(p.output, `task ${id}: train[${i}].output`);
  });
  task.test.forEach((p, i) => {
    check(p !== null && typeof p === 'object', `task ${id}: test[${i}] must be an {input} object`);
    grid(p.input, `task ${id}: test[${i}].input`);
    if (p.output !== undefined) grid(p.output, `task ${id}: test[${i}].output`);
  });
  const prefix = id + ARC_NAME_SEPARATOR;
  if (identifiers.some((n) => n === id || n.startsWith(prefix))) {
    throw new TrmError(
      ErrorCodes.INVALID_ARGUMENT,
      `task ${id} is already known to this model (identifiers.json has puzzles for it); solve it directly, or adapt under another id`,
    );
  }
  return { train: task.train.map((p) => ({ input: p.input, output: p.output })), test: task.test.map((p) => ({ input: p.input })) };
}

/** Step 1: the task's augmented versions as a dataset numbered from `start`; returns its folder and the new names. */
async function buildTaskDataset(
  work: string,
  task: AdaptTask,
  tasks: ReturnType<typeof challenge>,
  start: number,
  o: Resolved,
): Promise<{ dataDir: string; names: string[] }> {
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  const prefix = path.join(src, 'adapt');
  fs.writeFileSync(`${prefix}_${SUBSET}_challenges.json`, JSON.stringify({ [task.id]: tasks }));
  const dataDir = path.join(work, 'data');
  // The subset is the test set, so the demonstration pairs train and the test inputs form split test (§5.7 step 1).
  const built = await buildArc({
    inputFilePrefix: prefix,
    outputDir: dataDir,
    subsets: [SUBSET],
    testSetName: task.test.length > 0 ? SUBSET : `${SUBSET}-none`,
    numAug: o.numAug,
    seed: o.seed,
    puzzleIdentifiersStart: start,
  });
  // With a start offset, identifiers.json holds `<blank>` for ids below it, then the new names.
  const names = readIdentifiers(dataDir).slice(start);
  if (names.length !== built.numPuzzleIdentifiers - start || names.some((n) => parseArcPuzzleName(n).taskId !== task.id)) {
    throw new TrmError(
      ErrorCodes.INTERNAL,
      `adapt: the builder wrote ${names.length} names for ${built.numPuzzleIdentifiers - start} new rows of task ${task.id}`,
    );
  }
  return { dataDir, names };
}

/** Step 3: sign-SGD on the puzzle rows of the batch, dense weights frozen (§3.3). Returns the steps run. */
async function fineTune(model: TRM, dataDir: string, epochs: number, o: Resolved, opts: AdaptOptions): Promise<number> {
  if (opts.signal?.aborted) throw new TrmError(ErrorCodes.CANCELLED, 'adaptation cancelled before training');
  const trainer = new Trainer(model, {
    dataPaths: [dataDir],
    evaluators: [],
    globalBatchSize: o.globalBatchSize,
    epochs,
    evalInterval: epochs,
    freezeWeights: true,
    puzzleEmbLr: o.puzzleEmbLr,
    puzzleEmbWeightDecay: o.puzzleEmbWeightDecay,
    lrWarmupSteps: o.lrWarmupSteps,
    seed: o.seed,
    ema: false,
    checkpointEveryEval: false,
    maxSteps: o.maxSteps,
    maxSeconds: o.maxSeconds,
    evaluate: false,
  });
  let steps = 0;
  trainer.on('event', (e: TrainEvent) => {
    if (e.kind === 'step' || e.kind === 'done') steps = Math.min(e.step, e.totalSteps);
    opts.onEvent?.(e);
  });
  const stop = (): void => trainer.stop();
  opts.signal?.addEventListener('abort', stop);
  try {
    await trainer.run();
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
  if (opts.signal?.aborted) throw new TrmError(ErrorCodes.CANCELLED, `adaptation stopped after ${steps} steps`);
  return steps;
}

/**
 * Adapts `model` to an ARC task it was not trained on: adds puzzle rows for the task's augmented
 * versions (initialised to the mean row) and fine-tunes only them on the demonstration pairs.
 * Returns a new model (the old one is not modified) with the extended identifiers list, ready for
 * `Solver.fromModel(result.model, { kind: 'arc', identifiers: result.identifiers })`.
 *
 * Rejects with ERR_TRM_INVALID_ARGUMENT for a bad task (no demonstration pairs, a grid larger than
 * 30×30 or not rectangular, a colour outside 0–9, a task id the model already knows) or bad options,
 * ERR_TRM_CONFIG for a model that is not an ARC model (seqLen 900, vocabSize ≥ 12, with puzzle
 * embeddings) or identifiers that do not fit its table, ERR_TRM_CANCELLED when `signal` aborts.
 */
export async function adaptToTask(
  model: TRM,
  identifiers: readonly string[],
  task: AdaptTask,
  opts: AdaptOptions = {},
): Promise<AdaptResult> {
  const o = resolveOptions(opts);
  checkModel(model, identifiers);
  const cleaned = challenge(task, identifiers);
  // Each epoch samples one version of the one task: train.length examples (§5.8), so steps = epochs × pairs / batch.
  const epochs = o.epochs ?? Math.ceil((DEFAULT_ADAPT_STEPS * o.globalBatchSize) / task.train.length);
  if (Math.floor((epochs * task.train.length) / o.globalBatchSize) < 1) {
    throw new TrmError(
      ErrorCodes.INVALID_ARGUMENT,
      `epochs ${epochs} × ${task.train.length} demonstration pairs is less than one batch of ${o.globalBatchSize}; raise epochs or lower globalBatchSize`,
    );
  }
  if (opts.signal?.aborted) throw new TrmError(ErrorCodes.CANCELLED, 'adaptation cancelled before it started');
  const start = model.config.numPuzzleIdentifiers;
  if (opts.workDir) fs.mkdirSync(opts.workDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(opts.workDir ?? os.tmpdir(), 'trm-adapt-'));
  const stage = (s: AdaptStageEvent['stage'], message: string): void => opts.onEvent?.({ kind: 'stage', stage: s, message });
  try {
    stage('build', `building ${1 + o.numAug} versions of task ${task.id} (${task.train.length} demonstration pairs)`);
    const { dataDir, names } = await buildTaskDataset(work, task, cleaned, start, o);
    stage('extend', `puzzle table ${start} → ${start + names.length} rows (new rows at the mean row)`);
    const adapted = await model.withPuzzleRows(start + names.length, { seed: o.seed, device: opts.device });
    try {
      stage('train', `fine-tuning the ${names.length} new rows (sign-SGD, lr ${o.puzzleEmbLr}, dense weights frozen)`);
      const steps = await fineTune(adapted, dataDir, epochs, o, opts);
      adapted.eval();
      const padded = [...identifiers, ...Array.from({ length: start - identifiers.length }, () => BLANK)];
      return { model: adapted, identifiers: [...padded, ...names], taskIds: names.map((_, i) => start + i), steps };
    } catch (e) {
      adapted.dispose();
      throw e;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
