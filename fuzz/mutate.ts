/**
 * Seeded mutations for the fuzz campaign: bytes (flips, interesting values, cuts, splices), text
 * (numbers and values swapped for boundary cases, structure broken) and JSON values (types swapped,
 * sizes blown up). Everything draws from one seeded generator, so a campaign is reproducible.
 */

/** A small seeded generator (mulberry32). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x7b, 0x7d, 0x2c, 0x3a, 0x5b, 0x5d, 0x0a];
const INTERESTING_NUMBERS = [
  '-1',
  '0',
  '1',
  '2',
  '257',
  '65536',
  '2147483648',
  '9007199254740993',
  '1e9',
  '1e309',
  '-1e309',
  '99999999999999999999',
  '0.5',
  '-0',
  'NaN',
  '.inf',
  '1e-400',
];
const INTERESTING_VALUES = ['null', 'true', '""', '[]', '{}', '"x"', '[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]', '"\\u0000"', '"\u00ff\u0100"'];

/** `data` with one to a few byte-level mutations; `focus` bytes at the start get most of them (headers live there). */
export function mutateBytes(data: Buffer, rng: Rng, focus = data.length): Buffer {
  let b = Buffer.from(data);
  const where = () => (rng.next() < 0.8 ? rng.int(Math.max(1, Math.min(focus, b.length))) : rng.int(Math.max(1, b.length)));
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) {
    switch (rng.int(7)) {
      case 0: {
        const i = where();
        if (b.length) b[i] ^= 1 << rng.int(8);
        break;
      }
      case 1: {
        const i = where();
        if (b.length) b[i] = rng.pick(INTERESTING_BYTES);
        break;
      }
      case 2:
        b = b.subarray(0, where());
        break; // truncate
      case 3: {
        const i = where();
        b = Buffer.concat([b.subarray(0, i), Buffer.from(Array.from({ length: 1 + rng.int(16) }, () => rng.int(256))), b.subarray(i)]);
        break;
      }
      case 4: {
        const i = where();
        b = Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + 1 + rng.int(16)))]);
        break;
      }
      case 5: {
        const i = where(),
          j = where();
        const len = 1 + rng.int(32);
        b = Buffer.concat([b.subarray(0, i), b.subarray(j, j + len), b.subarray(i)]);
        break;
      }
      default: {
        // a 32/64-bit little-endian word set to a boundary value
        const i = where();
        if (i + 8 <= b.length)
          b.writeBigUInt64LE(rng.pick([0n, 1n, 0x7fffffffn, 0xffffffffn, 0x7fffffffffffffffn, 0xffffffffffffffffn, 1n << 40n]), i);
      }
    }
  }
  return b;
}

/** `text` with a number, value or piece of structure replaced, removed or duplicated. */
export function mutateText(text: string, rng: Rng): string {
  let t = text;
  const n = 1 + rng.int(3);
  for (let k = 0; k < n; k++) {
    const numbers = [...t.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi)];
    const choice = rng.int(8);
    if (choice <= 2 && numbers.length > 0) {
      const m = rng.pick(numbers);
      t = t.slice(0, m.index) + rng.pick(INTERESTING_NUMBERS) + t.slice(m.index! + m[0].length);
    } else if (choice === 3 && numbers.length > 0) {
      const m = rng.pick(numbers);
      t = t.slice(0, m.index) + rng.pick(INTERESTING_VALUES) + t.slice(m.index! + m[0].length);
    } else if (choice === 4) {
      const lines = t.split('\n');
      lines.splice(rng.int(lines.length), 1);
      t = lines.join('\n');
    } else if (choice === 5) {
      const lines = t.split('\n');
      const i = rng.int(lines.length);
      lines.splice(i, 0, lines[rng.int(lines.length)]);
      t = lines.join('\n');
    } else if (choice === 6) {
      t = t.slice(0, rng.int(t.length + 1));
    } else {
      const i = rng.int(t.length + 1);
      t =
        t.slice(0, i) +
        rng.pick(['{', '}', '[', ']', ':', ',', '"', "'", '&a ', '*a', '!!binary ', '!!js/function ', '<<: *a', '\t', '\u0000', '\\u']) +
        t.slice(i);
    }
  }
  return t;
}

/** A JSON value with one part replaced by a value of another type or an outsized one. */
export function mutateJson(value: unknown, rng: Rng, depth = 0): unknown {
  const wild = (): unknown =>
    rng.pick<() => unknown>([
      () => null,
      () => true,
      () => -1,
      () => 1e308,
      () => 2 ** 53 + 2,
      () => 0.5,
      () => '',
      () => 'x'.repeat(1 + rng.int(5000)),
      () => [],
      () => ({}),
      () => ({ __proto__: { polluted: 1 } }),
      () => JSON.parse('{"__proto__": {"polluted": 1}}'),
      () => ({ constructor: { prototype: { x: 1 } } }),
      () => Array.from({ length: 1 + rng.int(200) }, () => rng.int(20) - 5),
      () => '\u0000\ud800',
      () => '٣'.repeat(81),
    ])();
  if (depth > 3 || value === null || typeof value !== 'object' || rng.next() < 0.25) return rng.next() < 0.5 ? wild() : value;
  if (Array.isArray(value)) {
    const a = [...value];
    const op = rng.int(4);
    if (op === 0 && a.length) a.splice(rng.int(a.length), 1);
    else if (op === 1) a.push(a.length ? a[rng.int(a.length)] : wild());
    else if (a.length) {
      const i = rng.int(a.length);
      a[i] = mutateJson(a[i], rng, depth + 1);
    }
    return a;
  }
  const o: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(o);
  const op = rng.int(4);
  if (op === 0 && keys.length) delete o[rng.pick(keys)];
  else if (op === 1) o[rng.pick(['extra', '__proto__', 'constructor', 'recordSteps', 'taskId', 'train', 'input'])] = wild();
  else if (keys.length) {
    const k = rng.pick(keys);
    o[k] = mutateJson(o[k], rng, depth + 1);
  }
  return o;
}
