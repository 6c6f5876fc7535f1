// The numbers the official trainer logs and the weights it moves, where pretrain.py has special
// cases: freeze_weights (with and without a puzzle embedding), the logged train/lr, and the
// exploration draws seeded from the training seed rather than from whatever seed built the model.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TRM, Trainer, cosineScheduleWithWarmup, toFloat32, type ModelConfig, type TrainEvent } from '../lib';
import { writeSuccessorTask } from './helpers/synthetic';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-train-fid-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const data = writeSuccessorTask(path.join(tmp, 'successor'), { train: 64, test: 8, seqLen: 8, vocab: 6, seed: 4, ids: 5 });
const MODEL: Partial<ModelConfig> = {
  seqLen: 8,
  vocabSize: 6,
  numPuzzleIdentifiers: 5,
  hiddenSize: 32,
  numHeads: 2,
  hCycles: 1,
  lCycles: 1,
  lLayers: 1,
  puzzleEmbNdim: 32,
  puzzleEmbLen: 1,
  haltMaxSteps: 4,
};
const TRAIN = {
  dataPaths: [data],
  globalBatchSize: 16,
  epochs: 2,
  evaluators: [],
  lr: 3e-3,
  puzzleEmbLr: 5e-2,
  lrWarmupSteps: 3,
  seed: 0,
  evaluate: false,
};

async function train(model: TRM, extra: Record<string, unknown>): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  const trainer = new Trainer(model, { ...TRAIN, ...extra });
  trainer.on('step', (e: TrainEvent) => events.push(e));
  await trainer.run();
  return events;
}

const values = (m: TRM, name: string) => Array.from(toFloat32(m.getTensor(name)));

describe('freeze_weights', () => {
  it('with a puzzle embedding: only the puzzle rows move, and train/lr is the puzzle lr', async () => {
    const m = TRM.create(MODEL, {}, { seed: 1 });
    try {
      const dense = values(m, 'lm_head.weight'),
        table = values(m, 'puzzle_emb.weights');
      const events = await train(m, { freezeWeights: true });
      expect(values(m, 'lm_head.weight')).toEqual(dense);
      expect(values(m, 'puzzle_emb.weights')).not.toEqual(table);
      const total = events[0].totalSteps;
      expect(events.map((e) => e.lr)).toEqual(
        events.map((e) => cosineScheduleWithWarmup(e.step, TRAIN.puzzleEmbLr, TRAIN.lrWarmupSteps, total, 1)),
      );
    } finally {
      m.dispose();
    }
  });

  it('without a puzzle embedding: ignored, as pretrain.py builds only Adam-atan2 then; train/lr is the dense lr', async () => {
    const m = TRM.create({ ...MODEL, puzzleEmbNdim: 0, puzzleEmbLen: 0 }, {}, { seed: 1 });
    try {
      const dense = values(m, 'lm_head.weight');
      const events = await train(m, { freezeWeights: true });
      expect(values(m, 'lm_head.weight')).not.toEqual(dense);
      const total = events[0].totalSteps;
      expect(events.map((e) => e.lr)).toEqual(events.map((e) => cosineScheduleWithWarmup(e.step, TRAIN.lr, TRAIN.lrWarmupSteps, total, 1)));
    } finally {
      m.dispose();
    }
  });
});

describe('exploration seed', () => {
  it('follows the training seed (seed + rank), not the seed the model was built with', async () => {
    // Two models with the same weights built from different seeds. q_halt = +5 halts every row at
    // once unless exploration holds it back, so the draws show in the halted counts and steps.
    const a = TRM.create({ ...MODEL, haltExplorationProb: 0.5 }, {}, { seed: 0 });
    const b = TRM.create({ ...MODEL, haltExplorationProb: 0.5 }, {}, { seed: 7 });
    try {
      for (const e of a.stateDict()) b.setTensor(e.name, a.getTensor(e.name));
      for (const m of [a, b]) m.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: Float32Array.from([5, -5]) });
      // train/steps: the mean supervision steps of the rows that halted (train/count is count / count = 1, as official).
      const counts = async (m: TRM, seed: number) => (await train(m, { seed, lr: 0, puzzleEmbLr: 0 })).map((e) => e.metrics.steps);
      const fromA = await counts(a, 3);
      expect(await counts(b, 3)).toEqual(fromA);
      // The draws do matter: rows held back by exploration halt after more than one step.
      expect(fromA.some((steps) => steps > 1)).toBe(true);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
