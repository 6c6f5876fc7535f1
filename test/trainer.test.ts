// The training engine end to end: a tiny model really learns, checkpoints and logs are
// written, a stopped-and-resumed run ends bit-identical to an uninterrupted one, and bad configs
// are rejected.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArcEvaluator, TRM, Trainer, evaluateExact, toFloat32, type TrainEvent, type ModelConfig } from '../lib';
import { readDataset } from '../lib/data/format';
import { python } from './helpers/python';
import { expectCode } from './helpers/tiny';
import { writeSuccessorTask } from './helpers/synthetic';
import { buildTinyArc } from './helpers/arc-dataset';
import { readDatasetSizes } from '../lib';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-train-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MODEL: Partial<ModelConfig> = {
  seqLen: 8,
  vocabSize: 6,
  numPuzzleIdentifiers: 1,
  hiddenSize: 32,
  numHeads: 2,
  hCycles: 2,
  lCycles: 2,
  lLayers: 1,
  puzzleEmbNdim: 32,
  puzzleEmbLen: 2,
  haltMaxSteps: 4,
};
const data = writeSuccessorTask(path.join(tmp, 'successor'), { train: 512, test: 128, seqLen: 8, vocab: 6, seed: 1 });
const TRAIN = {
  dataPaths: [data],
  globalBatchSize: 32,
  evaluators: [],
  lr: 3e-3,
  lrWarmupSteps: 10,
  weightDecay: 0.01,
  puzzleEmbLr: 1e-2,
  puzzleEmbWeightDecay: 0.01,
  seed: 0,
};

function snapshot(m: TRM): Map<string, Float32Array> {
  return new Map(m.stateDict().map((e) => [e.name, toFloat32(m.getTensor(e.name))]));
}

