/**
 * The on-disk format: dataset.json / identifiers.json / test_puzzles.json laid out as Python's
 * json.dump, readDataset's validation, and the streaming split writer, checked against NumPy and
 * the official loader logic (test/fixtures/data/check_official_loader.py).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes } from '../lib/errors';
import {
  encodeDatasetMetadata,
  PuzzleDatasetMetadata,
  readDataset,
  readDatasetMetadata,
  readIdentifiers,
  readTestPuzzles,
  writeIdentifiers,
  writeTestPuzzles,
  ArcTaskJson,
} from '../lib/data/format';
import { encodeNpy, readNpy, writeNpy } from '../lib/data/npy';
import { pythonFloatRepr, toPythonJson } from '../lib/data/python-json';
import { DatasetSplitWriter } from '../lib/data/split-writer';
import { catchTrmError, FIXTURES, makeTempDir, runPython, runPythonFile } from './fixtures/data/helpers';

const META: PuzzleDatasetMetadata = {
  padId: 0,
  ignoreLabelId: 0,
  blankIdentifierId: 0,
  vocabSize: 12,
  seqLen: 900,
  numPuzzleIdentifiers: 876406,
  totalGroups: 960,
  meanPuzzleExamples: 3633410 / 876405,
  totalPuzzles: 876405,
  sets: ['all'],
};

/** Writes a split of `groups` groups; group g has g + 1 puzzles and puzzle p of it has p + 1 examples. */
function writeToySplit(dir: string, groups: number, seqLen = 6): PuzzleDatasetMetadata {
  const w = new DatasetSplitWriter(dir, { seqLen, bufferBytes: 64 });
  let id = 1;
  for (let g = 0; g < groups; g++) {
    w.startGroup();
    for (let p = 0; p <= g; p++) {
      w.startPuzzle(id++);
      for (let e = 0; e <= p; e++) {
        const row = Array.from({ length: seqLen }, (_, k) => (g + p + e + k) % 5);
        w.addExample(
          row,
          row.map((v) => (v + 1) % 5),
        );
      }
    }
  }
  return w.finish({ vocabSize: 5, numPuzzleIdentifiers: id });
}

describe('Python-compatible JSON', () => {
  test('float repr matches Python for integers, fractions, tiny and huge values', () => {
    const values = [1, 4.1458, 3633410 / 876405, 0.1, 1e-5, 0.0001, 123456789.125, 1e16, 1.5e16, 2.5e-7, 1e22, -0.5, 0];
    const python = JSON.parse(
      runPython(`import json, sys; print(json.dumps([repr(float(x)) for x in json.loads(sys.argv[1])]))`, [JSON.stringify(values)]),
    ) as string[];
    expect(values.map(pythonFloatRepr)).toEqual(python);
  });

  test('dataset.json text equals json.dump of the same dict (key order, separators, float)', () => {
    const python = runPython(
      `import json
print(json.dumps({"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 12, "seq_len": 900,
  "num_puzzle_identifiers": 876406, "total_groups": 960, "mean_puzzle_examples": 3633410 / 876405,
  "total_puzzles": 876405, "sets": ["all"]}), end="")`,
    );
    expect(encodeDatasetMetadata(META)).toBe(python);
    expect(encodeDatasetMetadata({ ...META, meanPuzzleExamples: 1, ignoreLabelId: null })).toContain('"ignore_label_id": null');
    expect(encodeDatasetMetadata({ ...META, meanPuzzleExamples: 1 })).toContain('"mean_puzzle_examples": 1.0,');
  });

  test('strings are escaped like ensure_ascii and Map keys keep their order', () => {
    const value = new Map<string, string>([
      ['13713586', 'é\u007f"\\\n'],
      ['007bbfb7', '<blank>'],
    ]);
    const python = runPython(`import json; print(json.dumps({"13713586": "é\\x7f\\"\\\\\\n", "007bbfb7": "<blank>"}), end="")`);
    expect(toPythonJson(value)).toBe(python);
  });
});

