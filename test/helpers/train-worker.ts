// A training run in its own process, for tests that kill it: the model and training config come as
// JSON in TRM_TEST_MODEL / TRM_TEST_TRAIN; prints "checkpoint <step>" as each checkpoint is written.
import { TRM, Trainer, type ModelConfig } from '../../lib';

async function main(): Promise<void> {
  const model: Partial<ModelConfig> = JSON.parse(process.env.TRM_TEST_MODEL!);
  const m = TRM.create(model, {}, { seed: Number(process.env.TRM_TEST_SEED ?? 0) });
  const trainer = new Trainer(m, JSON.parse(process.env.TRM_TEST_TRAIN!));
  trainer.on('checkpoint', (e) => process.stdout.write(`checkpoint ${e.step}\n`));
  await trainer.run();
  process.stdout.write('done\n');
  m.dispose();
}

main().catch((e) => {
  process.stderr.write(`${e.code ?? ''} ${e.message}\n`);
  process.exit(1);
});
