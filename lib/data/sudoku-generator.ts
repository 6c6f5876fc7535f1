/**
 * Offline Sudoku generator: a random complete grid (randomised exact search on an empty board),
 * then clues removed in random order while the solution stays unique, giving a minimal puzzle.
 * Difficulty is the exact solver's search effort (dead ends before the first solution); puzzles
 * below `minDifficulty` are discarded and regenerated.
 */
import { ErrorCodes, TrmError, check } from '../errors';
import { ProgressCallback, ProgressReporter } from './progress';
import { RandomState } from './rng';
import { SUDOKU_CELLS, SudokuPuzzle, sudokuToText } from './sudoku-rules';
import { solveSudoku } from './sudoku-solver';

/** Options of {@link generateSudoku}. */
export interface SudokuGenerateOptions {
  /** Number of puzzles to generate. */
  count: number;
  /** Seed (default 0); the same seed gives the same puzzles. */
  seed?: number;
  /** Keep only puzzles whose difficulty (solver dead ends) is at least this (default 0). */
  minDifficulty?: number;
  /**
   * Blank exactly this many cells (keeping the solution unique) instead of removing clues down to a
   * minimal puzzle: small values give easy puzzles for quick demos and curricula.
   */
  blanks?: number;
  /** Give up after this many discarded candidates per kept puzzle (default 10000). */
  maxAttemptsPerPuzzle?: number;
  /** Receives progress reports. */
  onProgress?: ProgressCallback;
}

/** Generates one minimal puzzle with a unique solution and its difficulty. */
export function generateSudokuPuzzle(rng: RandomState): SudokuPuzzle {
  const full = solveSudoku(new Uint8Array(SUDOKU_CELLS), { limit: 1, rng }).solution;
  if (!full) throw new TrmError(ErrorCodes.INTERNAL, 'generateSudokuPuzzle: an empty board had no solution');
  const board = Uint8Array.from(full);
  for (const cell of rng.permutation(SUDOKU_CELLS)) {
    const digit = board[cell];
    board[cell] = 0;
    if (solveSudoku(board, { limit: 2 }).solutions !== 1) board[cell] = digit;
  }
  const rating = solveSudoku(board, { limit: 1 }).backtracksToFirst;
  return { source: 'trm-native-generator', question: sudokuToText(board), answer: sudokuToText(full), rating };
}

/**
 * A puzzle with exactly `blanks` empty cells and a unique solution, or null when this draw could
 * not blank that many. Cells are blanked in random order, each only if the solution stays unique,
 * so high counts (50, 60: close to a minimal puzzle) come out in a few draws where blanking a
 * random set and testing it would almost never be unique.
 */
export function generateSudokuWithBlanks(rng: RandomState, blanks: number): SudokuPuzzle | null {
  const full = solveSudoku(new Uint8Array(SUDOKU_CELLS), { limit: 1, rng }).solution;
  if (!full) throw new TrmError(ErrorCodes.INTERNAL, 'generateSudokuWithBlanks: an empty board had no solution');
  const board = Uint8Array.from(full);
  let removed = 0;
  for (const cell of rng.permutation(SUDOKU_CELLS)) {
    if (removed === blanks) break;
    board[cell] = 0;
    if (solveSudoku(board, { limit: 2 }).solutions === 1) removed++;
    else board[cell] = full[cell];
  }
  if (removed < blanks) return null;
  const rating = solveSudoku(board, { limit: 1 }).backtracksToFirst;
  return { source: 'trm-native-generator', question: sudokuToText(board), answer: sudokuToText(full), rating };
}

/**
 * Generates `count` puzzles, each with exactly one solution and difficulty ≥ `minDifficulty`.
 * Runs in the calling thread, yielding to the event loop now and then.
 */
export async function generateSudoku(options: SudokuGenerateOptions): Promise<SudokuPuzzle[]> {
  const { count } = options;
  const seed = options.seed ?? 0;
  const minDifficulty = options.minDifficulty ?? 0;
  const maxAttempts = options.maxAttemptsPerPuzzle ?? 10000;
  const blanks = options.blanks;
  check(
    blanks === undefined || (Number.isInteger(blanks) && blanks >= 1 && blanks <= 64),
    `blanks must be an integer in [1, 64], got ${blanks}`,
  );
  check(Number.isInteger(count) && count >= 0, `count must be an integer ≥ 0, got ${count}`);
  check(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, `seed must be an integer in [0, 2^32 − 1], got ${seed}`);
  check(Number.isFinite(minDifficulty) && minDifficulty >= 0, `minDifficulty must be a number ≥ 0, got ${minDifficulty}`);
  check(Number.isInteger(maxAttempts) && maxAttempts > 0, `maxAttemptsPerPuzzle must be a positive integer, got ${maxAttempts}`);
  const rng = new RandomState(seed);
  const reporter = new ProgressReporter(options.onProgress);
  reporter.start('generate sudoku', count, 'puzzles');
  const out: SudokuPuzzle[] = [];
  while (out.length < count) {
    let attempts = 0;
    for (;;) {
      const puzzle = blanks === undefined ? generateSudokuPuzzle(rng) : generateSudokuWithBlanks(rng, blanks);
      if (puzzle && puzzle.rating >= minDifficulty) {
        out.push(puzzle);
        break;
      }
      if (++attempts >= maxAttempts) {
        throw new TrmError(
          ErrorCodes.INVALID_ARGUMENT,
          `generateSudoku: no puzzle with difficulty ≥ ${minDifficulty} in ${maxAttempts} attempts; lower minDifficulty or raise maxAttemptsPerPuzzle`,
        );
      }
      if (reporter.tick(out.length)) await reporter.pause();
    }
    if (reporter.tick(out.length)) await reporter.pause();
  }
  reporter.finish(out.length);
  return out;
}
