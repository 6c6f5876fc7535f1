/**
 * An exact Sudoku solver: depth-first search over bit masks of the digits still allowed in each
 * row, column and box, always branching on the empty cell with the fewest candidates. It counts
 * solutions (up to a limit, to prove uniqueness) and measures the search effort as the number of
 * dead ends met, the difficulty rating of generated puzzles.
 */
import { ErrorCodes, TrmError } from '../errors';
import { RandomState } from './rng';
import { SUDOKU_CELLS } from './sudoku-rules';

/** What a search found. */
export interface SudokuSolveResult {
  /** Solutions found, at most the requested limit. */
  solutions: number;
  /** The first solution found (81 digits), if any. */
  solution: Uint8Array | null;
  /** Dead ends (cells left without a candidate) met before the first solution: the difficulty. */
  backtracksToFirst: number;
  /** Dead ends met during the whole search. */
  backtracks: number;
}

/** Options of {@link solveSudoku}. */
export interface SudokuSolveOptions {
  /** Stop after this many solutions (default 2: enough to tell unique from ambiguous). */
  limit?: number;
  /** Try candidate digits in a random order drawn from this generator (default: ascending). */
  rng?: RandomState;
}

const ROW = new Uint8Array(SUDOKU_CELLS);
const COL = new Uint8Array(SUDOKU_CELLS);
const BOX = new Uint8Array(SUDOKU_CELLS);
for (let i = 0; i < SUDOKU_CELLS; i++) {
  ROW[i] = Math.floor(i / 9);
  COL[i] = i % 9;
  BOX[i] = Math.floor(ROW[i] / 3) * 3 + Math.floor(COL[i] / 3);
}
const ALL = 0x3fe; // bits 1..9
const DIGITS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const POPCOUNT = new Uint8Array(1024);
for (let m = 1; m < 1024; m++) POPCOUNT[m] = POPCOUNT[m >> 1] + (m & 1);

/** Search state over one board. */
class Search {
  readonly cells: Uint8Array;
  private readonly rowUsed = new Uint16Array(9);
  private readonly colUsed = new Uint16Array(9);
  private readonly boxUsed = new Uint16Array(9);
  solutions = 0;
  solution: Uint8Array | null = null;
  backtracks = 0;
  backtracksToFirst = 0;

  constructor(
    board: Uint8Array,
    private readonly limit: number,
    private readonly rng?: RandomState,
  ) {
    this.cells = Uint8Array.from(board);
  }

  /** Places the givens; false when two givens clash. */
  init(): boolean {
    for (let i = 0; i < SUDOKU_CELLS; i++) {
      const d = this.cells[i];
      if (d === 0) continue;
      const bit = 1 << d;
      if ((this.rowUsed[ROW[i]] | this.colUsed[COL[i]] | this.boxUsed[BOX[i]]) & bit) return false;
      this.rowUsed[ROW[i]] |= bit;
      this.colUsed[COL[i]] |= bit;
      this.boxUsed[BOX[i]] |= bit;
    }
    return true;
  }

  /** Depth-first search; returns true to stop (limit reached). */
  run(): boolean {
    let best = -1;
    let bestMask = 0;
    let bestCount = 10;
    const cells = this.cells;
    for (let i = 0; i < SUDOKU_CELLS; i++) {
      if (cells[i] !== 0) continue;
      const mask = ALL & ~(this.rowUsed[ROW[i]] | this.colUsed[COL[i]] | this.boxUsed[BOX[i]]);
      const count = POPCOUNT[mask];
      if (count < bestCount) {
        best = i;
        bestMask = mask;
        bestCount = count;
        if (count <= 1) break;
      }
    }
    if (best < 0) {
      this.solutions += 1;
      if (this.solution === null) {
        this.solution = Uint8Array.from(cells);
        this.backtracksToFirst = this.backtracks;
      }
      return this.solutions >= this.limit;
    }
    if (bestCount === 0) {
      this.backtracks += 1;
      return false;
    }
    const r = ROW[best],
      c = COL[best],
      b = BOX[best];
    const order = this.rng && bestCount > 1 ? this.rng.permuted(DIGITS) : DIGITS;
    for (let k = 0; k < 9; k++) {
      const d = order[k];
      const bit = 1 << d;
      if (!(bestMask & bit)) continue;
      cells[best] = d;
      this.rowUsed[r] |= bit;
      this.colUsed[c] |= bit;
      this.boxUsed[b] |= bit;
      const stop = this.run();
      this.rowUsed[r] &= ~bit;
      this.colUsed[c] &= ~bit;
      this.boxUsed[b] &= ~bit;
      cells[best] = 0;
      if (stop) return true;
    }
    return false;
  }
}

/** Solves a board of 81 digits (0 = blank), counting solutions up to `options.limit`. */
export function solveSudoku(board: Uint8Array, options: SudokuSolveOptions = {}): SudokuSolveResult {
  if (board.length !== SUDOKU_CELLS || board.some((d) => d > 9)) {
    throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `solveSudoku: a board is 81 digits 0-9 (0 = blank), got ${board.length} values`);
  }
  const limit = options.limit ?? 2;
  const search = new Search(board, limit, options.rng);
  if (search.init()) search.run();
  return {
    solutions: search.solutions,
    solution: search.solution,
    backtracksToFirst: search.backtracksToFirst,
    backtracks: search.backtracks,
  };
}

/** True when the board has exactly one solution. */
export function hasUniqueSolution(board: Uint8Array): boolean {
  return solveSudoku(board, { limit: 2 }).solutions === 1;
}
