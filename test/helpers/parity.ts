// Loads one test/fixtures/parity case: the official checkpoint, its batch and the expected numbers.
import * as fs from 'fs';
import * as path from 'path';
import { readNpy } from '../../lib/data/npy';
import type { Batch } from '../../lib/model';
import type { Tensor } from '../../lib/tensor';

export const PARITY_DIR = path.resolve(__dirname, '..', 'fixtures', 'parity');

export interface ParityCase {
  dir: string;
  batch: Batch;
  expected: (name: string) => Float32Array;
  losses: number[];
  trainStep: { train_loss: number; grads: string[] };
}

export function parityCase(name: string): ParityCase {
  const dir = path.join(PARITY_DIR, name);
  const labels = readNpy(path.join(dir, 'labels.npy'));
  // Dataset labels use 0 for "not supervised"; the loader maps them to -100 (SPEC §5.8).
  const mapped = Int32Array.from(labels.data as Int32Array, (v) => (v === 0 ? -100 : v));
  return {
    dir,
    batch: {
      inputs: readNpy(path.join(dir, 'inputs.npy')) as Tensor,
      puzzleIdentifiers: readNpy(path.join(dir, 'puzzle_identifiers.npy')) as Tensor,
      labels: { dtype: 'int32', shape: labels.shape, data: mapped },
    },
    expected: (file) => readNpy(path.join(dir, 'expected', file)).data as Float32Array,
    losses: JSON.parse(fs.readFileSync(path.join(dir, 'expected', 'loss.json'), 'utf8')).loss,
    trainStep: JSON.parse(fs.readFileSync(path.join(dir, 'expected', 'train_step.json'), 'utf8')),
  };
}

/** max |a - b| / max(max |b|, 1e-12): one relative figure for a whole tensor. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-12);
}
