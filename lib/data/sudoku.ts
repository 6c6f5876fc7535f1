/**
 * The Sudoku dataset builder (docs/algorithm.md §5.4, `dataset/build_sudoku_dataset.py`): reads
 * `train.csv` / `test.csv` (`source,question,answer,rating`), drops rows below a minimum rating,
 * optionally subsamples the training rows, adds `numAug` validity-preserving augmentations per
 * training puzzle and writes the official format. Tokens: 0 PAD, 1 blank, 2–10 digits 1–9.
 *
 * Every row is validated (shape, characters, a valid solution that agrees with the givens), with
 * the file and line in the error. With a seed S the random draws equal the official builder's
 * after `np.random.seed(S)` (the official script itself is unseeded).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError, check } from '../errors';
import { readCsvRows } from './csv';
import { PuzzleDatasetMetadata, writeIdentifiers } from './format';
import { ProgressCallback, ProgressReporter } from './progress';
import { RandomState } from './rng';
import { subsampleRows } from './subsample';
import { DatasetSplitWriter } from './split-writer';
import { applySudokuTransform, drawSudokuTransform } from './sudoku-augment';
import { parseSudokuPuzzle, SUDOKU_CELLS, SudokuPuzzle } from './sudoku-rules';

/** Vocabulary: PAD 0, blank 1, digits 1–9 → 2–10. */
export const SUDOKU_VOCAB_SIZE = 11;

/** Options shared by both Sudoku build entry points. */
export interface SudokuBuildCommonOptions {
  /** Dataset directory to write (`train/`, `test/`, `identifiers.json`). */
  outputDir: string;
  /** Augmented copies per training puzzle (default 0). The test split is never augmented. */
  numAug?: number;
  /** Seed of the NumPy-compatible RNG used for subsampling and augmentation (default 0). */
  seed?: number;
  /** Receives progress reports. */
  onProgress?: ProgressCallback;
}

/** Options of {@link buildSudoku}. */
export interface SudokuBuildOptions extends SudokuBuildCommonOptions {
  /** Directory holding `train.csv` and `test.csv`. */
  inputDir: string;
  /** Keep this many training rows, drawn without replacement (default: all). */
  subsampleSize?: number;
  /** Drop rows (train and test) whose rating is below this (default: keep all). */
  minDifficulty?: number;
}

/** What a Sudoku build wrote. */
export interface SudokuBuildResult {
  /** The dataset directory written. */
  outputDir: string;
  /** Metadata of the train split. */
  train: PuzzleDatasetMetadata;
  /** Metadata of the test split. */
  test: PuzzleDatasetMetadata;
  /** Original training puzzles written (groups of the train split). */
  trainPuzzles: number;
  /** Test puzzles written. */
  testPuzzles: number;
}

interface Board {
  question: Uint8Array;
  answer: Uint8Array;
}

function checkCommon(options: SudokuBuildCommonOptions): { numAug: number; seed: number } {
  const numAug = options.numAug ?? 0;
  const seed = options.seed ?? 0;
  check(Number.isInteger(numAug) && numAug >= 0, `numAug must be an integer ≥ 0, got ${numAug}`);
  check(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, `seed must be an integer in [0, 2^32 − 1], got ${seed}`);
  check(typeof options.outputDir === 'string' && options.outputDir.length > 0, 'outputDir must be a non-empty path');
  return { numAug, seed };
}

