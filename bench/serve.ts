/**
 * `npm run bench:serve`: the HTTP service under load on this machine. A server process (trm serve's
 * createServer over a Solver) is started for each configuration; N concurrent keep-alive clients
 * in this process post held-out Sudokus for a fixed time. Reported per configuration and N:
 * solves/s, p50/p99 latency, the server's event-loop delay (p99, max) and its RSS before and after
 * the load. The configurations add, one at a time, what should pay off: micro-batching, early
 * halting and bfloat16. Prints a table and writes bench/results/serve.json.
 *
 *     npm run bench:serve -- [--checkpoint demo/sudoku-demo.safetensors] [--clients 1,16,64] [--seconds 8] [--threads N]
 *
 * The checkpoint should be a trained one (the demo's): early halting only pays off when the
 * model's q head has learned when to stop.
 */
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { parseArgs } from 'util';

interface Config {
  name: string;
  maxBatch: number;
  earlyHalt: boolean;
  forwardDtype: 'float32' | 'bfloat16';
}

const CONFIGS: Config[] = [
  { name: 'one puzzle per run, all steps, fp32', maxBatch: 1, earlyHalt: false, forwardDtype: 'float32' },
  { name: '+ micro-batching (64)', maxBatch: 64, earlyHalt: false, forwardDtype: 'float32' },
  { name: '+ early halting', maxBatch: 64, earlyHalt: true, forwardDtype: 'float32' },
  { name: '+ bfloat16', maxBatch: 64, earlyHalt: true, forwardDtype: 'bfloat16' },
];

interface ServerStats {
  rssMb: number;
  eventLoopP50Ms: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  runs: number;
  rows: number;
}

type ToChild = { kind: 'measure' } | { kind: 'stats' };
type FromChild =
  | { kind: 'ready'; port: number; rssMb: number; haltMaxSteps: number; trainedOn?: string; blanks?: { min: number; max: number } }
  | ({ kind: 'stats' } & ServerStats);

