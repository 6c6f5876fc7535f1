/**
 * `npm run demo`: the strongest Sudoku solver this machine trains in about ten minutes, end to end.
 *
 *  1. generates Sudokus with unique solutions: a training set per curriculum stage (few blanks
 *     first, then more) and held-out sets with 10, 20, … 60 blanks (cached in the output folder);
 *  2. builds a small TRM-MLP (the paper's Sudoku architecture, scaled down) in bfloat16 where the
 *     CPU has native bf16 (AVX512-BF16 / AMX), float32 elsewhere;
 *  3. trains it stage by stage for a fixed number of optimizer steps (the budget: see STEPS below),
 *     scoring held-out puzzles after each stage;
 *  4. scores every held-out set with more supervision steps than training used and early halting,
 *     through the same Solver a service uses, and prints the table;
 *  5. saves the checkpoint with its model card (what it was trained on, the table, the inference
 *     settings), writes the learning curve and the table as PNG and HTML, and says how to serve it.
 *
 *     npm run demo                        # default: STEPS optimizer steps (about 8 minutes on a quiet 2-core machine)
 *     npm run demo -- --steps 12000       # longer: see README for what it reaches
 *     npm run demo -- --minutes 3         # a wall-clock budget instead of a step budget
 *     npx ts-node examples/demo.ts --steps 300 --out demo-small
 */
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { Solver, TRM, Trainer, defaultForwardDtype, readDatasetSizes, setNumThreads, type ForwardDtype, type TrainEvent } from '../lib';
import type { CardInference, ModelCard } from '../lib/card';
import { Progress } from '../lib/cli/progress';
import { writeRunReport } from '../lib/report/report';
import { scoreByBlanks } from './demo/score';
import { heldOutSets, stageDataset, type Stage } from './demo/sudoku-sets';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string' },
    minutes: { type: 'string' },
    out: { type: 'string', default: 'demo' },
    threads: { type: 'string' },
    dtype: { type: 'string' },
    hidden: { type: 'string', default: '64' },
    halt: { type: 'string', default: '8' },
    'inference-steps': { type: 'string', default: '16' },
    lr: { type: 'string', default: '1e-2' },
    batch: { type: 'string', default: '64' },
    stages: { type: 'string', default: '10-20:0.2,15-35:0.3,25-45:0.3,30-50:0.2' },
    puzzles: { type: 'string', default: '2000' },
    aug: { type: 'string', default: '3' },
    'held-out': { type: 'string', default: '200' },
  },
});

const OUT = path.resolve(args.out!);
const DATA = path.join(OUT, 'data');
const LEVELS = [10, 20, 30, 40, 50, 60];
/**
 * The default budget is a number of optimizer steps, not a time: on a machine shared with other
 * work a time budget trains less and scores worse, a step budget trains the same model (seeded)
 * and only takes longer. STEPS is about ten minutes of one core of the project's 2-core machine
 * (single-threaded, batch 64, hidden 64, bf16: 4.2 steps/s in quiet stretches); two threads finish
 * sooner. `--minutes` asks for a time budget instead.
 */
const STEPS = 2400;
const MINUTES = args.minutes === undefined ? undefined : Number(args.minutes);
const MAX_STEPS = MINUTES === undefined ? Number(args.steps ?? STEPS) : undefined;
const STAGES: Stage[] = args.stages!.split(',').map((s) => {
  const [range, share] = s.split(':');
  const [min, max = min] = range.split('-').map(Number);
  return { min, max, share: Number(share) };
});

