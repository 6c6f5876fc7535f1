/**
 * `npm run bench:vs-official`: trm-native beside the official TinyRecursiveModels code on the same
 * machine, threads, batch and config, in one process sequence (ours in this process, theirs in a
 * child Python per measurement, alternating, `--rounds` times; medians). Prints the tables of the
 * training step (samples/s; ours also samples data and runs sign-SGD and EMA, theirs is forward,
 * backward and Adam-atan2 only) and of inference (`TRM.run`, all 16 supervision steps from a fresh
 * carry, against the official eval-mode forward), and writes bench/results/vs-official.json.
 *
 *     npm run bench:vs-official -- --official /path/to/TinyRecursiveModels --python /path/to/venv/bin/python
 *         [--threads N] [--rounds 1] [--cases train-sudoku-bf16,infer-1-bf16] [--no-compile]
 *
 * The official side needs a checkout of the official repository (commit e7b6871) and a Python with
 * torch, pydantic, einops and pyyaml; its timing harness is bench/official-harness (`--harness`).
 * Without `--official` only our figures are measured.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { TRM, Trainer, buildInfo, fusions, setNumThreads, type ForwardDtype, type ModelConfig, type TrainEvent } from '../lib';
import { writeSuccessorTask } from '../test/helpers/synthetic';

const { values: args } = parseArgs({
  options: {
    official: { type: 'string', default: process.env.TRM_OFFICIAL_DIR },
    python: { type: 'string', default: process.env.TRM_OFFICIAL_PYTHON ?? 'python3' },
    harness: { type: 'string', default: path.resolve(__dirname, 'official-harness', 'official_train_step.py') },
    threads: { type: 'string', default: String(os.cpus().length) },
    rounds: { type: 'string', default: '1' },
    cases: { type: 'string' },
    'no-compile': { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(__dirname, 'results', 'vs-official.json') },
  },
});
const threads = Number(args.threads);
setNumThreads(threads);

/** The two models of the official harness (official_train_step.py CASES), as our configs. */
const MODELS: Record<string, Partial<ModelConfig>> = {
  'sudoku-mlp': {
    seqLen: 81,
    vocabSize: 11,
    numPuzzleIdentifiers: 1,
    hCycles: 3,
    lCycles: 6,
    hiddenSize: 512,
    numHeads: 8,
    mlpT: true,
    posEncodings: 'none',
  },
  'arc-att-reduced': {
    seqLen: 225,
    vocabSize: 12,
    numPuzzleIdentifiers: 64,
    hCycles: 3,
    lCycles: 4,
    hiddenSize: 512,
    numHeads: 8,
    posEncodings: 'rope',
  },
};

interface Case {
  id: string;
  label: string;
  model: keyof typeof MODELS;
  mode: 'train' | 'infer';
  dtype: ForwardDtype;
  batch: number;
  /** Timed steps (train) or solves (infer), each side. */
  reps: number;
  compile: boolean;
}

const CASES: Case[] = [
  {
    id: 'train-sudoku-fp32',
    label: 'Sudoku-MLP, batch 16, fp32',
    model: 'sudoku-mlp',
    mode: 'train',
    dtype: 'float32',
    batch: 16,
    reps: 4,
    compile: true,
  },
  {
    id: 'train-sudoku-bf16',
    label: 'Sudoku-MLP, batch 16, bf16',
    model: 'sudoku-mlp',
    mode: 'train',
    dtype: 'bfloat16',
    batch: 16,
    reps: 4,
    compile: true,
  },
  {
    id: 'train-arc-fp32',
    label: 'ARC-Att (hidden 512, seq 225), batch 8, fp32',
    model: 'arc-att-reduced',
    mode: 'train',
    dtype: 'float32',
    batch: 8,
    reps: 3,
    compile: false,
  },
  {
    id: 'train-arc-bf16',
    label: 'ARC-Att (hidden 512, seq 225), batch 8, bf16',
    model: 'arc-att-reduced',
    mode: 'train',
    dtype: 'bfloat16',
    batch: 8,
    reps: 3,
    compile: false,
  },
  {
    id: 'infer-1-fp32',
    label: 'Sudoku-MLP inference, batch 1, fp32',
    model: 'sudoku-mlp',
    mode: 'infer',
    dtype: 'float32',
    batch: 1,
    reps: 3,
    compile: false,
  },
  {
    id: 'infer-1-bf16',
    label: 'Sudoku-MLP inference, batch 1, bf16',
    model: 'sudoku-mlp',
    mode: 'infer',
    dtype: 'bfloat16',
    batch: 1,
    reps: 3,
    compile: false,
  },
  {
    id: 'infer-64-bf16',
    label: 'Sudoku-MLP inference, batch 64, bf16',
    model: 'sudoku-mlp',
    mode: 'infer',
    dtype: 'bfloat16',
    batch: 64,
    reps: 1,
    compile: false,
  },
];

const median = (v: number[]) => (v.length === 0 ? NaN : [...v].sort((a, b) => a - b)[v.length >> 1]);
const loadavg = () => Number(os.loadavg()[0].toFixed(2));