const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** The server side: load, listen, report; event-loop delay measured from the 'measure' message on. */
async function child(): Promise<void> {
  const { Solver } = await import('../lib');
  const { createServer } = await import('../lib/service/server');
  const { checkpoint, threads, config } = JSON.parse(process.env.TRM_BENCH_SERVE!) as {
    checkpoint: string;
    threads?: number;
    config: Config;
  };
  const solver = await Solver.load(checkpoint, {
    kind: 'sudoku',
    threads,
    maxBatch: config.maxBatch,
    earlyHalt: config.earlyHalt,
    forwardDtype: config.forwardDtype,
  });
  const app = createServer({ solver, maxConcurrent: 1024 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const send = (m: FromChild): void => void process.send!(m);
  process.on('message', (m: ToChild) => {
    if (m.kind === 'measure') {
      delay.reset();
      delay.enable();
    } else {
      delay.disable();
      send({
        kind: 'stats',
        rssMb: mb(process.memoryUsage().rss),
        eventLoopP50Ms: delay.percentile(50) / 1e6,
        eventLoopP99Ms: delay.percentile(99) / 1e6,
        eventLoopMaxMs: delay.max / 1e6,
        runs: solver.stats.runs,
        rows: solver.stats.rows,
      });
    }
  });
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
  send({
    kind: 'ready',
    port,
    rssMb: mb(process.memoryUsage().rss),
    haltMaxSteps: solver.config.haltMaxSteps,
    trainedOn: solver.card?.trainedOn,
    blanks: solver.card?.sudokuBlanks,
  });
}

function startServer(
  checkpoint: string,
  threads: number | undefined,
  config: Config,
): Promise<{ proc: ChildProcess; ready: Extract<FromChild, { kind: 'ready' }> }> {
  const execArgv = __filename.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [];
  const proc = fork(__filename, [], {
    execArgv,
    env: { ...process.env, TRM_BENCH_SERVE: JSON.stringify({ checkpoint, threads, config }) },
    stdio: 'inherit',
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (m: FromChild) => (m.kind === 'ready' ? resolve({ proc, ready: m }) : reject(new Error('unexpected message'))));
    proc.once('exit', (code) => reject(new Error(`the server process exited with code ${code}`)));
  });
}

function ask(proc: ChildProcess, m: ToChild): Promise<ServerStats> {
  return new Promise((resolve) => {
    proc.once('message', (r: FromChild) => resolve(r as ServerStats));
    proc.send(m);
  });
}

/** One POST; resolves with its latency in ms and the status. */
function post(agent: http.Agent, port: number, body: string): Promise<{ ms: number; status: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/solve/sudoku',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `clients` loops posting puzzles back to back for `seconds`. */
async function load(
  port: number,
  puzzles: string[],
  clients: number,
  seconds: number,
): Promise<{ latencies: number[]; errors: number; wallSeconds: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies: number[] = [];
  let errors = 0,
    next = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const r = await post(agent, port, JSON.stringify({ puzzle: puzzles[next++ % puzzles.length] }));
        if (r.status === 200) latencies.push(r.ms);
        else errors++;
      }
    }),
  );
  agent.destroy();
  return { latencies, errors, wallSeconds: (performance.now() - t0) / 1000 };
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      checkpoint: { type: 'string', default: 'demo/sudoku-demo.safetensors' },
      clients: { type: 'string', default: '1,16,64' },
      seconds: { type: 'string', default: '8' },
      threads: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const checkpoint = path.resolve(args.checkpoint!);
  if (!fs.existsSync(checkpoint)) throw new Error(`${checkpoint} does not exist: run \`npm run demo\` first (or pass --checkpoint)`);
  const { generateSudoku } = await import('../lib/data/sudoku-generator');
  const clientCounts = args.clients!.split(',').map(Number);
  const seconds = Number(args.seconds);
  const threads = args.threads ? Number(args.threads) : undefined;
  const rows: Array<Record<string, unknown>> = [];
  let puzzles: string[] | undefined;
  let about = '';
  console.log(
    `bench:serve — ${checkpoint}, ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}, ${seconds} s per case`,
  );
  console.log(
    'configuration                         | clients | solves/s | p50 ms | p99 ms | errors | loop p99 / max ms | RSS MB before → after | rows per run',
  );
  for (const config of CONFIGS) {
    for (const clients of clientCounts) {
      const { proc, ready } = await startServer(checkpoint, threads, config);
      try {
        if (!puzzles) {
          // Puzzles like the model's training data (its card), else 30 blanks.
          const { min, max } = ready.blanks ?? { min: 30, max: 30 };
          const sets = await Promise.all(
            [min, Math.round((min + max) / 2), max].map((blanks, i) => generateSudoku({ count: 100, seed: 4242 + i, blanks })),
          );
          puzzles = sets.flat().map((p) => p.question);
          about = `${puzzles.length} puzzles with ${min}–${max} blanks; up to ${ready.haltMaxSteps} supervision steps${ready.trainedOn ? `; model trained on ${ready.trainedOn}` : ''}`;
          console.log(`(${about})`);
        }
        await load(ready.port, puzzles, Math.min(clients, 4), 1); // warm-up
        const before = await ask(proc, { kind: 'stats' });
        proc.send({ kind: 'measure' });
        const r = await load(ready.port, puzzles, clients, seconds);
        const after = await ask(proc, { kind: 'stats' });
        const sorted = r.latencies.sort((a, b) => a - b);
        const row = {
          config: config.name,
          ...config,
          clients,
          solvesPerSecond: r.latencies.length / r.wallSeconds,
          p50Ms: quantile(sorted, 0.5),
          p99Ms: quantile(sorted, 0.99),
          errors: r.errors,
          eventLoopP99Ms: after.eventLoopP99Ms,
          eventLoopMaxMs: after.eventLoopMaxMs,
          rssBeforeMb: before.rssMb,
          rssAfterMb: after.rssMb,
          rowsPerRun: (after.rows - before.rows) / Math.max(1, after.runs - before.runs),
        };
        rows.push(row);
        console.log(
          `${config.name.padEnd(37)} | ${String(clients).padStart(7)} | ${row.solvesPerSecond.toFixed(1).padStart(8)} | ${row.p50Ms.toFixed(0).padStart(6)} | ${row.p99Ms.toFixed(0).padStart(6)} | ${String(r.errors).padStart(6)} | ` +
            `${row.eventLoopP99Ms.toFixed(1).padStart(7)} / ${row.eventLoopMaxMs.toFixed(1).padEnd(6)} | ${String(before.rssMb).padStart(8)} → ${String(after.rssMb).padEnd(9)} | ${row.rowsPerRun.toFixed(1)}`,
        );
      } finally {
        proc.disconnect();
        await new Promise((resolve) => proc.once('exit', resolve));
      }
    }
  }
  const out = args.out ?? path.join(__dirname, 'results', 'serve.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: os.cpus().length,
        loadavg: os.loadavg(),
        checkpoint: path.relative(process.cwd(), checkpoint),
        about,
        seconds,
        rows,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${out}`);
}

if (process.env.TRM_BENCH_SERVE) {
  child().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
