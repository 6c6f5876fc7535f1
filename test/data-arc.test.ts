/**
 * The ARC builder (docs/algorithm.md §5.7) on the real ARC-AGI-1 training tasks: byte-identical to the
 * official builder (test/fixtures/data/arc-official-sha256.json), both input layouts identical,
 * counts from the raw JSON, names, EOS frames, translation, dedup, and malformed inputs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes } from '../lib/errors';
import { buildArc, ArcBuildResult } from '../lib/data/arc';
import { cropArcGrid, encodeArcGrid, encodeArcGridInto } from '../lib/data/arc-grid';
import { inverseArcAugmentation, parseArcPuzzleName } from '../lib/data/arc-names';
import { DatasetSplit, readDataset, readIdentifiers, readTestPuzzles } from '../lib/data/format';
import { Grid, gridFromRows, gridsEqual } from '../lib/data/grid';
import { BuildProgress } from '../lib/data/progress';
import { RandomState } from '../lib/data/rng';
import { ARC_DATA, FIXTURES, listFiles, makeTempDir, rejectsTrmError, runPythonFile, sha256 } from './fixtures/data/helpers';
import official from './fixtures/data/arc-official-sha256.json';
import officialTrainFirst from './fixtures/data/arc-official-train-first-sha256.json';

interface RawPair {
  input: number[][];
  output: number[][];
}
interface RawTask {
  train: RawPair[];
  test: RawPair[];
}

const TRAINING_DIR = path.join(ARC_DATA, 'training');
const TASK_IDS = fs
  .readdirSync(TRAINING_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();
const RAW = new Map<string, RawTask>(
  TASK_IDS.map((id) => [id, JSON.parse(fs.readFileSync(path.join(TRAINING_DIR, `${id}.json`), 'utf8')) as RawTask]),
);

/** Writes the given subsets in both layouts: `<dir>/kaggle/arc-agi_<subset>_*.json` and `<dir>/tasks/<subset>/<id>.json`. */
function writeSubsets(dir: string, subsets: Array<{ name: string; ids: string[]; solutions: boolean }>): void {
  fs.mkdirSync(path.join(dir, 'kaggle'), { recursive: true });
  for (const { name, ids, solutions } of subsets) {
    // Built as text so the key order is exactly `ids` (JS objects would move all-digit ids first).
    const challenges = ids.map((id) => {
      const t = RAW.get(id) as RawTask;
      return `${JSON.stringify(id)}: ${JSON.stringify({ test: t.test.map((p) => ({ input: p.input })), train: t.train })}`;
    });
    fs.writeFileSync(path.join(dir, 'kaggle', `arc-agi_${name}_challenges.json`), `{${challenges.join(', ')}}`);
    if (solutions) {
      const sols = ids.map((id) => `${JSON.stringify(id)}: ${JSON.stringify((RAW.get(id) as RawTask).test.map((p) => p.output))}`);
      fs.writeFileSync(path.join(dir, 'kaggle', `arc-agi_${name}_solutions.json`), `{${sols.join(', ')}}`);
    }
    fs.mkdirSync(path.join(dir, 'tasks', name), { recursive: true });
    for (const id of ids) {
      const t = RAW.get(id) as RawTask;
      const test = solutions ? t.test : t.test.map((p) => ({ input: p.input }));
      fs.writeFileSync(path.join(dir, 'tasks', name, `${id}.json`), JSON.stringify({ train: t.train, test }));
    }
  }
}

/** Locates a translated grid in a 900-token row: its top-left colour cell and extent. */
function locate(row: Uint8Array): { grid: Grid; padR: number; padC: number } {
  const first = row.findIndex((t) => t >= 2);
  const padR = Math.floor(first / 30);
  const padC = first % 30;
  let rows = 0;
  while (padR + rows < 30 && row[(padR + rows) * 30 + padC] >= 2) rows++;
  let cols = 0;
  while (padC + cols < 30 && row[padR * 30 + padC + cols] >= 2) cols++;
  const data = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = row[(padR + r) * 30 + padC + c] - 2;
  return { grid: { rows, cols, data }, padR, padC };
}

