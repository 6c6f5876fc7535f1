// One rank of a test job: trains a tiny model on a dataset for a few steps in a process started
// with the torchrun variables, then writes its parameters as JSON. Used by test/distributed.test.ts.
import * as fs from 'fs';
import { TRM, Trainer, toFloat32, type ModelConfig } from '../../lib';

async function main(): Promise<void> {
  const [data, out, steps] = process.argv.slice(2);
  const model: Partial<ModelConfig> = JSON.parse(process.env.TRM_TEST_MODEL!);
  const rank = Number(process.env.RANK ?? 0);
  // TRM_TEST_MODEL_SEED: build every rank from one seed (as a library user might); else 5 + rank.
  const m = TRM.create(model, {}, { seed: process.env.TRM_TEST_MODEL_SEED ? Number(process.env.TRM_TEST_MODEL_SEED) : 5 + rank });
  const trainer = new Trainer(m, {
    ...JSON.parse(process.env.TRM_TEST_TRAIN!),
    dataPaths: [data],
    evaluate: false,
    maxSteps: Number(steps),
    distributed: process.env.WORLD_SIZE !== undefined,
  });
  trainer.on('step', (e) => rank === 0 && process.stdout.write(`step ${e.step}\n`));
  await trainer.run();
  if (rank === 0)
    fs.writeFileSync(
      out,
      JSON.stringify(Object.fromEntries(m.stateDict().map((e) => [e.name, Array.from(toFloat32(m.getTensor(e.name)))]))),
    );
  // TRM_TEST_STATE: every rank saves its training state to <TRM_TEST_STATE>.rank<r>.
  if (process.env.TRM_TEST_STATE) await trainer.saveState(`${process.env.TRM_TEST_STATE}.rank${rank}`);
  m.dispose();
}

main().catch((e) => {
  process.stderr.write(`${e.code ?? ''} ${e.message}\n`);
  process.exit(1);
});
