/**
 * The ARC-AGI-1 recipe of the official README (docs/algorithm.md §8) as a multi-process run: 4 ranks on
 * 4 GPUs with NCCL, the torchrun environment contract, rank 0 reporting.
 *
 *     # the real thing (4×GPU; build the data first with `trm build-data arc ...`, docs/algorithm.md §5.7)
 *     npx ts-node examples/train-arc.ts --data data/arc1concept-aug-1000 --nproc 4 --device cuda
 *
 *     # the same code path on this CPU machine: 2 ranks over Gloo, a tiny model, tiny ARC data
 *     npx ts-node examples/train-arc.ts --tiny
 *
 * Each rank runs this file again with `--rank` set by the launcher.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { TRM, Trainer, buildInfo, datasets, launch, recipe, readDatasetSizes, type Device, type TrainEvent } from '../lib';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    nproc: { type: 'string', default: '4' },
    device: { type: 'string', default: 'cpu' },
    tiny: { type: 'boolean', default: false },
    rank: { type: 'boolean', default: false },
    'max-steps': { type: 'string' },
    out: { type: 'string' },
  },
});

/** A small ARC dataset from the ARC-AGI-1 training tasks vendored in test/fixtures (20 tasks, 8 augmentations each). */
async function tinyArcData(dir: string): Promise<string> {
  if (fs.existsSync(path.join(dir, 'train', 'dataset.json'))) return dir;
  const src = path.resolve(__dirname, '..', 'test', 'fixtures', 'arc-agi-1', 'training');
  const subset = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-arc-src-'));
  for (const sub of ['training', 'evaluation']) fs.mkdirSync(path.join(subset, sub));
  const files = fs
    .readdirSync(src)
    .filter((f) => f.endsWith('.json'))
    .sort();
  files.slice(0, 16).forEach((f) => fs.copyFileSync(path.join(src, f), path.join(subset, 'training', f)));
  files.slice(16, 20).forEach((f) => fs.copyFileSync(path.join(src, f), path.join(subset, 'evaluation', f)));
  await datasets.buildArc({
    inputDir: subset,
    outputDir: dir,
    subsets: ['training', 'evaluation'],
    testSetName: 'evaluation',
    numAug: 8,
    seed: 42,
  });
  fs.rmSync(subset, { recursive: true, force: true });
  return dir;
}

async function rankMain(data: string): Promise<void> {
  const rank = Number(process.env.RANK ?? 0),
    world = Number(process.env.WORLD_SIZE ?? 1);
  const device: Device = args.device === 'cuda' ? `cuda:${Number(process.env.LOCAL_RANK ?? 0)}` : 'cpu';
  const sizes = readDatasetSizes([data]);
  const tiny = args.tiny
    ? { hiddenSize: 64, numHeads: 2, hCycles: 2, lCycles: 2, puzzleEmbNdim: 64, haltMaxSteps: 4, forwardDtype: 'float32' as const }
    : {};
  // The device picks the forward dtype (forward-dtype.ts): bfloat16 on CUDA and on CPUs with native bf16.
  const { model: cfg, train } = recipe(
    'arc1',
    tiny ? { globalBatchSize: 8, epochs: 4, evalInterval: 2, lrWarmupSteps: 5 } : {},
    { ...sizes, ...tiny, batchSize: 768 / world },
    device,
  );
  const model = TRM.create(cfg, {}, { seed: train.seed + rank, device });
  const trainer = new Trainer(model, {
    ...train,
    dataPaths: [data],
    evaluators: ['arc@ARC'], // pass@K (votes pooled over evaluations) and submission.json at every evaluation
    checkpointPath: args.out ?? path.join('checkpoints', args.tiny ? 'arc-tiny' : 'arc1-att'),
    distributed: world > 1,
    maxSteps: args['max-steps'] ? Number(args['max-steps']) : undefined,
  });
  if (rank === 0) {
    console.log(
      `rank 0 of ${world}: ${model.numParameters().toLocaleString('en-US')} parameters, ${cfg.numPuzzleIdentifiers} puzzle ids, device ${device}`,
    );
    trainer.on('step', (e: TrainEvent) => {
      if (e.step % 10 === 0 || e.step === 1)
        console.log(
          `step ${e.step}/${e.totalSteps} lm_loss ${e.metrics.lm_loss.toFixed(4)} exact ${e.metrics.exact_accuracy.toFixed(3)} ${e.samplesPerSecond.toFixed(0)} samples/s`,
        );
    });
    trainer.on('eval', (e: TrainEvent) =>
      console.log(
        e.set === 'ARC'
          ? `ARC evaluator @${e.step}: pass@1 ${e.metrics['ARC/pass@1'].toFixed(4)}  pass@2 ${e.metrics['ARC/pass@2'].toFixed(4)}  submission ${e.path}`
          : `eval @${e.step} ${e.set}: exact_accuracy ${e.metrics.exact_accuracy.toFixed(4)} (${e.metrics.count} examples)`,
      ),
    );
    trainer.on('checkpoint', (e: TrainEvent) => console.log(`checkpoint ${e.path}`));
  }
  await trainer.run();
  model.dispose();
}

async function main(): Promise<void> {
  const data = args.tiny ? await tinyArcData(path.join(os.tmpdir(), 'trm-arc-tiny')) : args.data;
  if (!data) throw new Error('pass --data <dataset folder> (built with `trm build-data arc`), or --tiny');
  if (args.rank) return rankMain(data);
  const nproc = args.tiny ? 2 : Number(args.nproc);
  if (nproc > 1 && !buildInfo().distributed) throw new Error('this build has no distributed support (install libgloo-dev and rebuild)');
  const forwarded = process.argv.slice(2).filter((a) => a !== '--rank');
  // Each rank re-runs this script (under ts-node, execArgv carries ts-node) with the torchrun variables set by launch().
  await launch({ nprocPerNode: nproc, args: [...process.execArgv, __filename, ...forwarded, '--data', data, '--rank'] });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
