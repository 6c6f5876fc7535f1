/**
 * NumPy `.npy` files (format 1.0 written; 1.0, 2.0 and 3.0 read), byte-compatible with
 * `np.save` / `np.load` for little-endian C-order arrays (docs/algorithm.md §5.1, §5.3).
 */
import * as fs from 'fs';
import { ErrorCodes, TrmError } from '../errors';
import { writeFileAtomic } from '../atomic-write';
import { openRegularFile, readRegularFile } from '../regular-file';

/** Element types an `.npy` array may hold here. */
export type NpyDtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'bool';

/** The typed array that holds each dtype. */
export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A dense array: dtype, shape (row-major, C order) and its elements. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const DESCR: Record<NpyDtype, string> = {
  uint8: '|u1',
  int8: '|i1',
  uint16: '<u2',
  int16: '<i2',
  uint32: '<u4',
  int32: '<i4',
  int64: '<i8',
  uint64: '<u8',
  float32: '<f4',
  float64: '<f8',
  bool: '|b1',
};
const FROM_DESCR: Record<string, NpyDtype> = Object.fromEntries(
  Object.entries(DESCR).flatMap(([k, v]) => [
    [v, k],
    [v.replace('|', '<'), k],
    [v.replace('<', '|'), k],
  ]),
) as Record<string, NpyDtype>;
const ITEMSIZE: Record<NpyDtype, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  int64: 8,
  uint64: 8,
  float32: 4,
  float64: 8,
  bool: 1,
};
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

function fail(where: string, msg: string): never {
  throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: ${msg}`);
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function view(dtype: NpyDtype, buf: ArrayBuffer, offset: number, count: number): NpyData {
  switch (dtype) {
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf, offset, count);
    case 'int8':
      return new Int8Array(buf, offset, count);
    case 'uint16':
      return new Uint16Array(buf, offset, count);
    case 'int16':
      return new Int16Array(buf, offset, count);
    case 'uint32':
      return new Uint32Array(buf, offset, count);
    case 'int32':
      return new Int32Array(buf, offset, count);
    case 'int64':
      return new BigInt64Array(buf, offset, count);
    case 'uint64':
      return new BigUint64Array(buf, offset, count);
    case 'float32':
      return new Float32Array(buf, offset, count);
    case 'float64':
      return new Float64Array(buf, offset, count);
  }
}

/** What an `.npy` header says: element type, shape and where the data starts. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
}

/**
 * Parses the header at the start of `bytes` (which may hold only the beginning of a file).
 * `where` names the source in error messages.
 */
export function parseNpyHeader(bytes: Uint8Array, where = '.npy data'): NpyHeader {
  if (bytes.length < 10 || !MAGIC.equals(Buffer.from(bytes.subarray(0, 6)))) fail(where, 'not an .npy file (bad magic string)');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(where, 'truncated header');
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else fail(where, `unsupported .npy format version ${major}.${bytes[7]}`);
  if (start + headerLen > bytes.length) fail(where, 'truncated header');
  const header = Buffer.from(bytes.subarray(start, start + headerLen)).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(where, `malformed header ${JSON.stringify(header.trim())}`);
  const dtype = FROM_DESCR[descr];
  if (!dtype)
    fail(where, `unsupported dtype '${descr}' (expected one of ${Object.values(DESCR).join(', ')}; big-endian data is not supported)`);
  if (fortran === 'True') fail(where, 'Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(where, `bad shape (${shapeText})`);
  return { dtype, shape, dataOffset: start + headerLen };
}

/** Parses the bytes of an `.npy` file. `where` names the source in error messages. */
export function parseNpy(bytes: Uint8Array, where = '.npy data'): NpyArray {
  const { dtype, shape, dataOffset: dataStart } = parseNpyHeader(bytes, where);
  const count = numel(shape);
  const nbytes = count * ITEMSIZE[dtype];
  if (bytes.length - dataStart < nbytes)
    fail(where, `truncated data: expected ${nbytes} bytes for shape [${shape}] ${dtype}, found ${bytes.length - dataStart}`);
  // Copy into a fresh, aligned buffer so typed views are always valid.
  const own = new ArrayBuffer(nbytes);
  new Uint8Array(own).set(bytes.subarray(dataStart, dataStart + nbytes));
  return { dtype, shape, data: view(dtype, own, 0, count) };
}

/**
 * Reads only the header of an `.npy` file (cheap for multi-GB arrays) and checks that the file
 * is long enough to hold the data it announces.
 */
export function readNpyHeader(file: string): NpyHeader {
  const fd = openRegularFile(file);
  try {
    const head = Buffer.alloc(1 << 16);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const header = parseNpyHeader(head.subarray(0, n), file);
    const nbytes = numel(header.shape) * ITEMSIZE[header.dtype];
    const size = fs.fstatSync(fd).size;
    if (size - header.dataOffset < nbytes)
      fail(file, `truncated data: expected ${nbytes} bytes for shape [${header.shape}] ${header.dtype}, found ${size - header.dataOffset}`);
    return header;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads an `.npy` file. */
export function readNpy(file: string): NpyArray {
  return parseNpy(readRegularFile(file), file);
}

/** Spare header characters NumPy reserves so the first dimension can grow in place (`GROWTH_AXIS_MAX_DIGITS`). */
const GROWTH_AXIS_MAX_DIGITS = 21;
/** `.npy` data starts on a multiple of this many bytes (`ARRAY_ALIGN`). */
const ARRAY_ALIGN = 64;

/** Size in bytes of one element of `dtype`. */
export function npyItemSize(dtype: NpyDtype): number {
  return ITEMSIZE[dtype];
}

/**
 * The `.npy` format 1.0 header (magic, version, length and the padded dict) that `np.save` writes
 * for a C-order array of this dtype and shape, byte for byte (NumPy ≥ 1.24 layout: the dict is
 * followed by spare spaces for the first axis to grow, then padded so the data is 64-byte aligned).
 * Because of that spare space the header length does not depend on `shape[0]`, which is what lets
 * a streaming writer reserve it up front and rewrite it with the final row count.
 */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const hlen = dict.length + 1;
  const padlen = ARRAY_ALIGN - ((MAGIC.length + 4 + hlen) % ARRAY_ALIGN); // never 0: NumPy pads a full 64 then
  const total = hlen + padlen;
  if (total > 0xffff) {
    throw new TrmError(
      ErrorCodes.SHAPE,
      `npyHeader: a header of ${total} bytes for shape [${shape}] needs .npy format 2.0, which is not written here`,
    );
  }
  const pre = Buffer.alloc(10);
  MAGIC.copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(total, 8);
  return Buffer.concat([pre, Buffer.from(dict + ' '.repeat(padlen) + '\n', 'latin1')]);
}

/** Serialises an array as `.npy` format 1.0 bytes, exactly as `np.save` lays them out. */
export function encodeNpy(arr: NpyArray): Buffer {
  const count = numel(arr.shape);
  if (arr.data.length !== count) {
    throw new TrmError(ErrorCodes.SHAPE, `encodeNpy: shape [${arr.shape}] needs ${count} elements, data has ${arr.data.length}`);
  }
  const body = Buffer.from(arr.data.buffer, arr.data.byteOffset, count * ITEMSIZE[arr.dtype]);
  return Buffer.concat([npyHeader(arr.dtype, arr.shape), body]);
}

/** Writes an `.npy` file atomically (temp file, fsync, rename). */
export function writeNpy(file: string, arr: NpyArray): void {
  writeFileAtomic(file, encodeNpy(arr));
}
