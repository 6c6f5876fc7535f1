/**
 * The 8 dihedral transforms of docs/algorithm.md §5.6 (`dataset/common.py`), on row-major grids of any
 * rectangle, with NumPy's orientation: `rot90` turns counter-clockwise.
 */
import { ErrorCodes, TrmError } from '../errors';
import { Grid } from './grid';

/** A dihedral transform id: 0 identity, 1–3 rot90 k=1..3, 4 fliplr, 5 flipud, 6 transpose, 7 anti-transpose. */
export type DihedralId = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** `DIHEDRAL_INVERSE[tid]` undoes transform `tid`. */
export const DIHEDRAL_INVERSE: readonly DihedralId[] = [0, 3, 2, 1, 4, 5, 6, 7];

/** Number of dihedral transforms. */
export const NUM_DIHEDRAL = 8;

/** Throws unless `tid` is an integer 0..7. */
export function checkDihedralId(tid: number): asserts tid is DihedralId {
  if (!Number.isInteger(tid) || tid < 0 || tid > 7) {
    throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `dihedral transform id must be an integer 0..7, got ${tid}`);
  }
}

/** True when transform `tid` swaps the number of rows and columns. */
export function dihedralSwapsAxes(tid: DihedralId): boolean {
  return tid === 1 || tid === 3 || tid === 6 || tid === 7;
}

/** Index tables of grids up to 63 × 63, cached by (tid, rows, cols): builders reuse a few thousand shapes. */
const CACHE_LIMIT = 64;
const indexCache = new Map<number, Uint32Array>();

/**
 * For transform `tid` of a rows × cols source, returns for every cell of the output (row-major)
 * the index of the source cell it copies. Lets callers fuse the transform with a value map.
 * The result may be shared with other callers: treat it as read-only.
 */
export function dihedralSourceIndex(tid: DihedralId, rows: number, cols: number): Uint32Array {
  if (rows < CACHE_LIMIT && cols < CACHE_LIMIT) {
    const key = (tid * CACHE_LIMIT + rows) * CACHE_LIMIT + cols;
    let table = indexCache.get(key);
    if (!table) {
      table = buildSourceIndex(tid, rows, cols);
      indexCache.set(key, table);
    }
    return table;
  }
  return buildSourceIndex(tid, rows, cols);
}

function buildSourceIndex(tid: DihedralId, rows: number, cols: number): Uint32Array {
  const outRows = dihedralSwapsAxes(tid) ? cols : rows;
  const outCols = dihedralSwapsAxes(tid) ? rows : cols;
  const src = new Uint32Array(rows * cols);
  let k = 0;
  for (let i = 0; i < outRows; i++) {
    for (let j = 0; j < outCols; j++) {
      let r: number;
      let c: number;
      switch (tid) {
        case 0:
          r = i;
          c = j;
          break;
        case 1:
          r = j;
          c = cols - 1 - i;
          break; // rot90 k=1
        case 2:
          r = rows - 1 - i;
          c = cols - 1 - j;
          break; // rot90 k=2
        case 3:
          r = rows - 1 - j;
          c = i;
          break; // rot90 k=3
        case 4:
          r = i;
          c = cols - 1 - j;
          break; // fliplr
        case 5:
          r = rows - 1 - i;
          c = j;
          break; // flipud
        case 6:
          r = j;
          c = i;
          break; // transpose
        case 7:
          r = rows - 1 - j;
          c = cols - 1 - i;
          break; // fliplr(rot90(k=1))
      }
      src[k++] = r * cols + c;
    }
  }
  return src;
}

/**
 * Applies dihedral transform `tid` and, optionally, a value map (`out = valueMap[in]`, the ARC
 * colour permutation) in one pass. Returns a new grid.
 */
export function dihedralTransform(grid: Grid, tid: number, valueMap?: ArrayLike<number>): Grid {
  checkDihedralId(tid);
  const rows = dihedralSwapsAxes(tid) ? grid.cols : grid.rows;
  const cols = dihedralSwapsAxes(tid) ? grid.rows : grid.cols;
  const src = dihedralSourceIndex(tid, grid.rows, grid.cols);
  const data = new Uint8Array(src.length);
  const input = grid.data;
  if (valueMap) for (let k = 0; k < src.length; k++) data[k] = valueMap[input[src[k]]];
  else for (let k = 0; k < src.length; k++) data[k] = input[src[k]];
  return { rows, cols, data };
}

/** Undoes {@link dihedralTransform} (without a value map): applies `DIHEDRAL_INVERSE[tid]`. */
export function inverseDihedralTransform(grid: Grid, tid: number): Grid {
  checkDihedralId(tid);
  return dihedralTransform(grid, DIHEDRAL_INVERSE[tid]);
}
