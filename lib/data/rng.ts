/**
 * A port of NumPy's legacy `np.random.RandomState` (MT19937): seeding, `random_sample`, legacy
 * bounded `randint`, `shuffle`, `permutation` and `choice(n, k, replace=False)`, so a builder
 * seeded with S draws exactly the numbers the official Python builders draw after
 * `np.random.seed(S)` (docs/algorithm.md §5.7: the ARC builder's output is a function of that stream).
 *
 * Algorithms follow NumPy's C sources (`mt19937.c`, `distributions.c`: `random_interval`,
 * `buffered_bounded_masked_uint32`) and are checked against NumPy in test/data-rng.test.ts.
 */
import { ErrorCodes, TrmError } from '../errors';

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MAX_UINT32 = 0xffffffff;

/** Anything `shuffle` can permute in place. */
export interface Shufflable<T> {
  length: number;
  [index: number]: T;
}

/** Smallest all-ones bit mask that covers `max` (max ≤ 2^32 − 1). */
function coveringMask(max: number): number {
  let mask = max >>> 0;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  return mask >>> 0;
}

/** NumPy's legacy `RandomState`: an MT19937 stream plus the legacy sampling algorithms. */
export class RandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  /** Seeds like `np.random.RandomState(seed)`: an integer in [0, 2^32) or a non-empty array of them. */
  constructor(seed: number | readonly number[] = 0) {
    this.seed(seed);
  }

  /**
   * Re-seeds like `np.random.seed(seed)`. An integer uses MT19937 `init_genrand`; an array uses
   * `init_by_array`, as NumPy's legacy seeding does.
   */
  seed(seed: number | readonly number[]): void {
    if (typeof seed === 'number') {
      checkSeedWord(seed);
      this.initGenrand(seed);
    } else {
      if (seed.length === 0) throw new TrmError(ErrorCodes.INVALID_ARGUMENT, 'RandomState: a seed array must be non-empty');
      seed.forEach(checkSeedWord);
      this.initByArray(seed);
    }
  }

  /** The next raw 32-bit output of MT19937 (`next_uint32`). */
  nextUint32(): number {
    if (this.pos >= N) this.twist();
    let y = this.mt[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random_sample()` / `rand()`: a double in [0, 1) with 53 random bits. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /**
   * Legacy `randint(low, high)`: an integer in [low, high) by masked rejection sampling.
   * Like NumPy it consumes nothing when high − low = 1. The range may span at most 2^32 values.
   */
  randint(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high <= low) {
      throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `randint: need integers low < high, got low=${low}, high=${high}`);
    }
    const rng = high - low - 1;
    if (rng === 0) return low;
    if (rng > MAX_UINT32) throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `randint: a range of ${rng + 1} values exceeds 2^32`);
    if (rng === MAX_UINT32) return low + this.nextUint32();
    const mask = coveringMask(rng);
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0;
    while (value > rng);
    return low + value;
  }

  /** `random_interval(max)`: an integer in [0, max] (the primitive behind shuffle). */
  interval(max: number): number {
    if (max === 0) return 0;
    if (!Number.isSafeInteger(max) || max < 0 || max > MAX_UINT32) {
      throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `interval: max must be an integer in [0, 2^32), got ${max}`);
    }
    const mask = coveringMask(max);
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0;
    while (value > max);
    return value;
  }

  /** Legacy `shuffle(x)` in place: Fisher–Yates from the end, j = interval(i). */
  shuffle<T>(items: Shufflable<T>): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
  }

  /** `permutation(n)`: a shuffled `arange(n)` (as an Int32Array if n < 2^31, else Float64Array). */
  permutation(n: number): Int32Array | Float64Array {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `permutation: n must be a non-negative integer, got ${n}`);
    const out = n < 2 ** 31 ? new Int32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    this.shuffle(out);
    return out;
  }

  /** `permutation(array)`: a shuffled copy of `items`. */
  permuted<T>(items: readonly T[]): T[] {
    const copy = [...items];
    this.shuffle(copy);
    return copy;
  }

  /** `choice(n, size, replace=False)` without weights: the first `size` entries of `permutation(n)`. */
  choiceWithoutReplacement(n: number, size: number): Int32Array | Float64Array {
    if (!Number.isSafeInteger(size) || size < 0 || size > n) {
      throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `choice: cannot take ${size} samples without replacement from ${n}`);
    }
    return this.permutation(n).slice(0, size);
  }

  private initGenrand(seed: number): void {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) >>> 0) + key[j] + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) >>> 0) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = UPPER_MASK;
    this.pos = N;
  }

  private twist(): void {
    const mt = this.mt;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    const y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }
}

function checkSeedWord(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
    throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `RandomState: a seed must be an integer in [0, 2^32 − 1], got ${value}`);
  }
}
