/**
 * The ARC evaluator (docs/algorithm.md §6.2) on hand-made predictions: voting by (count, mean q) with
 * first-appearance tie-breaks, pass@K by hand, tasks with two test inputs counting half each,
 * missing predictions keeping the submission aligned, aggregated voting on and off, mergeable
 * snapshots; and crop / inverse-augmentation round trips on real ARC-AGI-1 tasks.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ARC_SEQ_LEN, encodeArcGrid, encodeArcGridInto } from '../lib/data/arc-grid';
import { arcPuzzleName, type ArcAugmentation } from '../lib/data/arc-names';
import type { DihedralId } from '../lib/data/dihedral';
import { readDataset, readTestPuzzles, type ArcTaskJson } from '../lib/data/format';
import { gridFromRows } from '../lib/data/grid';
import { ArcEvaluator, sigmoid, VoteTally, writeArcSubmission } from '../lib/eval';
import { ARC_DATA, makeTempDir } from './fixtures/data/helpers';
import { buildTinyArc } from './helpers/arc-dataset';
import { TINY } from './helpers/tiny';
import { TRM } from '../lib';
import { evalCommand } from '../lib/cli/eval';

type Rows = number[][];

interface Row {
  id: number;
  input: Rows;
  pred: Rows;
  q: number;
  aug?: ArcAugmentation;
}

/** Encodes a grid (optionally augmented: colour map, then dihedral) as 900 tokens. */
function tokens(g: Rows, aug?: ArcAugmentation): Uint8Array {
  const t = new Uint8Array(ARC_SEQ_LEN);
  encodeArcGridInto(t, gridFromRows(g), 0, 0, aug?.tid ?? 0, aug?.colorMap);
  return t;
}

/** A batch view of rows (plus `padding` blank rows). */
function view(rows: Row[], padding = 0) {
  const B = rows.length + padding;
  const inputs = new Int32Array(B * ARC_SEQ_LEN);
  const preds = new Int32Array(B * ARC_SEQ_LEN);
  const ids = new Int32Array(B);
  const q = new Float32Array(B);
  rows.forEach((r, i) => {
    inputs.set(tokens(r.input, r.aug), i * ARC_SEQ_LEN);
    preds.set(tokens(r.pred, r.aug), i * ARC_SEQ_LEN);
    ids[i] = r.id;
    q[i] = r.q;
  });
  for (let i = rows.length; i < B; i++) preds.fill(5, i * ARC_SEQ_LEN, (i + 1) * ARC_SEQ_LEN); // garbage that must be ignored
  return {
    inputs: { dtype: 'int32' as const, shape: [B, ARC_SEQ_LEN], data: inputs },
    puzzleIdentifiers: { dtype: 'int32' as const, shape: [B], data: ids },
    preds: { dtype: 'int32' as const, shape: [B, ARC_SEQ_LEN], data: preds },
    qHalt: { dtype: 'float32' as const, shape: [B], data: q },
  };
}

// Three tasks: A (one test input), B (two test inputs), C (one test input).
const IN_A: Rows = [
  [1, 2],
  [3, 4],
];
const OUT_A: Rows = [
  [4, 3],
  [2, 1],
];
const X: Rows = [[1]];
const Y: Rows = [[2, 2]];
const Z: Rows = [[3], [3]];
const IN_B1: Rows = [[5]];
const OUT_B1: Rows = [[6, 6]];
const IN_B2: Rows = [[7, 7, 7]];
const OUT_B2: Rows = [[8]];
const IN_C: Rows = [
  [9, 0],
  [0, 9],
];
const OUT_C: Rows = [
  [0, 9],
  [9, 0],
];

const testPuzzles = new Map<string, ArcTaskJson>([
  ['aaaa', { train: [], test: [{ input: IN_A, output: OUT_A }] }],
  [
    'bbbb',
    {
      train: [],
      test: [
        { input: IN_B1, output: OUT_B1 },
        { input: IN_B2, output: OUT_B2 },
      ],
    },
  ],
  ['cccc', { train: [], test: [{ input: IN_C, output: OUT_C }] }],
]);
const AUG: ArcAugmentation = { tid: 6, colorMap: Uint8Array.from([0, 2, 1, 3, 4, 5, 6, 7, 9, 8]) };
const identifiers = ['<blank>', 'aaaa', arcPuzzleName('aaaa', AUG), 'bbbb', 'cccc'];

