/**
 * `npm run fuzz`: a bounded, seeded mutation campaign over the file readers (`.npy`, safetensors and
 * official checkpoints through TRM.load, all_config.yaml, dataset.json, a whole dataset through the
 * native loader of a one-epoch training run) and the HTTP API (a real
 * tiny Sudoku solver behind createServer). Each target runs in a child process, so a crash or a
 * hang is observed, not suffered. Every case ends as one of:
 *
 *   accepted  the mutated input was still valid and was read or answered (HTTP: 2xx)
 *   typed     refused with a TrmError / `{ error: { code: ERR_TRM_* } }` (HTTP: 4xx, 503, 504)
 *   other     refused some other way (another error class; HTTP 500 or an answer without a code)
 *   crash     the target process died
 *   hang      no answer within the time limit
 *
 * Prints a table and writes bench/results/fuzz.json. Options: --seed N, --file-cases N (per file
 * target, default 600), --http-cases N (default 2500).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TRM } from '../lib/model';
import { encodeNpy } from '../lib/data/npy';
import { writeSuccessorTask } from '../test/helpers/synthetic';
import { TargetProcess } from './child';
import { exchange, type Exchange } from './http-client';
import { Rng, mutateBytes, mutateJson, mutateText } from './mutate';
import type { FileOutcome } from './file-target';

type Outcome = 'accepted' | 'typed' | 'other' | 'crash' | 'hang';
const OUTCOMES: Outcome[] = ['accepted', 'typed', 'other', 'crash', 'hang'];

interface Tally {
  target: string;
  cases: number;
  counts: Record<Outcome, number>;
  /** A few cases per non-typed failure, to reproduce them. */
  examples: { outcome: Outcome; detail: string }[];
  seconds: number;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function tally(target: string): Tally {
  return { target, cases: 0, counts: { accepted: 0, typed: 0, other: 0, crash: 0, hang: 0 }, examples: [], seconds: 0 };
}

function count(t: Tally, outcome: Outcome, detail: string): void {
  t.cases++;
  t.counts[outcome]++;
  if ((outcome === 'other' || outcome === 'crash' || outcome === 'hang') && t.examples.length < 10) t.examples.push({ outcome, detail });
}

/** The valid inputs the mutations start from. */
interface Seeds {
  npy: Buffer;
  safetensors: Buffer;
  step: Buffer;
  yaml: string;
  datasetJson: string;
  /** The train split the dataset.json cases sit in (its arrays are copied beside each case). */
  trainDir: string;
}

async function makeSeeds(dir: string): Promise<Seeds> {
  const model = TRM.create(
    {
      seqLen: 6,
      vocabSize: 5,
      numPuzzleIdentifiers: 3,
      hiddenSize: 16,
      numHeads: 2,
      hCycles: 1,
      lCycles: 1,
      lLayers: 1,
      puzzleEmbNdim: 16,
      haltMaxSteps: 2,
    },
    {},
    { seed: 1 },
  );
  await model.save(path.join(dir, 'model.safetensors'));
  await model.save(path.join(dir, 'official', 'step_1'), { format: 'official' });
  model.dispose();
  writeSuccessorTask(path.join(dir, 'data'), { train: 4, test: 2, seqLen: 6, vocab: 5, seed: 1 });
  return {
    npy: encodeNpy({ dtype: 'int32', shape: [4, 6], data: Int32Array.from({ length: 24 }, (_, i) => i % 5) }),
    safetensors: fs.readFileSync(path.join(dir, 'model.safetensors')),
    step: fs.readFileSync(path.join(dir, 'official', 'step_1')),
    yaml: fs.readFileSync(path.join(dir, 'official', 'all_config.yaml'), 'utf8'),
    datasetJson: fs.readFileSync(path.join(dir, 'data', 'train', 'dataset.json'), 'utf8'),
    trainDir: path.join(dir, 'data', 'train'),
  };
}

