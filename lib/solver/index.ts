/**
 * `Solver`: a trained TRM behind an async `solve()` for services.
 * Sudoku boards, mazes and ARC test inputs go in; answers, their rule check, a confidence and the
 * supervision steps come out. The confidence is the model's own estimate sigmoid(q_halt) — the
 * halting head is trained to predict whether the current answer is exactly right — except that an
 * answer the rule check proves wrong gets 0 (ARC has no rule check, so its confidence is the
 * model's alone). Concurrent callers are micro-batched into one native `model.run`
 * (batcher.ts), so the event loop never waits on a forward pass; a request's AbortSignal cancels
 * it, and the native run stops once no request waits for it.
 *
 *     const solver = await Solver.load('model.safetensors', { kind: 'sudoku' });
 *     const { text, valid, confidence } = await solver.solve('53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79');
 */
import type { ModelCard } from '../card';
import { readModelCard } from '../checkpoint';
import type { ForwardDtype } from '../config';
import { ErrorCodes, TrmError, check } from '../errors';
import { readIdentifiers } from '../data/format';
import { TRM, type Device } from '../model';
import { setNumThreads } from '../runtime';
import { sigmoid } from '../eval/arc-vote';
import { MicroBatcher, answerAfterStep, type BatcherStats, type RowResult } from './batcher';
import {
  SUDOKU_SEQ_LEN,
  decodeSudoku,
  encodeSudoku,
  parseSudokuBoard,
  sudokuForms,
  sudokuDigitsError,
  sudokuGivensConflict,
  type SudokuInput,
} from './sudoku';
import { checkMazeSolution, decodeMaze, encodeMaze, parseMazeInput, type MazeInput } from './maze';
import {
  ArcTaskIndex,
  encodeArcVersions,
  parseArcInput,
  unknownTaskError,
  voteArcPredictions,
  type ArcAttempt,
  type ArcInput,
} from './arc';

export type { SudokuInput } from './sudoku';
export { checkSudokuSolution, isValidSudoku } from './sudoku';
export type { MazeInput, MazeCheck, MazeGrid } from './maze';
export { checkMazeSolution, parseMazeInput } from './maze';
export type { ArcAttempt, ArcInput } from './arc';
export type { BatcherStats } from './batcher';

/** The puzzle families a solver handles. */
export type SolverKind = 'sudoku' | 'maze' | 'arc';

/** Options of {@link Solver.fromModel} (and of {@link Solver.load}). */
export interface SolverOptions {
  /** Puzzle family (default: inferred from the model: vocab 11 and seq 81 → sudoku, vocab 6 → maze, vocab 12 → arc). */
  kind?: SolverKind;
  /** Most rows per native run (default 64). An ARC request needs one row per augmented version. */
  maxBatch?: number;
  /** Longest wait for more requests before a run starts, in ms (default 2). */
  maxWaitMs?: number;
  /**
   * Stop each puzzle early instead of running all haltMaxSteps supervision steps (default false:
   * parity with the official evaluation; {@link Solver.load} takes the model card's setting when
   * the checkpoint has one). Sudoku and maze stop once the answer passes the rule check (a solved
   * puzzle is done; a confidently wrong one keeps refining); ARC, with no rule check, stops at
   * the first q_halt > 0 (docs/algorithm.md §11.2).
   */
  earlyHalt?: boolean;
  /** What the model was trained on (shown by the service; {@link Solver.load} reads it from the checkpoint). */
  card?: ModelCard;
  /** ARC: identifiers.json of the model's dataset (or give `dataDir` to {@link Solver.load}). */
  identifiers?: readonly string[];
}