const gridKey = (g: Grid): string => `${g.rows}x${g.cols}:${g.data.join('')}`;

describe('ARC builder against the official builder', () => {
  const tmp = makeTempDir('arc-official');
  afterAll(() => tmp.cleanup());

  test('both layouts give exactly the official files (seed 42, num-aug 8, a test subset, a subset without solutions)', async () => {
    writeSubsets(tmp.dir, [
      { name: 'tr', ids: TASK_IDS.slice(0, 30), solutions: true },
      { name: 'ev', ids: TASK_IDS.slice(30, 50), solutions: true },
      { name: 'nosol', ids: TASK_IDS.slice(50, 55), solutions: false },
    ]);
    const common = { subsets: ['tr', 'ev', 'nosol'], testSetName: 'ev', seed: 42, numAug: 8 };
    await buildArc({ ...common, inputFilePrefix: path.join(tmp.dir, 'kaggle', 'arc-agi'), outputDir: path.join(tmp.dir, 'out-kaggle') });
    await buildArc({ ...common, inputDir: path.join(tmp.dir, 'tasks'), outputDir: path.join(tmp.dir, 'out-dir') });
    for (const layout of ['out-kaggle', 'out-dir']) {
      const dir = path.join(tmp.dir, layout);
      expect(listFiles(dir)).toEqual(Object.keys(official.files).sort());
      for (const file of listFiles(dir))
        expect([layout, file, sha256(fs.readFileSync(path.join(dir, file)))]).toEqual([
          layout,
          file,
          (official.files as Record<string, string>)[file],
        ]);
    }
  });
});

describe('ARC builder on train-first tasks (the key order of ConceptARC and ARC-AGI-2) against the official builder', () => {
  const tmp = makeTempDir('arc-train-first');
  afterAll(() => tmp.cleanup());
  const prefix = path.join(tmp.dir, 'arc-agi');
  beforeAll(() => {
    // The combined files make-arc-train-first.py gave the official builder: each subset in its key order.
    for (const [name, s] of Object.entries(officialTrainFirst.subsets)) {
      const challenges = s.ids.map((id) => {
        const t = RAW.get(id) as RawTask;
        const test = JSON.stringify(t.test.map((p) => ({ input: p.input }))),
          train = JSON.stringify(t.train);
        return `${JSON.stringify(id)}: ${s.trainFirst ? `{"train": ${train}, "test": ${test}}` : `{"test": ${test}, "train": ${train}}`}`;
      });
      fs.writeFileSync(`${prefix}_${name}_challenges.json`, `{${challenges.join(', ')}}`);
      if (s.solutions)
        fs.writeFileSync(
          `${prefix}_${name}_solutions.json`,
          JSON.stringify(Object.fromEntries(s.ids.map((id) => [id, (RAW.get(id) as RawTask).test.map((p) => p.output)]))),
        );
    }
  });

  async function build(name: keyof typeof officialTrainFirst.builds): Promise<Record<string, string>> {
    const out = path.join(tmp.dir, name);
    await buildArc({
      inputFilePrefix: prefix,
      outputDir: out,
      subsets: officialTrainFirst.builds[name].subsets,
      testSetName: 'ev2',
      seed: 42,
      numAug: 8,
    });
    return Object.fromEntries(listFiles(out).map((f) => [f, sha256(fs.readFileSync(path.join(out, f)))]));
  }

  test('mixed key orders, a train-first test set and a subset without solutions: every file identical', async () => {
    expect(await build('mixed')).toEqual(officialTrainFirst.builds.mixed.files['PYTHONHASHSEED=2']);
  });

  test('a test set as the first subset: identical to the official run whose hash seed numbers the train split first', async () => {
    const files = officialTrainFirst.builds['test-first-subset'].files;
    expect(await build('test-first-subset')).toEqual(files['PYTHONHASHSEED=2']);
    // The official bytes depend on the hash seed here (a set of split names decides which split is written first).
    expect(files['PYTHONHASHSEED=0']['train/all__inputs.npy']).not.toBe(files['PYTHONHASHSEED=2']['train/all__inputs.npy']);
  });
});

