/** The 8 dihedral transforms of docs/algorithm.md §5.6 match NumPy and are undone by DIHEDRAL_INVERSE. */
import { ErrorCodes } from '../lib/errors';
import { DIHEDRAL_INVERSE, dihedralTransform, inverseDihedralTransform } from '../lib/data/dihedral';
import { Grid, gridFromRows, gridsEqual, gridToRows } from '../lib/data/grid';
import { catchTrmError } from './fixtures/data/helpers';
import fixtures from './fixtures/data/numpy-fixtures.json';

function randomGrid(rows: number, cols: number, seed: number): Grid {
  const data = new Uint8Array(rows * cols);
  let x = seed;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    data[i] = x % 10;
  }
  return { rows, cols, data };
}

describe('dihedral transforms', () => {
  const grid = gridFromRows([
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9, 10, 11],
  ]);

  test.each([0, 1, 2, 3, 4, 5, 6, 7])('tid %i equals NumPy on a 3×4 grid', (tid) => {
    expect(gridToRows(dihedralTransform(grid, tid))).toEqual(fixtures.dihedral_3x4[tid]);
  });

  test('rot90 turns counter-clockwise: new[i][j] = old[j][n−1−i] on a square grid', () => {
    const g = randomGrid(5, 5, 3);
    const r = dihedralTransform(g, 1);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(r.data[i * 5 + j]).toBe(g.data[j * 5 + (4 - i)]);
  });

  test('inverse ∘ transform = identity for all 8 tids on rectangles, squares and lines', () => {
    for (const [rows, cols] of [
      [1, 1],
      [1, 7],
      [7, 1],
      [3, 5],
      [5, 3],
      [30, 30],
      [29, 30],
    ]) {
      const g = randomGrid(rows, cols, rows * 100 + cols);
      for (let tid = 0; tid < 8; tid++) {
        expect(gridsEqual(inverseDihedralTransform(dihedralTransform(g, tid), tid), g)).toBe(true);
        expect(gridsEqual(dihedralTransform(inverseDihedralTransform(g, tid), tid), g)).toBe(true);
      }
    }
  });

  test('the inverse table is [0, 3, 2, 1, 4, 5, 6, 7] and the 8 transforms of an asymmetric grid differ', () => {
    expect(DIHEDRAL_INVERSE).toEqual([0, 3, 2, 1, 4, 5, 6, 7]);
    const g = randomGrid(4, 4, 11);
    const seen = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((t) => Array.from(dihedralTransform(g, t).data).join(',')));
    expect(seen.size).toBe(8);
  });

  test('a value map is applied together with the transform', () => {
    const map = [0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11];
    const mapped = dihedralTransform(grid, 6, map);
    const plain = dihedralTransform(grid, 6);
    expect(Array.from(mapped.data)).toEqual(Array.from(plain.data, (v) => map[v]));
  });

  test('a bad transform id → INVALID_ARGUMENT', () => {
    expect(catchTrmError(() => dihedralTransform(grid, 8)).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect(catchTrmError(() => dihedralTransform(grid, 1.5)).code).toBe(ErrorCodes.INVALID_ARGUMENT);
  });
});
