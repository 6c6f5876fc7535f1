/**
 * Test-time adaptation to an unseen ARC task (lib/adapt.ts, `trm adapt`) with a tiny ARC-shaped
 * model: the table grows by one row per augmented version, the old rows and every dense weight stay
 * bit-identical (freezeWeights), the new rows start at the mean row and move by sign-SGD steps, the
 * extended identifiers name the task's versions after the old ids, and the Solver then knows the task.
 */
import * as fs from 'fs';
import * as path from 'path';
import { adaptToTask, type AdaptEvent, type AdaptResult, type AdaptTask } from '../lib/adapt';
import { adaptCommand } from '../lib/cli/adapt';
import type { ModelConfig } from '../lib/config';
import { parseArcPuzzleName } from '../lib/data/arc-names';
import { readIdentifiers } from '../lib/data/format';
import { TRM } from '../lib/model';
import { Solver } from '../lib/solver';
import { toFloat32, type Tensor } from '../lib/tensor';
import { ARC_DATA, makeTempDir } from './fixtures/data/helpers';
import { buildTinyArc } from './helpers/arc-dataset';
import { TINY, expectCode } from './helpers/tiny';

/** A task of ARC-AGI-1 that the tiny dataset (test/helpers/arc-dataset.ts) does not hold. */
const NEW_TASK = '05f2a901';
const LR = 1e-2;

function arcConfig(rows: number): Partial<ModelConfig> {
  return { ...TINY, seqLen: 900, vocabSize: 12, numPuzzleIdentifiers: rows, hCycles: 1, lCycles: 1, lLayers: 1, haltMaxSteps: 2 };
}

function loadTask(id: string): AdaptTask {
  const raw = JSON.parse(fs.readFileSync(path.join(ARC_DATA, 'training', `${id}.json`), 'utf8')) as Omit<AdaptTask, 'id'>;
  return { id, ...raw };
}

/** Fills the puzzle table with distinct pseudo-random values, so rows and their mean are not all zero. */
function randomizeTable(model: TRM): void {
  const { numPuzzleIdentifiers: n, puzzleEmbNdim: d } = model.config;
  let x = 12345;
  const data = Float32Array.from({ length: n * d }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return ((x >>> 8) / 2 ** 24) * 2 - 1;
  });
  model.setTensor('puzzle_emb.weights', { dtype: 'float32', shape: [n, d], data });
}

