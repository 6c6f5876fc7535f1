/**
 * The exact-accuracy evaluation of docs/algorithm.md §6.1 on tiny datasets written with DatasetSplitWriter:
 * the native sampler's test-mode batches as evaluators see them (§5.8: file order, padding, puzzle
 * ids, rank slices), counts excluding padding, steps = haltMaxSteps, and every metric computed by
 * hand for a model whose heads are forced (lm_head = 0 → every prediction is token 0 and every loss
 * is log V; q_head → a fixed q).
 */
import * as path from 'path';
import { TRM } from '../lib';
import { readDataset, writeDatasetMetadata } from '../lib/data/format';
import { DatasetSplitWriter } from '../lib/data/split-writer';
import { evaluateExact, reduceSetMetrics, type EvalBatchView } from '../lib/eval';
import { makeTempDir } from './fixtures/data/helpers';
import { TINY, expectCode } from './helpers/tiny';

const S = TINY.seqLen!; // 12
const V = TINY.vocabSize!; // 7

interface Example {
  id: number;
  input: number[];
  label: number[];
}

/** Writes one set of a split: each inner list is one puzzle (its examples share the id); one group per puzzle. */
function writeSet(dir: string, setName: string, puzzles: Example[][], ignoreLabelId: number | null): void {
  const w = new DatasetSplitWriter(dir, { seqLen: S, setName });
  for (const examples of puzzles) {
    w.startGroup();
    w.startPuzzle(examples[0].id);
    for (const e of examples) w.addExample(e.input, e.label);
  }
  w.finish({ vocabSize: V, numPuzzleIdentifiers: TINY.numPuzzleIdentifiers!, ignoreLabelId });
}

const row = (f: (k: number) => number): number[] => Array.from({ length: S }, (_, k) => f(k));

/** 10 examples in 4 puzzles (ids 1, 2, 3, 4); 5 have all-zero labels, exactly right for a model that predicts 0. */
function examples(): Example[][] {
  const zero = row(() => 0);
  const mixed = (n: number) => row((k) => (k < n ? 3 : 0)); // n cells of 3, the rest 0
  return [
    [
      { id: 1, input: row((k) => 1 + (k % 6)), label: zero },
      { id: 1, input: row(() => 2), label: mixed(3) },
    ],
    [
      { id: 2, input: row(() => 3), label: zero },
      { id: 2, input: row(() => 4), label: mixed(6) },
      { id: 2, input: row(() => 5), label: zero },
    ],
    [{ id: 3, input: row(() => 6), label: mixed(12) }],
    [
      { id: 4, input: row((k) => k % 7), label: zero },
      { id: 4, input: row(() => 1), label: mixed(1) },
      { id: 4, input: row(() => 2), label: zero },
      { id: 4, input: row(() => 3), label: mixed(9) },
    ],
  ];
}

/** A tiny model whose lm_head is zero (all logits 0 → argmax 0) and whose q_halt is the constant `q`. */
function forcedModel(q: number): TRM {
  const m = TRM.create(TINY, {}, { seed: 3 });
  const D = TINY.hiddenSize!;
  m.setTensor('lm_head.weight', { dtype: 'float32', shape: [V, D], data: new Float32Array(V * D) });
  m.setTensor('q_head.weight', { dtype: 'float32', shape: [2, D], data: new Float32Array(2 * D) });
  m.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: Float32Array.of(q, -q) });
  return m;
}

const softplus = (x: number): number => Math.log1p(Math.exp(x));
/** BCE with logits, as torch: target 1 → softplus(−x), target 0 → softplus(x). */
const bce = (x: number, y: 0 | 1): number => (y === 1 ? softplus(-x) : softplus(x));