/** Options of {@link Solver.load}. */
export interface SolverLoadOptions extends SolverOptions {
  /** Device (default 'cpu'). */
  device?: Device;
  /** LibTorch intra-op threads; a process-wide setting (default: all cores). */
  threads?: number;
  /** The dataset folder: sizes for official checkpoints, and identifiers.json for ARC. */
  dataDir?: string;
  /** all_config.yaml of an official checkpoint (default: beside it). */
  config?: string;
  /** Forward dtype (default: the device's, forward-dtype.ts). */
  forwardDtype?: ForwardDtype;
  /**
   * Most supervision steps per solve (default: the card's inference setting, else the
   * checkpoint's haltMaxSteps). More steps than training used can still help: each one refines
   * the last answer. With `earlyHalt` off every solve runs all of them.
   */
  haltMaxSteps?: number;
}

/** Options of {@link Solver.solve}. */
export interface SolveOptions {
  /** Also return the answer after every supervision step (the recursion made visible). */
  recordSteps?: boolean;
  /** Cancels the request (it rejects with ERR_TRM_CANCELLED); other requests are unaffected. */
  signal?: AbortSignal;
}

/** How an answer fares: the rule check first, then the confidence that accounts for it. */
export interface Checked {
  /** The rule check passed (Sudoku: a complete grid, 1–9 once per row, column and box, every given kept). */
  valid: boolean;
  /** Why the rule check failed (absent when valid). */
  reason?: string;
  /** sigmoid(q_halt): the model's own estimate that this answer is exactly right, before any rule check. */
  modelConfidence: number;
  /** `modelConfidence` for a valid answer, 0 for one the rule check proves wrong. */
  confidence: number;
}

/** The Sudoku answer after one supervision step. */
export interface SudokuStep extends Checked {
  /** 81 characters, '.' where the model predicts no digit. */
  text: string;
  /** The 9×9 digits (0 = none). */
  grid: number[][];
}

/** A solved (or attempted) Sudoku. */
export interface SudokuSolution extends SudokuStep {
  /** Discriminates the result types. */
  kind: 'sudoku';
  /** A rule check ran (always true for Sudoku). */
  ruleChecked: true;
  /** Supervision steps run. */
  steps: number;
  /** With `recordSteps`: the answer after each step. */
  trace?: SudokuStep[];
}

/** The maze answer after one supervision step; `valid`: it keeps the maze and its 'o' cells connect S to G. */
export interface MazeStep extends Checked {
  /** The rows joined by newlines. */
  text: string;
  /** The maze with the predicted path in 'o' ('?' where the model predicts padding). */
  rows: string[];
  /** Valid and a shortest path (what the training labels are). */
  optimal: boolean;
  /** Number of 'o' cells. */
  pathLength: number;
}

/** A solved (or attempted) maze. */
export interface MazeSolution extends MazeStep {
  /** Discriminates the result types. */
  kind: 'maze';
  /** A rule check ran (always true for mazes). */
  ruleChecked: true;
  /** Supervision steps run. */
  steps: number;
  /** With `recordSteps`: the answer after each step. */
  trace?: MazeStep[];
}

/** The vote after one supervision step. */
export interface ArcStep {
  /** The top attempt after this step. */
  attempt: ArcAttempt;
}

/** The answer to one ARC test input. */
export interface ArcSolution {
  /** Discriminates the result types. */
  kind: 'arc';
  /** The task id. */
  taskId: string;
  /** The top two grids by (votes, mean confidence): Kaggle's attempt_1 and attempt_2 (fewer if fewer were predicted). */
  attempts: ArcAttempt[];
  /** Mean sigmoid(q_halt) of the first attempt's voters: the model's estimate alone. */
  confidence: number;
  /** No rule check exists for ARC: nothing but the model vouches for an answer. */
  ruleChecked: false;
  /** Augmented versions run (the voters). */
  versions: number;
  /** The most supervision steps any version ran. */
  steps: number;
  /** With `recordSteps`: the top attempt after each step. */
  trace?: ArcStep[];
}

/** What `solve()` takes for each kind. */
export interface SolverInputs {
  sudoku: SudokuInput;
  maze: MazeInput;
  arc: ArcInput;
}

/** What `solve()` returns for each kind. */
export interface SolverResults {
  sudoku: SudokuSolution;
  maze: MazeSolution;
  arc: ArcSolution;
}

