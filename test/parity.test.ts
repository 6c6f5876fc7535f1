// The numbers the official TinyRecursiveModels code computes from its own checkpoints
// (test/fixtures/parity, SPEC.md §11.1): logits, q-values and losses of three eval steps from a fresh
// carry, and the gradient of the first training step's loss for every parameter.
import { TRM } from '../lib';
import { parityCase, relDiff } from './helpers/parity';

describe.each(['tiny-att', 'tiny-mlp'])('parity with the official code: %s', (name) => {
  const c = parityCase(name);
  let model: TRM;
  beforeAll(async () => {
    model = await TRM.load(`${c.dir}/step_0`, { forwardDtype: 'float32' });
  });
  afterAll(() => model.dispose());

  it('reproduces logits, q_halt, q_continue and the loss at steps 0, 1, 2', async () => {
    const outs = await model.run(c.batch, { steps: 3, record: true });
    expect(outs).toHaveLength(3);
    for (let k = 0; k < 3; k++) {
      expect(relDiff(outs[k].logits!.data, c.expected(`logits_${k}.npy`))).toBeLessThan(1e-4);
      expect(relDiff(outs[k].qHalt.data, c.expected(`q_halt_${k}.npy`))).toBeLessThan(1e-5);
      expect(relDiff(outs[k].qContinue.data, c.expected(`q_continue_${k}.npy`))).toBeLessThan(1e-5);
      expect(Math.abs(outs[k].loss - c.losses[k]) / c.losses[k]).toBeLessThan(1e-6);
    }
  });

  it('reproduces the gradient of the first training step for every parameter', async () => {
    model.train();
    try {
      model.zeroGrad();
      const carry = model.initialCarry(3);
      const out = await model.step(carry, c.batch);
      expect(Math.abs(out.loss - c.trainStep.train_loss) / c.trainStep.train_loss).toBeLessThan(1e-6);
      await model.backward(1);
      const grads = model.gradients();
      const expectedNames = c.trainStep.grads.map((n) => n.replace(/^model\.inner\./, '')).sort();
      const got = Object.keys(grads).filter((n) => n !== 'puzzle_emb.local_ids').sort();
      expect(got).toEqual(expectedNames);
      for (const n of c.trainStep.grads) {
        const ours = grads[n.replace(/^model\.inner\./, '')].data as Float32Array;
        expect({ n, d: relDiff(ours, c.expected(`grad/${n}.npy`)) < 1e-4 }).toEqual({ n, d: true });
      }
    } finally {
      model.eval();
    }
  });
});