/** Writes case `id` of `target` into its own folder; returns the file the reader is given. */
function writeCase(target: string, seeds: Seeds, rng: Rng, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const headerLength = (b: Buffer) => 8 + Number(b.readBigUInt64LE(0));
  switch (target) {
    case 'npy':
      fs.writeFileSync(path.join(dir, 'a.npy'), mutateBytes(seeds.npy, rng, 128));
      return path.join(dir, 'a.npy');
    case 'safetensors': {
      const b =
        rng.next() < 0.5
          ? mutateBytes(seeds.safetensors, rng, headerLength(seeds.safetensors))
          : Buffer.from(mutateText(seeds.safetensors.toString('latin1'), rng), 'latin1');
      fs.writeFileSync(path.join(dir, 'model.safetensors'), b);
      return path.join(dir, 'model.safetensors');
    }
    case 'official step_N':
      // The local headers and data.pkl lie at the start, the central directory at the end.
      fs.writeFileSync(
        path.join(dir, 'step_1'),
        rng.next() < 0.6
          ? mutateBytes(seeds.step, rng, 4096)
          : Buffer.concat([
              seeds.step.subarray(0, seeds.step.length - 1024),
              mutateBytes(seeds.step.subarray(seeds.step.length - 1024), rng),
            ]),
      );
      fs.writeFileSync(path.join(dir, 'all_config.yaml'), seeds.yaml);
      return path.join(dir, 'step_1');
    case 'all_config.yaml':
      fs.writeFileSync(path.join(dir, 'step_1'), seeds.step);
      fs.writeFileSync(path.join(dir, 'all_config.yaml'), mutateText(seeds.yaml, rng));
      return path.join(dir, 'all_config.yaml');
    case 'dataset (native loader)': {
      const train = path.join(dir, 'data', 'train');
      fs.mkdirSync(train, { recursive: true });
      const files = fs.readdirSync(seeds.trainDir);
      for (const f of files) fs.copyFileSync(path.join(seeds.trainDir, f), path.join(train, f));
      const victim = rng.pick(files);
      const bytes = fs.readFileSync(path.join(train, victim));
      fs.writeFileSync(
        path.join(train, victim),
        victim.endsWith('.json') ? mutateText(bytes.toString('utf8'), rng) : mutateBytes(bytes, rng, rng.next() < 0.5 ? 128 : bytes.length),
      );
      return path.join(train, 'dataset.json');
    }
    default: {
      const json = rng.next() < 0.5 ? JSON.stringify(mutateJson(JSON.parse(seeds.datasetJson), rng)) : mutateText(seeds.datasetJson, rng);
      fs.writeFileSync(path.join(dir, 'dataset.json'), json);
      for (const f of fs.readdirSync(seeds.trainDir))
        if (f.endsWith('.npy')) fs.copyFileSync(path.join(seeds.trainDir, f), path.join(dir, f));
      return path.join(dir, 'dataset.json');
    }
  }
}

const FILE_TARGETS = ['npy', 'safetensors', 'official step_N', 'all_config.yaml', 'dataset.json', 'dataset (native loader)'];

