/**
 * The Sudoku generator and solver: generated puzzles have exactly one solution (checked by an
 * independent plain backtracking counter), are minimal, agree with their answers, honour
 * minDifficulty and are reproducible from the seed.
 */
import { ErrorCodes } from '../lib/errors';
import { RandomState } from '../lib/data/rng';
import { generateSudoku, generateSudokuPuzzle } from '../lib/data/sudoku-generator';
import { solveSudoku } from '../lib/data/sudoku-solver';
import { rejectsTrmError } from './fixtures/data/helpers';

/** Candidates of one cell, computed plainly from its row, column and box. */
function candidates(board: number[], cell: number): number[] {
  const r = Math.floor(cell / 9);
  const c = cell % 9;
  const used = new Array<boolean>(10).fill(false);
  for (let k = 0; k < 9; k++) {
    used[board[r * 9 + k]] = true;
    used[board[k * 9 + c]] = true;
    used[board[(Math.floor(r / 3) * 3 + Math.floor(k / 3)) * 9 + Math.floor(c / 3) * 3 + (k % 3)]] = true;
  }
  const out: number[] = [];
  for (let d = 1; d <= 9; d++) if (!used[d]) out.push(d);
  return out;
}

/** Counts solutions up to `limit` by plain backtracking on the cell with the fewest candidates (no bit masks). */
function countSolutions(board: number[], limit = 2): number {
  let best = -1;
  let bestCands: number[] = [];
  for (let cell = 0; cell < 81; cell++) {
    if (board[cell] !== 0) continue;
    const cands = candidates(board, cell);
    if (best < 0 || cands.length < bestCands.length) {
      best = cell;
      bestCands = cands;
    }
    if (cands.length === 0) return 0;
  }
  if (best < 0) return 1;
  let count = 0;
  for (const d of bestCands) {
    if (count >= limit) break;
    board[best] = d;
    count += countSolutions(board, limit - count);
    board[best] = 0;
  }
  return count;
}

const digits = (s: string): number[] => Array.from(s, (ch) => (ch === '.' ? 0 : Number(ch)));

describe('Sudoku generator', () => {
  test('generated puzzles have a unique solution equal to their answer, and are minimal', async () => {
    const puzzles = await generateSudoku({ count: 8, seed: 3 });
    for (const p of puzzles) {
      const q = digits(p.question);
      expect(countSolutions([...q])).toBe(1);
      const solved = solveSudoku(Uint8Array.from(q), { limit: 1 }).solution as Uint8Array;
      expect(Array.from(solved)).toEqual(digits(p.answer));
      for (let c = 0; c < 81; c++) if (q[c] !== 0) expect(q[c]).toBe(digits(p.answer)[c]);
    }
    // Minimal: removing any one given of the easiest puzzle makes the solution ambiguous.
    const easiest = puzzles.reduce((a, b) => (b.rating < a.rating ? b : a));
    const q = digits(easiest.question);
    for (let c = 0; c < 81; c++) {
      if (q[c] === 0) continue;
      const fewer = [...q];
      fewer[c] = 0;
      expect(countSolutions(fewer)).toBe(2);
    }
  });

  test('the rating is the solver’s dead-end count and minDifficulty filters on it', async () => {
    const puzzles = await generateSudoku({ count: 8, seed: 4, minDifficulty: 20 });
    for (const p of puzzles) {
      expect(p.rating).toBeGreaterThanOrEqual(20);
      expect(solveSudoku(Uint8Array.from(digits(p.question)), { limit: 1 }).backtracksToFirst).toBe(p.rating);
    }
  });

  test('the same seed gives the same puzzles', async () => {
    const a = await generateSudoku({ count: 3, seed: 9 });
    const b = await generateSudoku({ count: 3, seed: 9 });
    expect(b).toEqual(a);
    expect(generateSudokuPuzzle(new RandomState(10)).question).not.toBe(a[0].question);
  });

  test('the solver counts solutions of ambiguous and contradictory boards', () => {
    expect(solveSudoku(new Uint8Array(81), { limit: 5 }).solutions).toBe(5);
    const clash = new Uint8Array(81);
    clash[0] = 5;
    clash[1] = 5;
    expect(solveSudoku(clash).solutions).toBe(0);
  });

  test('bad options → INVALID_ARGUMENT', async () => {
    expect((await rejectsTrmError(generateSudoku({ count: -1 }))).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect((await rejectsTrmError(generateSudoku({ count: 1, minDifficulty: 1e9, maxAttemptsPerPuzzle: 2 }))).message).toContain(
      'lower minDifficulty',
    );
  });
});

describe('generateSudoku with a fixed number of blanks', () => {
  it('blanks exactly K cells, keeps the solution unique and consistent with the givens', async () => {
    const { generateSudoku } = await import('../lib/data/sudoku-generator');
    const { solveSudoku } = await import('../lib/data/sudoku-solver');
    const puzzles = await generateSudoku({ count: 20, seed: 3, blanks: 12 });
    for (const p of puzzles) {
      const q = Uint8Array.from(p.question, (c) => (c === '.' || c === '0' ? 0 : Number(c)));
      expect(q.filter((d) => d === 0).length).toBe(12);
      const r = solveSudoku(q, { limit: 2 });
      expect(r.solutions).toBe(1);
      expect(Array.from(r.solution!).join('')).toBe(p.answer);
    }
  });

  it('reaches near-minimal puzzles: 56 blanks, still unique (blanking a random 56-cell set is almost never unique)', async () => {
    const { generateSudoku } = await import('../lib/data/sudoku-generator');
    const { solveSudoku } = await import('../lib/data/sudoku-solver');
    const puzzles = await generateSudoku({ count: 3, seed: 5, blanks: 56, maxAttemptsPerPuzzle: 200 });
    for (const p of puzzles) {
      const q = Uint8Array.from(p.question, (c) => (c === '.' || c === '0' ? 0 : Number(c)));
      expect(q.filter((d) => d === 0).length).toBe(56);
      expect(solveSudoku(q, { limit: 2 }).solutions).toBe(1);
    }
  });
});
