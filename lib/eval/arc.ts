/**
 * The ARC evaluator of docs/algorithm.md §6.2 (`evaluators/arc.py`, class `ARC`), without a process group.
 * Per row: skip padding (blank puzzle id), parse the augmentation from the puzzle's name, crop the
 * input and the prediction to grids, undo the augmentation (inverse dihedral, then inverse colour
 * map), and vote for the prediction's hash under (task, input hash) with confidence
 * sigmoid(q_halt). `result()` ranks the votes of every test input of test_puzzles.json and scores
 * pass@K and the Kaggle submission (arc-result.ts).
 *
 * The vote store is mergeable ({@link ArcEvaluator.snapshot} / {@link ArcEvaluator.merge}), so a
 * multi-rank run can gather the snapshots to rank 0 and merge them in rank order.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError, check } from '../errors';
import { ARC_SEQ_LEN, arcGridHash, cropArcGrid } from '../data/arc-grid';
import { inverseArcAugmentation, parseArcPuzzleName, type ArcAugmentation } from '../data/arc-names';
import { readDatasetMetadata, readIdentifiers, readTestPuzzles, type ArcTaskJson } from '../data/format';
import { gridFromRows, gridToRows, type Grid } from '../data/grid';
import { scoreArcVotes, type ArcEvalResult } from './arc-result';
import { sigmoid, VoteTally } from './arc-vote';
import type { BatchEvaluator, EvalBatchView } from './exact';

/** The official pass@K list. */
export const DEFAULT_PASS_KS: readonly number[] = [1, 2, 5, 10, 100, 1000];

/** Options of an {@link ArcEvaluator}. */
export interface ArcEvaluatorOptions {
  /** identifiers.json: the puzzle name of every puzzle id. */
  identifiers: readonly string[];
  /** test_puzzles.json: task id → task with its real test outputs, in file order. */
  testPuzzles: ReadonlyMap<string, ArcTaskJson>;
  /** Puzzle id of padding rows (the test split's blank_identifier_id; default 0). */
  blankIdentifierId?: number;
  /** Attempts per test input in the submission (default 2, the Kaggle rule). */
  submissionK?: number;
  /** K values of pass@K (default 1, 2, 5, 10, 100, 1000). */
  passKs?: readonly number[];
  /**
   * Keep votes across evaluations (default true, the official behaviour): each `beginEval()`
   * then adds to the predictions of every earlier evaluation, an implicit ensemble of
   * checkpoints (TRM issue #35). With false, `beginEval()` clears the votes.
   */
  aggregatedVoting?: boolean;
}

/** A JSON-serialisable copy of an evaluator's votes, for gathering across ranks. */
export interface ArcVoteSnapshot {
  /** Format version. */
  version: 1;
  /** Grid hash → grid as rows of colours. */
  grids: Record<string, number[][]>;
  /** Task id → input hash → [pred hash, votes, sum of confidences][] in first-appearance order. */
  votes: Record<string, Record<string, Array<[string, number, number]>>>;
}

/** True when `dir` is an ARC dataset (identifiers.json and test_puzzles.json, as the ARC builder writes). */
export function isArcDataset(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'identifiers.json')) && fs.existsSync(path.join(dir, 'test_puzzles.json'));
}

/** The §6.2 ARC evaluator: collects votes batch by batch and scores them with {@link ArcEvaluator.result}. */
export class ArcEvaluator implements BatchEvaluator {
  /** Whether votes survive `beginEval()` (see {@link ArcEvaluatorOptions.aggregatedVoting}). */
  readonly aggregatedVoting: boolean;
  readonly #identifiers: readonly string[];
  readonly #testPuzzles: ReadonlyMap<string, ArcTaskJson>;
  readonly #blank: number;
  readonly #submissionK: number;
  readonly #passKs: readonly number[];
  #votes = new Map<string, Map<string, VoteTally>>();
  #grids = new Map<string, Grid>();