describe('test-mode batches of the native sampler, as evaluators see them (docs/algorithm.md §5.8)', () => {
  const { dir, cleanup } = makeTempDir('eval-batches');
  afterAll(cleanup);
  writeSet(path.join(dir, 'test'), 'all', examples(), 0);
  const model = forcedModel(0);
  afterAll(() => model.dispose());

  async function views(globalBatchSize: number, rank = 0, worldSize = 1): Promise<EvalBatchView[]> {
    const out: EvalBatchView[] = [];
    await evaluateExact(model, dir, { globalBatchSize, rank, worldSize, evaluators: [{ updateBatch: (v) => out.push(v) }] });
    return out;
  }

  test('file order, CSR puzzle ids, the last window padded with pad / blank', async () => {
    const batches = await views(4);
    expect(batches.map((b) => b.rows)).toEqual([4, 4, 2]);
    expect(batches.map((b) => Array.from(b.puzzleIdentifiers.data))).toEqual([
      [1, 1, 2, 2],
      [2, 3, 4, 4],
      [4, 4, 0, 0],
    ]);
    expect(Array.from(batches[0].inputs.data.subarray(0, S))).toEqual(row((k) => 1 + (k % 6)));
    expect(Array.from(batches[1].inputs.data.subarray(S, 2 * S))).toEqual(row(() => 6));
    const last = batches[2];
    expect(last.inputs.shape).toEqual([4, S]);
    expect(Array.from(last.inputs.data.subarray(2 * S))).toEqual(new Array(2 * S).fill(0));
  });

  test('rank slices of each global window: the rank with an empty slice gets a fully padded batch', async () => {
    const r0 = await views(8, 0, 2);
    const r1 = await views(8, 1, 2);
    expect(r0.map((b) => [b.rows, Array.from(b.puzzleIdentifiers.data)])).toEqual([
      [4, [1, 1, 2, 2]],
      [2, [4, 4, 0, 0]],
    ]);
    expect(r1.map((b) => [b.rows, Array.from(b.puzzleIdentifiers.data)])).toEqual([
      [4, [2, 3, 4, 4]],
      [0, [0, 0, 0, 0]],
    ]);
  });
});

