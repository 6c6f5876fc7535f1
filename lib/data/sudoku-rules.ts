/**
 * Sudoku boards as 81 digits (row-major, 0 = blank), their text form and validity rules.
 */
import { ErrorCodes, TrmError } from '../errors';

/** Cells of a 9×9 board. */
export const SUDOKU_CELLS = 81;

/** A puzzle as the CSV layout stores it: 81-character strings, '.' (or '0') for blanks. */
export interface SudokuPuzzle {
  /** The givens, 81 characters of 1–9 and '.' or '0' for blanks. */
  question: string;
  /** The full solution, 81 characters of 1–9. */
  answer: string;
  /** Difficulty (the dataset's `rating` column; for generated puzzles, the solver's backtracks). */
  rating: number;
  /** Where the puzzle comes from (the `source` column). */
  source?: string;
}

/** Parses an 81-character question ('.' or '0' blank) into digits; returns a reason string on failure. */
export function parseSudokuQuestion(text: string): Uint8Array | string {
  if (text.length !== SUDOKU_CELLS) return `question must have 81 characters, found ${text.length}`;
  const out = new Uint8Array(SUDOKU_CELLS);
  for (let i = 0; i < SUDOKU_CELLS; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x2e /* . */) out[i] = 0;
    else if (ch >= 0x30 && ch <= 0x39) out[i] = ch - 0x30;
    else return `question has ${JSON.stringify(text[i])} at position ${i}; expected 1-9, or '.' or '0' for a blank`;
  }
  return out;
}

/** Parses an 81-character answer of digits 1–9; returns a reason string on failure. */
export function parseSudokuAnswer(text: string): Uint8Array | string {
  if (text.length !== SUDOKU_CELLS) return `answer must have 81 characters, found ${text.length}`;
  const out = new Uint8Array(SUDOKU_CELLS);
  for (let i = 0; i < SUDOKU_CELLS; i++) {
    const ch = text.charCodeAt(i);
    if (ch < 0x31 || ch > 0x39) return `answer has ${JSON.stringify(text[i])} at position ${i}; expected a digit 1-9`;
    out[i] = ch - 0x30;
  }
  return out;
}

/** Returns null if `digits` is a complete valid solution (every row, column and box holds 1–9 once), else the first violation. */
export function sudokuSolutionError(digits: Uint8Array): string | null {
  for (let unit = 0; unit < 27; unit++) {
    let seen = 0;
    for (let k = 0; k < 9; k++) {
      const cell = unitCell(unit, k);
      const d = digits[cell];
      if (d < 1 || d > 9) return `cell ${cell} holds ${d}, not a digit 1-9`;
      const bit = 1 << d;
      if (seen & bit) return `digit ${d} appears twice in ${unitName(unit)}`;
      seen |= bit;
    }
  }
  return null;
}

/** Index of the first given (non-zero) digit of `question` that differs from `answer`, or -1 when all agree. */
export function sudokuGivensMatch(question: Uint8Array, answer: Uint8Array): number {
  for (let i = 0; i < SUDOKU_CELLS; i++) if (question[i] !== 0 && question[i] !== answer[i]) return i;
  return -1;
}

/** Digits → 81-character text with `blank` for 0. */
export function sudokuToText(digits: Uint8Array, blank = '.'): string {
  let s = '';
  for (let i = 0; i < SUDOKU_CELLS; i++) s += digits[i] === 0 ? blank : String(digits[i]);
  return s;
}

/** Parses and validates a puzzle (question, answer and their agreement); throws DATA_FORMAT naming `where`. */
export function parseSudokuPuzzle(puzzle: SudokuPuzzle, where: string): { question: Uint8Array; answer: Uint8Array } {
  const question = parseSudokuQuestion(puzzle.question);
  if (typeof question === 'string') throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: ${question}`);
  const answer = parseSudokuAnswer(puzzle.answer);
  if (typeof answer === 'string') throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: ${answer}`);
  const invalid = sudokuSolutionError(answer);
  if (invalid) throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: the answer is not a valid Sudoku solution: ${invalid}`);
  const mismatch = sudokuGivensMatch(question, answer);
  if (mismatch >= 0) {
    throw new TrmError(
      ErrorCodes.DATA_FORMAT,
      `${where}: the question gives ${question[mismatch]} at cell ${mismatch} (row ${Math.floor(mismatch / 9) + 1}, column ${(mismatch % 9) + 1}) but the answer has ${answer[mismatch]}`,
    );
  }
  return { question, answer };
}

/** Cell index of the k-th cell of unit u (0–8 rows, 9–17 columns, 18–26 boxes). */
function unitCell(u: number, k: number): number {
  if (u < 9) return u * 9 + k;
  if (u < 18) return k * 9 + (u - 9);
  const b = u - 18;
  return (Math.floor(b / 3) * 3 + Math.floor(k / 3)) * 9 + (b % 3) * 3 + (k % 3);
}

function unitName(u: number): string {
  if (u < 9) return `row ${u + 1}`;
  if (u < 18) return `column ${u - 8}`;
  return `box ${u - 17}`;
}