  constructor(opts: ArcEvaluatorOptions) {
    check(Array.isArray(opts.identifiers), 'ArcEvaluator: identifiers must be the list of identifiers.json');
    check(opts.testPuzzles instanceof Map, 'ArcEvaluator: testPuzzles must be a Map of task id → task (readTestPuzzles)');
    const k = opts.submissionK ?? 2;
    check(Number.isInteger(k) && k >= 1, `ArcEvaluator: submissionK must be a positive integer, got ${k}`);
    const ks = opts.passKs ?? DEFAULT_PASS_KS;
    check(
      ks.length > 0 && ks.every((x) => Number.isInteger(x) && x >= 1),
      `ArcEvaluator: passKs must be positive integers, got [${ks.join(', ')}]`,
    );
    this.#identifiers = opts.identifiers;
    this.#testPuzzles = opts.testPuzzles;
    this.#blank = opts.blankIdentifierId ?? 0;
    this.#submissionK = k;
    this.#passKs = ks;
    this.aggregatedVoting = opts.aggregatedVoting ?? true;
  }

  /**
   * An evaluator for an ARC dataset folder: identifiers.json, test_puzzles.json and the blank id
   * of test/dataset.json (0 when the split is absent).
   */
  static fromDataset(datasetDir: string, opts: Omit<ArcEvaluatorOptions, 'identifiers' | 'testPuzzles'> = {}): ArcEvaluator {
    for (const f of ['identifiers.json', 'test_puzzles.json']) {
      if (!fs.existsSync(path.join(datasetDir, f))) {
        throw new TrmError(
          ErrorCodes.IO,
          `${datasetDir} has no ${f}; the ARC evaluator needs a dataset built by the ARC builder (trm build-data arc)`,
        );
      }
    }
    const testDir = path.join(datasetDir, 'test');
    const blank =
      opts.blankIdentifierId ?? (fs.existsSync(path.join(testDir, 'dataset.json')) ? readDatasetMetadata(testDir).blankIdentifierId : 0);
    return new ArcEvaluator({
      ...opts,
      identifiers: readIdentifiers(datasetDir),
      testPuzzles: readTestPuzzles(datasetDir),
      blankIdentifierId: blank,
    });
  }

  /** Starts an evaluation: clears the votes unless aggregated voting is on. */
  beginEval(): void {
    if (!this.aggregatedVoting) this.reset();
  }

  /** Forgets every vote (whatever aggregatedVoting says). */
  reset(): void {
    this.#votes = new Map();
    this.#grids = new Map();
  }

