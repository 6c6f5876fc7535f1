/**
 * ARC grid encoding (docs/algorithm.md §5.7 steps 5–6), cropping back to a grid (§6.2 step 3) and the
 * sha256 grid / puzzle hashes the builder deduplicates augmentations with (§5.7 step 2).
 * Tokens: PAD 0, EOS 1, colour c → c + 2.
 */
import * as crypto from 'crypto';
import { ErrorCodes, TrmError } from '../errors';
import { dihedralSourceIndex, dihedralSwapsAxes, DihedralId } from './dihedral';
import { Grid } from './grid';

/** Side of the ARC canvas. */
export const ARC_MAX_GRID_SIZE = 30;
/** Tokens per ARC example: the 30 × 30 canvas, row-major. */
export const ARC_SEQ_LEN = ARC_MAX_GRID_SIZE * ARC_MAX_GRID_SIZE;
/** Vocabulary: PAD, EOS and the 10 colours. */
export const ARC_VOCAB_SIZE = 12;
/** Padding token. */
export const ARC_PAD = 0;
/** End-of-grid marker token (the frame below and right of the grid). */
export const ARC_EOS = 1;
/** Token of colour 0; colour c is `ARC_COLOR_OFFSET + c`. */
export const ARC_COLOR_OFFSET = 2;

/** Scratch space for the bytes of one grid hash (2 + 255 × 255 bytes at most). */
const hashScratch = Buffer.alloc(2 + 255 * 255);

/** sha256 hex digest; the one-shot `crypto.hash` (Node ≥ 20.12) avoids a Hash object per call. */
const sha256Hex: (data: string | Uint8Array) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');

const IDENTITY_COLORS = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

/**
 * Writes `grid` (after an optional dihedral transform `tid` and colour map) into a zeroed
 * 900-token canvas `target` at offset (padR, padC), with the EOS frame: the row just below the
 * grid and the column just right of it, where inside the canvas; the corner is not set.
 */
export function encodeArcGridInto(
  target: Uint8Array,
  grid: Grid,
  padR = 0,
  padC = 0,
  tid: DihedralId = 0,
  colorMap: ArrayLike<number> = IDENTITY_COLORS,
): void {
  const swap = dihedralSwapsAxes(tid);
  const nrow = swap ? grid.cols : grid.rows;
  const ncol = swap ? grid.rows : grid.cols;
  if (nrow < 1 || ncol < 1 || padR < 0 || padC < 0 || padR + nrow > ARC_MAX_GRID_SIZE || padC + ncol > ARC_MAX_GRID_SIZE) {
    throw new TrmError(
      ErrorCodes.SHAPE,
      `encodeArcGrid: a ${nrow}×${ncol} grid at offset (${padR}, ${padC}) does not fit the 30×30 canvas`,
    );
  }
  const src = dihedralSourceIndex(tid, grid.rows, grid.cols);
  const data = grid.data;
  let k = 0;
  for (let r = 0; r < nrow; r++) {
    const base = (padR + r) * ARC_MAX_GRID_SIZE + padC;
    for (let c = 0; c < ncol; c++) target[base + c] = colorMap[data[src[k++]]] + ARC_COLOR_OFFSET;
  }
  const eosRow = padR + nrow;
  const eosCol = padC + ncol;
  if (eosRow < ARC_MAX_GRID_SIZE) target.fill(ARC_EOS, eosRow * ARC_MAX_GRID_SIZE + padC, eosRow * ARC_MAX_GRID_SIZE + eosCol);
  if (eosCol < ARC_MAX_GRID_SIZE) for (let r = padR; r < eosRow; r++) target[r * ARC_MAX_GRID_SIZE + eosCol] = ARC_EOS;
}

/** Encodes an ARC grid of colours 0..9 as 900 tokens at offset (padR, padC) with its EOS frame. */
export function encodeArcGrid(grid: Grid, padR = 0, padC = 0): Uint8Array {
  const out = new Uint8Array(ARC_SEQ_LEN);
  encodeArcGridInto(out, grid, padR, padC);
  return out;
}

/**
 * Crops 900 tokens back to a grid as the ARC evaluator does (docs/algorithm.md §6.2 step 3): the largest
 * top-left-anchored rectangle of colour tokens (2..11), scanning rows down and narrowing the
 * width at the first non-colour token; returns its colours 0..9 (a 0 × 0 grid if none).
 */
export function cropArcGrid(tokens: ArrayLike<number>): Grid {
  if (tokens.length !== ARC_SEQ_LEN)
    throw new TrmError(ErrorCodes.SHAPE, `cropArcGrid: expected ${ARC_SEQ_LEN} tokens, got ${tokens.length}`);
  let bestArea = 0;
  let bestRows = 0;
  let bestCols = 0;
  let width = ARC_MAX_GRID_SIZE;
  for (let rows = 1; rows <= ARC_MAX_GRID_SIZE; rows++) {
    for (let c = 0; c < width; c++) {
      const x = tokens[(rows - 1) * ARC_MAX_GRID_SIZE + c];
      if (x < ARC_COLOR_OFFSET || x > ARC_COLOR_OFFSET + 9) {
        width = c;
        break;
      }
    }
    const area = rows * width;
    if (area > bestArea) {
      bestArea = area;
      bestRows = rows;
      bestCols = width;
    }
  }
  const data = new Uint8Array(bestRows * bestCols);
  for (let r = 0; r < bestRows; r++) {
    for (let c = 0; c < bestCols; c++) data[r * bestCols + c] = tokens[r * ARC_MAX_GRID_SIZE + c] - ARC_COLOR_OFFSET;
  }
  return { rows: bestRows, cols: bestCols, data };
}

/**
 * The official `grid_hash`: sha256 hex of one byte per dimension (rows, cols) followed by the
 * raw uint8 cells. Optionally hashes the grid after a dihedral transform and colour map.
 */
export function arcGridHash(grid: Grid, tid: DihedralId = 0, colorMap?: ArrayLike<number>): string {
  if (grid.rows > 255 || grid.cols > 255)
    throw new TrmError(ErrorCodes.SHAPE, `arcGridHash: dimensions must fit one byte, got ${grid.rows}×${grid.cols}`);
  const n = grid.data.length;
  const buf = hashScratch.subarray(0, 2 + n);
  const swap = dihedralSwapsAxes(tid);
  buf[0] = swap ? grid.cols : grid.rows;
  buf[1] = swap ? grid.rows : grid.cols;
  const src = dihedralSourceIndex(tid, grid.rows, grid.cols);
  const data = grid.data;
  if (colorMap) for (let k = 0; k < n; k++) buf[2 + k] = colorMap[data[src[k]]];
  else for (let k = 0; k < n; k++) buf[2 + k] = data[src[k]];
  return sha256Hex(buf);
}

/** One input/output pair of grids. */
export interface ArcPair {
  input: Grid;
  output: Grid;
}

/**
 * The official `puzzle_hash` of a puzzle version: sha256 hex of the sorted
 * "hash(input)|hash(output)" strings of all its examples, joined by "|".
 */
export function arcPuzzleHash(pairs: readonly ArcPair[], tid: DihedralId = 0, colorMap?: ArrayLike<number>): string {
  const parts = pairs.map((p) => `${arcGridHash(p.input, tid, colorMap)}|${arcGridHash(p.output, tid, colorMap)}`);
  parts.sort();
  return sha256Hex(parts.join('|'));
}