async function fileCampaign(work: string, seeds: Seeds, perTarget: number, seed: number): Promise<Tally[]> {
  const proc = new TargetProcess<FileOutcome>(path.join(__dirname, 'file-target.ts'), { OMP_NUM_THREADS: '1' });
  const out: Tally[] = [];
  let id = 0;
  for (const target of FILE_TARGETS) {
    const t = tally(target);
    const rng = new Rng(seed * 1000 + out.length);
    const t0 = performance.now();
    for (let k = 0; k < perTarget; k++) {
      const dir = path.join(work, 'cases', String(id));
      const file = writeCase(target, seeds, rng, dir);
      const end = await proc.call({ id: id++, target, file }, 20_000);
      if (end.kind === 'reply') count(t, end.reply.outcome, `${end.reply.name}: ${end.reply.code ?? ''} ${end.reply.message ?? ''}`);
      else {
        const keep = path.join(work, 'kept', `${target.replace(/\W/g, '_')}-${k}`);
        fs.cpSync(dir, keep, { recursive: true });
        count(t, end.kind, `${end.kind === 'crash' ? end.detail : 'no answer in 20 s'}; input kept in ${keep}`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
    t.seconds = (performance.now() - t0) / 1000;
    out.push(t);
  }
  proc.stop();
  return out;
}

const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';

/** A request as bytes: method, path, headers and a body. */
function request(method: string, target: string, headers: Record<string, string>, body = ''): Buffer {
  const h = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return Buffer.from(`${method} ${target} HTTP/1.1\r\n${h}\r\n${body}`, 'utf8');
}

/** One mutated request, and how many of its bytes to send before stalling (for slow clients). */
function httpCase(rng: Rng): { bytes: Buffer; stallAfter?: number; head: boolean } {
  const grid = Array.from({ length: 9 }, (_, r) => Array.from(PUZZLE.slice(r * 9, r * 9 + 9), (ch) => (ch === '.' ? 0 : Number(ch))));
  const bases = [{ puzzle: PUZZLE }, { puzzle: grid }, { puzzle: PUZZLE, recordSteps: true }];
  let body = JSON.stringify(mutateJson(rng.pick(bases), rng));
  let method = 'POST',
    target = '/solve/sudoku';
  const headers: Record<string, string> = { Host: 'fuzz', 'Content-Type': 'application/json', Connection: 'close' };
  const kind = rng.int(10);
  if (kind === 0) {
    method = rng.pick(['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'BREW', 'get']);
    target = rng.pick([
      '/solve/sudoku',
      '/health',
      '/openapi.json',
      '/',
      '/app.js',
      '/solve/maze',
      '/nope',
      '/%',
      '/solve/sudoku?x=1',
      `/${'a'.repeat(rng.int(9000))}`,
      '*',
      'http://x/health',
    ]);
  }
  if (kind === 1)
    headers['Content-Type'] = rng.pick([
      'text/plain',
      'application/json; charset=latin1',
      'application/x-www-form-urlencoded',
      '',
      'application/json, text/plain',
      'multipart/form-data; boundary=x',
    ]);
  if (kind === 2)
    body = rng.pick([
      '',
      '{',
      'null',
      '[]',
      '"x"',
      '{"puzzle": "' + 'x'.repeat(20000) + '"}',
      '{"a":'.repeat(5000),
      '\ufeff{}',
      '{"puzzle":1e999}',
    ]);
  if (kind === 3) headers['X-Big'] = 'x'.repeat(rng.pick([100, 20_000, 70_000]));
  if (kind !== 4 || rng.next() < 0.5) headers['Content-Length'] = String(Buffer.byteLength(body));
  if (kind === 4) {
    if (rng.next() < 0.5)
      headers['Content-Length'] = rng.pick([
        '-1',
        'abc',
        '99999999999',
        String(Buffer.byteLength(body) + 10),
        '0',
        `${Buffer.byteLength(body)}, 5`,
      ]);
    else {
      headers['Transfer-Encoding'] = 'chunked';
      body = rng.pick([
        `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
        `zz\r\n${body}\r\n0\r\n\r\n`,
        `${body.length}\r\n${body}`,
      ]);
    }
  }
  let bytes = request(method, target, headers, body);
  if (kind === 5) bytes = mutateBytes(bytes, rng);
  // Slow clients: a request cut short and never finished; the server must give up on it.
  const stallAfter = kind === 6 && rng.next() < 0.3 ? rng.int(bytes.length) : undefined;
  return { bytes, stallAfter, head: method === 'HEAD' };
}

function judge(e: Exchange, head: boolean): { outcome: Outcome; detail: string } {
  if (e.kind === 'timeout') return { outcome: 'hang', detail: `no answer within 10 s; received ${JSON.stringify(e.received)}` };
  if (e.kind === 'refused') return { outcome: 'other', detail: `connection refused: ${e.error}` };
  if (e.kind === 'closed') return { outcome: 'other', detail: `closed without an answer; received ${JSON.stringify(e.received)}` };
  if (e.status < 400) return { outcome: 'accepted', detail: String(e.status) };
  if (e.status === 500) return { outcome: 'other', detail: `500 ${e.body.slice(0, 200)}` };
  if (head) return { outcome: 'typed', detail: String(e.status) };
  let code: unknown;
  try {
    code = (JSON.parse(e.body) as { error?: { code?: unknown } }).error?.code;
  } catch {
    code = undefined;
  }
  return typeof code === 'string' && code.startsWith('ERR_TRM_')
    ? { outcome: 'typed', detail: code }
    : { outcome: 'other', detail: `${e.status} ${e.body.slice(0, 200)}` };
}

async function httpCampaign(cases: number, seed: number, lanes = 4): Promise<Tally> {
  const proc = new TargetProcess<{ id: number }>(path.join(__dirname, 'http-target.ts'), { OMP_NUM_THREADS: '1' });
  const t = tally('HTTP API');
  const rng = new Rng(seed * 1000 + 99);
  const todo = Array.from({ length: cases }, () => httpCase(rng));
  const t0 = performance.now();
  let server = proc.start() as Promise<{ port: number }>;
  // A few clients at once, as a server sees them; a death is charged to the case that saw it.
  const lane = async (): Promise<void> => {
    for (let c = todo.shift(); c; c = todo.shift()) {
      const { port } = await server;
      const e = await exchange(port, c.bytes, 10_000, c.stallAfter);
      if (!proc.alive) {
        count(t, 'crash', `the server died after ${JSON.stringify(c.bytes.toString('latin1').slice(0, 300))}`);
        server = proc.start() as Promise<{ port: number }>;
      } else {
        const j = judge(e, c.head);
        count(t, j.outcome, `${j.detail} <- ${JSON.stringify(c.bytes.toString('latin1').slice(0, 200))}`);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  t.seconds = (performance.now() - t0) / 1000;
  proc.stop();
  return t;
}

function printTable(rows: Tally[]): void {
  const head = ['target', 'cases', ...OUTCOMES, 'typed share of refusals', 'seconds'];
  const lines = rows.map((r) => {
    const refused = r.counts.typed + r.counts.other + r.counts.crash + r.counts.hang;
    return [
      r.target,
      String(r.cases),
      ...OUTCOMES.map((o) => String(r.counts[o])),
      refused ? `${((100 * r.counts.typed) / refused).toFixed(1)} %` : '-',
      r.seconds.toFixed(1),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  for (const l of [head, ...lines]) console.log(l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

async function main(): Promise<void> {
  const seed = flag('--seed', 1);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-fuzz-'));
  const t0 = performance.now();
  try {
    const seeds = await makeSeeds(path.join(work, 'seeds'));
    const rows = [
      ...(await fileCampaign(work, seeds, flag('--file-cases', 600), seed)),
      await httpCampaign(flag('--http-cases', 2500), seed),
    ];
    printTable(rows);
    for (const r of rows) for (const e of r.examples) console.log(`  ${r.target} ${e.outcome}: ${e.detail}`);
    const total = (o: Outcome) => rows.reduce((s, r) => s + r.counts[o], 0);
    const result = {
      date: new Date().toISOString(),
      seed,
      seconds: (performance.now() - t0) / 1000,
      node: process.version,
      cpus: os.cpus().length,
      totals: Object.fromEntries(OUTCOMES.map((o) => [o, total(o)])),
      targets: rows,
    };
    const out = path.join(__dirname, '..', 'bench', 'results', 'fuzz.json');
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(
      `\n${rows.reduce((s, r) => s + r.cases, 0)} cases in ${result.seconds.toFixed(0)} s; crashes ${total('crash')}, hangs ${total('hang')}, other errors ${total('other')}; wrote ${path.relative(process.cwd(), out)}`,
    );
    if (!fs.existsSync(path.join(work, 'kept'))) fs.rmSync(work, { recursive: true, force: true });
    else console.log(`inputs of crashes and hangs kept in ${path.join(work, 'kept')}`);
    process.exitCode = total('crash') + total('hang') + total('other') > 0 ? 1 : 0;
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

void main();
