/**
 * Tensors as they cross between TypeScript and the native addon: a dtype, a row-major shape and a
 * TypedArray. bfloat16 and float16 data travel as raw bits in a Uint16Array.
 */
import { ErrorCodes, TrmError } from './errors';

/** Element types a {@link Tensor} may have. */
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'int16' | 'int8' | 'uint8' | 'bool' | 'bfloat16' | 'float16';

/** The TypedArray of each dtype. */
export interface TypedArrayOf {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  int64: BigInt64Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
  bfloat16: Uint16Array;
  float16: Uint16Array;
}

/** A dense CPU tensor. */
export interface Tensor<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: TypedArrayOf[D];
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Makes an int32 tensor, checking that the data fills the shape. */
export function int32Tensor(data: Int32Array | readonly number[], shape: number[]): Tensor<'int32'> {
  const arr = data instanceof Int32Array ? data : Int32Array.from(data);
  if (arr.length !== numel(shape)) {
    throw new TrmError(ErrorCodes.SHAPE, `int32Tensor: shape [${shape}] needs ${numel(shape)} elements, got ${arr.length}`);
  }
  return { dtype: 'int32', shape, data: arr };
}

/** Makes a float32 tensor, checking that the data fills the shape. */
export function float32Tensor(data: Float32Array | readonly number[], shape: number[]): Tensor<'float32'> {
  const arr = data instanceof Float32Array ? data : Float32Array.from(data);
  if (arr.length !== numel(shape)) {
    throw new TrmError(ErrorCodes.SHAPE, `float32Tensor: shape [${shape}] needs ${numel(shape)} elements, got ${arr.length}`);
  }
  return { dtype: 'float32', shape, data: arr };
}

/** Converts any integer tensor (or integer .npy array) to int32, checking the values fit. */
export function toInt32(t: { dtype: string; shape: number[]; data: ArrayLike<number | bigint> }, what: string): Tensor<'int32'> {
  if (t.dtype === 'int32' && t.data instanceof Int32Array) return { dtype: 'int32', shape: t.shape, data: t.data };
  if (!/^u?int(8|16|32|64)$/.test(t.dtype)) {
    throw new TrmError(ErrorCodes.DTYPE, `${what} must hold integers, got dtype ${t.dtype}`);
  }
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(t.data[i]);
    if (v > 2147483647 || v < -2147483648) throw new TrmError(ErrorCodes.TOKEN_RANGE, `${what}[${i}] = ${v} does not fit in int32`);
    out[i] = v;
  }
  return { dtype: 'int32', shape: t.shape, data: out };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1,
    exp = (h >> 10) & 0x1f,
    frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** The values of any floating or integer tensor as a Float32Array (decodes bfloat16/float16 bits). */
export function toFloat32(t: Tensor): Float32Array {
  if (t.dtype === 'bfloat16') {
    const bits = new Uint32Array(t.data.length);
    (t.data as Uint16Array).forEach((b, i) => (bits[i] = b << 16));
    return new Float32Array(bits.buffer);
  }
  if (t.dtype === 'float16') return Float32Array.from(t.data as Uint16Array, halfToFloat);
  return Float32Array.from(t.data as ArrayLike<number | bigint>, Number);
}