function bytes(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

describe('adaptToTask', () => {
  const tmp = makeTempDir('adapt');
  let identifiers: string[];
  let model: TRM;
  let result: AdaptResult;
  const events: AdaptEvent[] = [];
  const task = loadTask(NEW_TASK);
  const workDir = path.join(tmp.dir, 'work');

  beforeAll(async () => {
    identifiers = readIdentifiers(await buildTinyArc(tmp.dir, 2));
    model = TRM.create(arcConfig(identifiers.length), {}, { seed: 7 });
    randomizeTable(model);
    result = await adaptToTask(model, identifiers, task, {
      numAug: 5,
      globalBatchSize: 8,
      maxSteps: 12,
      puzzleEmbLr: LR,
      puzzleEmbWeightDecay: 0,
      seed: 1,
      workDir,
      onEvent: (e) => events.push(e),
    });
  });
  afterAll(() => {
    result?.model.dispose();
    model?.dispose();
    tmp.cleanup();
  });

  test('the puzzle table grows by one row per augmented version, numbered after the old ids', () => {
    const n = identifiers.length;
    const added = result.taskIds.length;
    expect(added).toBe(6); // the original and 5 augmentations
    expect(result.taskIds).toEqual(Array.from({ length: added }, (_, i) => n + i));
    expect(result.model.config.numPuzzleIdentifiers).toBe(n + added);
    expect(result.model.getTensor('puzzle_emb.weights').shape).toEqual([n + added, TINY.puzzleEmbNdim]);
    expect(result.identifiers).toHaveLength(n + added);
    expect(result.identifiers.slice(0, n)).toEqual(identifiers);
    const names = result.identifiers.slice(n);
    expect(names[0]).toBe(NEW_TASK);
    for (const name of names.slice(1)) {
      expect(name).toMatch(/^05f2a901\|\|\|t[0-7]\|\|\|0\d{9}$/);
      expect(parseArcPuzzleName(name).taskId).toBe(NEW_TASK);
    }
    expect(new Set(names).size).toBe(added);
    expect(result.steps).toBe(12);
    expect(model.config.numPuzzleIdentifiers).toBe(n); // the old model is untouched
  });

  test('every dense weight, H_init / L_init and every old puzzle row are bit-identical after adaptation', () => {
    const entries = model.stateDict();
    expect(result.model.stateDict().map((e) => e.name)).toEqual(entries.map((e) => e.name));
    for (const e of entries) {
      const before = model.getTensor(e.name);
      const after = result.model.getTensor(e.name);
      expect(after.dtype).toBe(before.dtype);
      if (e.name === 'puzzle_emb.weights') {
        expect(bytes(after).subarray(0, before.data.byteLength).equals(bytes(before))).toBe(true);
      } else {
        expect(after.shape).toEqual(before.shape);
        expect(bytes(after).equals(bytes(before))).toBe(true);
      }
    }
  });

  test('the new rows started at the mean row and moved by whole sign-SGD steps', () => {
    const n = identifiers.length,
      d = TINY.puzzleEmbNdim!;
    const old = toFloat32(model.getTensor('puzzle_emb.weights'));
    const mean = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += old[r * d + c] / n;
    const table = toFloat32(result.model.getTensor('puzzle_emb.weights'));
    let moved = 0;
    for (const id of result.taskIds) {
      let rowMoved = false;
      for (let c = 0; c < d; c++) {
        // Without weight decay each step adds exactly ±lr or 0 per element (§3.3), so the offset from
        // the starting value is a whole number of steps, at most the steps run.
        const k = (table[id * d + c] - mean[c]) / LR;
        expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-3);
        expect(Math.abs(Math.round(k))).toBeLessThanOrEqual(result.steps);
        if (Math.round(k) !== 0) rowMoved = true;
      }
      if (rowMoved) moved++;
    }
    expect(moved).toBeGreaterThanOrEqual(result.taskIds.length - 1);
  });

  test('reports its stages and the training steps, and removes its temporary files', () => {
    expect(events.filter((e) => e.kind === 'stage').map((e) => (e as { stage: string }).stage)).toEqual(['build', 'extend', 'train']);
    const steps = events.filter((e) => e.kind === 'step');
    expect(steps).toHaveLength(12);
    expect(Number.isFinite(steps[0].kind === 'step' ? steps[0].metrics.lm_loss : NaN)).toBe(true);
    expect(events[events.length - 1].kind).toBe('done');
    expect(fs.readdirSync(workDir)).toEqual([]);
  });

  test('the Solver knows the task on the adapted model and not on the original one', async () => {
    const input = task.test[0].input;
    const before = Solver.fromModel(TRM.create(arcConfig(identifiers.length)), { kind: 'arc', identifiers });
    try {
      expect(before.knowsTask(NEW_TASK)).toBe(false);
      await expectCode(before.solve({ taskId: NEW_TASK, input }), 'ERR_TRM_INVALID_ARGUMENT');
      await expect(before.solve({ taskId: NEW_TASK, input })).rejects.toThrow(/trm adapt/);
    } finally {
      before.dispose();
    }
    // A second adaptation of the same model, owned by the solver this time.
    const again = await adaptToTask(model, identifiers, task, { numAug: 3, globalBatchSize: 4, maxSteps: 2, workDir });
    const solver = Solver.fromModel(again.model, { kind: 'arc', identifiers: again.identifiers });
    try {
      expect(solver.knowsTask(NEW_TASK)).toBe(true);
      const r = await solver.solve({ taskId: NEW_TASK, input });
      expect(r.versions).toBe(again.taskIds.length);
      // An untrained model may have every version vote for the same grid: 1 or 2 attempts.
      expect(r.attempts.length).toBeGreaterThanOrEqual(1);
      expect(r.attempts.length).toBeLessThanOrEqual(2);
      expect(r.attempts.reduce((s, a) => s + a.votes, 0)).toBeLessThanOrEqual(r.versions);
    } finally {
      solver.dispose();
    }
  });

  test('bad tasks reject with ERR_TRM_INVALID_ARGUMENT, before any work', async () => {
    const pair = task.train[0];
    const big = Array.from({ length: 31 }, () => Array.from({ length: 3 }, () => 1));
    const cases: AdaptTask[] = [
      { ...task, train: [] },
      { ...task, train: [{ input: big, output: pair.output }] },
      { ...task, train: [{ input: pair.input, output: [[1, 10]] }] },
      { ...task, train: [{ input: [[1, 2], [3]], output: pair.output }] },
      { ...task, test: [{ input: [[-1]] }] },
      { ...task, id: 'a|||t1|||0123456789' },
      { ...task, id: '' },
      { ...task, id: identifiers[1] }, // a task the model already knows
    ];
    for (const bad of cases) await expectCode(adaptToTask(model, identifiers, bad, { workDir }), 'ERR_TRM_INVALID_ARGUMENT');
    await expectCode(adaptToTask(model, identifiers, task, { numAug: -1 }), 'ERR_TRM_INVALID_ARGUMENT');
    await expectCode(adaptToTask(model, identifiers, task, { globalBatchSize: 0 }), 'ERR_TRM_INVALID_ARGUMENT');
    await expectCode(adaptToTask(model, identifiers, task, { epochs: 1, globalBatchSize: 32 }), 'ERR_TRM_INVALID_ARGUMENT'); // < one batch
    expect(fs.readdirSync(workDir)).toEqual([]);
  });

  test('models that do not take the ARC encoding, or identifiers that do not fit, reject with ERR_TRM_CONFIG', async () => {
    const sudoku = TRM.create({ ...TINY, seqLen: 81, vocabSize: 11, numPuzzleIdentifiers: identifiers.length });
    const noTable = TRM.create({ ...arcConfig(identifiers.length), puzzleEmbNdim: 0 });
    try {
      await expectCode(adaptToTask(sudoku, identifiers, task), 'ERR_TRM_CONFIG');
      await expectCode(adaptToTask(noTable, identifiers, task), 'ERR_TRM_CONFIG');
      await expectCode(adaptToTask(model, [...identifiers, 'extra'], task), 'ERR_TRM_CONFIG');
    } finally {
      sudoku.dispose();
      noTable.dispose();
    }
  });

  test('an abort signal stops the training: ERR_TRM_CANCELLED, temporary files removed', async () => {
    const controller = new AbortController();
    const run = adaptToTask(model, identifiers, task, {
      numAug: 1,
      globalBatchSize: 4,
      workDir,
      signal: controller.signal,
      onEvent: (e) => e.kind === 'step' && controller.abort(),
    });
    await expectCode(run, 'ERR_TRM_CANCELLED');
    expect(fs.readdirSync(workDir)).toEqual([]);
  });

  test('identifiers shorter than the table: the new rows go after the whole table, the gap named <blank>', async () => {
    const short = identifiers.slice(0, identifiers.length - 2);
    const r = await adaptToTask(model, short, { ...task, test: [] }, { numAug: 1, globalBatchSize: 4, maxSteps: 1, workDir });
    try {
      expect(r.taskIds[0]).toBe(identifiers.length);
      expect(r.identifiers.slice(short.length, identifiers.length)).toEqual(['<blank>', '<blank>']);
      expect(r.identifiers).toHaveLength(r.model.config.numPuzzleIdentifiers);
    } finally {
      r.model.dispose();
    }
  });
});