/** Our training step: the Trainer on a random dataset of the case's shape; steps after the first are timed. */
async function oursTrain(c: Case, tmp: string): Promise<number> {
  const m = MODELS[c.model];
  const data = path.join(tmp, `${c.model}-${c.batch}`);
  if (!fs.existsSync(data))
    writeSuccessorTask(data, {
      train: c.batch * 64,
      test: c.batch,
      seqLen: m.seqLen!,
      vocab: m.vocabSize!,
      seed: 1,
      ids: m.numPuzzleIdentifiers,
    });
  const model = await TRM.createAsync(m, { forwardDtype: c.dtype }, { seed: 0 });
  try {
    const events: TrainEvent[] = [];
    const trainer = new Trainer(model, {
      dataPaths: [data],
      globalBatchSize: c.batch,
      epochs: 1000,
      evaluators: [],
      evaluate: false,
      maxSteps: c.reps + 1,
      lrWarmupSteps: 1,
      ema: true,
      checkpointPath: path.join(tmp, 'ckpt'),
    });
    trainer.on('step', (e: TrainEvent) => events.push(e));
    await trainer.run();
    const seconds = events[events.length - 1].elapsedSeconds - events[0].elapsedSeconds;
    return ((events.length - 1) * c.batch) / seconds;
  } finally {
    model.dispose();
  }
}

/** Our inference: TRM.run (eval mode, every supervision step) on a random batch; one warm-up solve. */
async function oursInfer(c: Case): Promise<number> {
  const m = MODELS[c.model];
  const model = await TRM.createAsync(m, { forwardDtype: c.dtype }, { seed: 0 });
  try {
    const S = m.seqLen!;
    const inputs = Int32Array.from({ length: c.batch * S }, (_, i) => 1 + ((i * 7919) % (m.vocabSize! - 1)));
    const batch = {
      inputs: { dtype: 'int32' as const, shape: [c.batch, S], data: inputs },
      puzzleIdentifiers: { dtype: 'int32' as const, shape: [c.batch], data: new Int32Array(c.batch) },
    };
    await model.run(batch);
    const times: number[] = [];
    for (let i = 0; i < c.reps; i++) {
      const t0 = process.hrtime.bigint();
      await model.run(batch);
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    return c.batch / median(times);
  } finally {
    model.dispose();
  }
}

/** The official code through its harness in a child Python; samples/s, or undefined with the reason. */
function official(c: Case, compile: boolean): { samplesPerSecond?: number; error?: string } {
  const argv = [
    args.harness!,
    args.official!,
    c.model,
    String(c.batch),
    String(c.reps),
    compile ? 'compile' : 'eager',
    ...(c.mode === 'infer' ? ['infer'] : []),
  ];
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), PERF_DTYPE: c.dtype };
  const r = spawnSync(args.python!, argv, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = (r.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (r.status !== 0 || !line) return { error: `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  return { samplesPerSecond: JSON.parse(line).samples_per_s as number };
}

async function main(): Promise<void> {
  const selected = args.cases ? CASES.filter((c) => args.cases!.split(',').includes(c.id)) : CASES;
  if (selected.length === 0) throw new Error(`--cases: none of ${args.cases}; known: ${CASES.map((c) => c.id).join(', ')}`);
  const withOfficial = Boolean(args.official);
  if (withOfficial && !fs.existsSync(args.harness!)) throw new Error(`--harness ${args.harness} does not exist`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-vs-official-'));
  const samples: Record<string, { ours: number[]; eager: number[]; compiled: number[]; errors: string[] }> = {};
  const loads: number[] = [loadavg()];
  try {
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const c of selected) {
        const s = (samples[c.id] ??= { ours: [], eager: [], compiled: [], errors: [] });
        s.ours.push(c.mode === 'train' ? await oursTrain(c, tmp) : await oursInfer(c));
        if (withOfficial) {
          const e = official(c, false);
          if (e.samplesPerSecond) s.eager.push(e.samplesPerSecond);
          else s.errors.push(`eager: ${e.error}`);
          if (c.compile && !args['no-compile']) {
            const k = official(c, true);
            if (k.samplesPerSecond) s.compiled.push(k.samplesPerSecond);
            else s.errors.push(`compiled: ${k.error}`);
          }
        }
        loads.push(loadavg());
        console.error(`round ${round + 1}: ${c.id} done (load ${loadavg()})`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const info = buildInfo();
  const fmt = (v: number) => (Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1));
  const rows = selected.map((c) => {
    const s = samples[c.id];
    const ours = median(s.ours),
      eager = median(s.eager),
      compiled = median(s.compiled);
    return { ...c, ours, eager, compiled, vsEager: ours / eager, vsCompiled: ours / compiled, errors: s.errors, all: s };
  });
  console.log(
    `trm-native vs official TinyRecursiveModels: LibTorch ${info.torchVersion}, ${threads} threads, ${os.cpus()[0]?.model ?? 'cpu'}, fused CPU kernels: ${info.fusedCpuKernels}, load ${loads[0]} -> ${loads[loads.length - 1]}`,
  );
  for (const mode of ['train', 'infer'] as const) {
    const part = rows.filter((r) => r.mode === mode);
    if (part.length === 0) continue;
    console.log(
      `\n| ${mode === 'train' ? 'training step' : 'inference (16 steps)'}, samples/s | trm-native | official eager | official torch.compile | vs eager | vs compiled |`,
    );
    console.log('|---|---|---|---|---|---|');
    for (const r of part)
      console.log(
        `| ${r.label} | ${fmt(r.ours)} | ${fmt(r.eager)} | ${fmt(r.compiled)} | ${Number.isNaN(r.vsEager) ? '–' : `${r.vsEager.toFixed(2)}×`} | ${Number.isNaN(r.vsCompiled) ? '–' : `${r.vsCompiled.toFixed(2)}×`} |`,
      );
  }
  for (const r of rows) for (const e of r.errors) console.log(`note: ${r.id} official ${e}`);
  fs.mkdirSync(path.dirname(args.out!), { recursive: true });
  fs.writeFileSync(
    args.out!,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverages: loads },
        torch: info,
        fusions: fusions(),
        threads,
        rounds: Number(args.rounds),
        official: withOfficial ? { dir: args.official, python: args.python } : null,
        cases: rows.map(({ all, ...r }) => ({ ...r, samples: all })),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nwrote ${args.out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
