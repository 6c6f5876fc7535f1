/**
 * The Maze dataset builder (docs/algorithm.md §5.5, `dataset/build_maze_dataset.py`): reads `train.csv` /
 * `test.csv` (`source,question,answer,rating`) whose question and answer are square grids
 * flattened row-major over the characters "# SGo" ('#' wall, ' ' open, 'S' start, 'G' goal,
 * 'o' path) → tokens 1..5 (0 = PAD). With `aug`, each training maze becomes a group of its 8
 * dihedral transforms (docs/algorithm.md §5.6); otherwise every maze is a group of one puzzle.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError, check } from '../errors';
import { readCsvRows } from './csv';
import { dihedralSourceIndex, DihedralId, NUM_DIHEDRAL } from './dihedral';
import { PuzzleDatasetMetadata, writeIdentifiers } from './format';
import { ProgressCallback, ProgressReporter } from './progress';
import { RandomState } from './rng';
import { DatasetSplitWriter } from './split-writer';
import { subsampleRows } from './subsample';

/** The maze characters in token order: '#' → 1, ' ' → 2, 'S' → 3, 'G' → 4, 'o' → 5. */
export const MAZE_CHARSET = '# SGo';

/** Vocabulary: PAD 0 plus the five maze characters. */
export const MAZE_VOCAB_SIZE = MAZE_CHARSET.length + 1;

/** A maze as the CSV layout stores it: square grids flattened row-major over "# SGo". */
export interface MazePuzzle {
  /** The maze with 'S' and 'G' and no path. */
  question: string;
  /** The maze with the shortest S→G path drawn in 'o'. */
  answer: string;
  /** Difficulty (for generated mazes, the shortest path length in steps). */
  rating: number;
  /** Where the maze comes from (the `source` column). */
  source?: string;
}

/** A maze as tokens: side × side cells, row-major, tokens 1..5. */
interface MazeTokens {
  side: number;
  question: Uint8Array;
  answer: Uint8Array;
}

const TOKEN_OF = new Uint8Array(128);
for (let i = 0; i < MAZE_CHARSET.length; i++) TOKEN_OF[MAZE_CHARSET.charCodeAt(i)] = i + 1;

/** Converts one maze string to tokens 1..5; returns a reason string on failure. */
function mazeTextToTokens(text: string, what: string, side: number): Uint8Array | string {
  if (text.length !== side * side) return `${what} has ${text.length} characters, expected ${side}×${side} = ${side * side}`;
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const token = code < 128 ? TOKEN_OF[code] : 0;
    if (token === 0)
      return `${what} has ${JSON.stringify(text[i])} at position ${i} (row ${Math.floor(i / side) + 1}, column ${(i % side) + 1}); expected one of "# SGo"`;
    out[i] = token;
  }
  return out;
}

/** Validates a maze (square, same side as `expectedSide` if given, characters "# SGo") and converts it to tokens. */
export function parseMaze(puzzle: MazePuzzle, where: string, expectedSide?: number): MazeTokens {
  const side = Math.round(Math.sqrt(puzzle.question.length));
  if (side === 0 || side * side !== puzzle.question.length) {
    throw new TrmError(
      ErrorCodes.DATA_FORMAT,
      `${where}: a maze must be square, but the question has ${puzzle.question.length} characters, which is not a perfect square`,
    );
  }
  if (expectedSide !== undefined && side !== expectedSide) {
    throw new TrmError(
      ErrorCodes.DATA_FORMAT,
      `${where}: this maze is ${side}×${side} but earlier mazes are ${expectedSide}×${expectedSide}; all mazes of a dataset must have one size`,
    );
  }
  const question = mazeTextToTokens(puzzle.question, 'the question', side);
  if (typeof question === 'string') throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: ${question}`);
  const answer = mazeTextToTokens(puzzle.answer, 'the answer', side);
  if (typeof answer === 'string') throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: ${answer}`);
  return { side, question, answer };
}

/** Options shared by both Maze build entry points. */
export interface MazeBuildCommonOptions {
  /** Dataset directory to write. */
  outputDir: string;
  /** Add the 8 dihedral transforms of each training maze (default false, as the README recipe). */
  aug?: boolean;
  /** Seed of the NumPy-compatible RNG used for subsampling (default 0). */
  seed?: number;
  /** Receives progress reports. */
  onProgress?: ProgressCallback;
}

/** Options of {@link buildMaze}. */
export interface MazeBuildOptions extends MazeBuildCommonOptions {
  /** Directory holding `train.csv` and `test.csv`. */
  inputDir: string;
  /** Keep this many training mazes, drawn without replacement (default: all). */
  subsampleSize?: number;
}

/** What a Maze build wrote. */
export interface MazeBuildResult {
  /** The dataset directory written. */
  outputDir: string;
  /** Metadata of the train split. */
  train: PuzzleDatasetMetadata;
  /** Metadata of the test split. */
  test: PuzzleDatasetMetadata;
  /** Side of the square mazes. */
  side: number;
}

function* readMazeCsv(file: string, side: { value?: number }): Generator<MazeTokens & { bytesRead: number }> {
  let header = true;
  for (const row of readCsvRows(file)) {
    const where = `${file}:${row.line}`;
    if (row.fields.length !== 4)
      throw new TrmError(
        ErrorCodes.DATA_FORMAT,
        `${where}: expected 4 columns (source,question,answer,rating), found ${row.fields.length}`,
      );
    if (header) {
      header = false;
      if (row.fields.map((f) => f.trim().toLowerCase()).join(',') !== 'source,question,answer,rating') {
        throw new TrmError(
          ErrorCodes.DATA_FORMAT,
          `${where}: expected the header row "source,question,answer,rating", found "${row.fields.join(',')}"`,
        );
      }
      continue;
    }
    const [source, question, answer, ratingText] = row.fields;
    const maze = parseMaze({ source, question, answer, rating: Number(ratingText) }, where, side.value);
    side.value = maze.side;
    yield { ...maze, bytesRead: row.bytesRead };
  }
  if (header)
    throw new TrmError(ErrorCodes.DATA_FORMAT, `${file}: the file is empty (expected a header row "source,question,answer,rating")`);
}

