/**
 * ARC encoding (docs/algorithm.md §5.7 step 5), cropping (§6.2 step 3), hashing and augmented names:
 * encode → crop round trips for every grid size including grids touching the 30-cell border.
 */
import { ErrorCodes } from '../lib/errors';
import { arcGridHash, arcPuzzleHash, cropArcGrid, encodeArcGrid, encodeArcGridInto } from '../lib/data/arc-grid';
import { arcPuzzleName, inverseArcAugmentation, parseArcPuzzleName } from '../lib/data/arc-names';
import { dihedralTransform } from '../lib/data/dihedral';
import { Grid, gridsEqual } from '../lib/data/grid';
import { RandomState } from '../lib/data/rng';
import { catchTrmError, runPython, sha256 } from './fixtures/data/helpers';

function randomGrid(rows: number, cols: number, rng: RandomState): Grid {
  return { rows, cols, data: Uint8Array.from({ length: rows * cols }, () => rng.randint(0, 10)) };
}

describe('encodeArcGrid / cropArcGrid', () => {
  test('encode → crop is the identity for every size 1..30 × 1..30 (including the 30 border)', () => {
    const rng = new RandomState(0);
    for (let rows = 1; rows <= 30; rows++) {
      for (let cols = 1; cols <= 30; cols++) {
        const g = randomGrid(rows, cols, rng);
        if (!gridsEqual(cropArcGrid(encodeArcGrid(g)), g)) throw new Error(`round trip failed for ${rows}×${cols}`);
      }
    }
  });

  test('the EOS frame: row below and column right where inside the canvas, no corner, PAD elsewhere', () => {
    const rng = new RandomState(1);
    for (const [rows, cols, padR, padC] of [
      [3, 4, 0, 0],
      [3, 4, 5, 7],
      [30, 5, 0, 0],
      [5, 30, 0, 0],
      [30, 30, 0, 0],
      [2, 2, 28, 28],
      [1, 1, 29, 0],
    ]) {
      const g = randomGrid(rows, cols, rng);
      const t = new Uint8Array(900);
      encodeArcGridInto(t, g, padR, padC);
      for (let r = 0; r < 30; r++) {
        for (let c = 0; c < 30; c++) {
          const inGrid = r >= padR && r < padR + rows && c >= padC && c < padC + cols;
          const eosRow = r === padR + rows && c >= padC && c < padC + cols;
          const eosCol = c === padC + cols && r >= padR && r < padR + rows;
          const want = inGrid ? g.data[(r - padR) * cols + (c - padC)] + 2 : eosRow || eosCol ? 1 : 0;
          if (t[r * 30 + c] !== want)
            throw new Error(`${rows}×${cols} at (${padR}, ${padC}): cell (${r}, ${c}) is ${t[r * 30 + c]}, expected ${want}`);
        }
      }
      const eosCount = t.filter((v) => v === 1).length;
      expect(eosCount).toBe((padR + rows < 30 ? cols : 0) + (padC + cols < 30 ? rows : 0));
    }
  });

  test('a 30×30 grid fills the canvas with colours and has no EOS at all', () => {
    const t = encodeArcGrid(randomGrid(30, 30, new RandomState(2)));
    expect(t.every((v) => v >= 2 && v <= 11)).toBe(true);
  });

  test('crop keeps the largest top-left rectangle of colour tokens (hand-computed)', () => {
    const t = new Uint8Array(900);
    // Row 0: 5 colours; rows 1-3: 3 colours; row 4: 1 colour, then EOS.
    for (let c = 0; c < 5; c++) t[c] = 3;
    for (let r = 1; r <= 3; r++) for (let c = 0; c < 3; c++) t[r * 30 + c] = 4;
    t[4 * 30] = 5;
    t[4 * 30 + 1] = 1;
    const g = cropArcGrid(t);
    // Areas: 1×5 = 5, 2×3 = 6, 3×3 = 9, 4×3 = 12, 5×1 = 5 → 4 × 3.
    expect([g.rows, g.cols]).toEqual([4, 3]);
    expect(Array.from(g.data)).toEqual([1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect([cropArcGrid(new Uint8Array(900)).rows, cropArcGrid(new Uint8Array(900)).cols]).toEqual([0, 0]);
  });

  test('a grid that does not fit → SHAPE', () => {
    expect(catchTrmError(() => encodeArcGrid(randomGrid(3, 3, new RandomState(3)), 28, 0)).code).toBe(ErrorCodes.SHAPE);
    expect(catchTrmError(() => cropArcGrid(new Uint8Array(81))).code).toBe(ErrorCodes.SHAPE);
  });
});

describe('hashes and augmented names', () => {
  test('grid and puzzle hashes follow the official construction (checked with Python hashlib)', () => {
    const a: Grid = { rows: 2, cols: 3, data: Uint8Array.from([0, 1, 2, 3, 4, 5]) };
    const b: Grid = { rows: 1, cols: 2, data: Uint8Array.from([9, 8]) };
    const python = JSON.parse(
      runPython(`import hashlib, json
def gh(shape, cells): return hashlib.sha256(bytes(shape) + bytes(cells)).hexdigest()
ha, hb = gh([2, 3], [0, 1, 2, 3, 4, 5]), gh([1, 2], [9, 8])
parts = sorted([f"{ha}|{hb}", f"{hb}|{ha}"])
print(json.dumps([ha, hb, hashlib.sha256("|".join(parts).encode()).hexdigest()]))`),
    ) as string[];
    expect([
      arcGridHash(a),
      arcGridHash(b),
      arcPuzzleHash([
        { input: a, output: b },
        { input: b, output: a },
      ]),
    ]).toEqual(python);
    expect(arcGridHash(a)).toBe(sha256(Uint8Array.from([2, 3, 0, 1, 2, 3, 4, 5])));
    // Hashing under an augmentation equals hashing the augmented grid.
    const map = Uint8Array.from([0, 3, 1, 2, 4, 5, 6, 7, 9, 8]);
    expect(arcGridHash(a, 7, map)).toBe(arcGridHash(dihedralTransform(a, 7, map)));
  });

  test('names round trip, and the inverse augmentation restores the grid', () => {
    const rng = new RandomState(4);
    const g = randomGrid(4, 7, rng);
    for (let tid = 0; tid < 8; tid++) {
      const colorMap = Uint8Array.from([0, ...rng.permuted([1, 2, 3, 4, 5, 6, 7, 8, 9])]);
      const name = arcPuzzleName('8be77c9e', { tid: tid as 0, colorMap });
      expect(name).toMatch(/^8be77c9e\|\|\|t[0-7]\|\|\|0[1-9]{9}$/);
      const parsed = parseArcPuzzleName(name);
      expect(parsed.taskId).toBe('8be77c9e');
      const aug = parsed.aug as NonNullable<typeof parsed.aug>;
      expect(gridsEqual(inverseArcAugmentation(dihedralTransform(g, tid, colorMap), aug), g)).toBe(true);
    }
    expect(parseArcPuzzleName('007bbfb7')).toEqual({ taskId: '007bbfb7' });
    expect(catchTrmError(() => parseArcPuzzleName('x|||t9|||0123456789')).code).toBe(ErrorCodes.DATA_FORMAT);
    expect(catchTrmError(() => parseArcPuzzleName('x|||t1|||0123456788')).code).toBe(ErrorCodes.DATA_FORMAT);
  });
});
