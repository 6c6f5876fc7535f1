/**
 * The step-level API: one supervision step at a time with a persistent carry, the loss and
 * metrics of each step, and gradients from backward() — the pieces of your own training loop.
 *
 *     npx ts-node examples/step-api.ts
 */
import { TRM, int32Tensor } from '../lib';

async function main(): Promise<void> {
  // A small Sudoku-shaped TRM-MLP (hidden 64 instead of 512) so this runs in a second on a CPU.
  const model = TRM.create('sudoku-mlp', { hiddenSize: 64, numHeads: 2, hCycles: 2, lCycles: 2 }, { seed: 1 });
  const B = 4;
  const inputs = int32Tensor(
    Array.from({ length: B * 81 }, (_, i) => 1 + (i % 10)),
    [B, 81],
  );
  const labels = int32Tensor(
    Array.from({ length: B * 81 }, (_, i) => 2 + ((i * 7) % 9)),
    [B, 81],
  );
  const batch = { inputs, labels, puzzleIdentifiers: int32Tensor(new Array(B).fill(0), [B]) };

  model.train();
  const carry = model.initialCarry(B);
  for (let k = 0; k < 3; k++) {
    const out = await model.step(carry, batch, { logits: false });
    await model.backward(1 / B); // the trainer scales by 1/global_batch (docs/algorithm.md §2.3)
    const g = model.gradients()['lm_head.weight'].data as Float32Array;
    const gnorm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    console.log(
      `step ${k + 1}: loss ${out.loss.toFixed(4)}  halted ${Array.from(out.halted.data)}  |grad lm_head| ${gnorm.toExponential(3)}`,
    );
    model.zeroGrad();
  }
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
