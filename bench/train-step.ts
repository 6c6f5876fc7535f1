/**
 * `npm run bench:train`: samples/s and achieved GFLOP/s of the full training step (forward through
 * every recursion, backward through the last cycle, all-reduce, sign-SGD, Adam-atan2, EMA) on this
 * CPU, for the Sudoku-MLP recipe model and a reduced ARC-Att model, beside the machine's measured
 * fp32 matmul GFLOP/s. Prints a table and writes bench/results/train-step.json.
 *
 *     npm run bench:train -- [--steps 4] [--threads N]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { TRM, Trainer, buildInfo, prefixLength, setNumThreads, swigluIntermediate, type ModelConfig, type TrainEvent } from '../lib';
import { native } from '../lib/native';
import { writeSuccessorTask } from '../test/helpers/synthetic';

const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '4' }, threads: { type: 'string' } } });
if (args.threads) setNumThreads(Number(args.threads));

/** Multiply-adds ×2 of one application of the network (L_layers blocks) to one sample (docs/algorithm.md §1.5, §1.6). */
function flopsPerApplication(c: ModelConfig): number {
  const P = prefixLength(c);
  const L = c.seqLen + P,
    D = c.hiddenSize,
    I = swigluIntermediate(D, c.expansion);
  const mlp = 6 * L * D * I;
  const mix = c.mlpT ? 6 * D * L * swigluIntermediate(L, c.expansion) : 8 * L * D * D + 4 * L * L * D;
  return c.lLayers * (mlp + mix);
}

/** One training step per sample: H(n+1) forward applications, and backward (≈2× forward) through the last n+1. */
function flopsPerSample(c: ModelConfig): number {
  const apps = c.hCycles * (c.lCycles + 1);
  return flopsPerApplication(c) * (apps + 2 * (c.lCycles + 1));
}

interface Case {
  name: string;
  model: Partial<ModelConfig>;
  batch: number;
}

const CASES: Case[] = [
  {
    name: 'Sudoku-MLP (recipe size: hidden 512, T=3, n=6)',
    model: { seqLen: 81, vocabSize: 11, numPuzzleIdentifiers: 1, mlpT: true, posEncodings: 'none' },
    batch: 16,
  },
  {
    name: 'ARC-Att reduced (hidden 128, 4 heads, T=3, n=4, seq 900)',
    model: {
      seqLen: 900,
      vocabSize: 12,
      numPuzzleIdentifiers: 64,
      hiddenSize: 128,
      numHeads: 4,
      puzzleEmbNdim: 128,
      hCycles: 3,
      lCycles: 4,
    },
    batch: 8,
  },
];

async function runCase(c: Case, tmp: string): Promise<Record<string, number | string>> {
  const data = writeSuccessorTask(path.join(tmp, c.name.replace(/\W+/g, '-')), {
    train: c.batch * 64,
    test: c.batch,
    seqLen: c.model.seqLen!,
    vocab: c.model.vocabSize!,
    seed: 1,
    ids: c.model.numPuzzleIdentifiers,
  });
  const model = TRM.create({ ...c.model, forwardDtype: 'float32' }, {}, { seed: 0 });
  const steps = Number(args.steps);
  const events: TrainEvent[] = [];
  const trainer = new Trainer(model, {
    dataPaths: [data],
    globalBatchSize: c.batch,
    epochs: 1,
    evaluators: [],
    evaluate: false,
    maxSteps: steps + 1,
    lrWarmupSteps: 1,
    ema: true,
  });
  trainer.on('step', (e: TrainEvent) => events.push(e));
  await trainer.run();
  // The first step pays one-off costs (allocations, prefetch start); time the rest.
  const timed = events.slice(1);
  const seconds = timed.length > 0 ? timed[timed.length - 1].elapsedSeconds - events[0].elapsedSeconds : NaN;
  const samplesPerSecond = (timed.length * c.batch) / seconds;
  const cfg = model.config as ModelConfig;
  const gflopPerSample = flopsPerSample(cfg) / 1e9;
  model.dispose();
  return {
    case: c.name,
    batch: c.batch,
    timedSteps: timed.length,
    samplesPerSecond,
    gflopPerSample,
    achievedGflops: samplesPerSecond * gflopPerSample,
  };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-bench-'));
  try {
    const info = buildInfo();
    const matmul = await native().matmulGflops(1024, 2);
    const rows = [];
    for (const c of CASES) rows.push(await runCase(c, tmp));
    console.log(
      `LibTorch ${info.torchVersion}, ${info.numThreads} threads, ${os.cpus()[0]?.model ?? 'cpu'}; fp32 matmul 1024²: ${matmul.toFixed(1)} GFLOP/s`,
    );
    console.log(
      'case'.padEnd(58) + 'samples/s'.padStart(10) + 'GFLOP/sample'.padStart(14) + 'GFLOP/s'.padStart(10) + '% of matmul'.padStart(13),
    );
    for (const r of rows) {
      const g = r.achievedGflops as number;
      console.log(
        String(r.case).padEnd(58) +
          (r.samplesPerSecond as number).toFixed(2).padStart(10) +
          (r.gflopPerSample as number).toFixed(2).padStart(14) +
          g.toFixed(1).padStart(10) +
          `${((100 * g) / matmul).toFixed(0)}%`.padStart(13),
      );
    }
    const out = path.join(__dirname, 'results', 'train-step.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(
      out,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() },
          torch: info,
          matmulGflops: matmul,
          cases: rows,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`wrote ${out}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
