// The numbers the official TinyRecursiveModels code computes from its own checkpoints
// (test/fixtures/parity, docs/algorithm.md §11.1), for every architecture: logits, q-values and losses of
// three eval steps from a fresh carry, the gradient of the first training step for every
// parameter, and one optimizer step (Adam-atan2 + sign-SGD) against a torch reference of the
// official update rules. Each step k is compared with max(1e-5, 10 × the official code's own
// sensitivity to float32 rounding), not one fixed figure (the fixtures' README).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamAtan2, SparseSignSGD, TRM, cosineScheduleWithWarmup, readAllConfig, readNpy, toFloat32 } from '../lib';
import type { ArchName } from '../lib';
import { PARITY_DIR, parityCase, relDiff } from './helpers/parity';
import { python } from './helpers/python';

const CASES: [string, ArchName][] = [
  ['tiny-att', 'trm'],
  ['tiny-mlp', 'trm'],
  ['tiny-hrm', 'hrm'],
  ['tiny-singlez', 'trm_singlez'],
  ['tiny-hier6', 'trm_hier6'],
  ['tiny-baseline', 'transformers_baseline'],
];

describe.each(CASES)('parity with the official code: %s', (name, arch) => {
  const c = parityCase(name);
  let model: TRM;
  beforeAll(async () => {
    model = await TRM.load(`${c.dir}/step_0`, { forwardDtype: 'float32' });
  });
  afterAll(() => model.dispose());

  it(`builds ${arch} from the all_config.yaml beside the checkpoint`, () => {
    expect(model.config.arch).toBe(arch);
    // hrm.py learns the continue target; the baseline halts on q_halt > q_continue without one.
    expect(model.config.noACTContinue).toBe(arch !== 'hrm' && arch !== 'transformers_baseline');
  });

  it('reproduces logits, q_halt, q_continue and the loss at steps 0, 1, 2', async () => {
    const outs = (await model.run(c.batch, { steps: 3, trace: true })).trace!;
    expect(outs).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      const got = {
        logits: relDiff(outs[k].logits!.data, c.expected(`logits_${k}.npy`)),
        q_halt: relDiff(outs[k].qHalt.data, c.expected(`q_halt_${k}.npy`)),
        q_continue: relDiff(outs[k].qContinue.data, c.expected(`q_continue_${k}.npy`)),
        loss: Math.abs(outs[k].loss - c.losses[k]) / c.losses[k],
      };
      const within = {
        logits: got.logits <= c.tolerance('logits', k),
        q_halt: got.q_halt <= c.tolerance('q_halt', k),
        q_continue: got.q_continue <= c.tolerance('q_continue', k),
        loss: got.loss <= c.tolerance('logits', k),
      };
      expect({ k, got, within }).toEqual({ k, got, within: { logits: true, q_halt: true, q_continue: true, loss: true } });
    }
  });

  it('reproduces the gradient of the first training step for every parameter', async () => {
    model.train();
    try {
      model.zeroGrad();
      const out = await model.step(model.initialCarry(3), c.batch);
      expect(Math.abs(out.loss - c.trainStep.train_loss) / c.trainStep.train_loss).toBeLessThanOrEqual(c.tolerance('logits', 0));
      await model.backward(1);
      const grads = model.gradients();
      const expectedNames = c.trainStep.grads.map((n) => n.replace(/^model\.inner\./, '')).sort();
      const got = Object.keys(grads)
        .filter((n) => n !== 'puzzle_emb.local_ids')
        .sort();
      expect(got).toEqual(expectedNames);
      for (const n of c.trainStep.grads) {
        const d = relDiff(grads[n.replace(/^model\.inner\./, '')].data as Float32Array, c.expected(`grad/${n}.npy`));
        expect({ n, d, within: d <= c.gradTolerance(n) }).toEqual({ n, d, within: true });
      }
    } finally {
      model.eval();
    }
  });
});

describe.each(CASES)('one optimizer step against the official update rules: %s', (name) => {
  const c = parityCase(name);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `trm-optstep-${name}-`));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('Adam-atan2 on the dense weights and sign-SGD on the puzzle rows, with the step-1 learning rates', async () => {
    python(fs.readFileSync(path.join(__dirname, 'helpers', 'official_step.py'), 'utf8'), [c.dir, out]);
    const ref = JSON.parse(fs.readFileSync(path.join(out, 'lr.json'), 'utf8')) as { lr: number; puzzle_lr: number; total_steps: number };
    const { train } = readAllConfig(path.join(c.dir, 'all_config.yaml'));
    const B = train.globalBatchSize!;
    const lr = cosineScheduleWithWarmup(1, train.lr!, train.lrWarmupSteps!, ref.total_steps, train.lrMinRatio!);
    const puzzleLr = cosineScheduleWithWarmup(1, train.puzzleEmbLr!, train.lrWarmupSteps!, ref.total_steps, train.lrMinRatio!);
    expect([lr, puzzleLr]).toEqual([ref.lr, ref.puzzle_lr]);

    const model = await TRM.load(`${c.dir}/step_0`, { forwardDtype: 'float32' });
    try {
      model.train();
      const adam = new AdamAtan2(model, { beta1: train.beta1!, beta2: train.beta2!, weightDecay: train.weightDecay! });
      const sgd = new SparseSignSGD(model, { weightDecay: train.puzzleEmbWeightDecay! });
      await model.step(model.initialCarry(B), c.batch);
      await model.backward(1 / B);
      await sgd.step(puzzleLr);
      await adam.step(lr);

      let checked = 0;
      for (const n of c.trainStep.grads) {
        const tensor = n === 'puzzle_emb.local_weights' ? 'puzzle_emb.weights' : n.replace(/^model\.inner\./, '');
        const want = readNpy(path.join(out, `${tensor}.npy`)).data as Float32Array;
        const got = toFloat32(model.getTensor(tensor));
        const g = c.expected(`grad/${n}.npy`);
        const gMax = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const stepLr = n === 'puzzle_emb.local_weights' ? puzzleLr : lr;
        // A first step moves each weight by ±10·lr·atan(0.1) (sign-SGD: ±lr) by the sign of its gradient,
        // so only where the official gradient lies within the parity tolerance of zero may the signs differ.
        let bad = 0;
        for (let i = 0; i < want.length; i++) {
          const d = Math.abs(got[i] - want[i]);
          if (d <= 4e-7 * Math.abs(want[i]) + 1e-9) continue; // a few float32 ulps of the weight
          const undecided = n !== 'puzzle_emb.local_weights' && Math.abs(g[i]) <= c.gradTolerance(n) * gMax;
          if (!(undecided && d <= 2 * stepLr * 1.0001)) bad++;
        }
        expect({ tensor, bad }).toEqual({ tensor, bad: 0 });
        checked += want.length;
      }
      expect(checked).toBeGreaterThan(10000);
    } finally {
      model.dispose();
    }
  });
});

it('covers every case in the fixtures folder', () => {
  const folders = fs
    .readdirSync(PARITY_DIR)
    .filter((f) => fs.statSync(path.join(PARITY_DIR, f)).isDirectory())
    .sort();
  expect(folders).toEqual(CASES.map(([n]) => n).sort());
});