function evaluator(aggregatedVoting?: boolean): ArcEvaluator {
  return new ArcEvaluator({ identifiers, testPuzzles, aggregatedVoting });
}

// Logits whose sigmoids are easy to order: sigmoid(0) = 0.5, sigmoid(2) ≈ 0.881, sigmoid(-2) ≈ 0.119.
const HAND_ROWS: Row[] = [
  // Task A: X twice at q = 0.5, the label twice at q ≈ 0.881 (once through the augmented version), Z once at 0.9933.
  { id: 1, input: IN_A, pred: X, q: 0 },
  { id: 1, input: IN_A, pred: OUT_A, q: 2 },
  { id: 2, input: IN_A, pred: OUT_A, q: 2, aug: AUG },
  { id: 1, input: IN_A, pred: X, q: 0 },
  { id: 1, input: IN_A, pred: Z, q: 5 },
  // Task B, input 1: the label only third (Y 2 votes, X 1 vote at a higher q than the label's 1 vote).
  { id: 3, input: IN_B1, pred: Y, q: -2 },
  { id: 3, input: IN_B1, pred: Y, q: -2 },
  { id: 3, input: IN_B1, pred: X, q: 3 },
  { id: 3, input: IN_B1, pred: OUT_B1, q: 1 },
  // Task B, input 2: no prediction at all. Task C: the label, alone.
  { id: 4, input: IN_C, pred: OUT_C, q: -1 },
];

describe('VoteTally', () => {
  test('ranks by votes, then mean q; exact ties keep first-appearance order', () => {
    const t = new VoteTally();
    t.add('x', 0.5);
    t.add('y', 0.9);
    t.add('x', 0.5);
    t.add('z', 0.7);
    t.add('w', 0.7);
    t.add('y', 0.1);
    // x and y: 2 votes, mean 0.5 each (x seen first); z and w: 1 vote, 0.7 each (z seen first).
    expect(t.ranked().map((c) => [c.hash, c.votes, Number(c.meanQ.toFixed(3))])).toEqual([
      ['x', 2, 0.5],
      ['y', 2, 0.5],
      ['z', 1, 0.7],
      ['w', 1, 0.7],
    ]);
    expect(t.totalVotes).toBe(6);
  });

  test('mean q breaks a tie in votes', () => {
    const t = new VoteTally();
    t.add('lo', 0.2);
    t.add('lo', 0.4);
    t.add('hi', 0.9);
    t.add('hi', 0.5);
    expect(t.ranked().map((c) => c.hash)).toEqual(['hi', 'lo']);
    expect(t.ranked()[0].meanQ).toBeCloseTo(0.7, 12);
  });

  test('sigmoid is the float64 logistic function', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2)).toBeCloseTo(0.8807970779778823, 15);
    expect(sigmoid(-800)).toBe(0);
  });
});

