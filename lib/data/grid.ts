/**
 * A small 2-D grid of byte values, stored row-major (C order), the common currency of the
 * Sudoku, Maze and ARC builders.
 */
import { ErrorCodes, TrmError } from '../errors';

/** A rows × cols grid of byte values; cell (r, c) is `data[r * cols + c]`. */
export interface Grid {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
}

/** Creates a grid, checking that `data` holds exactly rows × cols cells. */
export function makeGrid(rows: number, cols: number, data: Uint8Array = new Uint8Array(rows * cols)): Grid {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || data.length !== rows * cols) {
    throw new TrmError(ErrorCodes.SHAPE, `makeGrid: a ${rows}×${cols} grid needs ${rows * cols} cells, got ${data.length}`);
  }
  return { rows, cols, data };
}

/** Converts a list of equal-length rows of integers 0..255 into a {@link Grid}. */
export function gridFromRows(rows: readonly (readonly number[])[]): Grid {
  const nrow = rows.length;
  const ncol = nrow > 0 ? rows[0].length : 0;
  const data = new Uint8Array(nrow * ncol);
  rows.forEach((row, r) => {
    if (row.length !== ncol) throw new TrmError(ErrorCodes.SHAPE, `gridFromRows: row ${r} has ${row.length} cells, row 0 has ${ncol}`);
    row.forEach((v, c) => {
      data[r * ncol + c] = v;
    });
  });
  return { rows: nrow, cols: ncol, data };
}

/** Converts a grid back to a list of rows of numbers (the JSON form of an ARC grid). */
export function gridToRows(grid: Grid): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < grid.rows; r++) out.push(Array.from(grid.data.subarray(r * grid.cols, (r + 1) * grid.cols)));
  return out;
}

/** True when both grids have the same shape and cells. */
export function gridsEqual(a: Grid, b: Grid): boolean {
  if (a.rows !== b.rows || a.cols !== b.cols) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}
