/**
 * `npm run demo`: the main job on an embedded default. Loads the checkpoint the official
 * TinyRecursiveModels code wrote in ../shared/parity, runs all 16 supervision steps on its batch,
 * checks the numbers against the official ones, and prints how the answer and the model's
 * halting confidence evolve step by step.
 */
import * as path from 'path';
import { TRM, readNpy, type Tensor } from '../lib';

async function main(): Promise<void> {
  const dir = path.resolve(__dirname, '..', '..', 'shared', 'parity', 'tiny-att');
  const model = await TRM.load(path.join(dir, 'step_0'));
  try {
    console.log(`Loaded the official tiny-att checkpoint: ${model.config.arch}, ${model.numParameters().toLocaleString('en-US')} parameters,`);
    console.log(`T=${model.config.hCycles}, n=${model.config.lCycles}, ${model.config.lLayers} layers, hidden ${model.config.hiddenSize}, ${model.config.puzzleEmbLen} puzzle tokens.`);
    const labels = readNpy(path.join(dir, 'labels.npy'));
    const batch = {
      inputs: readNpy(path.join(dir, 'inputs.npy')) as Tensor,
      puzzleIdentifiers: readNpy(path.join(dir, 'puzzle_identifiers.npy')) as Tensor,
      labels: { dtype: 'int32' as const, shape: labels.shape, data: Int32Array.from(labels.data as Int32Array, (v) => (v === 0 ? -100 : v)) },
    };
    const t0 = Date.now();
    const steps = await model.run(batch, { record: true });
    const ms = Date.now() - t0;
    const official = readNpy(path.join(dir, 'expected', 'logits_2.npy')).data as Float32Array;
    let worst = 0;
    official.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - steps[2].logits!.data[i]))));
    console.log(`\n16 supervision steps for ${batch.inputs.shape[0]} rows in ${ms} ms; step-3 logits differ from the official code's by at most ${worst.toExponential(2)}.\n`);
    console.log('step  loss     sigmoid(q_halt) per row   row-0 prediction');
    for (const [k, s] of steps.entries()) {
      const conf = Array.from(s.qHalt.data, (q) => (1 / (1 + Math.exp(-q))).toFixed(4)).join(' ');
      console.log(`${String(k + 1).padStart(4)}  ${s.loss.toFixed(4)}  ${conf.padEnd(24)}  ${Array.from(s.preds.data.slice(0, model.config.seqLen)).join('')}`);
    }
    console.log('\nThis checkpoint has random weights (it is a parity fixture); training arrives with issue #3.');
    console.log('Next: npx trm inspect sudoku-mlp   |   npx ts-node examples/step-api.ts');
  } finally {
    model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