describe('ArcEvaluator on hand-made predictions', () => {
  const ev = evaluator();
  ev.beginEval();
  ev.updateBatch(view(HAND_ROWS.slice(0, 4), 3));
  ev.updateBatch(view(HAND_ROWS.slice(4)));
  const r = ev.result();

  test('blank rows are dropped and every real row is one vote', () => {
    expect(ev.predictionCount).toBe(HAND_ROWS.length);
  });

  test('task A: the label (2 votes, q 0.881) beats X (2 votes, q 0.5) on mean q; Z (1 vote) is last', () => {
    const a = r.tasks[0];
    expect(a.taskId).toBe('aaaa');
    expect(a.inputs[0].predictions).toBe(5);
    expect(a.inputs[0].candidates).toBe(3);
    expect(a.inputs[0].labelRank).toBe(1);
    expect(a.inputs[0].top.map((c) => c.votes)).toEqual([2, 2]);
    expect(a.inputs[0].top[0].meanQ).toBeCloseTo(sigmoid(2), 6);
    expect(a.inputs[0].top[1].meanQ).toBeCloseTo(0.5, 12);
    expect(r.submission.aaaa).toEqual([{ attempt_1: OUT_A, attempt_2: X }]);
  });

  test('the augmented version votes for the un-augmented grid under the original input', () => {
    // Without the augmented row the label has 1 vote (q 0.881): behind X (2 votes) and Z (1 vote, q 0.993).
    const only = evaluator();
    only.updateBatch(view(HAND_ROWS.slice(0, 5).filter((row) => row.id !== 2)));
    expect(only.result().tasks[0].inputs[0].labelRank).toBe(3);
  });

  test('task B: input 1 ranks the label third, input 2 has no predictions yet keeps its submission slot', () => {
    const b = r.tasks[1];
    expect(b.inputs.map((i) => i.labelRank)).toEqual([3, null]);
    expect(b.inputs[1].predictions).toBe(0);
    expect(r.submission.bbbb).toEqual([
      { attempt_1: Y, attempt_2: X },
      { attempt_1: [[0]], attempt_2: [[0]] },
    ]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/bbbb test input 1 has no predictions/);
  });

  test('task C: a single candidate is repeated as attempt_2', () => {
    expect(r.submission.cccc).toEqual([{ attempt_1: OUT_C, attempt_2: OUT_C }]);
  });

  test('pass@K is the per-task mean of per-input hits, inputs of a 2-input task counting half', () => {
    // pass@1: A 1, B (0 + 0)/2, C 1 → 2/3.  pass@2: same.  pass@K≥5: A 1, B (1 + 0)/2, C 1 → 2.5/3.
    expect(r.metrics['ARC/pass@1']).toBeCloseTo(2 / 3, 12);
    expect(r.metrics['ARC/pass@2']).toBeCloseTo(2 / 3, 12);
    for (const k of [5, 10, 100, 1000]) expect(r.metrics[`ARC/pass@${k}`]).toBeCloseTo(2.5 / 3, 12);
    expect(Object.keys(r.metrics)).toEqual(['ARC/pass@1', 'ARC/pass@2', 'ARC/pass@5', 'ARC/pass@10', 'ARC/pass@100', 'ARC/pass@1000']);
  });

  test('custom pass Ks and submissionK', () => {
    const e = new ArcEvaluator({ identifiers, testPuzzles, passKs: [3], submissionK: 3 });
    e.updateBatch(view(HAND_ROWS));
    const res = e.result();
    expect(res.metrics).toEqual({ 'ARC/pass@3': expect.closeTo(2.5 / 3, 12) });
    expect(Object.keys(res.submission.aaaa[0])).toEqual(['attempt_1', 'attempt_2', 'attempt_3']);
    expect(res.submission.aaaa[0].attempt_3).toEqual(Z);
  });

  test('the submission file is the Kaggle layout, aligned with test_puzzles.json', () => {
    const { dir, cleanup } = makeTempDir('arc-sub');
    try {
      const file = writeArcSubmission(dir, r.submission);
      const back = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown[]>;
      expect(Object.keys(back)).toEqual(['aaaa', 'bbbb', 'cccc']);
      for (const [id, task] of testPuzzles) expect(back[id]).toHaveLength(task.test.length);
    } finally {
      cleanup();
    }
  });

  test('an unknown puzzle id is a DATA_FORMAT error naming it', () => {
    const e = evaluator();
    expect(() => e.updateBatch(view([{ id: 99, input: IN_A, pred: X, q: 0 }]))).toThrow(
      expect.objectContaining({ code: 'ERR_TRM_DATA_FORMAT', message: expect.stringMatching(/puzzle id 99/) }),
    );
  });
});

describe('aggregated voting', () => {
  test('on (default, official): votes accumulate across evaluations', () => {
    const e = evaluator();
    expect(e.aggregatedVoting).toBe(true);
    e.beginEval();
    e.updateBatch(view(HAND_ROWS));
    e.beginEval();
    e.updateBatch(view([{ id: 1, input: IN_A, pred: X, q: 0 }]));
    expect(e.predictionCount).toBe(HAND_ROWS.length + 1);
    // X now has 3 votes and wins task A.
    expect(e.result().submission.aaaa[0].attempt_1).toEqual(X);
    e.reset();
    expect(e.predictionCount).toBe(0);
  });

  test('off: each evaluation votes only over its own predictions', () => {
    const e = evaluator(false);
    e.beginEval();
    e.updateBatch(view(HAND_ROWS));
    e.beginEval();
    e.updateBatch(view([{ id: 1, input: IN_A, pred: X, q: 0 }]));
    expect(e.predictionCount).toBe(1);
    const res = e.result();
    expect(res.submission.aaaa[0].attempt_1).toEqual(X);
    expect(res.warnings).toHaveLength(3); // B's two inputs and C
  });
});