describe('evaluateExact (docs/algorithm.md §6.1)', () => {
  const { dir, cleanup } = makeTempDir('eval-exact');
  afterAll(cleanup);
  // Set "all" with ignore_label_id = null (label 0 is supervised); set "zeros" reuses the data with ignore 0.
  const testDir = path.join(dir, 'test');
  writeSet(testDir, 'all', examples(), null);
  writeSet(testDir, 'extra', examples().slice(1, 3), null);
  // Both sets' groups (4 + 2) and puzzles.
  writeDatasetMetadata(testDir, { ...readDataset(dir, 'test').metadata, sets: ['all', 'extra'], totalGroups: 6, totalPuzzles: 6 });
  const ignoreDir = path.join(dir, 'ignore0');
  writeSet(path.join(ignoreDir, 'test'), 'all', examples(), 0);

  const q = 0.5;
  const model = forcedModel(q);
  afterAll(() => model.dispose());

  test('every metric by hand for a model that predicts 0 everywhere with q_halt = 0.5', async () => {
    const views: EvalBatchView[] = [];
    const progress: number[] = [];
    const r = await evaluateExact(model, dir, {
      globalBatchSize: 4,
      setNames: ['all'],
      evaluators: [{ updateBatch: (v) => views.push(v) }],
      onProgress: (p) => progress.push(p.done),
    });
    const labels = examples()
      .flat()
      .map((e) => e.label);
    const correct: Array<0 | 1> = labels.map((l) => (l.every((y) => y === 0) ? 1 : 0));
    const n = labels.length;
    const m = r.metrics.all;
    expect(m.count).toBe(n); // 10 rows; the 2 padding rows are not counted
    expect(m.steps).toBe(model.config.haltMaxSteps);
    expect(m.exact_accuracy).toBeCloseTo(correct.reduce<number>((a, b) => a + b, 0) / n, 6); // 5 of 10
    expect(m.exact_accuracy).toBeCloseTo(0.5, 6);
    const tokenAcc = labels.map((l) => l.filter((y) => y === 0).length / S);
    expect(m.accuracy).toBeCloseTo(tokenAcc.reduce((a, b) => a + b, 0) / n, 6);
    // q ≥ 0 says "correct": right for the 5 correct rows.
    expect(m.q_halt_accuracy).toBeCloseTo(0.5, 6);
    // All logits 0 → stablemax gives every token s(0) = 1, so p = 1/V and every row's mean loss is log V.
    expect(m.lm_loss).toBeCloseTo(Math.log(V), 5);
    // q_halt_loss: the loss head's batch sums, which (as in the official code) include the 2 padding rows with target 1.
    const qLoss = correct.reduce<number>((s, c) => s + bce(q, c), 0) + 2 * bce(q, 1);
    expect(m.q_halt_loss).toBeCloseTo(qLoss / n, 5);
    expect(r.sums.all.count).toBe(n);
    expect(r.batches).toBe(3);
    expect(progress).toEqual([4, 8, 10]);
    // Evaluators see every batch with its padding and the final predictions.
    expect(views.map((v) => v.puzzleIdentifiers.data.length)).toEqual([4, 4, 4]);
    expect(views.every((v) => v.preds.data.every((t) => t === 0))).toBe(true);
    expect(Array.from(views[0].qHalt.data)).toEqual([q, q, q, q]);
  });

  test('the batch size changes nothing but the number of batches', async () => {
    const a = await evaluateExact(model, dir, { globalBatchSize: 3 });
    const b = await evaluateExact(model, dir, { globalBatchSize: 16 });
    expect(a.batches).toBe(4 + 2); // "all": 10 rows → 4; "extra": 4 rows → 2
    expect(b.batches).toBe(2);
    for (const set of ['all', 'extra']) {
      expect(a.metrics[set].count).toBe(b.metrics[set].count);
      expect(a.metrics[set].exact_accuracy).toBeCloseTo(b.metrics[set].exact_accuracy, 6);
      expect(a.metrics[set].lm_loss).toBeCloseTo(b.metrics[set].lm_loss, 5);
    }
    expect(a.metrics.extra.count).toBe(4);
    expect(a.metrics.extra.exact_accuracy).toBeCloseTo(2 / 4, 6);
  });

  test('excludePaddingLoss leaves the padding rows out of q_halt_loss, whatever the batch size', async () => {
    const correct: Array<0 | 1> = examples()
      .flat()
      .map((e) => (e.label.every((y) => y === 0) ? 1 : 0));
    const want = correct.reduce<number>((s, c) => s + bce(q, c), 0) / correct.length;
    for (const b of [3, 4, 7, 16]) {
      const r = await evaluateExact(model, dir, { globalBatchSize: b, setNames: ['all'], excludePaddingLoss: true });
      expect(r.metrics.all.q_halt_loss).toBeCloseTo(want, 5);
    }
  });

  test('with ignore_label_id 0, rows without a supervised label do not count (§2.4 valid = halted ∧ labels)', async () => {
    const r = await evaluateExact(model, ignoreDir, { globalBatchSize: 4 });
    // The 5 all-zero-label rows become all −100: 5 rows remain, none exactly right (they predict 0 where 3 is wanted).
    expect(r.metrics.all.count).toBe(5);
    expect(r.metrics.all.exact_accuracy).toBe(0);
    expect(r.metrics.all.steps).toBe(16);
  });

  test('a fresh random tiny model: count = rows, steps = haltMaxSteps, metrics in range', async () => {
    const m = TRM.create(TINY, {}, { seed: 11 });
    try {
      const r = await evaluateExact(m, dir, { globalBatchSize: 4, setNames: ['all'] });
      expect(r.metrics.all.count).toBe(10);
      expect(r.metrics.all.steps).toBe(16);
      for (const k of ['accuracy', 'exact_accuracy', 'q_halt_accuracy'] as const) {
        expect(r.metrics.all[k]).toBeGreaterThanOrEqual(0);
        expect(r.metrics.all[k]).toBeLessThanOrEqual(1);
      }
    } finally {
      m.dispose();
    }
  });

  test('bad arguments are TrmErrors that say what is wrong', async () => {
    await expectCode(evaluateExact(model, dir, { globalBatchSize: 0 }), 'ERR_TRM_INVALID_ARGUMENT');
    await expectCode(evaluateExact(model, dir, { globalBatchSize: 4, setNames: ['nope'] }), 'ERR_TRM_INVALID_ARGUMENT');
    await expectCode(evaluateExact(model, path.join(dir, 'missing'), { globalBatchSize: 4 }), 'ERR_TRM_IO');
    const wide = TRM.create({ ...TINY, seqLen: 20 });
    try {
      await expectCode(evaluateExact(wide, dir, { globalBatchSize: 4 }), 'ERR_TRM_CONFIG');
    } finally {
      wide.dispose();
    }
    const ac = new AbortController();
    ac.abort();
    await expectCode(evaluateExact(model, dir, { globalBatchSize: 4, signal: ac.signal }), 'ERR_TRM_CANCELLED');
  });
});

describe('reduceSetMetrics', () => {
  test('sums ranks, then divides by count; count 0 divides by 1', () => {
    const rank = (count: number, exact: number) => ({
      all: {
        count,
        accuracy: count * 0.5,
        exact_accuracy: exact,
        q_halt_accuracy: count,
        steps: 16 * count,
        lm_loss: 2 * count,
        q_halt_loss: count,
      },
    });
    const r = reduceSetMetrics([
      rank(3, 1),
      rank(5, 3),
      { empty: { count: 0, accuracy: 0, exact_accuracy: 0, q_halt_accuracy: 0, steps: 0, lm_loss: 0, q_halt_loss: 0 } },
    ]);
    expect(r.all).toEqual({ count: 8, accuracy: 0.5, exact_accuracy: 0.5, q_halt_accuracy: 1, steps: 16, lm_loss: 2, q_halt_loss: 1 });
    expect(r.empty.count).toBe(0);
    expect(r.empty.exact_accuracy).toBe(0);
  });
});
