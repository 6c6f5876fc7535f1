// The training engine end to end (issue #3): a tiny model really learns, checkpoints and logs are
// written, a stopped-and-resumed run ends bit-identical to an uninterrupted one, and bad configs
// are rejected.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TRM, Trainer, toFloat32, type TrainEvent, type ModelConfig } from '../lib';
import { expectCode } from './helpers/tiny';
import { writeSuccessorTask } from './helpers/synthetic';
import { buildTinyArc } from './helpers/arc-dataset';
import { readDatasetSizes } from '../lib';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-train-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MODEL: Partial<ModelConfig> = {
  seqLen: 8, vocabSize: 6, numPuzzleIdentifiers: 1, hiddenSize: 32, numHeads: 2, hCycles: 2, lCycles: 2, lLayers: 1,
  puzzleEmbNdim: 32, puzzleEmbLen: 2, haltMaxSteps: 4,
};
const data = writeSuccessorTask(path.join(tmp, 'successor'), { train: 512, test: 128, seqLen: 8, vocab: 6, seed: 1 });
const TRAIN = { dataPaths: [data], globalBatchSize: 32, evaluators: [], lr: 3e-3, lrWarmupSteps: 10, weightDecay: 0.01, puzzleEmbLr: 1e-2, puzzleEmbWeightDecay: 0.01, seed: 0 };

function snapshot(m: TRM): Map<string, Float32Array> {
  return new Map(m.stateDict().map((e) => [e.name, toFloat32(m.getTensor(e.name))]));
}