const DEFAULT_MAX_BATCH = 64;
const DEFAULT_MAX_WAIT_MS = 2;
const ARC_SIDE = 30;

function inferKind(model: TRM): SolverKind {
  const { vocabSize, seqLen } = model.config;
  if (vocabSize === 11 && seqLen === SUDOKU_SEQ_LEN) return 'sudoku';
  if (vocabSize === 6) return 'maze';
  if (vocabSize === 12) return 'arc';
  throw new TrmError(
    ErrorCodes.CONFIG,
    `cannot tell the puzzle kind of a model with vocabSize ${vocabSize} and seqLen ${seqLen} (Sudoku: 11 and 81, Maze: 6, ARC: 12); pass { kind }`,
  );
}

function checkKind(model: TRM, kind: SolverKind): void {
  const { vocabSize, seqLen } = model.config;
  const side = Math.round(Math.sqrt(seqLen));
  const need: Record<SolverKind, [boolean, string]> = {
    sudoku: [seqLen === SUDOKU_SEQ_LEN && vocabSize >= 11, 'seqLen 81 and vocabSize ≥ 11'],
    maze: [side * side === seqLen && vocabSize >= 6, 'a square seqLen (side²) and vocabSize ≥ 6'],
    arc: [seqLen === ARC_SIDE * ARC_SIDE && vocabSize >= 12, 'seqLen 900 and vocabSize ≥ 12'],
  };
  check(['sudoku', 'maze', 'arc'].includes(kind), `kind must be 'sudoku', 'maze' or 'arc', got ${JSON.stringify(kind)}`);
  const [ok, what] = need[kind];
  if (!ok)
    throw new TrmError(
      ErrorCodes.CONFIG,
      `a ${kind} solver needs a model with ${what}; this one has seqLen ${seqLen} and vocabSize ${vocabSize}`,
    );
}

/**
 * A trained model serving `solve()` requests. Create with {@link Solver.load} (a checkpoint) or
 * {@link Solver.fromModel}; call {@link Solver.dispose} (or `using`) when done.
 */
export class Solver<K extends SolverKind = SolverKind> {
  /** The puzzle family this solver handles. */
  readonly kind: K;
  /** Whether rows stop at their first q_halt > 0. */
  readonly earlyHalt: boolean;
  /** What the model was trained on and how it scores, when the checkpoint carries a card. */
  readonly card: ModelCard | undefined;
  readonly #model: TRM;
  readonly #batcher: MicroBatcher;
  readonly #arc: ArcTaskIndex | undefined;
  #disposed = false;

