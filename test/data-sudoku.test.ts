/**
 * The Sudoku builder (docs/algorithm.md §5.4): augmentation keeps boards valid, the output equals the
 * official builder's for the same seed (test/fixtures/data/sudoku-official-sha256.json), counts
 * and tokens follow the CSV, and malformed rows are reported with their line numbers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes } from '../lib/errors';
import { readDataset } from '../lib/data/format';
import { RandomState } from '../lib/data/rng';
import { buildSudoku, buildSudokuFromPuzzles } from '../lib/data/sudoku';
import { shuffleSudoku } from '../lib/data/sudoku-augment';
import { FIXTURES, makeTempDir, rejectsTrmError, runPythonFile, sha256 } from './fixtures/data/helpers';
import official from './fixtures/data/sudoku-official-sha256.json';

const CSV_DIR = path.join(FIXTURES, 'sudoku');

interface Row {
  question: string;
  answer: string;
  rating: number;
}

function readRows(file: string): Row[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [, question, answer, rating] = line.split(',');
      return { question, answer, rating: Number(rating) };
    });
}

const digits = (s: string): number[] => Array.from(s, (ch) => (ch === '.' ? 0 : Number(ch)));

/** Independent validity check: every row, column and 3×3 box holds 1..9 exactly once. */
function isValidSolution(board: ArrayLike<number>): boolean {
  for (let u = 0; u < 9; u++) {
    const row = new Set<number>();
    const col = new Set<number>();
    const box = new Set<number>();
    for (let k = 0; k < 9; k++) {
      row.add(board[u * 9 + k]);
      col.add(board[k * 9 + u]);
      box.add(board[(Math.floor(u / 3) * 3 + Math.floor(k / 3)) * 9 + (u % 3) * 3 + (k % 3)]);
    }
    for (const s of [row, col, box]) if (s.size !== 9 || [...s].some((d) => d < 1 || d > 9)) return false;
  }
  return true;
}

describe('Sudoku augmentation', () => {
  test('500 random transforms keep every solution valid, the givens consistent and their count', () => {
    const rows = readRows(path.join(CSV_DIR, 'train.csv'));
    const rng = new RandomState(1);
    for (let i = 0; i < 500; i++) {
      const row = rows[i % rows.length];
      const q = Uint8Array.from(digits(row.question));
      const a = Uint8Array.from(digits(row.answer));
      const [q2, a2] = shuffleSudoku(q, a, rng);
      expect(isValidSolution(a2)).toBe(true);
      expect(q2.filter((d) => d !== 0).length).toBe(q.filter((d) => d !== 0).length);
      for (let c = 0; c < 81; c++) if (q2[c] !== 0) expect(q2[c]).toBe(a2[c]);
    }
  });
});

describe('buildSudoku from CSV', () => {
  const tmp = makeTempDir('sudoku');
  afterAll(() => tmp.cleanup());
  const out = path.join(tmp.dir, 'out');

  beforeAll(async () => {
    await buildSudoku({ inputDir: CSV_DIR, outputDir: out, subsampleSize: 20, minDifficulty: 3, numAug: 4, seed: 123 });
  });

  test('arrays equal the official builder run after np.random.seed(123)', () => {
    for (const [key, want] of Object.entries(official.arrays)) {
      const [split, name] = key.split('/');
      const arr = readDataset(out, split).sets.all;
      const field = {
        all__inputs: arr.inputs.data,
        all__labels: arr.labels.data,
        all__puzzle_identifiers: arr.puzzleIdentifiers,
        all__puzzle_indices: arr.puzzleIndices,
        all__group_indices: arr.groupIndices,
      }[name] as Uint8Array | Int32Array;
      expect([key, sha256(new Uint8Array(field.buffer, field.byteOffset, field.byteLength))]).toEqual([key, want.sha256]);
    }
  });

  test('counts, metadata and tokens follow the CSV', () => {
    const testRows = readRows(path.join(CSV_DIR, 'test.csv')).filter((r) => r.rating >= 3);
    const train = readDataset(out, 'train');
    const test = readDataset(out, 'test');
    expect([train.metadata.totalGroups, train.sets.all.puzzleIdentifiers.length, train.sets.all.inputs.shape[0]]).toEqual([20, 100, 100]);
    expect([test.metadata.totalGroups, test.sets.all.inputs.shape[0]]).toEqual([testRows.length, testRows.length]);
    // docs/algorithm.md §5.2: the official Sudoku builder writes total_puzzles = total_groups and mean 1.
    expect(train.metadata).toMatchObject({ vocabSize: 11, seqLen: 81, numPuzzleIdentifiers: 1, totalPuzzles: 20, meanPuzzleExamples: 1 });
    // Test row 0 = the first CSV row with rating ≥ 3: blank → 1, digit d → d + 1; labels all supervised (2..10).
    expect(Array.from(test.sets.all.inputs.data.slice(0, 81) as Uint8Array)).toEqual(
      digits(testRows[0].question.replace(/0/g, '.')).map((d) => d + 1),
    );
    expect(Array.from(test.sets.all.labels.data.slice(0, 81) as Uint8Array)).toEqual(digits(testRows[0].answer).map((d) => d + 1));
    expect(JSON.parse(fs.readFileSync(path.join(out, 'identifiers.json'), 'utf8'))).toEqual(['<blank>']);
    // Every augmented label is a valid solution.
    const labels = train.sets.all.labels.data as Uint8Array;
    for (let r = 0; r < 100; r++) expect(isValidSolution(Array.from(labels.subarray(r * 81, r * 81 + 81), (t) => t - 1))).toBe(true);
  });

  test('the official loader logic accepts the dataset', () => {
    const summary = JSON.parse(runPythonFile(path.join(FIXTURES, 'check_official_loader.py'), [out, 'train', 'test'])) as Record<
      string,
      { sets: { all: { examples: number } } }
    >;
    expect(summary.train.sets.all.examples).toBe(100);
  });

  test('the same seed gives the same subsample; another seed another one', async () => {
    const again = path.join(tmp.dir, 'again');
    const other = path.join(tmp.dir, 'other');
    await buildSudoku({ inputDir: CSV_DIR, outputDir: again, subsampleSize: 20, minDifficulty: 3, numAug: 4, seed: 123 });
    await buildSudoku({ inputDir: CSV_DIR, outputDir: other, subsampleSize: 20, minDifficulty: 3, numAug: 4, seed: 124 });
    const bytes = (d: string): Buffer => fs.readFileSync(path.join(d, 'train', 'all__inputs.npy'));
    expect(bytes(again).equals(bytes(out))).toBe(true);
    expect(bytes(other).equals(bytes(out))).toBe(false);
  });
});

