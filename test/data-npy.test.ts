/**
 * .npy files: our bytes equal np.save's, NumPy-written files read back with the right values,
 * the streaming row writer equals np.save of the final array, and malformed files raise TrmError.
 * NumPy (python3) writes the reference files inside the test.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes } from '../lib/errors';
import { encodeNpy, NpyArray, NpyDtype, npyHeader, numel, parseNpy, readNpy, readNpyHeader } from '../lib/data/npy';
import { NpyRowWriter } from '../lib/data/npy-stream';
import { catchTrmError, makeTempDir, runPython } from './fixtures/data/helpers';

interface Case {
  name: string;
  dtype: NpyDtype;
  shape: number[];
}

// Values are arange(n) % 7 - 3 (wrapped into unsigned types), so they are easy to recompute here.
const CASES: Case[] = [
  { name: 'u8_2d', dtype: 'uint8', shape: [5, 900] },
  { name: 'u8_empty', dtype: 'uint8', shape: [0, 81] },
  { name: 'i32_1d', dtype: 'int32', shape: [17] },
  { name: 'i32_scalar', dtype: 'int32', shape: [] },
  { name: 'i64_3d', dtype: 'int64', shape: [2, 3, 4] },
  { name: 'f32_2d', dtype: 'float32', shape: [3, 2] },
  { name: 'f64_1d', dtype: 'float64', shape: [4] },
  { name: 'u16_many_dims', dtype: 'uint16', shape: [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2] },
  { name: 'i8_long_first_dim', dtype: 'int8', shape: [123456789012, 0] },
];

function expectedValues(c: Case): NpyArray {
  const n = numel(c.shape);
  const values = Array.from({ length: n }, (_, i) => (i % 7) - 3);
  let data: NpyArray['data'];
  switch (c.dtype) {
    case 'uint8':
      data = Uint8Array.from(values.map((v) => v & 0xff));
      break;
    case 'int8':
      data = Int8Array.from(values);
      break;
    case 'uint16':
      data = Uint16Array.from(values.map((v) => v & 0xffff));
      break;
    case 'int32':
      data = Int32Array.from(values);
      break;
    case 'int64':
      data = BigInt64Array.from(values.map((v) => BigInt(v)));
      break;
    case 'float32':
      data = Float32Array.from(values);
      break;
    case 'float64':
      data = Float64Array.from(values);
      break;
    default:
      throw new Error(`no case for ${c.dtype}`);
  }
  return { dtype: c.dtype, shape: c.shape, data };
}

describe('.npy against NumPy', () => {
  const tmp = makeTempDir('npy');
  afterAll(() => tmp.cleanup());

  beforeAll(() => {
    const spec = JSON.stringify(CASES.map((c) => [c.name, c.dtype, c.shape]));
    runPython(
      `import json, sys, numpy as np
for name, dtype, shape in json.loads(sys.argv[2]):
    n = int(np.prod(shape)) if shape else 1
    a = ((np.arange(n) % 7) - 3).astype(np.int64).astype(dtype).reshape(shape)
    np.save(f"{sys.argv[1]}/{name}.npy", a)`,
      [tmp.dir, spec],
    );
  });

  test.each(CASES)('encodeNpy is byte-identical to np.save for $name', (c) => {
    const expected = fs.readFileSync(path.join(tmp.dir, `${c.name}.npy`));
    expect(Buffer.compare(encodeNpy(expectedValues(c)), expected)).toBe(0);
  });

  test.each(CASES)('readNpy reads the NumPy file $name', (c) => {
    const arr = readNpy(path.join(tmp.dir, `${c.name}.npy`));
    const want = expectedValues(c);
    expect(arr.dtype).toBe(c.dtype);
    expect(arr.shape).toEqual(c.shape);
    expect(Array.from(arr.data as ArrayLike<number | bigint>)).toEqual(Array.from(want.data as ArrayLike<number | bigint>));
  });

  test('the header length does not depend on the first dimension (NumPy reserves growth space)', () => {
    const lengths = [0, 1, 99, 123456, 3633410, 10 ** 15].map((n) => npyHeader('uint8', [n, 900]).length);
    expect(new Set(lengths).size).toBe(1);
    expect(lengths[0] % 64).toBe(0);
  });

  test('NpyRowWriter streams rows into the same bytes as np.save of the whole array', () => {
    const rows = 1000;
    const file = path.join(tmp.dir, 'stream.npy');
    const writer = new NpyRowWriter(file, 'uint8', [900], 5000); // small buffer: many flushes
    for (let r = 0; r < rows; r++) {
      if (r % 2 === 0) writer.appendRow(Uint8Array.from({ length: 900 }, (_, c) => (r * 31 + c) % 251));
      else
        writer.nextRow().forEach((_, c, row) => {
          row[c] = (r * 31 + c) % 251;
        });
    }
    expect(fs.existsSync(file)).toBe(false); // only the temp file exists until close
    writer.close();
    runPython(
      `import sys, numpy as np
r = np.arange(${rows})[:, None]; c = np.arange(900)[None, :]
np.save(sys.argv[1], ((r * 31 + c) % 251).astype(np.uint8))`,
      [path.join(tmp.dir, 'stream-ref.npy')],
    );
    expect(Buffer.compare(fs.readFileSync(file), fs.readFileSync(path.join(tmp.dir, 'stream-ref.npy')))).toBe(0);
    expect(fs.readdirSync(tmp.dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('NpyRowWriter with no rows writes an empty [0, n] array, and abort leaves nothing', () => {
    const file = path.join(tmp.dir, 'empty.npy');
    const w = new NpyRowWriter(file, 'int32', [3]);
    w.close();
    expect(readNpy(file).shape).toEqual([0, 3]);
    const aborted = path.join(tmp.dir, 'aborted.npy');
    const a = new NpyRowWriter(aborted, 'uint8', [4]);
    a.appendRow(new Uint8Array(4));
    a.abort();
    expect(fs.existsSync(aborted)).toBe(false);
    expect(catchTrmError(() => a.appendRow(new Uint8Array(4))).code).toBe(ErrorCodes.STATE);
  });

  test('a row of the wrong size is rejected with SHAPE', () => {
    const w = new NpyRowWriter(path.join(tmp.dir, 'bad-row.npy'), 'uint8', [900]);
    expect(catchTrmError(() => w.appendRow(new Uint8Array(81))).code).toBe(ErrorCodes.SHAPE);
    w.abort();
  });
});

describe('malformed .npy files', () => {
  const tmp = makeTempDir('npy-bad');
  afterAll(() => tmp.cleanup());
  const good = encodeNpy({ dtype: 'int32', shape: [10], data: new Int32Array(10) });

  test('truncated data → DATA_FORMAT naming the file', () => {
    const file = path.join(tmp.dir, 'truncated.npy');
    fs.writeFileSync(file, good.subarray(0, good.length - 3));
    const e = catchTrmError(() => readNpy(file));
    expect(e.code).toBe(ErrorCodes.DATA_FORMAT);
    expect(e.message).toContain(file);
    expect(e.message).toContain('truncated data');
    expect(catchTrmError(() => readNpyHeader(file)).code).toBe(ErrorCodes.DATA_FORMAT);
  });

  test('truncated header, bad magic, Fortran order and big-endian → DATA_FORMAT', () => {
    expect(catchTrmError(() => parseNpy(good.subarray(0, 40))).code).toBe(ErrorCodes.DATA_FORMAT);
    expect(catchTrmError(() => parseNpy(Buffer.from('not a numpy file at all'))).code).toBe(ErrorCodes.DATA_FORMAT);
    const fortran = Buffer.from(good);
    fortran.write("'fortran_order': True, ", fortran.indexOf("'fortran_order'"), 'latin1');
    expect(catchTrmError(() => parseNpy(fortran)).message).toMatch(/Fortran|malformed/);
    const bigEndian = Buffer.from(good);
    bigEndian.write('>i4', bigEndian.indexOf('<i4'), 'latin1');
    expect(catchTrmError(() => parseNpy(bigEndian)).message).toContain("unsupported dtype '>i4'");
  });

  test('a missing file → IO', () => {
    expect(catchTrmError(() => readNpy(path.join(tmp.dir, 'missing.npy'))).code).toBe(ErrorCodes.IO);
    expect(catchTrmError(() => readNpyHeader(path.join(tmp.dir, 'missing.npy'))).code).toBe(ErrorCodes.IO);
  });
});