  private constructor(model: TRM, kind: K, opts: SolverOptions) {
    const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    const maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    check(Number.isInteger(maxBatch) && maxBatch >= 1, `maxBatch must be a positive integer, got ${maxBatch}`);
    check(Number.isFinite(maxWaitMs) && maxWaitMs >= 0, `maxWaitMs must be a number ≥ 0, got ${maxWaitMs}`);
    this.#model = model;
    this.kind = kind;
    this.earlyHalt = opts.earlyHalt ?? false;
    this.card = opts.card;
    if (kind === 'arc') {
      check(
        opts.identifiers !== undefined,
        "an ARC solver needs the identifiers.json of the model's dataset: pass { dataDir } to Solver.load or { identifiers }",
      );
      const ids = opts.identifiers;
      check(Array.isArray(ids), 'identifiers must be the list of names from identifiers.json');
      if (model.config.puzzleEmbNdim > 0 && ids.length > model.config.numPuzzleIdentifiers) {
        throw new TrmError(
          ErrorCodes.CONFIG,
          `identifiers.json has ${ids.length} names but the model's puzzle table has ${model.config.numPuzzleIdentifiers} rows; pass the identifiers of the dataset this model was trained on`,
        );
      }
      this.#arc = new ArcTaskIndex(ids);
    }
    this.#batcher = new MicroBatcher((batch, o) => this.#model.run(batch, o), {
      seqLen: model.config.seqLen,
      maxBatch,
      maxWaitMs,
      earlyHalt: this.earlyHalt,
      haltCheck: kind === 'arc' ? undefined : kind,
    });
  }

  /**
   * Loads a checkpoint (an official `step_N` with its all_config.yaml, or a trm-native
   * safetensors file) and serves it. For ARC, `dataDir` (or `identifiers`) names the tasks.
   * A checkpoint with a model card (lib/card.ts) lends its inference settings as defaults.
   */
  static async load<K extends SolverKind = SolverKind>(
    checkpointPath: string,
    opts: SolverLoadOptions & { kind?: K } = {},
  ): Promise<Solver<K>> {
    if (opts.threads !== undefined) setNumThreads(opts.threads);
    if (opts.haltMaxSteps !== undefined)
      check(
        Number.isInteger(opts.haltMaxSteps) && opts.haltMaxSteps >= 1,
        `haltMaxSteps must be a positive integer, got ${opts.haltMaxSteps}`,
      );
    const card = opts.card ?? (await readModelCard(checkpointPath));
    const haltMaxSteps = opts.haltMaxSteps ?? card?.inference?.haltMaxSteps;
    const model = await TRM.load(checkpointPath, {
      device: opts.device,
      dataDir: opts.dataDir,
      config: opts.config,
      forwardDtype: opts.forwardDtype,
      overrides: haltMaxSteps === undefined ? undefined : { haltMaxSteps },
    });
    try {
      const kind = opts.kind ?? inferKind(model);
      const identifiers = opts.identifiers ?? (kind === 'arc' && opts.dataDir ? readIdentifiers(opts.dataDir) : undefined);
      return Solver.fromModel(model, {
        ...opts,
        card,
        earlyHalt: opts.earlyHalt ?? card?.inference?.earlyHalt,
        identifiers,
        kind: kind as K,
      });
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Serves a model already in memory. The solver owns it from now on: `dispose()` frees it. */
  static fromModel<K extends SolverKind = SolverKind>(model: TRM, opts: SolverOptions & { kind?: K } = {}): Solver<K> {
    const kind = (opts.kind ?? inferKind(model)) as K;
    checkKind(model, kind);
    return new Solver<K>(model, kind, opts);
  }

  /** The model's configuration. */
  get config(): TRM['config'] {
    return this.#model.config;
  }

  /** Native runs and rows so far (how well requests are being batched). */
  get stats(): BatcherStats {
    return this.#batcher.stats;
  }

  /** Requests not yet answered. */
  get pending(): number {
    return this.#batcher.pending;
  }

  /** ARC: whether the model knows `taskId` (has puzzle embeddings for it). */
  knowsTask(taskId: string): boolean {
    return this.#arc?.has(taskId) ?? false;
  }

  /**
   * Solves one puzzle. Bad input rejects with ERR_TRM_INVALID_ARGUMENT naming the problem, and
   * never affects other requests. Rejects with ERR_TRM_DISPOSED after {@link dispose}.
   */
  async solve(input: SolverInputs[K], opts: SolveOptions = {}): Promise<SolverResults[K]> {
    if (this.#disposed) throw new TrmError(ErrorCodes.DISPOSED, 'this Solver was disposed');
    const kind: SolverKind = this.kind;
    const result =
      kind === 'sudoku'
        ? await this.#sudoku(input as SudokuInput, opts)
        : kind === 'maze'
          ? await this.#maze(input as MazeInput, opts)
          : await this.#arcSolve(input as ArcInput, opts);
    return result as SolverResults[K];
  }

  async #sudoku(input: SudokuInput, opts: SolveOptions): Promise<SudokuSolution> {
    const givens = parseSudokuBoard(input);
    const conflict = sudokuGivensConflict(givens);
    if (conflict) throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `sudoku: the puzzle cannot be solved: ${conflict}`);
    const [row] = await this.#batcher.submit(encodeSudoku(givens), Int32Array.of(0), { record: opts.recordSteps, signal: opts.signal });
    const step = (preds: Int32Array, qHalt: number): SudokuStep => {
      const digits = decodeSudoku(preds);
      return { ...sudokuForms(digits), ...checked(sudokuDigitsError(digits, givens), qHalt) };
    };
    const solution: SudokuSolution = { kind: 'sudoku', ruleChecked: true, ...step(row.preds, row.qHalt), steps: row.steps };
    if (row.trace) solution.trace = row.trace.map((s) => step(s.preds, s.qHalt));
    return solution;
  }

  async #maze(input: MazeInput, opts: SolveOptions): Promise<MazeSolution> {
    const canvas = Math.round(Math.sqrt(this.#model.config.seqLen));
    const maze = parseMazeInput(input, canvas);
    const [row] = await this.#batcher.submit(encodeMaze(maze, canvas), Int32Array.of(0), { record: opts.recordSteps, signal: opts.signal });
    const step = (preds: Int32Array, qHalt: number): MazeStep => {
      const rows = decodeMaze(preds, maze.side, canvas);
      const verdict = checkMazeSolution(maze, rows);
      return {
        text: rows.join('\n'),
        rows,
        optimal: verdict.optimal,
        pathLength: verdict.pathLength,
        ...checked(verdict.reason ?? null, qHalt),
      };
    };
    const solution: MazeSolution = { kind: 'maze', ruleChecked: true, ...step(row.preds, row.qHalt), steps: row.steps };
    if (row.trace) solution.trace = row.trace.map((s) => step(s.preds, s.qHalt));
    return solution;
  }

  async #arcSolve(input: ArcInput, opts: SolveOptions): Promise<ArcSolution> {
    const grid = parseArcInput(input);
    const index = this.#arc as ArcTaskIndex;
    const versions = index.versions(input.taskId);
    if (!versions) throw unknownTaskError(input.taskId, index.size);
    const { inputs, ids } = encodeArcVersions(grid, versions);
    const rows = await this.#batcher.submit(inputs, ids, { record: opts.recordSteps, signal: opts.signal });
    const attempts = voteArcPredictions(
      versions,
      rows.map((r) => r.preds),
      rows.map((r) => r.qHalt),
      2,
    );
    const solution: ArcSolution = {
      kind: 'arc',
      taskId: input.taskId,
      attempts,
      confidence: attempts[0]?.confidence ?? 0,
      ruleChecked: false,
      versions: versions.length,
      steps: rows.reduce((m, r) => Math.max(m, r.steps), 0),
    };
    if (opts.recordSteps) solution.trace = arcTrace(versions, rows);
    return solution;
  }

  /** Rejects every pending request with ERR_TRM_DISPOSED and frees the model. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#batcher.close(new TrmError(ErrorCodes.DISPOSED, 'the Solver was disposed before this request was answered'));
    this.#model.dispose();
  }

  /** Same as {@link dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** The rule check's verdict (`reason` null when valid) and the confidence that accounts for it. */
function checked(reason: string | null, qHalt: number): Checked {
  const modelConfidence = sigmoid(qHalt);
  return reason === null
    ? { valid: true, modelConfidence, confidence: modelConfidence }
    : { valid: false, reason, modelConfidence, confidence: 0 };
}

/** The top vote after every step (a version that halted earlier votes with its answer). */
function arcTrace(versions: Parameters<typeof voteArcPredictions>[0], rows: RowResult[]): ArcStep[] {
  const steps = rows.reduce((m, r) => Math.max(m, r.trace?.length ?? 0), 0);
  const trace: ArcStep[] = [];
  for (let k = 0; k < steps; k++) {
    const at = rows.map((r) => answerAfterStep(r, k));
    const [attempt] = voteArcPredictions(
      versions,
      at.map((s) => s.preds),
      at.map((s) => s.qHalt),
      1,
    );
    trace.push({ attempt });
  }
  return trace;
}