describe('snapshot / merge (a multi-rank gather)', () => {
  test('merging rank snapshots in order equals one evaluator that saw every row', () => {
    const whole = evaluator();
    whole.updateBatch(view(HAND_ROWS));
    const rank0 = evaluator();
    const rank1 = evaluator();
    rank0.updateBatch(view(HAND_ROWS.slice(0, 6)));
    rank1.updateBatch(view(HAND_ROWS.slice(6), 2));
    const merged = evaluator();
    merged.merge(JSON.parse(JSON.stringify(rank0.snapshot())));
    merged.merge(rank1);
    expect(merged.result()).toEqual(whole.result());
    expect(merged.snapshot()).toEqual(whole.snapshot());
  });

  test('merge rejects something that is not a snapshot', () => {
    expect(() => evaluator().merge({} as never)).toThrow(expect.objectContaining({ code: 'ERR_TRM_INVALID_ARGUMENT' }));
  });
});

describe('crop and inverse augmentation on real ARC-AGI-1 tasks', () => {
  const dir = path.join(ARC_DATA, 'training');
  const taskIds = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .slice(0, 12)
    .map((f) => f.slice(0, -5));
  const tasks = new Map<string, ArcTaskJson>(
    taskIds.map((id) => [id, JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), 'utf8')) as ArcTaskJson]),
  );
  const colorMap = Uint8Array.from([0, 3, 7, 1, 9, 2, 8, 5, 4, 6]);
  const augs: ArcAugmentation[] = Array.from({ length: 8 }, (_, tid) => ({ tid: tid as DihedralId, colorMap }));

  test('every grid, under all 8 dihedral transforms × a colour map, encodes and crops back to itself', () => {
    let checked = 0;
    for (const task of tasks.values()) {
      for (const pair of [...task.train, ...task.test]) {
        for (const g of [pair.input, pair.output]) {
          for (const aug of augs) {
            // Recorded as a prediction of a test input: the stored grid must be the original.
            const hashOf = new ArcEvaluator({ identifiers, testPuzzles: new Map([['t', { train: [], test: [{ input: g, output: g }] }]]) });
            hashOf.addPrediction('t', aug, tokens(g, aug), tokens(g, aug), 0);
            const res = hashOf.result();
            if (res.tasks[0].inputs[0].labelRank !== 1 || JSON.stringify(res.submission.t[0].attempt_1) !== JSON.stringify(g)) {
              throw new Error(`round trip failed for a ${g.length}×${g[0].length} grid under t${aug.tid}`);
            }
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(8 * 50);
  });

  test('end to end: every augmented version predicting the right output scores pass@1 = 1', () => {
    const ids = ['<blank>'];
    const rows: Row[] = [];
    for (const [id, task] of tasks) {
      for (const aug of [undefined, ...augs]) {
        ids.push(arcPuzzleName(id, aug));
        for (const pair of task.test) rows.push({ id: ids.length - 1, input: pair.input, pred: pair.output, q: 1, aug });
      }
    }
    // A wrong but unanimous-looking minority: one extra version of the first task predicts its input.
    const first = tasks.values().next().value as ArcTaskJson;
    rows.push({ id: 1, input: first.test[0].input, pred: first.test[0].input, q: 9 });
    const ev = new ArcEvaluator({ identifiers: ids, testPuzzles: tasks });
    for (let i = 0; i < rows.length; i += 16) ev.updateBatch(view(rows.slice(i, i + 16), 3));
    const r = ev.result();
    expect(r.warnings).toEqual([]);
    expect(r.metrics['ARC/pass@1']).toBe(1);
    for (const [id, task] of tasks) {
      expect(r.submission[id].map((e) => e.attempt_1)).toEqual(task.test.map((p) => p.output));
      for (const input of r.tasks.find((t) => t.taskId === id)!.inputs) expect(input.top[0].votes).toBe(9);
    }
    expect(encodeArcGrid(gridFromRows(first.test[0].input))).toHaveLength(ARC_SEQ_LEN);
  });
});

describe('on a dataset built by buildArc (real tasks, 4 augmentations each)', () => {
  const tmp = makeTempDir('arc-built');
  let data: string;
  beforeAll(async () => {
    data = await buildTinyArc(tmp.dir);
  });
  afterAll(tmp.cleanup);

  test('an oracle predicting the test labels scores pass@1 = 1 through every augmentation the builder made', () => {
    const ev = ArcEvaluator.fromDataset(data);
    // Every test example as one batch, each row's id found through its puzzle's CSR range, the labels as predictions.
    const { inputs, labels, puzzleIdentifiers, puzzleIndices } = readDataset(data, 'test').sets.all;
    const rows = inputs.shape[0];
    const ids = Int32Array.from(
      { length: rows },
      (_, r) => puzzleIdentifiers[puzzleIndices.findIndex((start, p) => r >= start && r < puzzleIndices[p + 1])],
    );
    ev.updateBatch({
      inputs: { dtype: 'int32', shape: [rows, ARC_SEQ_LEN], data: Int32Array.from(inputs.data as ArrayLike<number>) },
      puzzleIdentifiers: { dtype: 'int32', shape: [rows], data: ids },
      preds: { dtype: 'int32', shape: [rows, ARC_SEQ_LEN], data: Int32Array.from(labels.data as ArrayLike<number>) },
      qHalt: { dtype: 'float32', shape: [rows], data: new Float32Array(rows) },
    });
    expect(ev.predictionCount).toBe(rows);
    const r = ev.result();
    expect(r.warnings).toEqual([]);
    expect(Object.values(r.metrics)).toEqual([1, 1, 1, 1, 1, 1]);
    const puzzles = readTestPuzzles(data);
    expect(Object.keys(r.submission)).toEqual([...puzzles.keys()]);
    for (const [id, task] of puzzles) {
      expect(r.submission[id].map((e) => e.attempt_1)).toEqual(task.test.map((p) => p.output));
      // Every version of the task (original + 4 augmentations) voted for the answer.
      for (const input of r.tasks.find((t) => t.taskId === id)!.inputs) expect(input.top[0].votes).toBe(5);
    }
  });

  test('trm eval writes eval.json, submission.json and pass@K for an ARC dataset', async () => {
    const meta = readDataset(data, 'test').metadata;
    const model = TRM.create({
      ...TINY,
      seqLen: 900,
      vocabSize: 12,
      numPuzzleIdentifiers: meta.numPuzzleIdentifiers,
      hCycles: 1,
      lCycles: 1,
      lLayers: 1,
      haltMaxSteps: 2,
    });
    const file = path.join(tmp.dir, 'arc.safetensors');
    await model.save(file);
    model.dispose();
    const out = path.join(tmp.dir, 'eval');
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await evalCommand().parseAsync(['--checkpoint', file, '--data', data, '--batch-size', '16', '--out', out], { from: 'user' });
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    const report = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
    const rows = readDataset(data, 'test').sets.all.inputs.shape[0];
    expect(report.metrics.all.count).toBe(rows);
    expect(report.metrics.all.steps).toBe(2);
    expect(Object.keys(report.arc)).toEqual(['ARC/pass@1', 'ARC/pass@2', 'ARC/pass@5', 'ARC/pass@10', 'ARC/pass@100', 'ARC/pass@1000']);
    const submission = JSON.parse(fs.readFileSync(path.join(out, 'submission.json'), 'utf8')) as Record<string, unknown[]>;
    const puzzles = readTestPuzzles(data);
    expect(Object.keys(submission)).toEqual([...puzzles.keys()]);
    for (const [id, task] of puzzles) expect(submission[id]).toHaveLength(task.test.length);
    expect(printed.join('\n')).toMatch(/exact_accuracy[\s\S]*ARC\/pass@2/);
  });
});