  /** Number of predictions recorded. */
  get predictionCount(): number {
    let n = 0;
    for (const inputs of this.#votes.values()) for (const t of inputs.values()) n += t.totalVotes;
    return n;
  }

  /** Records every non-padding row of a batch (docs/algorithm.md §6.2 steps 1–5). */
  updateBatch(view: Pick<EvalBatchView, 'inputs' | 'puzzleIdentifiers' | 'preds' | 'qHalt' | 'identifierOffset'>): void {
    const ids = view.puzzleIdentifiers.data;
    const offset = view.identifierOffset ?? 0;
    const B = ids.length;
    check(
      view.inputs.data.length === B * ARC_SEQ_LEN && view.preds.data.length === B * ARC_SEQ_LEN,
      `ArcEvaluator.updateBatch: expected inputs and preds of [${B}, ${ARC_SEQ_LEN}], got [${view.inputs.shape}] and [${view.preds.shape}]`,
    );
    check(view.qHalt.data.length === B, `ArcEvaluator.updateBatch: expected ${B} q_halt logits, got ${view.qHalt.data.length}`);
    for (let r = 0; r < B; r++) {
      const id = ids[r];
      if (id === this.#blank) continue;
      const name = this.#identifiers[id - offset];
      if (name === undefined) {
        throw new TrmError(
          ErrorCodes.DATA_FORMAT,
          `puzzle id ${id - offset}${offset ? ` (loaded as ${id})` : ''} has no name in identifiers.json (${this.#identifiers.length} entries); the dataset and its identifiers.json do not belong together`,
        );
      }
      const { taskId, aug } = parseArcPuzzleName(name);
      const at = r * ARC_SEQ_LEN;
      this.addPrediction(
        taskId,
        aug,
        view.inputs.data.subarray(at, at + ARC_SEQ_LEN),
        view.preds.data.subarray(at, at + ARC_SEQ_LEN),
        view.qHalt.data[r],
      );
    }
  }

  /**
   * Records one prediction: `inputTokens` and `predTokens` are 900-token canvases of an augmented
   * version `aug` (undefined = the original) of task `taskId`; `qHaltLogit` is its halting logit.
   */
  addPrediction(
    taskId: string,
    aug: ArcAugmentation | undefined,
    inputTokens: ArrayLike<number>,
    predTokens: ArrayLike<number>,
    qHaltLogit: number,
  ): void {
    const undo = (g: Grid): Grid => (aug ? inverseArcAugmentation(g, aug) : g);
    const inputHash = arcGridHash(undo(cropArcGrid(inputTokens)));
    const pred = undo(cropArcGrid(predTokens));
    const predHash = arcGridHash(pred);
    if (!this.#grids.has(predHash)) this.#grids.set(predHash, pred);
    let inputs = this.#votes.get(taskId);
    if (!inputs) this.#votes.set(taskId, (inputs = new Map()));
    let tally = inputs.get(inputHash);
    if (!tally) inputs.set(inputHash, (tally = new VoteTally()));
    tally.add(predHash, sigmoid(qHaltLogit));
  }

  /** A JSON-serialisable copy of the votes (for a gather across ranks). */
  snapshot(): ArcVoteSnapshot {
    const grids: ArcVoteSnapshot['grids'] = {};
    for (const [h, g] of this.#grids) grids[h] = gridToRows(g);
    const votes: ArcVoteSnapshot['votes'] = {};
    for (const [task, inputs] of this.#votes) {
      const byInput: Record<string, Array<[string, number, number]>> = (votes[task] = {});
      for (const [ih, tally] of inputs)
        byInput[ih] = Array.from(tally.entries(), ([h, s]): [string, number, number] => [h, s.votes, s.sumQ]);
    }
    return { version: 1, grids, votes };
  }

  /**
   * Adds the votes of another evaluator or snapshot after this one's own, as the official
   * rank-0 loop does over the gathered ranks (merge rank 1, then rank 2, ...).
   */
  merge(other: ArcEvaluator | ArcVoteSnapshot): void {
    const snap = other instanceof ArcEvaluator ? other.snapshot() : other;
    check(
      snap && snap.version === 1 && typeof snap.votes === 'object' && typeof snap.grids === 'object',
      'ArcEvaluator.merge: expected an ArcEvaluator or an ArcVoteSnapshot (version 1)',
    );
    for (const [h, rows] of Object.entries(snap.grids)) if (!this.#grids.has(h)) this.#grids.set(h, gridFromRows(rows));
    for (const [task, byInput] of Object.entries(snap.votes)) {
      let inputs = this.#votes.get(task);
      if (!inputs) this.#votes.set(task, (inputs = new Map()));
      for (const [ih, list] of Object.entries(byInput)) {
        let tally = inputs.get(ih);
        if (!tally) inputs.set(ih, (tally = new VoteTally()));
        for (const [h, votes, sumQ] of list) tally.add(h, sumQ, votes);
      }
    }
  }

  /**
   * Scores the votes (docs/algorithm.md §6.2 `result()`): for each task of test_puzzles.json and each of its
   * test inputs in order, rank the candidates; pass@K is the per-task mean of per-input hits,
   * averaged over tasks; the submission holds the top `submissionK` grids per input. An input
   * without any prediction still gets an entry (attempts [[0]]) and a warning, so every task's
   * list stays aligned with its test inputs (the official code skips it and misaligns the list).
   */
  result(): ArcEvalResult {
    return scoreArcVotes(
      this.#testPuzzles,
      (task, inputHash) => this.#votes.get(task)?.get(inputHash),
      (h) => this.#grids.get(h),
      this.#passKs,
      this.#submissionK,
    );
  }
}
