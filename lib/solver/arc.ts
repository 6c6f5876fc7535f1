/**
 * ARC for the solver: a model trained on an ARC dataset knows a task only through the puzzle ids
 * of its augmented versions (`id|||t{tid}|||{perm}`, docs/algorithm.md §5.7). The index maps each task id
 * to those ids; a test input is encoded under every version's augmentation (colour map, then
 * dihedral), the predictions are cropped, un-augmented and voted on as the evaluator does (§6.2).
 */
import { ErrorCodes, TrmError } from '../errors';
import { ARC_NAME_SEPARATOR, inverseArcAugmentation, parseArcPuzzleName, type ArcAugmentation } from '../data/arc-names';
import { ARC_SEQ_LEN, arcGridHash, cropArcGrid, encodeArcGridInto } from '../data/arc-grid';
import { arcGridFromJson } from '../data/arc-input';
import type { ArcExampleJson } from '../data/format';
import { gridToRows, type Grid } from '../data/grid';
import { sigmoid, VoteTally } from '../eval/arc-vote';

/** An ARC request: the task id the model was trained on, one test input, and optionally its demonstration pairs. */
export interface ArcInput {
  /** Task id, e.g. "007bbfb7" (the bare name in identifiers.json). */
  taskId: string;
  /** The test input grid (rows of colours 0–9, at most 30×30). */
  input: number[][];
  /**
   * The task's demonstration pairs. A trained model does not need them (its puzzle embeddings
   * carry the task); they are validated if given and are what `trm adapt` trains on.
   */
  train?: ArcExampleJson[];
}

/** One submitted attempt: a grid with its votes and mean confidence. */
export interface ArcAttempt {
  /** The predicted output grid. */
  grid: number[][];
  /** Augmented versions that predicted this grid. */
  votes: number;
  /** Mean sigmoid(q_halt) of those predictions. */
  confidence: number;
}

/** One row per augmented version of a task: its puzzle id and augmentation. */
export interface ArcVersion {
  /** Puzzle id (index in identifiers.json). */
  id: number;
  /** The augmentation (undefined for the original). */
  aug?: ArcAugmentation;
}

/** Task id → puzzle ids of its versions, from identifiers.json. */
export class ArcTaskIndex {
  readonly #identifiers: readonly string[];
  readonly #byTask = new Map<string, number[]>();

  /** Indexes every name except "<blank>". */
  constructor(identifiers: readonly string[]) {
    this.#identifiers = identifiers;
    identifiers.forEach((name, id) => {
      if (name === '<blank>') return;
      const cut = name.indexOf(ARC_NAME_SEPARATOR);
      const task = cut < 0 ? name : name.slice(0, cut);
      let ids = this.#byTask.get(task);
      if (!ids) this.#byTask.set(task, (ids = []));
      ids.push(id);
    });
  }

  /** Number of tasks. */
  get size(): number {
    return this.#byTask.size;
  }

  /** True when the model has puzzle ids for `taskId`. */
  has(taskId: string): boolean {
    return this.#byTask.has(taskId);
  }

  /** The versions of `taskId` (undefined when unknown). */
  versions(taskId: string): ArcVersion[] | undefined {
    return this.#byTask.get(taskId)?.map((id) => ({ id, aug: parseArcPuzzleName(this.#identifiers[id]).aug }));
  }
}

function invalid(message: string): TrmError {
  return new TrmError(ErrorCodes.INVALID_ARGUMENT, message);
}

/** Validates an ARC request; returns the test input grid. */
export function parseArcInput(input: ArcInput): Grid {
  if (input === null || typeof input !== 'object') throw invalid('arc: expected { taskId, input, train? }');
  if (typeof input.taskId !== 'string' || input.taskId.length === 0)
    throw invalid('arc: taskId must be a non-empty string (the task id of identifiers.json)');
  const asInvalid = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof TrmError) throw invalid(e.message);
      throw e;
    }
  };
  const grid = asInvalid(() => arcGridFromJson(input.input, `arc task ${input.taskId}: input`));
  if (input.train !== undefined) {
    if (!Array.isArray(input.train)) throw invalid(`arc task ${input.taskId}: train must be a list of {input, output} pairs`);
    input.train.forEach((p, i) =>
      asInvalid(() => {
        arcGridFromJson(p?.input, `arc task ${input.taskId}: train[${i}].input`);
        arcGridFromJson(p?.output, `arc task ${input.taskId}: train[${i}].output`);
      }),
    );
  }
  return grid;
}

/** The error for a task the model has no puzzle embedding for (docs/algorithm.md §10 item 3). */
export function unknownTaskError(taskId: string, knownTasks: number): TrmError {
  return new TrmError(
    ErrorCodes.INVALID_ARGUMENT,
    `arc: task "${taskId}" is not among the ${knownTasks} tasks of this model's identifiers.json. A TRM recognises an ARC task only ` +
      `through the puzzle embeddings it learned for that task's augmented versions, so an unseen task needs new embedding rows ` +
      `fine-tuned on its demonstration pairs: run \`trm adapt\` (or adaptToTask()) first. Check the task id, or pass the identifiers.json of the dataset the model was trained on.`,
  );
}

/** Tokens [versions·900] and puzzle ids of `grid` encoded under every version's augmentation (at offset 0, 0 as the test split). */
export function encodeArcVersions(grid: Grid, versions: readonly ArcVersion[]): { inputs: Int32Array; ids: Int32Array } {
  const inputs = new Int32Array(versions.length * ARC_SEQ_LEN);
  const canvas = new Uint8Array(ARC_SEQ_LEN);
  versions.forEach((v, i) => {
    canvas.fill(0);
    encodeArcGridInto(canvas, grid, 0, 0, v.aug?.tid ?? 0, v.aug?.colorMap);
    inputs.set(canvas, i * ARC_SEQ_LEN);
  });
  return { inputs, ids: Int32Array.from(versions, (v) => v.id) };
}

/** Predictions of every version, voted: the un-augmented grids ranked by (votes, mean confidence). */
export function voteArcPredictions(
  versions: readonly ArcVersion[],
  preds: readonly ArrayLike<number>[],
  qHalt: readonly number[],
  top: number,
): ArcAttempt[] {
  const tally = new VoteTally();
  const grids = new Map<string, Grid>();
  versions.forEach((v, i) => {
    const cropped = cropArcGrid(preds[i]);
    const grid = v.aug ? inverseArcAugmentation(cropped, v.aug) : cropped;
    const hash = arcGridHash(grid);
    if (!grids.has(hash)) grids.set(hash, grid);
    tally.add(hash, sigmoid(qHalt[i]));
  });
  return tally
    .ranked()
    .slice(0, top)
    .map((c) => ({ grid: gridToRows(grids.get(c.hash) as Grid), votes: c.votes, confidence: c.meanQ }));
}