async function writeMazeSplit(
  dir: string,
  mazes: Iterable<MazeTokens>,
  aug: boolean,
  reporter: ProgressReporter,
  stage: string,
  total: number,
): Promise<{ meta: PuzzleDatasetMetadata; side: number }> {
  let writer: DatasetSplitWriter | null = null;
  let side = 0;
  try {
    reporter.start(stage, total, 'mazes');
    let n = 0;
    for (const maze of mazes) {
      if (!writer) {
        side = maze.side;
        writer = new DatasetSplitWriter(dir, { seqLen: side * side });
      }
      writer.startGroup();
      for (let tid = 0; tid < (aug ? NUM_DIHEDRAL : 1); tid++) {
        const src = dihedralSourceIndex(tid as DihedralId, side, side);
        writer.startPuzzle(0);
        const rows = writer.nextExample();
        for (let k = 0; k < src.length; k++) {
          rows.input[k] = maze.question[src[k]];
          rows.label[k] = maze.answer[src[k]];
        }
      }
      n += 1;
      if (reporter.tick(n)) await reporter.pause();
    }
    reporter.finish(n);
    if (!writer) throw new TrmError(ErrorCodes.DATA_FORMAT, `${stage}: no mazes to write`);
    // The official builder writes total_puzzles = total_groups and mean_puzzle_examples = 1 (docs/algorithm.md §5.2).
    const meta = writer.finish({
      vocabSize: MAZE_VOCAB_SIZE,
      numPuzzleIdentifiers: 1,
      totalPuzzles: writer.totalGroups,
      meanPuzzleExamples: 1,
    });
    return { meta, side };
  } catch (e) {
    writer?.abort();
    throw e;
  }
}

function checkCommon(options: MazeBuildCommonOptions): number {
  const seed = options.seed ?? 0;
  check(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, `seed must be an integer in [0, 2^32 − 1], got ${seed}`);
  check(typeof options.outputDir === 'string' && options.outputDir.length > 0, 'outputDir must be a non-empty path');
  return seed;
}

/** Builds the Maze dataset from `inputDir/train.csv` and `inputDir/test.csv` (docs/algorithm.md §5.5). */
export async function buildMaze(options: MazeBuildOptions): Promise<MazeBuildResult> {
  const seed = checkCommon(options);
  const size = options.subsampleSize;
  check(size === undefined || (Number.isInteger(size) && size > 0), `subsampleSize must be a positive integer, got ${size}`);
  const trainFile = path.join(options.inputDir, 'train.csv');
  const testFile = path.join(options.inputDir, 'test.csv');
  for (const f of [trainFile, testFile]) {
    if (!fs.existsSync(f))
      throw new TrmError(ErrorCodes.IO, `cannot read ${f}: the file does not exist (--input-dir must hold train.csv and test.csv)`);
  }
  const reporter = new ProgressReporter(options.onProgress);
  const rng = new RandomState(seed);
  const side: { value?: number } = {};
  const train = await subsampleRows(
    () => readMazeCsv(trainFile, side),
    size,
    rng,
    reporter,
    'check train.csv',
    fs.statSync(trainFile).size,
  );
  const trainOut = await writeMazeSplit(
    path.join(options.outputDir, 'train'),
    train.rows,
    options.aug ?? false,
    reporter,
    'write train',
    train.total,
  );
  const testOut = await writeMazeSplit(path.join(options.outputDir, 'test'), readMazeCsv(testFile, side), false, reporter, 'write test', 0);
  writeIdentifiers(options.outputDir, ['<blank>']);
  return { outputDir: options.outputDir, train: trainOut.meta, test: testOut.meta, side: trainOut.side };
}

/** Options of {@link buildMazeFromPuzzles}. */
export interface MazeFromPuzzlesOptions extends MazeBuildCommonOptions {
  /** Training mazes (each a group; 8 puzzles with `aug`). */
  train: readonly MazePuzzle[];
  /** Test mazes (never augmented). */
  test: readonly MazePuzzle[];
}

/** Builds the Maze dataset from mazes in memory, e.g. from {@link generateMaze}. */
export async function buildMazeFromPuzzles(options: MazeFromPuzzlesOptions): Promise<MazeBuildResult> {
  checkCommon(options);
  check(
    options.train.length > 0 && options.test.length > 0,
    `need at least one train and one test maze, got ${options.train.length} and ${options.test.length}`,
  );
  const reporter = new ProgressReporter(options.onProgress);
  let side: number | undefined;
  const parse = (list: readonly MazePuzzle[], name: string): MazeTokens[] =>
    list.map((m, i) => {
      const maze = parseMaze(m, `${name} maze ${i}`, side);
      side = maze.side;
      return maze;
    });
  const trainOut = await writeMazeSplit(
    path.join(options.outputDir, 'train'),
    parse(options.train, 'train'),
    options.aug ?? false,
    reporter,
    'write train',
    options.train.length,
  );
  const testOut = await writeMazeSplit(
    path.join(options.outputDir, 'test'),
    parse(options.test, 'test'),
    false,
    reporter,
    'write test',
    options.test.length,
  );
  writeIdentifiers(options.outputDir, ['<blank>']);
  return { outputDir: options.outputDir, train: trainOut.meta, test: testOut.meta, side: trainOut.side };
}