/** Yields the validated rows of a Sudoku CSV whose rating passes `minDifficulty`. */
function* readSudokuCsv(file: string, minDifficulty: number | undefined): Generator<Board & { bytesRead: number }> {
  if (!fs.existsSync(file))
    throw new TrmError(
      ErrorCodes.IO,
      `cannot read ${file}: the file does not exist (expected train.csv and test.csv with columns source,question,answer,rating)`,
    );
  let header = true;
  for (const row of readCsvRows(file)) {
    const where = `${file}:${row.line}`;
    if (row.fields.length !== 4) {
      throw new TrmError(
        ErrorCodes.DATA_FORMAT,
        `${where}: expected 4 columns (source,question,answer,rating), found ${row.fields.length}`,
      );
    }
    if (header) {
      header = false;
      const names = row.fields.map((f) => f.trim().toLowerCase());
      if (names.join(',') !== 'source,question,answer,rating') {
        throw new TrmError(
          ErrorCodes.DATA_FORMAT,
          `${where}: expected the header row "source,question,answer,rating", found "${row.fields.join(',')}"`,
        );
      }
      continue;
    }
    const [source, question, answer, ratingText] = row.fields;
    const rating = Number(ratingText);
    if (ratingText.trim() === '' || !Number.isFinite(rating)) {
      throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: rating must be a number, found ${JSON.stringify(ratingText)}`);
    }
    const board = parseSudokuPuzzle({ source, question, answer, rating }, where);
    if (minDifficulty !== undefined && rating < minDifficulty) continue;
    yield { ...board, bytesRead: row.bytesRead };
  }
  if (header)
    throw new TrmError(ErrorCodes.DATA_FORMAT, `${file}: the file is empty (expected a header row "source,question,answer,rating")`);
}

/** Writes one puzzle and its augmentations as one group (docs/algorithm.md §5.4: copy 0 is the original). */
function writeGroup(writer: DatasetSplitWriter, board: Board, numAug: number, rng: RandomState): void {
  writer.startGroup();
  for (let a = 0; a <= numAug; a++) {
    let q = board.question;
    let s = board.answer;
    if (a > 0) {
      const t = drawSudokuTransform(rng);
      q = applySudokuTransform(q, t);
      s = applySudokuTransform(s, t);
    }
    writer.startPuzzle(0);
    const rows = writer.nextExample();
    for (let i = 0; i < SUDOKU_CELLS; i++) {
      rows.input[i] = q[i] + 1;
      rows.label[i] = s[i] + 1;
    }
  }
}

function finishSplit(writer: DatasetSplitWriter): PuzzleDatasetMetadata {
  // The official builder writes total_puzzles = total_groups and mean_puzzle_examples = 1 (docs/algorithm.md §5.2).
  return writer.finish({ vocabSize: SUDOKU_VOCAB_SIZE, numPuzzleIdentifiers: 1, totalPuzzles: writer.totalGroups, meanPuzzleExamples: 1 });
}

/** Writes a split from an iterable of boards. */
async function writeSplit(
  dir: string,
  boards: Iterable<Board>,
  numAug: number,
  rng: RandomState,
  reporter: ProgressReporter,
  stage: string,
  total: number,
): Promise<PuzzleDatasetMetadata> {
  const writer = new DatasetSplitWriter(dir, { seqLen: SUDOKU_CELLS });
  try {
    reporter.start(stage, total, 'puzzles');
    let n = 0;
    for (const board of boards) {
      writeGroup(writer, board, numAug, rng);
      n += 1;
      if (reporter.tick(n)) await reporter.pause();
    }
    reporter.finish(n);
    return finishSplit(writer);
  } catch (e) {
    writer.abort();
    throw e;
  }
}

/**
 * Builds the Sudoku dataset from `inputDir/train.csv` and `inputDir/test.csv` (docs/algorithm.md §5.4).
 * Memory stays bounded by the subsample (or by one row when not subsampling).
 */
export async function buildSudoku(options: SudokuBuildOptions): Promise<SudokuBuildResult> {
  const { numAug, seed } = checkCommon(options);
  const size = options.subsampleSize;
  check(size === undefined || (Number.isInteger(size) && size > 0), `subsampleSize must be a positive integer, got ${size}`);
  check(
    options.minDifficulty === undefined || Number.isFinite(options.minDifficulty),
    `minDifficulty must be a number, got ${options.minDifficulty}`,
  );
  const reporter = new ProgressReporter(options.onProgress);
  const rng = new RandomState(seed);
  const trainFile = path.join(options.inputDir, 'train.csv');
  const testFile = path.join(options.inputDir, 'test.csv');
  for (const f of [trainFile, testFile]) {
    if (!fs.existsSync(f))
      throw new TrmError(ErrorCodes.IO, `cannot read ${f}: the file does not exist (--input-dir must hold train.csv and test.csv)`);
  }
  const train = await subsampleRows(
    () => readSudokuCsv(trainFile, options.minDifficulty),
    size,
    rng,
    reporter,
    'check train.csv',
    fs.statSync(trainFile).size,
  );
  const trainMeta = await writeSplit(path.join(options.outputDir, 'train'), train.rows, numAug, rng, reporter, 'write train', train.total);
  const testMeta = await writeSplit(
    path.join(options.outputDir, 'test'),
    readSudokuCsv(testFile, options.minDifficulty),
    0,
    rng,
    reporter,
    'write test',
    0,
  );
  writeIdentifiers(options.outputDir, ['<blank>']);
  return {
    outputDir: options.outputDir,
    train: trainMeta,
    test: testMeta,
    trainPuzzles: trainMeta.totalGroups,
    testPuzzles: testMeta.totalGroups,
  };
}

/** Options of {@link buildSudokuFromPuzzles}. */
export interface SudokuFromPuzzlesOptions extends SudokuBuildCommonOptions {
  /** Training puzzles (each becomes a group of 1 + numAug puzzles). */
  train: readonly SudokuPuzzle[];
  /** Test puzzles (never augmented). */
  test: readonly SudokuPuzzle[];
}

/** Builds the Sudoku dataset from puzzles in memory, e.g. from {@link generateSudoku}. Every puzzle is validated. */
export async function buildSudokuFromPuzzles(options: SudokuFromPuzzlesOptions): Promise<SudokuBuildResult> {
  const { numAug, seed } = checkCommon(options);
  check(
    options.train.length > 0 && options.test.length > 0,
    `need at least one train and one test puzzle, got ${options.train.length} and ${options.test.length}`,
  );
  const reporter = new ProgressReporter(options.onProgress);
  const rng = new RandomState(seed);
  const boards = (list: readonly SudokuPuzzle[], name: string): Board[] => list.map((p, i) => parseSudokuPuzzle(p, `${name} puzzle ${i}`));
  const trainMeta = await writeSplit(
    path.join(options.outputDir, 'train'),
    boards(options.train, 'train'),
    numAug,
    rng,
    reporter,
    'write train',
    options.train.length,
  );
  const testMeta = await writeSplit(
    path.join(options.outputDir, 'test'),
    boards(options.test, 'test'),
    0,
    rng,
    reporter,
    'write test',
    options.test.length,
  );
  writeIdentifiers(options.outputDir, ['<blank>']);
  return {
    outputDir: options.outputDir,
    train: trainMeta,
    test: testMeta,
    trainPuzzles: trainMeta.totalGroups,
    testPuzzles: testMeta.totalGroups,
  };
}
