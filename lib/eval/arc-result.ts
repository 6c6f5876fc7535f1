/**
 * Scoring ARC votes (docs/algorithm.md §6.2 `result()`): pass@K per task and the Kaggle ARC Prize
 * `submission.json` ({task id: [{attempt_1, attempt_2}, ...]}, one entry per test input in order).
 */
import * as path from 'path';
import { writeFileAtomic } from '../atomic-write';
import { ErrorCodes, TrmError } from '../errors';
import { arcGridHash } from '../data/arc-grid';
import type { ArcTaskJson } from '../data/format';
import { gridFromRows, gridToRows, type Grid } from '../data/grid';
import type { RankedCandidate, VoteTally } from './arc-vote';

/** One test input's entry in a Kaggle submission: `attempt_1`, `attempt_2`, ... → grid. */
export type ArcSubmissionEntry = Record<string, number[][]>;

/** The Kaggle ARC Prize submission: task id → one entry per test input, in order. */
export type ArcSubmission = Record<string, ArcSubmissionEntry[]>;

/** How one test input scored. */
export interface ArcInputScore {
  /** Predictions (votes) recorded for this input. */
  predictions: number;
  /** Distinct predicted grids. */
  candidates: number;
  /** 1-based rank of the correct grid among the candidates, or null if it was never predicted. */
  labelRank: number | null;
  /** The top candidates (up to submissionK) with their votes and mean confidence. */
  top: RankedCandidate[];
}

/** How one task scored. */
export interface ArcTaskScore {
  /** Task id. */
  taskId: string;
  /** One score per test input, in order. */
  inputs: ArcInputScore[];
}

/** What {@link scoreArcVotes} (and `ArcEvaluator.result()`) returns. */
export interface ArcEvalResult {
  /** `ARC/pass@K` → mean over tasks of the fraction of the task's test inputs solved within the top K. */
  metrics: Record<string, number>;
  /** The Kaggle submission (write it with {@link writeArcSubmission}). */
  submission: ArcSubmission;
  /** Per task and test input: predictions, candidates and the rank of the right answer. */
  tasks: ArcTaskScore[];
  /** Problems found while scoring, e.g. test inputs that received no prediction. */
  warnings: string[];
}

/** The grid submitted for an input that received no prediction. */
const NO_PREDICTION: readonly number[][] = [[0]];

/**
 * Ranks the votes of every test input of `testPuzzles` (in file order) and scores them.
 * `votesOf(task, inputHash)` returns the tally of one input, `gridOf(hash)` a predicted grid.
 */
export function scoreArcVotes(
  testPuzzles: ReadonlyMap<string, ArcTaskJson>,
  votesOf: (taskId: string, inputHash: string) => VoteTally | undefined,
  gridOf: (hash: string) => Grid | undefined,
  passKs: readonly number[],
  submissionK: number,
): ArcEvalResult {
  const solved = passKs.map(() => 0);
  const submission: ArcSubmission = {};
  const tasks: ArcTaskScore[] = [];
  const warnings: string[] = [];
  for (const [taskId, task] of testPuzzles) {
    const entries: ArcSubmissionEntry[] = (submission[taskId] = []);
    const inputs: ArcInputScore[] = [];
    const hits = passKs.map(() => 0);
    task.test.forEach((pair, i) => {
      const inputHash = arcGridHash(gridFromRows(pair.input));
      const labelHash = arcGridHash(gridFromRows(pair.output));
      const tally = votesOf(taskId, inputHash);
      const ranked = tally ? tally.ranked() : [];
      const rank = ranked.findIndex((c) => c.hash === labelHash);
      passKs.forEach((k, j) => {
        if (rank >= 0 && rank < k) hits[j] += 1;
      });
      const top = ranked.slice(0, submissionK);
      inputs.push({ predictions: tally ? tally.totalVotes : 0, candidates: ranked.length, labelRank: rank >= 0 ? rank + 1 : null, top });
      const grids = top.map((c) => {
        const g = gridOf(c.hash);
        if (!g)
          throw new TrmError(
            ErrorCodes.INTERNAL,
            `ARC scoring: no grid stored for predicted hash ${c.hash}; a merged snapshot lacks its grids`,
          );
        return gridToRows(g);
      });
      if (grids.length === 0) {
        warnings.push(
          `task ${taskId} test input ${i} has no predictions; its submission entry is [[0]] so the task's list stays aligned with its test inputs`,
        );
        grids.push(NO_PREDICTION.map((row) => [...row]));
      }
      while (grids.length < submissionK) grids.push(grids[0]);
      const entry: ArcSubmissionEntry = {};
      grids.forEach((g, a) => {
        entry[`attempt_${a + 1}`] = g;
      });
      entries.push(entry);
    });
    const n = task.test.length;
    passKs.forEach((_, j) => {
      solved[j] += n > 0 ? hits[j] / n : 0;
    });
    tasks.push({ taskId, inputs });
  }
  const metrics: Record<string, number> = {};
  const numTasks = testPuzzles.size;
  passKs.forEach((k, j) => {
    metrics[`ARC/pass@${k}`] = numTasks > 0 ? solved[j] / numTasks : 0;
  });
  return { metrics, submission, tasks, warnings };
}

/** Writes `submission.json` into `dir` (atomically) and returns its path. */
export function writeArcSubmission(dir: string, submission: ArcSubmission): string {
  const file = path.join(dir, 'submission.json');
  writeFileAtomic(file, JSON.stringify(submission));
  return file;
}