describe('metadata, identifiers and test puzzles files', () => {
  const tmp = makeTempDir('format');
  afterAll(() => tmp.cleanup());

  test('HRM metadata without total_puzzles defaults it to the rows of puzzle_identifiers', () => {
    const dir = path.join(tmp.dir, 'hrm', 'train');
    writeToySplit(dir, 4); // 1 + 2 + 3 + 4 = 10 puzzles
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'dataset.json'), 'utf8')) as Record<string, unknown>;
    delete raw.total_puzzles;
    fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify(raw));
    expect(readDatasetMetadata(dir).totalPuzzles).toBe(10);
  });

  test('malformed dataset.json → DATA_FORMAT naming the file and the key', () => {
    const dir = path.join(tmp.dir, 'badmeta');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'dataset.json');
    const base = JSON.parse(encodeDatasetMetadata(META)) as Record<string, unknown>;
    const cases: Array<[string, string]> = [
      ['{"pad_id": 0,', 'not valid JSON'],
      ['[1, 2]', 'expected a JSON object'],
      [JSON.stringify({ ...base, seq_len: undefined }), 'missing key "seq_len"'],
      [JSON.stringify({ ...base, vocab_size: 'twelve' }), '"vocab_size" must be an integer'],
      [JSON.stringify({ ...base, ignore_label_id: 0.5 }), '"ignore_label_id" must be an integer or null'],
      [JSON.stringify({ ...base, sets: [] }), '"sets" must be a non-empty list'],
      [JSON.stringify({ ...base, mean_puzzle_examples: null }), '"mean_puzzle_examples" must be a non-negative number'],
    ];
    for (const [text, message] of cases) {
      fs.writeFileSync(file, text);
      const e = catchTrmError(() => readDatasetMetadata(dir));
      expect([e.code, e.message.includes(file), e.message.includes(message)]).toEqual([ErrorCodes.DATA_FORMAT, true, true]);
    }
    fs.rmSync(file);
    expect(catchTrmError(() => readDatasetMetadata(dir)).code).toBe(ErrorCodes.IO);
  });

  test('identifiers.json and test_puzzles.json round trip, keeping task order even for all-digit ids', () => {
    const names = ['<blank>', '007bbfb7', '007bbfb7|||t3|||0123456789'];
    writeIdentifiers(tmp.dir, names);
    expect(readIdentifiers(tmp.dir)).toEqual(names);
    const task = (v: number): ArcTaskJson => ({
      train: [{ input: [[v]], output: [[v, v]] }],
      test: [{ input: [[1], [2]], output: [[3]] }],
    });
    // A train-first task (ConceptARC, ARC-AGI-2) keeps its key order.
    const puzzles = new Map([
      ['ff00aa11', task(1)],
      ['13713586', task(2)],
      ['0a1b2c3d', { ...task(3), trainFirst: true }],
    ]);
    writeTestPuzzles(tmp.dir, puzzles);
    const back = readTestPuzzles(tmp.dir);
    expect([...back.keys()]).toEqual(['ff00aa11', '13713586', '0a1b2c3d']);
    expect(back.get('13713586')).toEqual({ ...task(2), trainFirst: false });
    expect(back.get('0a1b2c3d')).toEqual({ ...task(3), trainFirst: true });
    const text = fs.readFileSync(path.join(tmp.dir, 'test_puzzles.json'), 'utf8');
    expect(text.startsWith('{"ff00aa11": {"test": [{"input": [[1], [2]], "output": [[3]]}], "train"')).toBe(true);
    expect(text).toContain('"0a1b2c3d": {"train": [{"input": [[3]], "output": [[3, 3]]}], "test"');
  });
});