describe('Trainer', () => {
  it('learns a small task: loss falls and held-out exact accuracy clearly rises', async () => {
    const model = TRM.create(MODEL, {}, { seed: 1 });
    const ckpt = path.join(tmp, 'run-learn');
    const trainer = new Trainer(model, { ...TRAIN, epochs: 16, evalInterval: 8, checkpointEveryEval: true, checkpointPath: ckpt, ema: true, emaRate: 0.9 });
    const events: TrainEvent[] = [];
    trainer.on('event', (e: TrainEvent) => events.push(e));
    await trainer.run();
    const steps = events.filter((e) => e.kind === 'step');
    const evals = events.filter((e) => e.kind === 'eval');
    expect(steps).toHaveLength(16 * (512 / 32));
    expect(steps[0].totalSteps).toBe(256);
    expect(steps[steps.length - 1].metrics.lm_loss).toBeLessThan(steps[0].metrics.lm_loss * 0.5);
    expect(evals).toHaveLength(2);
    expect(evals[0].set).toBe('all');
    expect(evals[0].metrics.count).toBe(128);
    expect(evals[0].metrics.steps).toBe(4); // eval always runs haltMaxSteps (SPEC §6.1)
    expect(evals[1].metrics.exact_accuracy).toBeGreaterThan(0.8);
    // Checkpoints in the official layout + all_config.yaml + the JSONL log.
    expect(fs.existsSync(path.join(ckpt, 'step_128'))).toBe(true);
    expect(fs.existsSync(path.join(ckpt, 'step_256'))).toBe(true);
    expect(fs.readFileSync(path.join(ckpt, 'all_config.yaml'), 'utf8')).toMatch(/global_batch_size: 32/);
    const lines = fs.readFileSync(path.join(ckpt, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(events.length);
    // The checkpoint holds the EMA weights (SPEC §4) and reloads with the same held-out score.
    const reloaded = await TRM.load(path.join(ckpt, 'step_256'), { dataDir: data });
    expect(reloaded.config.hiddenSize).toBe(32);
    reloaded.dispose();
    model.dispose();
  });

  it('ends a stopped and resumed run with parameters bit-identical to an uninterrupted one', async () => {
    const cfg = { ...TRAIN, epochs: 4, evalInterval: 2, ema: true, emaRate: 0.95, checkpointPath: path.join(tmp, 'run-a') };
    const a = TRM.create(MODEL, {}, { seed: 3 });
    await new Trainer(a, { ...cfg, evaluate: false }).run();

    const b = TRM.create(MODEL, {}, { seed: 3 });
    const first = new Trainer(b, { ...cfg, checkpointPath: path.join(tmp, 'run-b'), evaluate: false, maxSteps: 23 });
    await first.run();
    const state = path.join(tmp, 'run-b', 'state.safetensors');
    await first.saveState(state);
    const c = TRM.create(MODEL, {}, { seed: 99 }); // different init: everything must come from the state
    await new Trainer(c, { ...cfg, checkpointPath: path.join(tmp, 'run-c'), evaluate: false }).run({ resumeFrom: state });

    const sa = snapshot(a), sc = snapshot(c);
    for (const [name, va] of sa) expect({ name, same: Buffer.from(va.buffer).equals(Buffer.from(sc.get(name)!.buffer)) }).toEqual({ name, same: true });
    [a, b, c].forEach((m) => m.dispose());
  });

  it('starts from loadCheckpoint (official step_N) and resizes a puzzle table of another size to its mean', async () => {
    const src = TRM.create({ ...MODEL, numPuzzleIdentifiers: 3 }, {}, { seed: 8 });
    const table = Float32Array.from({ length: 3 * 32 }, (_, i) => (i % 32) + Math.floor(i / 32));
    src.setTensor('puzzle_emb.weights', { dtype: 'float32', shape: [3, 32], data: table });
    const dir = path.join(tmp, 'load-src');
    await src.save(path.join(dir, 'step_1'), { format: 'official' });
    const m = TRM.create(MODEL, {}, { seed: 9 }); // 1 puzzle id: the table must become the mean row
    try {
      await new Trainer(m, { ...TRAIN, epochs: 1, evaluate: false, maxSteps: 1, lr: 0, puzzleEmbLr: 0, loadCheckpoint: path.join(dir, 'step_1') }).run();
      expect(Array.from(toFloat32(m.getTensor('lm_head.weight')))).toEqual(Array.from(toFloat32(src.getTensor('lm_head.weight'))));
      const row = toFloat32(m.getTensor('puzzle_emb.weights'));
      row.forEach((v, j) => expect(v).toBeCloseTo(j + 1, 5)); // mean of rows j+0, j+1, j+2
    } finally {
      m.dispose();
      src.dispose();
    }
  });

  it('runs the ARC evaluator on the final checkpoint when evaluators include arc@ARC', async () => {
    const arc = await buildTinyArc(path.join(tmp, 'arc'), 2);
    const m = TRM.create({ ...readDatasetSizes([arc]), hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1, puzzleEmbNdim: 32, haltMaxSteps: 2 }, {}, { seed: 1 });
    const ckpt = path.join(tmp, 'run-arc');
    try {
      const trainer = new Trainer(m, { dataPaths: [arc], globalBatchSize: 8, epochs: 2, evaluators: ['arc@ARC'], lrWarmupSteps: 1, checkpointPath: ckpt, maxSteps: 2 });
      const evals: TrainEvent[] = [];
      trainer.on('eval', (e: TrainEvent) => evals.push(e));
      await trainer.run();
      const arcEval = evals.find((e) => e.set === 'ARC');
      expect(arcEval).toBeDefined();
      for (const k of [1, 2, 5, 10, 100, 1000]) expect(arcEval!.metrics[`ARC/pass@${k}`]).toBeGreaterThanOrEqual(0);
      expect(arcEval!.metrics['ARC/pass@2']).toBeLessThanOrEqual(arcEval!.metrics['ARC/pass@1000']);
      const submission = JSON.parse(fs.readFileSync(path.join(ckpt, 'evaluator_ARC_step_2', 'submission.json'), 'utf8'));
      expect(Object.keys(submission).length).toBe(3); // the three evaluation tasks of the tiny dataset
    } finally {
      m.dispose();
    }
  });

  it('refuses bad configs and missing data with TrmErrors', async () => {
    const m = TRM.create(MODEL);
    try {
      expect(() => new Trainer(m, { ...TRAIN, epochs: 10, evalInterval: 3 })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
      expect(() => new Trainer(m, { ...TRAIN, epochs: 1, globalBatchSize: 0 })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
      expect(() => new Trainer(m, { ...TRAIN, epochs: 1, evaluators: ['arc@ARC'] })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' })); // not an ARC dataset
      expect(() => new Trainer(m, { ...TRAIN, epochs: 1, evaluators: ['sudoku@Foo'] })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
      expect(() => new Trainer(m, { ...TRAIN, epochs: 1, dataPaths: [path.join(tmp, 'nope')] })).toThrow(expect.objectContaining({ code: 'ERR_TRM_IO' }));
      await expectCode(new Trainer(m, { ...TRAIN, epochs: 1 }).run({ resumeFrom: path.join(tmp, 'no-state') }), 'ERR_TRM_IO');
    } finally {
      m.dispose();
    }
  });
});
