/**
 * Held-out exact accuracy by number of blanks, measured through the same {@link Solver} a service
 * uses: a puzzle counts as solved when the answer equals its (unique) solution in every cell.
 */
import { Solver, type ForwardDtype } from '../../lib';
import type { CardInference, CardScore } from '../../lib/card';
import type { HeldOutSet } from './sudoku-sets';

/** Scores the checkpoint `file` on every set with the given inference settings and forward dtype. */
export async function scoreByBlanks(file: string, sets: readonly HeldOutSet[], inference: CardInference, forwardDtype: ForwardDtype): Promise<CardScore[]> {
  const solver = await Solver.load(file, { kind: 'sudoku', ...inference, forwardDtype, maxBatch: 256 });
  try {
    const scores: CardScore[] = [];
    for (const set of sets) {
      const answers = await Promise.all(set.puzzles.map((p) => solver.solve(p.question)));
      const solved = answers.filter((a, i) => a.text === set.puzzles[i].answer).length;
      const steps = answers.reduce((n, a) => n + a.steps, 0);
      scores.push({ blanks: set.blanks, count: set.puzzles.length, exactAccuracy: solved / set.puzzles.length, meanSteps: steps / set.puzzles.length });
    }
    return scores;
  } finally {
    solver.dispose();
  }
}