describe('ARC builder on the 400 ARC-AGI-1 training tasks', () => {
  const tmp = makeTempDir('arc');
  afterAll(() => tmp.cleanup());
  const NUM_AUG = 8;
  const outDir = path.join(tmp.dir, 'dir');
  const outKaggle = path.join(tmp.dir, 'kaggle');
  let result: ArcBuildResult;
  let trainSplit: DatasetSplit;
  let testSplit: DatasetSplit;
  let names: string[];
  const stages = new Set<string>();

  beforeAll(async () => {
    const options = { subsets: ['training'], testSetName: 'training', numAug: NUM_AUG, seed: 42 };
    result = await buildArc({ ...options, inputDir: ARC_DATA, outputDir: outDir, onProgress: (p: BuildProgress) => stages.add(p.stage) });
    await buildArc({ ...options, inputFilePrefix: path.join(ARC_DATA, 'kaggle', 'arc-agi'), outputDir: outKaggle });
    trainSplit = readDataset(outDir, 'train');
    testSplit = readDataset(outDir, 'test');
    names = readIdentifiers(outDir);
  });

  test('the directory layout and the combined files give byte-identical datasets', () => {
    expect(listFiles(outKaggle)).toEqual(listFiles(outDir));
    for (const f of listFiles(outDir))
      expect([f, fs.readFileSync(path.join(outKaggle, f)).equals(fs.readFileSync(path.join(outDir, f)))]).toEqual([f, true]);
  });

  test('groups are the tasks in the order of RandomState(42).shuffle(sorted ids)', () => {
    const order = [...TASK_IDS];
    new RandomState(42).shuffle(order);
    const groupTasks = (s: DatasetSplit): string[] =>
      Array.from(s.sets.all.groupIndices.subarray(0, -1), (p) => names[s.sets.all.puzzleIdentifiers[p]]);
    expect(groupTasks(trainSplit)).toEqual(order);
    expect(groupTasks(testSplit)).toEqual(order);
    expect([...readTestPuzzles(outDir).keys()]).toEqual(order);
  });

  test('counts of groups, puzzles and examples agree with the raw JSON', () => {
    const { groupIndices, puzzleIndices, puzzleIdentifiers } = trainSplit.sets.all;
    let trainExamples = 0;
    let testExamples = 0;
    let notFull = 0;
    for (let g = 0; g < 400; g++) {
      const task = RAW.get(names[puzzleIdentifiers[groupIndices[g]]]) as RawTask;
      const versions = groupIndices[g + 1] - groupIndices[g];
      expect(versions).toBeLessThanOrEqual(NUM_AUG + 1);
      if (versions < NUM_AUG + 1) notFull++;
      for (let p = groupIndices[g]; p < groupIndices[g + 1]; p++) {
        expect(puzzleIndices[p + 1] - puzzleIndices[p]).toBe(task.train.length);
        expect(testSplit.sets.all.puzzleIndices[p + 1] - testSplit.sets.all.puzzleIndices[p]).toBe(task.test.length);
      }
      trainExamples += versions * task.train.length;
      testExamples += versions * task.test.length;
    }
    const puzzles = puzzleIdentifiers.length;
    expect([trainSplit.metadata.totalGroups, testSplit.metadata.totalGroups]).toEqual([400, 400]);
    expect([trainSplit.sets.all.inputs.shape[0], testSplit.sets.all.inputs.shape[0]]).toEqual([trainExamples, testExamples]);
    expect(testSplit.sets.all.puzzleIdentifiers.length).toBe(puzzles);
    expect(notFull).toBe(result.notFull.length);
    expect(trainSplit.metadata).toMatchObject({
      totalPuzzles: puzzles,
      numPuzzleIdentifiers: puzzles + 1,
      vocabSize: 12,
      seqLen: 900,
      meanPuzzleExamples: trainExamples / puzzles,
    });
    expect(testSplit.metadata.numPuzzleIdentifiers).toBe(puzzles + 1);
    expect(stages).toEqual(new Set(['augment', 'write train', 'write test']));
  });

  test('identifiers: <blank> first, then one unique name per puzzle, numbered in train order', () => {
    const ids = trainSplit.sets.all.puzzleIdentifiers;
    expect(names[0]).toBe('<blank>');
    expect(names.length).toBe(ids.length + 1);
    expect(new Set(names).size).toBe(names.length);
    expect(Array.from(ids)).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(Array.from(testSplit.sets.all.puzzleIdentifiers)).toEqual(Array.from(ids));
    const { groupIndices } = trainSplit.sets.all;
    for (let g = 0; g < 400; g++) {
      const taskId = names[ids[groupIndices[g]]];
      expect(taskId).toMatch(/^[0-9a-f]{8}$/); // the original keeps its bare id
      for (let p = groupIndices[g] + 1; p < groupIndices[g + 1]; p++) {
        expect(names[ids[p]]).toMatch(new RegExp(`^${taskId}\\|\\|\\|t[0-7]\\|\\|\\|0[1-9]{9}$`));
      }
    }
  });

  test('test split: untranslated; crop + inverse augmentation gives back the raw test pairs', () => {
    const { inputs, labels, puzzleIndices, puzzleIdentifiers } = testSplit.sets.all;
    for (let p = 0; p < puzzleIdentifiers.length; p++) {
      const { taskId, aug } = parseArcPuzzleName(names[puzzleIdentifiers[p]]);
      const raw = (RAW.get(taskId) as RawTask).test;
      for (let e = puzzleIndices[p]; e < puzzleIndices[p + 1]; e++) {
        const rowIn = (inputs.data as Uint8Array).subarray(e * 900, e * 900 + 900);
        const rowOut = (labels.data as Uint8Array).subarray(e * 900, e * 900 + 900);
        const undo = (g: Grid): Grid => (aug ? inverseArcAugmentation(g, aug) : g);
        const pair = raw[e - puzzleIndices[p]];
        if (
          !gridsEqual(undo(cropArcGrid(rowIn)), gridFromRows(pair.input)) ||
          !gridsEqual(undo(cropArcGrid(rowOut)), gridFromRows(pair.output))
        ) {
          throw new Error(`test example ${e} (${names[puzzleIdentifiers[p]]}) does not decode to the raw pair`);
        }
        expect(Buffer.from(rowIn).equals(Buffer.from(encodeArcGrid(cropArcGrid(rowIn))))).toBe(true);
      }
    }
  });

  test('train split: exact EOS frames, one shared offset per pair, ≥ 1 untranslated example per puzzle, raw pairs recovered', () => {
    const { inputs, labels, puzzleIndices, puzzleIdentifiers } = trainSplit.sets.all;
    let translated = 0;
    for (let p = 0; p < puzzleIdentifiers.length; p++) {
      const { taskId, aug } = parseArcPuzzleName(names[puzzleIdentifiers[p]]);
      const raw = (RAW.get(taskId) as RawTask).train;
      let atOrigin = 0;
      for (let e = puzzleIndices[p]; e < puzzleIndices[p + 1]; e++) {
        const rowIn = (inputs.data as Uint8Array).subarray(e * 900, e * 900 + 900);
        const rowOut = (labels.data as Uint8Array).subarray(e * 900, e * 900 + 900);
        const a = locate(rowIn);
        const b = locate(rowOut);
        expect([a.padR, a.padC]).toEqual([b.padR, b.padC]);
        if (a.padR === 0 && a.padC === 0) atOrigin++;
        else translated++;
        for (const [row, found] of [
          [rowIn, a],
          [rowOut, b],
        ] as const) {
          const expected = new Uint8Array(900);
          encodeArcGridInto(expected, found.grid, found.padR, found.padC);
          if (!Buffer.from(row).equals(Buffer.from(expected)))
            throw new Error(`train example ${e}: the canvas is not the grid plus its EOS frame`);
        }
        const undo = (g: Grid): Grid => (aug ? inverseArcAugmentation(g, aug) : g);
        const pair = raw[e - puzzleIndices[p]];
        if (!gridsEqual(undo(a.grid), gridFromRows(pair.input)) || !gridsEqual(undo(b.grid), gridFromRows(pair.output))) {
          throw new Error(`train example ${e} does not decode to the raw pair`);
        }
      }
      expect(atOrigin).toBeGreaterThanOrEqual(1);
    }
    expect(translated).toBeGreaterThan(0);
  });

  test('dedup: no two puzzles of a group hold the same set of examples', () => {
    const content = (split: DatasetSplit, p: number): string[] => {
      const { inputs, labels, puzzleIndices } = split.sets.all;
      const keys: string[] = [];
      for (let e = puzzleIndices[p]; e < puzzleIndices[p + 1]; e++) {
        const i = locate((inputs.data as Uint8Array).subarray(e * 900, e * 900 + 900)).grid;
        const o = locate((labels.data as Uint8Array).subarray(e * 900, e * 900 + 900)).grid;
        keys.push(`${gridKey(i)}|${gridKey(o)}`);
      }
      return keys;
    };
    const { groupIndices } = trainSplit.sets.all;
    for (let g = 0; g < 400; g++) {
      const seen = new Set<string>();
      for (let p = groupIndices[g]; p < groupIndices[g + 1]; p++)
        seen.add([...content(trainSplit, p), ...content(testSplit, p)].sort().join('/'));
      expect(seen.size).toBe(groupIndices[g + 1] - groupIndices[g]);
    }
  });

  test('test_puzzles.json holds the raw tasks with their real outputs', () => {
    const puzzles = readTestPuzzles(outDir);
    expect(puzzles.size).toBe(400);
    for (const [id, task] of puzzles) {
      const raw = RAW.get(id) as RawTask; // two task files also carry a "name", which is not part of a task
      expect(task).toEqual({ train: raw.train, test: raw.test, trainFirst: false }); // the directory layout reads as test-first
    }
  });

  test('the official loader logic accepts both splits', () => {
    const out = JSON.parse(runPythonFile(path.join(FIXTURES, 'check_official_loader.py'), [outDir, 'train', 'test'])) as Record<
      string,
      { sets: { all: { examples: number; puzzles: number } } }
    >;
    expect(out.train.sets.all).toMatchObject({
      examples: trainSplit.sets.all.inputs.shape[0],
      puzzles: trainSplit.sets.all.puzzleIdentifiers.length,
    });
    expect(out.test.sets.all.examples).toBe(testSplit.sets.all.inputs.shape[0]);
  });
});

