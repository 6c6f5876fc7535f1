// Tiny configurations and random batches for fast CPU tests.
import type { ModelConfig } from '../../lib/config';
import type { Batch } from '../../lib/model';
import { IGNORE_LABEL } from '../../lib/loss';

/** A small TRM: hidden 32, 2 heads, T = 2, n = 2, 2 layers, 4 prefix tokens, seq 12, vocab 7, 5 puzzle ids. */
export const TINY: Partial<ModelConfig> = {
  seqLen: 12,
  vocabSize: 7,
  numPuzzleIdentifiers: 5,
  hiddenSize: 32,
  numHeads: 2,
  hCycles: 2,
  lCycles: 2,
  lLayers: 2,
  puzzleEmbNdim: 32,
  puzzleEmbLen: 4,
  forwardDtype: 'float32',
};

/** A deterministic pseudo-random batch (labels: some -100). */
export function tinyBatch(cfg: Partial<ModelConfig>, rows: number, seed = 1): Batch {
  const S = cfg.seqLen!,
    V = cfg.vocabSize!,
    N = cfg.numPuzzleIdentifiers!;
  let x = seed * 2654435761;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const inputs = Int32Array.from({ length: rows * S }, () => rnd(V));
  const labels = Int32Array.from({ length: rows * S }, (_, i) => (i % 5 === 4 ? IGNORE_LABEL : 1 + rnd(V - 1)));
  const ids = Int32Array.from({ length: rows }, () => rnd(N));
  return {
    inputs: { dtype: 'int32', shape: [rows, S], data: inputs },
    labels: { dtype: 'int32', shape: [rows, S], data: labels },
    puzzleIdentifiers: { dtype: 'int32', shape: [rows], data: ids },
  };
}

/** Euclidean norm of a float array. */
export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Expects a promise to reject (or a function to throw) a TrmError with this code. */
export async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeDefined();
  expect((err as { name: string }).name).toBe('TrmError');
  expect((err as { code: string }).code).toBe(code);
}