describe('DatasetSplitWriter and readDataset', () => {
  const tmp = makeTempDir('split');
  afterAll(() => tmp.cleanup());

  test('a written split reads back with CSR offsets computed independently', () => {
    const root = path.join(tmp.dir, 'toy');
    const meta = writeToySplit(path.join(root, 'train'), 5);
    // Group g holds g + 1 puzzles, puzzle p holds p + 1 examples.
    const puzzlesPerGroup = [1, 2, 3, 4, 5];
    const examplesPerPuzzle = puzzlesPerGroup.flatMap((n) => Array.from({ length: n }, (_, p) => p + 1));
    const cumsum = (xs: number[]): number[] => xs.reduce((acc, x) => [...acc, acc[acc.length - 1] + x], [0]);
    const split = readDataset(root, 'train');
    const set = split.sets.all;
    expect(Array.from(set.groupIndices)).toEqual(cumsum(puzzlesPerGroup));
    expect(Array.from(set.puzzleIndices)).toEqual(cumsum(examplesPerPuzzle));
    expect(Array.from(set.puzzleIdentifiers)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(set.inputs.shape).toEqual([35, 6]);
    expect(meta).toEqual({ ...split.metadata });
    expect([meta.totalGroups, meta.totalPuzzles, meta.meanPuzzleExamples, meta.numPuzzleIdentifiers]).toEqual([5, 15, 35 / 15, 16]);
    // Row 0 is group 0, puzzle 0, example 0: (k % 5) and its label (k + 1) % 5.
    expect(Array.from(set.inputs.data.slice(0, 6) as Uint8Array)).toEqual([0, 1, 2, 3, 4, 0]);
    expect(Array.from(set.labels.data.slice(0, 6) as Uint8Array)).toEqual([1, 2, 3, 4, 0, 1]);
  });

  test('the official loader logic accepts the split (np.load mmap, dtypes, keys, CSR)', () => {
    const root = path.join(tmp.dir, 'py');
    writeToySplit(path.join(root, 'train'), 3);
    writeToySplit(path.join(root, 'test'), 2);
    const out = JSON.parse(runPythonFile(path.join(FIXTURES, 'check_official_loader.py'), [root, 'train', 'test'])) as Record<
      string,
      { sets: { all: { examples: number; puzzles: number; groups: number } } }
    >;
    expect(out.train.sets.all).toMatchObject({ examples: 1 + 3 + 6, puzzles: 6, groups: 3 });
    expect(out.test.sets.all).toMatchObject({ examples: 1 + 3, puzzles: 3, groups: 2 });
  });

  test('misuse → STATE / SHAPE errors, and abort leaves no arrays behind', () => {
    const dir = path.join(tmp.dir, 'misuse');
    const w = new DatasetSplitWriter(dir, { seqLen: 4 });
    expect(catchTrmError(() => w.startPuzzle(0)).code).toBe(ErrorCodes.STATE);
    w.startGroup();
    expect(catchTrmError(() => w.addExample([1, 2, 3, 4], [1, 2, 3, 4])).code).toBe(ErrorCodes.STATE);
    w.startPuzzle(0);
    expect(catchTrmError(() => w.addExample([1, 2, 3], [1, 2, 3])).code).toBe(ErrorCodes.SHAPE);
    expect(catchTrmError(() => w.startPuzzle(1)).message).toContain('puzzle 0 has no examples');
    w.abort();
    expect(fs.readdirSync(dir)).toEqual([]);
    const empty = new DatasetSplitWriter(path.join(tmp.dir, 'empty'), { seqLen: 4 });
    expect(catchTrmError(() => empty.finish({ vocabSize: 5, numPuzzleIdentifiers: 1 })).code).toBe(ErrorCodes.STATE);
  });

  describe('corrupted arrays are rejected naming the file', () => {
    const root = path.join(tmp.dir, 'corrupt');
    const split = path.join(root, 'train');
    const file = (name: string): string => path.join(split, `all__${name}.npy`);
    beforeEach(() => {
      fs.rmSync(root, { recursive: true, force: true });
      writeToySplit(split, 3);
    });

    const int32 = (values: number[]) => ({ dtype: 'int32' as const, shape: [values.length], data: Int32Array.from(values) });
    const cases: Array<[string, () => void, string, string]> = [
      [
        'offsets not starting at 0',
        () => writeNpy(file('puzzle_indices'), int32([1, 1, 3, 4, 6, 8, 10])),
        'puzzle_indices',
        'start with 0',
      ],
      ['decreasing offsets', () => writeNpy(file('group_indices'), int32([0, 3, 1, 6])), 'group_indices', 'non-decreasing'],
      [
        'offsets ending short',
        () => writeNpy(file('group_indices'), int32([0, 1, 3, 5])),
        'group_indices',
        'end at the number of puzzles = 6',
      ],
      [
        'puzzle_indices of the wrong length',
        () => writeNpy(file('puzzle_indices'), int32([0, 1, 3, 10])),
        'puzzle_indices',
        'expected 7 entries',
      ],
      [
        'labels with fewer rows than inputs',
        () => writeNpy(file('labels'), { dtype: 'uint8', shape: [2, 6], data: new Uint8Array(12) }),
        'labels',
        'has 2 rows',
      ],
      [
        'inputs of the wrong seq_len',
        () => writeNpy(file('inputs'), { dtype: 'uint8', shape: [10, 5], data: new Uint8Array(50) }),
        'inputs',
        'seq_len=6',
      ],
      [
        'float inputs',
        () => writeNpy(file('inputs'), { dtype: 'float32', shape: [10, 6], data: new Float32Array(60) }),
        'inputs',
        'integer array',
      ],
      ['truncated inputs', () => fs.truncateSync(file('inputs'), 150), 'inputs', 'truncated data'],
    ];
    test.each(cases)('%s → DATA_FORMAT', (_name, corrupt, array, message) => {
      corrupt();
      const e = catchTrmError(() => readDataset(root, 'train'));
      expect(e.code).toBe(ErrorCodes.DATA_FORMAT);
      expect(e.message).toContain(file(array));
      expect(e.message).toContain(message);
    });

    test('a token ≥ vocab_size or a puzzle id ≥ num_puzzle_identifiers → TOKEN_RANGE', () => {
      const inputs = readNpy(file('inputs'));
      (inputs.data as Uint8Array)[13] = 7;
      fs.writeFileSync(file('inputs'), encodeNpy(inputs));
      const e = catchTrmError(() => readDataset(root, 'train'));
      expect([e.code, e.message.includes('token 7 in row 2')]).toEqual([ErrorCodes.TOKEN_RANGE, true]);
      writeToySplit(split, 3);
      writeNpy(file('puzzle_identifiers'), int32([1, 2, 3, 4, 5, 99]));
      expect(catchTrmError(() => readDataset(root, 'train')).code).toBe(ErrorCodes.TOKEN_RANGE);
    });

    test('a missing split or array → IO', () => {
      expect(catchTrmError(() => readDataset(root, 'test')).code).toBe(ErrorCodes.IO);
      fs.rmSync(file('group_indices'));
      expect(catchTrmError(() => readDataset(root, 'train')).code).toBe(ErrorCodes.IO);
    });
  });
});