describe('Trainer', () => {
  it('learns a small task: loss falls and held-out exact accuracy clearly rises', async () => {
    const model = TRM.create(MODEL, {}, { seed: 1 });
    const ckpt = path.join(tmp, 'run-learn');
    const trainer = new Trainer(model, {
      ...TRAIN,
      epochs: 16,
      evalInterval: 8,
      checkpointEveryEval: true,
      checkpointPath: ckpt,
      ema: true,
      emaRate: 0.9,
    });
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
    expect(evals[0].metrics.steps).toBe(4); // eval always runs haltMaxSteps (docs/algorithm.md §6.1)
    expect(evals[1].metrics.exact_accuracy).toBeGreaterThan(0.8);
    // Checkpoints in the official layout + all_config.yaml + the JSONL log.
    expect(fs.existsSync(path.join(ckpt, 'step_128'))).toBe(true);
    expect(fs.existsSync(path.join(ckpt, 'step_256'))).toBe(true);
    expect(fs.readFileSync(path.join(ckpt, 'all_config.yaml'), 'utf8')).toMatch(/global_batch_size: 32/);
    const lines = fs.readFileSync(path.join(ckpt, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(events.length);
    // The checkpoint holds the EMA weights (docs/algorithm.md §4) and reloads with the same held-out score.
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

    const sa = snapshot(a),
      sc = snapshot(c);
    for (const [name, va] of sa)
      expect({ name, same: Buffer.from(va.buffer).equals(Buffer.from(sc.get(name)!.buffer)) }).toEqual({ name, same: true });
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
      await new Trainer(m, {
        ...TRAIN,
        epochs: 1,
        evaluate: false,
        maxSteps: 1,
        lr: 0,
        puzzleEmbLr: 0,
        loadCheckpoint: path.join(dir, 'step_1'),
      }).run();
      expect(Array.from(toFloat32(m.getTensor('lm_head.weight')))).toEqual(Array.from(toFloat32(src.getTensor('lm_head.weight'))));
      const row = toFloat32(m.getTensor('puzzle_emb.weights'));
      row.forEach((v, j) => expect(v).toBeCloseTo(j + 1, 5)); // mean of rows j+0, j+1, j+2
    } finally {
      m.dispose();
      src.dispose();
    }
  });

  describe('the ARC evaluator inside the evaluation pass', () => {
    let arc: string;
    let rows: number;
    beforeAll(async () => {
      arc = await buildTinyArc(path.join(tmp, 'arc'), 2);
      rows = readDataset(arc, 'test').sets.all.inputs.shape[0];
    });
    // bfloat16 on the CPU: an evaluation that reloaded a checkpoint (in the CPU's default dtype) might not match.
    const arcModel = () =>
      TRM.create(
        {
          ...readDatasetSizes([arc]),
          hiddenSize: 32,
          numHeads: 2,
          hCycles: 1,
          lCycles: 1,
          lLayers: 1,
          puzzleEmbNdim: 32,
          haltMaxSteps: 2,
          forwardDtype: 'bfloat16',
        },
        {},
        { seed: 1 },
      );
    const arcTrain = {
      dataPaths: [] as string[],
      globalBatchSize: 8,
      epochs: 2,
      evalInterval: 1,
      evaluators: ['arc@ARC'],
      lrWarmupSteps: 1,
    };

    it('votes at every evaluation, pooled over evaluations by default, with no checkpoint on disk', async () => {
      const m = arcModel();
      try {
        const trainer = new Trainer(m, { ...arcTrain, dataPaths: [arc] });
        const evals: TrainEvent[] = [];
        trainer.on('eval', (e: TrainEvent) => evals.push(e));
        await trainer.run();
        const arcEvals = evals.filter((e) => e.set === 'ARC');
        expect(arcEvals.map((e) => e.metrics['ARC/predictions'])).toEqual([rows, 2 * rows]); // aggregated voting
        expect(arcEvals.every((e) => e.path === undefined)).toBe(true); // no checkpointPath: nothing written
      } finally {
        m.dispose();
      }
    });

    it('with aggregatedVoting: false each evaluation votes alone, on the weights in memory and in their dtype; with a checkpointPath it writes evaluator_ARC_step_N/submission.json', async () => {
      const m = arcModel();
      const ckpt = path.join(tmp, 'run-arc');
      try {
        const trainer = new Trainer(m, { ...arcTrain, dataPaths: [arc], checkpointPath: ckpt, aggregatedVoting: false });
        const evals: TrainEvent[] = [];
        trainer.on('eval', (e: TrainEvent) => evals.push(e));
        await trainer.run();
        const arcEvals = evals.filter((e) => e.set === 'ARC');
        expect(arcEvals.map((e) => e.metrics['ARC/predictions'])).toEqual([rows, rows]);
        for (const e of arcEvals) {
          for (const k of [1, 2, 5, 10, 100, 1000]) expect(e.metrics[`ARC/pass@${k}`]).toBeGreaterThanOrEqual(0);
          expect(e.metrics['ARC/pass@2']).toBeLessThanOrEqual(e.metrics['ARC/pass@1000']);
          expect(e.path).toBe(path.join(ckpt, `evaluator_ARC_step_${e.step}`, 'submission.json'));
          expect(Object.keys(JSON.parse(fs.readFileSync(e.path!, 'utf8'))).length).toBe(3); // the three evaluation tasks
        }
        // The last evaluation ran on the final weights (no EMA) in bfloat16: a standalone pass over the
        // model in memory agrees exactly (a reload of the checkpoint would run in the CPU's default dtype).
        const standalone = ArcEvaluator.fromDataset(arc);
        const r = await evaluateExact(m, arc, { globalBatchSize: 8, evaluators: [standalone] });
        const last = evals.filter((e) => e.set === 'all').pop()!;
        expect(last.metrics.lm_loss).toBe(r.metrics.all.lm_loss);
        expect(last.metrics.q_halt_loss).toBe(r.metrics.all.q_halt_loss);
        const { 'ARC/predictions': n, ...pass } = arcEvals[1].metrics;
        expect([n, pass]).toEqual([standalone.predictionCount, standalone.result().metrics]);
      } finally {
        m.dispose();
      }
    });
  });

  it('writes eval_save_outputs as step_N_all_preds.<rank>, the tensors pretrain.py saves', async () => {
    const model = TRM.create(MODEL, {}, { seed: 4 });
    const ckpt = path.join(tmp, 'run-preds');
    try {
      const keys = ['inputs', 'labels', 'puzzle_identifiers', 'logits', 'preds', 'q_halt_logits'];
      await new Trainer(model, { ...TRAIN, epochs: 1, checkpointPath: ckpt, evalSaveOutputs: keys }).run();
      const file = path.join(ckpt, 'step_16_all_preds.0');
      const out = JSON.parse(
        python(
          `
import json, sys, torch
d = torch.load(sys.argv[1], weights_only=True)
print(json.dumps({"keys": list(d.keys()), "meta": {k: [str(v.dtype), list(v.shape)] for k, v in d.items()},
                  "argmax": bool((d["logits"].argmax(-1) == d["preds"]).all()),
                  "first_input": d["inputs"][0].tolist()}))`,
          [file],
        ),
      );
      expect(out.keys).toEqual(keys);
      // The logits in the forward dtype, as pretrain.py saves them (the CPU default may be bf16).
      const logitsDtype = `torch.${model.config.forwardDtype}`;
      expect(out.meta).toEqual({
        inputs: ['torch.int32', [128, 8]],
        labels: ['torch.int32', [128, 8]],
        puzzle_identifiers: ['torch.int32', [128]],
        logits: [logitsDtype, [128, 8, 6]],
        preds: ['torch.int64', [128, 8]],
        q_halt_logits: ['torch.float32', [128]],
      });
      expect(out.argmax).toBe(true);
      const test = readDataset(data, 'test').sets.all;
      expect(out.first_input).toEqual(Array.from(test.inputs.data.subarray(0, 8) as ArrayLike<number>));
      expect(() => new Trainer(model, { ...TRAIN, epochs: 1, evalSaveOutputs: ['q_values'] })).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_CONFIG', message: expect.stringContaining("'q_values'") }),
      );
    } finally {
      model.dispose();
    }
  });

  it('checks a dataset against the model once, before the first step, not batch by batch', async () => {
    // Tokens up to 6 in a dataset of vocab_size 7, a model of 6 tokens: refused before any step runs.
    const wide = writeSuccessorTask(path.join(tmp, 'wide'), { train: 64, test: 16, seqLen: 8, vocab: 7, seed: 2 });
    const m = TRM.create(MODEL);
    try {
      const trainer = new Trainer(m, { ...TRAIN, dataPaths: [wide], epochs: 1 });
      const kinds: string[] = [];
      trainer.on('event', (e: TrainEvent) => kinds.push(e.kind));
      let err: { code?: string; message?: string } | undefined;
      await trainer.run().catch((e) => (err = e));
      expect([err?.code, kinds]).toEqual(['ERR_TRM_CONFIG', []]);
      expect(err?.message).toContain('vocab_size 7');
    } finally {
      m.dispose();
    }
  });

  it('refuses bad configs and missing data with TrmErrors', async () => {
    const m = TRM.create(MODEL);
    try {
      expect(() => new Trainer(m, { ...TRAIN, epochs: 10, evalInterval: 3 })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
      expect(() => new Trainer(m, { ...TRAIN, epochs: 1, globalBatchSize: 0 })).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_CONFIG' }),
      );
      expect(() => new Trainer(m, { ...TRAIN, epochs: 1, evaluators: ['arc@ARC'] })).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_CONFIG' }),
      ); // not an ARC dataset
      expect(() => new Trainer(m, { ...TRAIN, epochs: 1, evaluators: ['sudoku@Foo'] })).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_CONFIG' }),
      );
      expect(() => new Trainer(m, { ...TRAIN, epochs: 1, dataPaths: [path.join(tmp, 'nope')] })).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_IO' }),
      );
      await expectCode(new Trainer(m, { ...TRAIN, epochs: 1 }).run({ resumeFrom: path.join(tmp, 'no-state') }), 'ERR_TRM_IO');
    } finally {
      m.dispose();
    }
  });
});
