/**
 * Load a checkpoint written by the official TinyRecursiveModels code and watch its answer refine,
 * supervision step by supervision step, with its halting confidence.
 *
 *     npx ts-node examples/inspect-official.ts [path/to/step_N]
 *
 * Default: the tiny attention checkpoint in test/fixtures/parity (written by the official code).
 */
import * as path from 'path';
import { TRM, readNpy, type Tensor } from '../lib';

async function main(): Promise<void> {
  const dir = path.resolve(__dirname, '..', 'test', 'fixtures', 'parity', 'tiny-att');
  const file = process.argv[2] ?? path.join(dir, 'step_0');
  const model = await TRM.load(file);
  try {
    console.log(`${file}: ${model.config.arch}, ${model.numParameters().toLocaleString('en-US')} parameters`);
    const batch = {
      inputs: readNpy(path.join(dir, 'inputs.npy')) as Tensor,
      puzzleIdentifiers: readNpy(path.join(dir, 'puzzle_identifiers.npy')) as Tensor,
    };
    const { trace = [] } = await model.run(batch, { trace: true });
    for (const [k, s] of trace.entries()) {
      const conf = Array.from(s.qHalt.data, (q) => (1 / (1 + Math.exp(-q))).toFixed(4));
      const row0 = Array.from(s.preds.data.slice(0, model.config.seqLen)).join('');
      console.log(`step ${String(k + 1).padStart(2)}: row 0 prediction ${row0}  confidence ${conf.join(' ')}`);
    }
  } finally {
    model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
