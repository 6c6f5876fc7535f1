/**
 * Sudoku for the solver: parsing a board (81 characters or a 9×9 array), its tokens
 * (docs/algorithm.md §5.4: blank → 1, digit d → d + 1) and a real validity check of a solution.
 */
import { ErrorCodes, TrmError } from '../errors';
import { parseSudokuQuestion, sudokuGivensMatch, sudokuSolutionError, sudokuToText } from '../data/sudoku-rules';

/** A Sudoku board: 81 characters (1–9, '.' or '0' for a blank; whitespace ignored) or 9 rows of 9 numbers (0 = blank). */
export type SudokuInput = string | ReadonlyArray<ReadonlyArray<number>>;

/** Tokens per Sudoku board. */
export const SUDOKU_SEQ_LEN = 81;

function invalid(message: string): TrmError {
  return new TrmError(ErrorCodes.INVALID_ARGUMENT, message);
}

/** The 27 units (rows, columns, boxes) as cell-index lists. */
const UNITS: number[][] = (() => {
  const units: number[][] = [];
  for (let i = 0; i < 9; i++) {
    units.push(Array.from({ length: 9 }, (_, k) => i * 9 + k));
    units.push(Array.from({ length: 9 }, (_, k) => k * 9 + i));
    const r0 = Math.floor(i / 3) * 3,
      c0 = (i % 3) * 3;
    units.push(Array.from({ length: 9 }, (_, k) => (r0 + Math.floor(k / 3)) * 9 + c0 + (k % 3)));
  }
  return units;
})();

/** Parses a board into 81 digits (0 = blank); throws ERR_TRM_INVALID_ARGUMENT naming the problem. */
export function parseSudokuBoard(input: SudokuInput, what = 'sudoku'): Uint8Array {
  let digits: Uint8Array;
  if (typeof input === 'string') {
    const parsed = parseSudokuQuestion(input.replace(/\s+/g, ''));
    if (typeof parsed === 'string') throw invalid(`${what}: ${parsed}`);
    digits = parsed;
  } else if (Array.isArray(input)) {
    if (input.length !== 9) throw invalid(`${what}: a 9×9 array needs 9 rows, found ${input.length}`);
    digits = new Uint8Array(SUDOKU_SEQ_LEN);
    input.forEach((row, r) => {
      if (!Array.isArray(row) || row.length !== 9)
        throw invalid(
          `${what}: row ${r} must be an array of 9 numbers, found ${Array.isArray(row) ? `${row.length} entries` : typeof row}`,
        );
      row.forEach((v, c) => {
        if (!Number.isInteger(v) || v < 0 || v > 9)
          throw invalid(`${what}: cell (${r}, ${c}) is ${JSON.stringify(v)}; expected an integer 0-9 (0 = blank)`);
        digits[r * 9 + c] = v;
      });
    });
  } else {
    throw invalid(`${what}: expected an 81-character string or a 9×9 array of numbers, got ${input === null ? 'null' : typeof input}`);
  }
  return digits;
}

/** The first repeated given in a row, column or box, or null when the givens are consistent. */
export function sudokuGivensConflict(digits: Uint8Array): string | null {
  for (let u = 0; u < 27; u++) {
    let seen = 0;
    for (const cell of UNITS[u]) {
      const d = digits[cell];
      if (d === 0) continue;
      if (seen & (1 << d)) {
        const kind = u % 3 === 0 ? 'row' : u % 3 === 1 ? 'column' : 'box';
        return `digit ${d} is given twice in ${kind} ${Math.floor(u / 3) + 1}`;
      }
      seen |= 1 << d;
    }
  }
  return null;
}

/** Tokens of a board: blank → 1, digit d → d + 1. */
export function encodeSudoku(digits: Uint8Array): Int32Array {
  return Int32Array.from(digits, (d) => d + 1);
}

/** Digits of predicted tokens: 2..10 → 1..9; anything else (PAD, blank) → 0. */
export function decodeSudoku(tokens: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(SUDOKU_SEQ_LEN);
  for (let i = 0; i < SUDOKU_SEQ_LEN; i++) {
    const t = tokens[i];
    out[i] = t >= 2 && t <= 10 ? t - 1 : 0;
  }
  return out;
}

/** Why 81 digits are not a solved Sudoku agreeing with `givens` (81 digits, 0 = blank), or null. */
export function sudokuDigitsError(digits: Uint8Array, givens?: Uint8Array): string | null {
  const err = sudokuSolutionError(digits);
  if (err) return err;
  if (givens) {
    const i = sudokuGivensMatch(givens, digits);
    if (i >= 0) return `cell (${Math.floor(i / 9)}, ${i % 9}) is given as ${givens[i]} but the solution has ${digits[i]}`;
  }
  return null;
}

/**
 * Why `solution` is not a solved Sudoku (every row, column and box holds 1–9 once) agreeing
 * with the `givens`, or null when it is one.
 */
export function checkSudokuSolution(solution: SudokuInput, givens?: SudokuInput): string | null {
  return sudokuDigitsError(parseSudokuBoard(solution, 'solution'), givens === undefined ? undefined : parseSudokuBoard(givens, 'givens'));
}

/** True when `solution` is a solved Sudoku that agrees with the `givens` (if given). */
export function isValidSudoku(solution: SudokuInput, givens?: SudokuInput): boolean {
  return checkSudokuSolution(solution, givens) === null;
}

/** 81 digits as text ('.' for 0) and as 9 rows. */
export function sudokuForms(digits: Uint8Array): { text: string; grid: number[][] } {
  const grid: number[][] = [];
  for (let r = 0; r < 9; r++) grid.push(Array.from(digits.subarray(r * 9, r * 9 + 9)));
  return { text: sudokuToText(digits), grid };
}