function grid(text: string): string[] {
  return Array.from({ length: 9 }, (_, r) =>
    text
      .slice(r * 9, r * 9 + 9)
      .replace(/[0.]/g, '·')
      .split('')
      .join(' '),
  );
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

async function main(): Promise<void> {
  const t0 = Date.now();
  if (args.threads) setNumThreads(Number(args.threads));
  const dtype = (args.dtype ?? defaultForwardDtype('cpu')) as ForwardDtype; // bf16 where this CPU does it natively
  const inference: CardInference = { haltMaxSteps: Number(args['inference-steps']), earlyHalt: true };

  console.log(`Generating Sudokus with unique solutions (cached in ${path.relative(process.cwd(), DATA) || '.'}) ...`);
  const heldOut = await heldOutSets(DATA, LEVELS, Number(args['held-out']));
  const dirs: string[] = [];
  for (const stage of STAGES) dirs.push(await stageDataset(DATA, stage, Number(args.puzzles), Number(args.aug)));
  const minBlanks = Math.min(...STAGES.map((s) => s.min)),
    maxBlanks = Math.max(...STAGES.map((s) => s.max));
  console.log(
    `  training: ${STAGES.map((s) => `${s.min === s.max ? s.min : `${s.min}-${s.max}`} blanks`).join(' → ')}, ${args.puzzles} puzzles per stage × ${Number(args.aug) + 1} (augmented)`,
  );
  console.log(`  held out: ${heldOut.map((s) => `${s.puzzles.length} with ${s.blanks} blanks`).join(', ')}`);
  const setupSeconds = (Date.now() - t0) / 1000;

  const model = TRM.create(
    {
      ...readDatasetSizes([dirs[0]]),
      mlpT: true,
      posEncodings: 'none',
      hiddenSize: Number(args.hidden),
      numHeads: 4,
      hCycles: 2,
      lCycles: 2,
      lLayers: 2,
      puzzleEmbNdim: 0,
      puzzleEmbLen: 0,
      haltMaxSteps: Number(args.halt),
      forwardDtype: dtype,
      // Softmax learns this from generated data markedly faster than the recipe's stablemax
      // (which guards against overfitting a thousand puzzles; the demo never runs short of new ones).
      lossType: 'softmax_cross_entropy',
    },
    {},
    { seed: 0 },
  );
  const file = path.join(OUT, 'sudoku-demo.safetensors');
  console.log(
    `Model: TRM-MLP, hidden ${model.config.hiddenSize}, ${model.numParameters().toLocaleString('en-US')} parameters (the paper's Sudoku model: 5,028,866), ${dtype}, ` +
      `${model.config.haltMaxSteps} supervision steps in training, up to ${inference.haltMaxSteps} with early halting at inference.`,
  );

  // The learning curve over optimizer steps: training exact accuracy per logged step, held-out accuracy after each stage.
  const trainExact: Array<[number, number]> = [];
  const heldOutCurve: Array<[number, number]> = [];
  const probe = heldOut.find((s) => s.blanks === 30) ?? heldOut[0];
  const shares = STAGES.reduce((n, s) => n + s.share, 0);
  const progress = new Progress(process.stdout);
  let offset = 0,
    steps = 0;
  const budget = MAX_STEPS !== undefined ? `${MAX_STEPS} steps` : `${MINUTES} minutes`;
  console.log(
    `Training for ${budget} on ${os.cpus().length} cores (load average ${os
      .loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}) ...`,
  );
  for (const [i, stage] of STAGES.entries()) {
    const share = stage.share / shares;
    const trainer = new Trainer(model, {
      dataPaths: [dirs[i]],
      evaluators: [],
      globalBatchSize: Number(args.batch),
      epochs: 100_000,
      evalInterval: 100_000,
      lr: Number(args.lr),
      lrWarmupSteps: i === 0 ? 50 : 10,
      weightDecay: 0.1,
      seed: i,
      ema: false,
      logEvery: 10,
      evaluate: false,
      ...(MAX_STEPS !== undefined ? { maxSteps: Math.max(1, Math.round(MAX_STEPS * share)) } : { maxSeconds: MINUTES! * 60 * share }),
    });
    let last: TrainEvent | undefined;
    trainer.on('step', (e: TrainEvent) => {
      last = e;
      const t = offset + e.elapsedSeconds;
      if (e.metrics.count > 0) trainExact.push([steps + e.step, e.metrics.exact_accuracy]);
      const [done, total] = MAX_STEPS !== undefined ? [steps + e.step, MAX_STEPS] : [Math.round(t), MINUTES! * 60];
      progress.update(Math.min(done, total), total, t, {
        stage: `${stage.min}-${stage.max} blanks`,
        step: String(steps + e.step),
        'cell acc': pct(e.metrics.accuracy ?? 0),
        'rows/s': e.samplesPerSecond.toFixed(0),
      });
    });
    await trainer.run();
    offset += last?.elapsedSeconds ?? 0;
    steps += last?.step ?? 0;
    await model.save(file);
    const [score] = await scoreByBlanks(file, [{ blanks: probe.blanks, puzzles: probe.puzzles.slice(0, 100) }], inference, dtype);
    heldOutCurve.push([steps, score.exactAccuracy]);
    progress.log(
      `  after stage ${i + 1} (${stage.min}-${stage.max} blanks, ${steps} steps, ${offset.toFixed(0)} s): held-out exact accuracy at ${probe.blanks} blanks ${pct(score.exactAccuracy)}`,
    );
  }
  progress.finish();

  console.log(
    `\nHeld-out exact accuracy (puzzles never seen in training; up to ${inference.haltMaxSteps} supervision steps, early halting):`,
  );
  const scores = await scoreByBlanks(file, heldOut, inference, dtype);
  console.log('  blanks   solved    exact    mean steps');
  for (const s of scores)
    console.log(
      `  ${String(s.blanks).padStart(6)}  ${String(Math.round(s.exactAccuracy * s.count)).padStart(4)}/${String(s.count).padEnd(4)} ${pct(s.exactAccuracy).padStart(6)}    ${s.meanSteps.toFixed(1)}`,
    );

  const card: ModelCard = {
    trainedOn: `9×9 Sudokus with ${minBlanks} to ${maxBlanks} blanks (generated, unique solutions; curriculum ${STAGES.map((s) => `${s.min}-${s.max}`).join(' → ')})`,
    sudokuBlanks: { min: minBlanks, max: maxBlanks },
    training: { seconds: Math.round(offset), steps, forwardDtype: dtype, loadAverage: Math.round(os.loadavg()[0] * 10) / 10 },
    inference,
    scores,
  };
  await model.save(file, { card });
  model.dispose();

  const report = writeRunReport(path.join(OUT, 'report'), {
    title: 'trm-native demo: TRM-MLP on 9x9 Sudoku',
    subtitle:
      `hidden ${args.hidden}, ${dtype}, ${(offset / 60).toFixed(1)} min of training (${steps} steps) on ${os.cpus().length} cores, load average ${card.training!.loadAverage}; ` +
      `trained on ${minBlanks}-${maxBlanks} blanks; scored with up to ${inference.haltMaxSteps} steps and early halting`,
    curve: {
      xLabel: 'optimizer steps',
      series: [
        { name: 'training batches: exact', color: '#dc2626', points: trainExact },
        { name: `held-out exact, ${probe.blanks} blanks`, color: '#2563eb', points: heldOutCurve, dots: true },
      ],
    },
    byDifficulty: {
      xLabel: 'blanks',
      bars: scores.map((s) => ({ label: String(s.blanks), value: s.exactAccuracy, count: s.count, meanSteps: s.meanSteps })),
    },
  });

  // A few held-out puzzles, solved through the same Solver a service would use.
  const solver = await Solver.load(file, { kind: 'sudoku', forwardDtype: dtype });
  const shown = heldOut.find((s) => s.blanks === 40) ?? heldOut[heldOut.length - 1];
  console.log(`\nHeld-out puzzles with ${shown.blanks} blanks:`);
  for (const p of shown.puzzles.slice(0, 2)) {
    const a = await solver.solve(p.question);
    const left = grid(p.question),
      right = grid(a.text);
    const verdict = a.text === p.answer ? 'correct' : a.valid ? 'valid but not the solution' : `invalid: ${a.reason}`;
    console.log(`\n  puzzle${' '.repeat(15)}model's answer (${verdict}, confidence ${pct(a.confidence)}, ${a.steps} steps)`);
    for (let r = 0; r < 9; r++) console.log(`  ${left[r]}    ${right[r]}`);
  }
  solver.dispose();

  console.log(`\nSaved: ${file} (with its model card: what it was trained on, the table above, the inference settings)`);
  console.log(`Report: ${report.png} and ${report.html}`);
  console.log(
    `Serve it: npx trm serve --checkpoint ${path.relative(process.cwd(), file)}${dtype === 'bfloat16' ? ' --dtype bfloat16' : ''}   (then open http://127.0.0.1:8080)`,
  );
  console.log(
    `Time: ${(setupSeconds / 60).toFixed(1)} min generating puzzles, ${(offset / 60).toFixed(1)} min training, ${((Date.now() - t0) / 60000).toFixed(1)} min in all.`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
