/**
 * `npm run bench:solver`: per-request latency of `Solver.solve` on this CPU — one request at a
 * time (minimum, median and 90th percentile of wall time, and the process CPU time per solve, which
 * a busy machine disturbs least) and 16 concurrent requests (micro-batched into shared native
 * runs) — for a Sudoku-MLP model (hidden 64, T=2, n=3), in parity mode (every row runs all 16
 * supervision steps) and with early halting (the q head set so that a row halts at each step with
 * probability about one half). Prints a table and writes bench/results/solver-latency.json.
 *
 *     npm run bench:solver -- [--reps 30] [--threads N] [--lib other/dist/cjs/index.js]
 *
 * `--lib` runs the same measurements against another build (e.g. a copy of the previous commit's
 * dist/, with TRM_NATIVE_ADDON naming its addon), so two versions can be compared on one machine.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';

const { values: args } = parseArgs({
  options: { reps: { type: 'string', default: '30' }, threads: { type: 'string' }, lib: { type: 'string' }, out: { type: 'string' } },
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = (args.lib ? require(path.resolve(args.lib)) : require('../lib')) as typeof import('../lib');
const { Solver, TRM, buildInfo, setNumThreads } = lib;
if (args.threads) setNumThreads(Number(args.threads));

const MODEL = {
  seqLen: 81,
  vocabSize: 11,
  numPuzzleIdentifiers: 1,
  mlpT: true,
  posEncodings: 'none' as const,
  hiddenSize: 64,
  hCycles: 2,
  lCycles: 3,
  forwardDtype: 'float32' as const,
};
const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const SOLVED = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
const CONCURRENT = 16;

/** Valid puzzles that differ in one extra given, so concurrent rows are not identical. */
function puzzles(n: number): string[] {
  const blanks = [...PUZZLE].flatMap((c, i) => (c === '.' ? [i] : []));
  return Array.from({ length: n }, (_, i) => {
    const cell = blanks[i % blanks.length];
    return PUZZLE.slice(0, cell) + SOLVED[cell] + PUZZLE.slice(cell + 1);
  });
}

/** A fixed pseudo-random q head: q_halt = w·z_H[0] with w ~ N(0, 0.1²), bias 0. */
function coinFlipQHead(model: import('../lib').TRM): void {
  const D = MODEL.hiddenSize;
  let x = 12345;
  const gauss = (): number => {
    x = (x * 1103515245 + 12345) >>> 0;
    const u = (x + 1) / 4294967297;
    x = (x * 1103515245 + 12345) >>> 0;
    const v = (x + 1) / 4294967297;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  model.setTensor('q_head.weight', { dtype: 'float32', shape: [2, D], data: Float32Array.from({ length: 2 * D }, () => 0.1 * gauss()) });
  model.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Row {
  case: string;
  singleMinMs: number;
  singleMedianMs: number;
  singleP90Ms: number;
  /** Process CPU time per sequential solve: steadier than wall time on a busy machine. */
  singleCpuMs: number;
  meanSteps: number;
  concurrentMs: number;
  concurrentPerRequestMs: number;
}

async function measure(name: string, earlyHalt: boolean, reps: number): Promise<Row> {
  const model = TRM.create(MODEL, {}, { seed: 0 });
  if (earlyHalt) coinFlipQHead(model);
  const solver = Solver.fromModel(model, { kind: 'sudoku', earlyHalt });
  try {
    const inputs = puzzles(reps);
    for (const p of inputs.slice(0, 3)) await solver.solve(p); // warm-up
    const times: number[] = [];
    let steps = 0;
    const cpu0 = process.cpuUsage();
    for (const p of inputs) {
      const t0 = performance.now();
      const r = await solver.solve(p);
      times.push(performance.now() - t0);
      steps += r.steps;
    }
    const cpu = process.cpuUsage(cpu0);
    times.sort((a, b) => a - b);
    const rounds = Math.max(3, Math.round(reps / 10));
    const batchTimes: number[] = [];
    for (let k = 0; k < rounds; k++) {
      const t0 = performance.now();
      await Promise.all(puzzles(CONCURRENT).map((p) => solver.solve(p)));
      batchTimes.push(performance.now() - t0);
    }
    batchTimes.sort((a, b) => a - b);
    const concurrentMs = quantile(batchTimes, 0.5);
    return {
      case: name,
      singleMinMs: times[0],
      singleMedianMs: quantile(times, 0.5),
      singleP90Ms: quantile(times, 0.9),
      singleCpuMs: (cpu.user + cpu.system) / 1000 / inputs.length,
      meanSteps: steps / inputs.length,
      concurrentMs,
      concurrentPerRequestMs: concurrentMs / CONCURRENT,
    };
  } finally {
    solver.dispose();
  }
}

async function main(): Promise<void> {
  const reps = Number(args.reps);
  const rows = [await measure('parity (16 steps)', false, reps), await measure('earlyHalt (coin-flip q head)', true, reps)];
  const info = buildInfo();
  console.log(
    `Solver.solve latency, Sudoku-MLP hidden ${MODEL.hiddenSize}, ${os.cpus().length} CPUs, ${info.numThreads} LibTorch threads${args.lib ? `, lib ${args.lib}` : ''}`,
  );
  console.log(
    'case                            | 1 at a time: min / median / p90 ms | CPU ms | mean steps | 16 concurrent: total ms / per request ms',
  );
  for (const r of rows) {
    const single = [r.singleMinMs, r.singleMedianMs, r.singleP90Ms].map((v) => v.toFixed(1).padStart(7)).join(' /');
    console.log(
      `${r.case.padEnd(31)} | ${single.padStart(34)} | ${r.singleCpuMs.toFixed(1).padStart(6)} | ${r.meanSteps.toFixed(2).padStart(10)} | ${r.concurrentMs.toFixed(1).padStart(13)} / ${r.concurrentPerRequestMs.toFixed(2)}`,
    );
  }
  const out = args.out ?? path.join(__dirname, 'results', 'solver-latency.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        threads: info.numThreads,
        torch: info.torchVersion,
        model: MODEL,
        reps,
        rows,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
