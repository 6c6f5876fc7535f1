/**
 * The web page's examples: puzzles the served model can be expected to solve. They come from
 * the model's own test split when a dataset folder is given (`trm serve --data`), else they are
 * generated like the training puzzles its model card describes (Sudoku blanks, maze side and path
 * length). Without either there are none, and the page says why instead of offering a puzzle
 * the model may never have seen the like of.
 */
import type { ModelCard } from '../card';
import { MAZE_CHARSET } from '../data/maze';
import { generateMazePuzzle } from '../data/maze-generator';
import { readDataset, readTestPuzzles, type ArcTaskJson } from '../data/format';
import { RandomState } from '../data/rng';
import { generateSudokuWithBlanks } from '../data/sudoku-generator';
import type { SolverKind } from '../solver';

/** An ARC example: a task id the model knows and the task. */
export interface ArcPageExample {
  taskId: string;
  task: ArcTaskJson;
}

/** What GET /examples answers. */
export interface PageExamples {
  /** Where the examples come from, or why there are none (shown on the page). */
  source: string;
  /** Sudoku: 81-character puzzles; maze: rows joined by newlines; ARC: tasks. */
  items: Array<string | ArcPageExample>;
}

/** Examples per page (a few, spread over the set). */
export const EXAMPLE_COUNT = 12;
const ARC_EXAMPLE_COUNT = 4;
const SEED = 20251008;

/** `count` indices spread evenly over `n`. */
function spread(n: number, count: number): number[] {
  const k = Math.min(n, count);
  return Array.from({ length: k }, (_, i) => Math.floor((i * n) / k));
}

/** Examples from the test split of the dataset folder `dir` (its first set). */
export function examplesFromDataset(kind: SolverKind, dir: string, count = EXAMPLE_COUNT): PageExamples {
  const source = `the test split of ${dir}`;
  if (kind === 'arc') {
    const tasks = [...readTestPuzzles(dir)].slice(0, ARC_EXAMPLE_COUNT);
    return { source, items: tasks.map(([taskId, task]) => ({ taskId, task: { train: task.train, test: task.test } })) };
  }
  const split = readDataset(dir, 'test');
  const set = split.sets[split.metadata.sets[0]];
  const S = split.metadata.seqLen;
  const rows = set.inputs.shape[0];
  const items = spread(rows, count).map((r) => {
    const tokens = Array.from(set.inputs.data.slice(r * S, (r + 1) * S) as ArrayLike<number | bigint>, Number);
    if (kind === 'sudoku') return tokens.map((t) => (t >= 2 && t <= 10 ? String(t - 1) : '.')).join('');
    const side = Math.round(Math.sqrt(S));
    const text = tokens.map((t) => MAZE_CHARSET[t - 1] ?? '#').join('');
    return Array.from({ length: side }, (_, i) => text.slice(i * side, (i + 1) * side)).join('\n');
  });
  return { source, items };
}

/** Examples generated like the training puzzles of `card`; none (with the reason) when it does not say. */
export function examplesFromCard(kind: SolverKind, card: ModelCard | undefined, count = EXAMPLE_COUNT): PageExamples {
  const rng = new RandomState(SEED);
  if (kind === 'sudoku' && card?.sudokuBlanks) {
    const { min, max } = card.sudokuBlanks;
    const items: string[] = [];
    for (let i = 0; i < count; i++) {
      const blanks = min + Math.round(((max - min) * i) / Math.max(1, count - 1));
      let p = null;
      while (!p) p = generateSudokuWithBlanks(rng, blanks);
      items.push(p.question);
    }
    return { source: `generated like the training puzzles: ${min === max ? min : `${min} to ${max}`} blanks`, items };
  }
  if (kind === 'maze' && card?.maze) {
    const { side, minPathLength } = card.maze;
    const items = Array.from({ length: Math.min(count, 4) }, () => {
      const q = generateMazePuzzle(rng, { size: side, minPathLength }).question;
      return Array.from({ length: side }, (_, i) => q.slice(i * side, (i + 1) * side)).join('\n');
    });
    return { source: `generated like the training mazes: ${side}×${side}, shortest path longer than ${minPathLength} steps`, items };
  }
  const why = card
    ? 'its model card does not describe the training puzzles'
    : 'the checkpoint has no model card saying what it was trained on';
  return { source: `none: ${why}; give the dataset folder (trm serve --data) to draw examples from its test split`, items: [] };
}
