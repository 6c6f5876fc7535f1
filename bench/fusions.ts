/**
 * `npm run bench:fusions`: what each optimisation of the recursion is worth on the whole model —
 * every switch of `setFusions` off in turn (and all off), against all on, alternating run by run
 * in one process; wall and process CPU time, medians. Sudoku-MLP (recipe size): inference is
 * `TRM.run` (16 supervision steps from a fresh carry), training one `step` + `backward`.
 * Prints a table and writes bench/results/fusions.json.
 *
 *     npm run bench:fusions -- [--dtype bfloat16] [--batch 1] [--mode infer|train] [--rounds 5] [--threads 1]
 *
 * One intra-op thread by default: on a shared machine CPU time is then a steadier measure of the
 * work saved than wall time (docs/performance.md).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { TRM, buildInfo, setFusions, setNumThreads, type ForwardDtype, type Fusions } from '../lib';

const { values: args } = parseArgs({
  options: {
    dtype: { type: 'string', default: 'bfloat16' },
    batch: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'infer' },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    out: { type: 'string', default: path.join(__dirname, 'results', 'fusions.json') },
  },
});

const ON: Fusions = { norm: true, swiglu: true, rope: true, tokenMix: true, castCache: true, cudaGraphs: true };
const SETS: [string, Fusions][] = [
  ['all on', ON],
  ['all off', { norm: false, swiglu: false, rope: false, tokenMix: false, castCache: false, cudaGraphs: false }],
  ['norm off', { ...ON, norm: false }],
  ['swiglu off', { ...ON, swiglu: false }],
  ['tokenMix off', { ...ON, tokenMix: false }],
  ['castCache off', { ...ON, castCache: false }],
];

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

async function main(): Promise<void> {
  setNumThreads(Number(args.threads));
  const B = Number(args.batch),
    train = args.mode === 'train';
  const model = await TRM.createAsync('sudoku-mlp', { forwardDtype: args.dtype as ForwardDtype }, { seed: 0 });
  const S = model.config.seqLen;
  const inputs = Int32Array.from({ length: B * S }, (_, i) => 1 + ((i * 7919) % (model.config.vocabSize - 1)));
  const batch = {
    inputs: { dtype: 'int32' as const, shape: [B, S], data: inputs },
    puzzleIdentifiers: { dtype: 'int32' as const, shape: [B], data: new Int32Array(B) },
    labels: { dtype: 'int32' as const, shape: [B, S], data: inputs },
  };
  const once = async () => {
    if (!train) return void (await model.run(batch));
    model.train();
    model.zeroGrad();
    await model.step(model.initialCarry(B), batch);
    await model.backward(1 / B);
    model.eval();
  };
  await once();
  const wall: Record<string, number[]> = {},
    cpu: Record<string, number[]> = {};
  const load0 = os.loadavg()[0];
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const [name, f] of SETS) {
      setFusions(f);
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await once();
      const c = process.cpuUsage(c0);
      (wall[name] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6);
      (cpu[name] ??= []).push((c.user + c.system) / 1e3);
    }
  }
  setFusions(ON);
  model.dispose();
  const base = median(cpu['all on']);
  console.log(
    `Sudoku-MLP ${args.mode}, batch ${B}, ${args.dtype}, ${args.threads} thread(s), ${args.rounds} rounds, load ${load0.toFixed(2)} -> ${os.loadavg()[0].toFixed(2)}`,
  );
  console.log('| switches | wall ms | CPU ms | CPU vs all on |\n|---|---|---|---|');
  const rows = SETS.map(([name]) => ({
    name,
    wallMs: median(wall[name]),
    cpuMs: median(cpu[name]),
    wallAll: wall[name],
    cpuAll: cpu[name],
  }));
  for (const r of rows) console.log(`| ${r.name} | ${r.wallMs.toFixed(0)} | ${r.cpuMs.toFixed(0)} | ${(r.cpuMs / base).toFixed(2)}× |`);
  let previous: unknown[] = [];
  if (fs.existsSync(args.out!)) previous = (JSON.parse(fs.readFileSync(args.out!, 'utf8')) as { runs: unknown[] }).runs ?? [];
  const run = {
    date: new Date().toISOString(),
    mode: args.mode,
    dtype: args.dtype,
    batch: B,
    threads: Number(args.threads),
    rounds: Number(args.rounds),
    loadAverage: [load0, os.loadavg()[0]],
    fusedCpuKernels: buildInfo().fusedCpuKernels,
    rows,
  };
  // One entry per (mode, dtype, batch, threads): re-running replaces it.
  const key = (x: { mode: string; dtype: string; batch: number; threads: number }) => `${x.mode}/${x.dtype}/${x.batch}/${x.threads}`;
  const runs = [...(previous as (typeof run)[]).filter((p) => key(p) !== key(run)), run];
  fs.mkdirSync(path.dirname(args.out!), { recursive: true });
  fs.writeFileSync(args.out!, JSON.stringify({ bench: 'bench/fusions.ts', runs }, null, 2) + '\n');
  console.log(`wrote ${args.out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
