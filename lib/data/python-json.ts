/**
 * JSON text laid out exactly as Python's `json.dump(obj, f)` writes it (separators ", " and
 * ": ", `ensure_ascii=True`, floats by `repr`), so metadata, identifiers and test puzzles written
 * here are byte-identical to the official builders' files.
 */
import { ErrorCodes, TrmError } from '../errors';

/**
 * A value that can be serialised: what `json.load` returns, with floats marked by {@link PyFloat}.
 * A `Map` is an object whose key order is kept exactly (plain objects put integer-like keys first).
 */
export type PyJsonValue =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | readonly PyJsonValue[]
  | ReadonlyMap<string, PyJsonValue>
  | { readonly [key: string]: PyJsonValue };

/** Wraps a number that Python holds as a float (written `1.0`, not `1`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Python's `repr(float)`: shortest round-trip digits, `1.0` for integers, `1e-05` / `1e+16` outside [1e-4, 1e16). */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : `${Math.abs(exp)}`;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac.length > 0 ? frac : '0'}`;
}

/** A JSON string literal with Python's `ensure_ascii` escaping (everything outside ' '..'~' escaped). */
export function pythonStringLiteral(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Serialises `value` as `json.dumps(value)` would. JavaScript numbers that are not integers are written as floats. */
export function toPythonJson(value: PyJsonValue): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: PyJsonValue, out: string[]): void {
  if (value === null) out.push('null');
  else if (value === true) out.push('true');
  else if (value === false) out.push('false');
  else if (typeof value === 'number') {
    out.push(Number.isInteger(value) ? String(value) : pythonFloatRepr(value));
  } else if (typeof value === 'string') out.push(pythonStringLiteral(value));
  else if (value instanceof PyFloat) out.push(pythonFloatRepr(value.value));
  else if (Array.isArray(value)) {
    out.push('[');
    (value as readonly PyJsonValue[]).forEach((v, i) => {
      if (i > 0) out.push(', ');
      write(v, out);
    });
    out.push(']');
  } else if (typeof value === 'object') {
    out.push('{');
    let first = true;
    const entries = value instanceof Map ? value.entries() : Object.entries(value as { readonly [key: string]: PyJsonValue });
    for (const [k, v] of entries) {
      if (!first) out.push(', ');
      first = false;
      out.push(pythonStringLiteral(k), ': ');
      write(v, out);
    }
    out.push('}');
  } else {
    throw new TrmError(ErrorCodes.INTERNAL, `toPythonJson: cannot serialise a ${typeof value}`);
  }
}
