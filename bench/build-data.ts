/**
 * Benchmark of the dataset pipeline (run: `npx ts-node bench/build-data.ts [--num-aug N]`):
 *  - ARC: the 400 ARC-AGI-1 training tasks vendored in test/fixtures at num-aug 100 (default) into a
 *    temp dir, as examples written per second, split into the augment (hash dedup) and write stages;
 *  - Sudoku generation: puzzles with unique solutions per minute;
 *  - Maze generation: 30×30 mazes with shortest path > 110 per minute.
 * Prints a table and writes bench/results/build-data.json.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildArc } from '../lib/data/arc';
import { generateMaze } from '../lib/data/maze-generator';
import { BuildProgress } from '../lib/data/progress';
import { generateSudoku } from '../lib/data/sudoku-generator';

const ARC_DIR = path.resolve(__dirname, '..', 'test', 'fixtures', 'arc-agi-1');

interface Row {
  name: string;
  value: number;
  unit: string;
  detail: string;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function benchArc(numAug: number): Promise<Row[]> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-bench-arc-'));
  const stageStart = new Map<string, number>();
  const t0 = performance.now();
  try {
    const result = await buildArc({
      inputDir: ARC_DIR,
      outputDir: out,
      subsets: ['training'],
      testSetName: 'evaluation',
      numAug,
      seed: 42,
      onProgress: (p: BuildProgress) => {
        if (!stageStart.has(p.stage)) stageStart.set(p.stage, performance.now());
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const augmentSeconds = ((stageStart.get('write train') ?? t0) - (stageStart.get('augment') ?? t0)) / 1000;
    const examples = Math.round(result.train.totalPuzzles * result.train.meanPuzzleExamples);
    const bytes = fs.statSync(path.join(out, 'train', 'all__inputs.npy')).size * 2;
    return [
      {
        name: `ARC build (400 tasks, num-aug ${numAug})`,
        value: examples / seconds,
        unit: 'examples/s',
        detail: `${examples} examples, ${result.train.totalPuzzles} puzzles in ${seconds.toFixed(1)} s`,
      },
      {
        name: '  augment stage (hash dedup)',
        value: result.train.totalPuzzles / augmentSeconds,
        unit: 'versions/s',
        detail: `${augmentSeconds.toFixed(1)} s`,
      },
      {
        name: '  write stage (encode + disk)',
        value: examples / (seconds - augmentSeconds),
        unit: 'examples/s',
        detail: `${(bytes / 1e9).toFixed(2)} GB of inputs+labels in ${(seconds - augmentSeconds).toFixed(1)} s`,
      },
    ];
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

async function benchSudoku(count: number): Promise<Row> {
  const t0 = performance.now();
  const puzzles = await generateSudoku({ count, seed: 1 });
  const seconds = (performance.now() - t0) / 1000;
  const mean = puzzles.reduce((s, p) => s + p.rating, 0) / puzzles.length;
  return {
    name: 'Sudoku generation',
    value: (count / seconds) * 60,
    unit: 'puzzles/min',
    detail: `${count} puzzles, mean difficulty ${mean.toFixed(1)} backtracks`,
  };
}

async function benchMaze(count: number): Promise<Row> {
  const t0 = performance.now();
  const mazes = await generateMaze({ count, seed: 1 });
  const seconds = (performance.now() - t0) / 1000;
  const mean = mazes.reduce((s, m) => s + m.rating, 0) / mazes.length;
  return {
    name: 'Maze generation (30×30, path > 110)',
    value: (count / seconds) * 60,
    unit: 'mazes/min',
    detail: `${count} mazes, mean path ${mean.toFixed(1)} steps`,
  };
}

async function main(): Promise<void> {
  const numAug = flag('--num-aug', 100);
  const rows = [...(await benchArc(numAug)), await benchSudoku(flag('--sudoku', 2000)), await benchMaze(flag('--mazes', 2000))];
  const width = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`${'benchmark'.padEnd(width)}  ${'rate'.padStart(12)}  unit          detail\n`);
  for (const r of rows) {
    process.stdout.write(`${r.name.padEnd(width)}  ${r.value.toFixed(0).padStart(12)}  ${r.unit.padEnd(12)}  ${r.detail}\n`);
  }
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    results: rows.map((r) => ({ name: r.name.trim(), value: Number(r.value.toFixed(1)), unit: r.unit, detail: r.detail })),
  };
  fs.writeFileSync(path.join(dir, 'build-data.json'), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`wrote ${path.join(dir, 'build-data.json')}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
