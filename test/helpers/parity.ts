// Loads one test/fixtures/parity case: the official checkpoint, its batch and the expected numbers.
import * as fs from 'fs';
import * as path from 'path';
import { readNpy } from '../../lib/data/npy';
import type { Batch } from '../../lib/model';
import type { Tensor } from '../../lib/tensor';
import { IGNORE_LABEL } from '../../lib/loss';

export const PARITY_DIR = path.resolve(__dirname, '..', 'fixtures', 'parity');

/** Relative change of each official output per step under a 1e-7 weight perturbation (expected/sensitivity.json). */
interface Sensitivity {
  logits: number[];
  q_halt: number[];
  q_continue: number[];
}

export interface ParityCase {
  dir: string;
  batch: Batch;
  expected: (name: string) => Float32Array;
  losses: number[];
  trainStep: { train_loss: number; grads: string[] };
  /** Tolerance of `output` at step k: max(1e-5, 10 × sensitivity[k]) (the fixtures' README). */
  tolerance: (output: keyof Sensitivity, k: number) => number;
  /** Tolerance of one gradient of the first training step: max(1e-5, 10 × its grad_sensitivity). */
  gradTolerance: (name: string) => number;
}

const tol = (sensitivity: number) => Math.max(1e-5, 10 * sensitivity);

export function parityCase(name: string): ParityCase {
  const dir = path.join(PARITY_DIR, name);
  const labels = readNpy(path.join(dir, 'labels.npy'));
  // Dataset labels use 0 for "not supervised"; the loader maps them to -100 (docs/algorithm.md §5.8).
  const json = (file: string) => JSON.parse(fs.readFileSync(path.join(dir, 'expected', file), 'utf8'));
  const sensitivity = json('sensitivity.json') as { relative_change: Sensitivity };
  const gradSensitivity = json('grad_sensitivity.json') as { relative_change: Record<string, number> };
  const mapped = Int32Array.from(labels.data as Int32Array, (v) => (v === 0 ? IGNORE_LABEL : v));
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
    tolerance: (output, k) => tol(sensitivity.relative_change[output][k]),
    gradTolerance: (grad) => {
      const s = gradSensitivity.relative_change[grad];
      if (s === undefined) throw new Error(`${name}: no grad_sensitivity for ${grad}`);
      return tol(s);
    },
  };
}

/** max |a - b| / max(max |b|, 1e-12): one relative figure for a whole tensor. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0,
    m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-12);
}
