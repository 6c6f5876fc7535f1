/**
 * The validity-preserving Sudoku augmentation of docs/algorithm.md §5.4 (`shuffle_sudoku`), drawing from
 * the RNG in the official order: digit permutation, transpose coin, band order, rows inside each
 * band, stack order, columns inside each stack.
 */
import { RandomState } from './rng';
import { SUDOKU_CELLS } from './sudoku-rules';

/** One drawn augmentation: a digit relabelling, an optional transpose, and row/column permutations. */
export interface SudokuTransform {
  /** digitMap[d] is the new digit of d; digitMap[0] = 0 keeps blanks blank. */
  digitMap: Uint8Array;
  /** Transpose the board before permuting rows and columns. */
  transpose: boolean;
  /** New row i takes old row rowPerm[i] (of the possibly transposed board). */
  rowPerm: Uint8Array;
  /** New column j takes old column colPerm[j]. */
  colPerm: Uint8Array;
}

/** Draws a transform from `rng` exactly as the official builder draws it from NumPy's global RNG. */
export function drawSudokuTransform(rng: RandomState): SudokuTransform {
  const digitMap = new Uint8Array(10);
  rng.permuted([1, 2, 3, 4, 5, 6, 7, 8, 9]).forEach((d, i) => {
    digitMap[i + 1] = d;
  });
  const transpose = rng.randomSample() < 0.5;
  const blockPerm = (): Uint8Array => {
    const out = new Uint8Array(9);
    const blocks = rng.permutation(3);
    for (let b = 0; b < 3; b++) {
      const inner = rng.permutation(3);
      for (let k = 0; k < 3; k++) out[b * 3 + k] = blocks[b] * 3 + inner[k];
    }
    return out;
  };
  const rowPerm = blockPerm();
  const colPerm = blockPerm();
  return { digitMap, transpose, rowPerm, colPerm };
}

/** Applies a transform to a board of 81 digits (0 = blank) and returns the new board. */
export function applySudokuTransform(board: Uint8Array, t: SudokuTransform): Uint8Array {
  const out = new Uint8Array(SUDOKU_CELLS);
  for (let i = 0; i < 9; i++) {
    for (let j = 0; j < 9; j++) {
      const r = t.rowPerm[i];
      const c = t.colPerm[j];
      const src = t.transpose ? c * 9 + r : r * 9 + c;
      out[i * 9 + j] = t.digitMap[board[src]];
    }
  }
  return out;
}

/** Draws one transform and applies it to a puzzle and its solution alike. */
export function shuffleSudoku(board: Uint8Array, solution: Uint8Array, rng: RandomState): [Uint8Array, Uint8Array] {
  const t = drawSudokuTransform(rng);
  return [applySudokuTransform(board, t), applySudokuTransform(solution, t)];
}