describe('ARC builder options and malformed inputs', () => {
  const tmp = makeTempDir('arc-bad');
  afterAll(() => tmp.cleanup());
  const ids = TASK_IDS.slice(0, 6);
  beforeAll(() => writeSubsets(tmp.dir, [{ name: 'small', ids, solutions: true }]));
  const prefix = (): string => path.join(tmp.dir, 'kaggle', 'arc-agi');

  test('num-aug 0 keeps one puzzle per task; no test subset writes no test split; the id start shifts ids', async () => {
    const out = path.join(tmp.dir, 'noaug');
    const r = await buildArc({
      inputFilePrefix: prefix(),
      outputDir: out,
      subsets: ['small'],
      testSetName: 'evaluation',
      numAug: 0,
      puzzleIdentifiersStart: 3,
    });
    expect([r.train.totalGroups, r.train.totalPuzzles, r.test, r.numPuzzleIdentifiers]).toEqual([6, 6, null, 9]);
    expect(fs.existsSync(path.join(out, 'test'))).toBe(false);
    expect(readIdentifiers(out).slice(0, 4)).toEqual(['<blank>', '<blank>', '<blank>', expect.stringMatching(/^[0-9a-f]{8}$/)]);
    // With the test pairs in the train split, each puzzle holds test pairs then train pairs.
    const total = ids.reduce((n, id) => n + (RAW.get(id) as RawTask).train.length + (RAW.get(id) as RawTask).test.length, 0);
    expect(readDataset(out, 'train').sets.all.inputs.shape[0]).toBe(total);
  });

  const corrupt = (name: string, edit: (task: Record<string, unknown>) => void): string => {
    const dir = path.join(tmp.dir, name);
    fs.mkdirSync(path.join(dir, 'training'), { recursive: true });
    const task = JSON.parse(JSON.stringify(RAW.get(ids[0]))) as Record<string, unknown>;
    edit(task);
    fs.writeFileSync(path.join(dir, 'training', `${ids[0]}.json`), JSON.stringify(task));
    return dir;
  };
  type Pairs = Array<{ input: number[][]; output?: number[][] }>;
  const cases: Array<[string, (t: Record<string, unknown>) => void, string]> = [
    [
      'colour 10',
      (t) => {
        (t.train as Pairs)[0].input[0][0] = 10;
      },
      'colours are integers 0-9',
    ],
    [
      'ragged grid',
      (t) => {
        (t.train as Pairs)[0].input[0].push(1);
      },
      'must be rectangular',
    ],
    [
      '31 rows',
      (t) => {
        (t.train as Pairs)[0].input = Array.from({ length: 31 }, () => [0]);
      },
      'ARC grids are 1..30 × 1..30',
    ],
    [
      'empty grid',
      (t) => {
        (t.train as Pairs)[0].output = [];
      },
      'expected a grid',
    ],
    [
      'missing output',
      (t) => {
        delete (t.train as Pairs)[0].output;
      },
      'expected a grid',
    ],
    [
      'no demonstrations',
      (t) => {
        t.train = [];
      },
      'has no demonstration',
    ],
  ];
  test.each(cases)('%s → DATA_FORMAT naming the file or task', async (name, edit, message) => {
    const dir = corrupt(name.replace(/\W+/g, '-'), edit);
    const e = await rejectsTrmError(
      buildArc({ inputDir: dir, outputDir: path.join(dir, 'out'), subsets: ['training'], testSetName: 'x', numAug: 2 }),
    );
    expect(e.code).toBe(ErrorCodes.DATA_FORMAT);
    expect(e.message).toContain(ids[0]);
    expect(e.message).toContain(message);
  });

  test('combined-layout problems: bad JSON, missing solutions, a missing file, bad options', async () => {
    const dir = path.join(tmp.dir, 'combined');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'arc-agi_a_challenges.json'), '{"x": ');
    const opts = { outputDir: path.join(dir, 'out'), subsets: ['a'], testSetName: 'a' };
    expect((await rejectsTrmError(buildArc({ ...opts, inputFilePrefix: path.join(dir, 'arc-agi') }))).message).toContain('not valid JSON');
    fs.copyFileSync(path.join(tmp.dir, 'kaggle', 'arc-agi_small_challenges.json'), path.join(dir, 'arc-agi_a_challenges.json'));
    fs.writeFileSync(path.join(dir, 'arc-agi_a_solutions.json'), JSON.stringify({ [ids[0]]: [] }));
    const e = await rejectsTrmError(buildArc({ ...opts, inputFilePrefix: path.join(dir, 'arc-agi') }));
    expect([e.code, e.message.includes('arc-agi_a_solutions.json')]).toEqual([ErrorCodes.DATA_FORMAT, true]);
    expect((await rejectsTrmError(buildArc({ ...opts, inputFilePrefix: path.join(dir, 'nothing') }))).code).toBe(ErrorCodes.IO);
    expect((await rejectsTrmError(buildArc({ ...opts, inputFilePrefix: prefix(), inputDir: tmp.dir }))).code).toBe(
      ErrorCodes.INVALID_ARGUMENT,
    );
    expect((await rejectsTrmError(buildArc({ ...opts, inputFilePrefix: prefix(), puzzleIdentifiersStart: 0 }))).code).toBe(
      ErrorCodes.INVALID_ARGUMENT,
    );
    expect((await rejectsTrmError(buildArc({ ...opts, inputFilePrefix: prefix(), subsets: [] }))).code).toBe(ErrorCodes.INVALID_ARGUMENT);
  });
});
