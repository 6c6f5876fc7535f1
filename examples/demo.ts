/**
 * `npm run demo`: the main job on an embedded default, end to end on a CPU in about ten minutes.
 *
 *  1. generates 4,000 training and 500 held-out Sudokus (10 blanks each, unique solutions);
 *  2. builds a small TRM-MLP (the paper's Sudoku architecture, scaled down: hidden 64, T = 2, n = 2);
 *  3. trains it for a bounded time with a progress bar, evaluating on the held-out puzzles as it goes;
 *  4. prints a few held-out puzzles next to the model's answers;
 *  5. saves the checkpoint and a training-curve report, and says how to serve it.
 *
 *     npm run demo                      # default: 6 minutes of training
 *     npx ts-node examples/demo.ts --minutes 3 --out demo
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { Solver, TRM, Trainer, datasets, evaluateExact, readDatasetSizes, type TrainEvent } from '../lib';
import { Progress } from '../lib/cli/progress';
import { writeTrainingCurve } from '../lib/report/training-curve';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '6' },
    out: { type: 'string', default: 'demo' },
    blanks: { type: 'string', default: '10' },
    threads: { type: 'string' },
  },
});
const OUT = path.resolve(args.out!);
const DATA = path.join(OUT, `sudoku-${args.blanks}-blanks`);

function grid(text: string): string[] {
  return Array.from({ length: 9 }, (_, r) => text.slice(r * 9, r * 9 + 9).replace(/[0.]/g, '·').split('').join(' '));
}

async function makeData(): Promise<void> {
  if (fs.existsSync(path.join(DATA, 'test', 'dataset.json'))) return;
  console.log(`Generating 4,500 Sudokus with ${args.blanks} blanks each (unique solutions) ...`);
  const blanks = Number(args.blanks);
  const train = await datasets.generateSudoku({ count: 4000, seed: 1, blanks });
  const test = await datasets.generateSudoku({ count: 500, seed: 2, blanks });
  await datasets.buildSudokuFromPuzzles({ outputDir: DATA, train, test, numAug: 0, seed: 0 });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  await makeData();
  const model = TRM.create(
    {
      ...readDatasetSizes([DATA]),
      mlpT: true, posEncodings: 'none', hiddenSize: 64, numHeads: 4, hCycles: 2, lCycles: 2, lLayers: 2,
      puzzleEmbNdim: 0, puzzleEmbLen: 0, haltMaxSteps: 4, // forward dtype: this CPU's default (bf16 where native)
    },
    {},
    { seed: 0 },
  );
  console.log(`Model: TRM-MLP, ${model.numParameters().toLocaleString('en-US')} parameters (the paper's Sudoku model is 5,028,866).`);
  console.log('Copy-the-input baseline on the held-out set: exact accuracy 0% (every puzzle has blanks to fill).');
  const before = (await evaluateExact(model, DATA, { globalBatchSize: 250 })).metrics.all.exact_accuracy;
  console.log(`Held-out exact accuracy before training: ${(100 * before).toFixed(1)}%\n`);

  // The curve starts at the untrained model's score.
  const events: TrainEvent[] = [{ kind: 'eval', step: 0, totalSteps: 0, lr: 0, elapsedSeconds: 0, samplesPerSecond: 0, set: 'all', metrics: { exact_accuracy: before } }];
  const trainer = new Trainer(model, {
    dataPaths: [DATA], evaluators: [], globalBatchSize: 64, epochs: 1000, evalInterval: 4,
    lr: 1e-3, lrWarmupSteps: 50, weightDecay: 0.1, seed: 0, ema: true, emaRate: 0.99, checkpointPath: path.join(OUT, 'checkpoints'),
    maxSeconds: Number(args.minutes) * 60, logEvery: 5,
  });
  const progress = new Progress(process.stdout);
  const budget = Number(args.minutes) * 60;
  trainer.on('event', (e: TrainEvent) => events.push(e));
  trainer.on('step', (e: TrainEvent) => progress.update(Math.min(Math.round(e.elapsedSeconds), budget), budget, e.elapsedSeconds, {
    step: String(e.step), loss: (e.metrics.lm_loss ?? 0).toFixed(3), 'samples/s': e.samplesPerSecond.toFixed(0),
  }));
  trainer.on('eval', (e: TrainEvent) => progress.log(`  held-out exact accuracy after ${String(e.step).padStart(5)} steps: ${(100 * e.metrics.exact_accuracy).toFixed(1).padStart(5)}%`));
  console.log(`Training for ${args.minutes} minutes (seconds on the bar) ...`);
  await trainer.run();
  progress.finish();

  const evals = events.filter((e) => e.kind === 'eval');
  const final = evals[evals.length - 1];
  const file = path.join(OUT, 'sudoku-demo.safetensors');
  await model.save(file);
  writeTrainingCurve(path.join(OUT, 'training-curve.html'), events, 'trm-native demo: TRM-MLP on 9×9 Sudoku (10 blanks)');

  // A few held-out puzzles, solved through the same Solver a service would use.
  const test = datasets.readDataset(DATA, 'test');
  const set = test.sets.all;
  const solver = Solver.fromModel(model, { kind: 'sudoku' });
  console.log('\nHeld-out puzzles (never seen in training):');
  for (const i of [0, 1, 2]) {
    const q = Array.from(set.inputs.data.slice(i * 81, i * 81 + 81) as ArrayLike<number>, (t) => String(Number(t) - 1)).join("");
    const a = await solver.solve(q);
    const left = grid(q), right = grid(a.text);
    console.log(`\n  puzzle ${i + 1}${' '.repeat(15)}model's answer (${a.valid ? 'correct' : 'not valid'}, confidence ${(100 * a.confidence).toFixed(0)}%)`);
    for (let r = 0; r < 9; r++) console.log(`  ${left[r]}    ${right[r]}`);
  }
  solver.dispose();

  console.log(`\nHeld-out exact accuracy: ${(100 * before).toFixed(1)}% before training -> ${(100 * (final?.metrics.exact_accuracy ?? 0)).toFixed(1)}% after ${final?.step ?? 0} steps (copy-the-input baseline: 0%).`);
  console.log(`Saved: ${file} (and official-layout checkpoints in ${path.join(OUT, 'checkpoints')})`);
  console.log(`Training curve: ${path.join(OUT, 'training-curve.html')}`);
  console.log(`Serve it: npx trm serve --checkpoint ${path.relative(process.cwd(), file)}   (then open http://127.0.0.1:8080)`);
  console.log(`Total time: ${((Date.now() - t0) / 60000).toFixed(1)} minutes.`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