describe('malformed Sudoku CSV rows', () => {
  const tmp = makeTempDir('sudoku-bad');
  afterAll(() => tmp.cleanup());
  const [first] = readRows(path.join(CSV_DIR, 'train.csv'));
  const good = `src,${first.question},${first.answer},${first.rating}`;
  const swapped = first.answer[1] + first.answer[0] + first.answer.slice(2); // two digits swapped: a row is fine, columns break

  const cases: Array<[string, string, number, string]> = [
    ['wrong column count', `src,${first.question},${first.answer}`, 3, 'expected 4 columns'],
    ['short question', `src,${first.question.slice(1)},${first.answer},1`, 3, 'question must have 81 characters, found 80'],
    ['bad character', `src,x${first.question.slice(1)},${first.answer},1`, 3, 'question has "x" at position 0'],
    ['answer with a blank', `src,${first.question},.${first.answer.slice(1)},1`, 3, 'expected a digit 1-9'],
    ['answer not a valid solution', `src,${'.'.repeat(81)},${swapped},1`, 3, 'not a valid Sudoku solution'],
    [
      'givens disagree with the answer',
      `src,${first.answer.slice(0, 80)}${(Number(first.answer[80]) % 9) + 1},${first.answer},1`,
      3,
      'the question gives',
    ],
    ['rating not a number', `src,${first.question},${first.answer},hard`, 3, 'rating must be a number'],
  ];

  test.each(cases)('%s → DATA_FORMAT with file and line', async (name, badRow, line, message) => {
    const dir = path.join(tmp.dir, name.replace(/\W+/g, '-'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'train.csv'), ['source,question,answer,rating', good, badRow, good].join('\n'));
    fs.writeFileSync(path.join(dir, 'test.csv'), ['source,question,answer,rating', good].join('\n'));
    const e = await rejectsTrmError(buildSudoku({ inputDir: dir, outputDir: path.join(dir, 'out') }));
    expect(e.code).toBe(ErrorCodes.DATA_FORMAT);
    expect(e.message).toContain(`${path.join(dir, 'train.csv')}:${line}:`);
    expect(e.message).toContain(message);
  });

  test('a missing header, a missing file and bad options are reported', async () => {
    const dir = path.join(tmp.dir, 'noheader');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'train.csv'), `${good}\n`);
    fs.writeFileSync(path.join(dir, 'test.csv'), `source,question,answer,rating\n${good}\n`);
    expect((await rejectsTrmError(buildSudoku({ inputDir: dir, outputDir: path.join(dir, 'o') }))).message).toContain(
      'expected the header row',
    );
    fs.rmSync(path.join(dir, 'test.csv'));
    expect((await rejectsTrmError(buildSudoku({ inputDir: dir, outputDir: path.join(dir, 'o') }))).code).toBe(ErrorCodes.IO);
    expect((await rejectsTrmError(buildSudoku({ inputDir: CSV_DIR, outputDir: path.join(dir, 'o'), numAug: -1 }))).code).toBe(
      ErrorCodes.INVALID_ARGUMENT,
    );
    expect((await rejectsTrmError(buildSudoku({ inputDir: CSV_DIR, outputDir: path.join(dir, 'o'), subsampleSize: 0 }))).code).toBe(
      ErrorCodes.INVALID_ARGUMENT,
    );
  });

  test('puzzles given in memory are validated too', async () => {
    const e = await rejectsTrmError(
      buildSudokuFromPuzzles({
        outputDir: path.join(tmp.dir, 'mem'),
        train: [{ question: first.question, answer: swapped, rating: 0 }],
        test: [{ ...first }],
      }),
    );
    expect([e.code, e.message.includes('train puzzle 0')]).toEqual([ErrorCodes.DATA_FORMAT, true]);
  });
});