describe('trm adapt', () => {
  test('adapts a checkpoint, prints the attempts, writes the model and identifiers.json that trm solve can serve', async () => {
    const { dir, cleanup } = makeTempDir('adapt-cli');
    try {
      const data = await buildTinyArc(dir, 1);
      const ids = readIdentifiers(data);
      const m = TRM.create(arcConfig(ids.length), {}, { seed: 3 });
      const checkpoint = path.join(dir, 'model.safetensors');
      await m.save(checkpoint);
      m.dispose();
      const taskFile = path.join(ARC_DATA, 'training', `${NEW_TASK}.json`);
      const out = path.join(dir, 'adapted');
      const lines: string[] = [];
      const errLines: string[] = [];
      const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
      const err = jest.spyOn(console, 'error').mockImplementation((line: unknown) => void errLines.push(String(line)));
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        await adaptCommand().parseAsync(
          [
            '--checkpoint',
            checkpoint,
            '--data',
            data,
            '--task',
            taskFile,
            '--num-aug',
            '3',
            '--max-steps',
            '3',
            '--batch-size',
            '4',
            '--out',
            out,
          ],
          { from: 'user' },
        );
      } finally {
        log.mockRestore();
        err.mockRestore();
        stderr.mockRestore();
      }
      const text = lines.join('\n');
      expect(text).toMatch(new RegExp(`task ${NEW_TASK}, test input 0: 4 augmented versions, steps 2`));
      expect(text).toMatch(/attempt_1: \d+ votes, confidence \d+\.\d% \((correct|wrong)\)\n([0-9]+|\(empty grid)/);
      expect(errLines.join('\n')).toMatch(/adapt: 3 steps/);
      const written = readIdentifiers(out);
      expect(written.slice(0, ids.length)).toEqual(ids);
      expect(written.slice(ids.length).every((n) => parseArcPuzzleName(n).taskId === NEW_TASK)).toBe(true);
      const solver = await Solver.load(path.join(out, 'model.safetensors'), { kind: 'arc', dataDir: out });
      try {
        expect(solver.knowsTask(NEW_TASK)).toBe(true);
        expect(solver.config.numPuzzleIdentifiers).toBe(written.length);
      } finally {
        solver.dispose();
      }
    } finally {
      cleanup();
    }
  });
});
