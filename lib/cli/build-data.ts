/**
 * `trm build-data <sudoku|maze|arc> ...`: builds datasets in the official on-disk format
 * (docs/algorithm.md §5) from local files or from the offline generators, with a progress line on stderr.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ErrorCodes, TrmError } from '../errors';
import { buildArc } from '../data/arc';
import { PuzzleDatasetMetadata } from '../data/format';
import { buildMaze, buildMazeFromPuzzles } from '../data/maze';
import { generateMaze } from '../data/maze-generator';
import { BuildProgress, ProgressCallback } from '../data/progress';
import { buildSudoku, buildSudokuFromPuzzles } from '../data/sudoku';
import { generateSudoku } from '../data/sudoku-generator';

/** Commander parser for an integer ≥ `min`. */
function integer(min: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** Commander parser for a finite number. */
function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

const seedOption = (fallback: number): Option =>
  new Option('--seed <S>', 'seed of the NumPy-compatible RNG').argParser(integer(0)).default(fallback);

/**
 * A progress printer for stderr: one line rewritten in place on a terminal, plain lines every
 * few seconds (and at each stage end) otherwise, so logs stay readable.
 */
export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): ProgressCallback & { end(): void } {
  const tty = Boolean(stream.isTTY);
  let lastStage = '';
  let lastPlain = 0;
  let open = false;
  const format = (p: BuildProgress): string => {
    const pct = p.total > 0 ? ` (${((100 * p.done) / p.total).toFixed(1)}%)` : '';
    const total = p.total > 0 ? `/${p.total}` : '';
    return `${p.stage}: ${p.done}${total} ${p.unit}${pct}`;
  };
  const report = (p: BuildProgress): void => {
    const stageEnded = p.total > 0 && p.done >= p.total;
    if (tty) {
      if (p.stage !== lastStage && open) stream.write('\n');
      stream.write(`\r${format(p)}\x1b[K`);
      open = true;
    } else {
      const now = Date.now();
      if (p.stage !== lastStage || stageEnded || now - lastPlain >= 5000) {
        stream.write(`${format(p)}\n`);
        lastPlain = now;
      }
    }
    lastStage = p.stage;
  };
  return Object.assign(report, {
    end(): void {
      if (tty && open) stream.write('\n');
      open = false;
    },
  });
}

function summary(outputDir: string, splits: Array<[string, PuzzleDatasetMetadata | null]>): string {
  const lines = splits
    .filter(([, m]) => m !== null)
    .map(([name, m]) => {
      const meta = m as PuzzleDatasetMetadata;
      return `  ${name}: ${meta.totalGroups} groups, seq_len ${meta.seqLen}, vocab ${meta.vocabSize}, num_puzzle_identifiers ${meta.numPuzzleIdentifiers}`;
    });
  return [`wrote ${outputDir}`, ...lines].join('\n') + '\n';
}

function exactlyOne(a: unknown, b: unknown, names: string): void {
  if ((a === undefined) === (b === undefined)) throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `give exactly one of ${names}`);
}

interface SudokuFlags {
  inputDir?: string;
  generate?: number;
  blanks?: number;
  outputDir: string;
  subsampleSize?: number;
  minDifficulty?: number;
  numAug: number;
  seed: number;
  testSize: number;
}

function sudokuCommand(): Command {
  return new Command('sudoku')
    .description('Sudoku (docs/algorithm.md §5.4) from train.csv/test.csv, or generated puzzles with unique solutions')
    .option('--input-dir <dir>', 'directory with train.csv and test.csv (source,question,answer,rating)')
    .option('--generate <N>', 'generate N training puzzles instead of reading CSV files', integer(1))
    .requiredOption('--output-dir <dir>', 'dataset directory to write')
    .option('--subsample-size <N>', 'keep N training rows drawn without replacement', integer(1))
    .option('--min-difficulty <R>', 'drop rows rated below R (with --generate: generate only puzzles of difficulty ≥ R)', number)
    .option('--num-aug <K>', 'augmented copies per training puzzle', integer(0), 0)
    .option('--test-size <M>', 'with --generate: number of test puzzles', integer(1), 1000)
    .option('--blanks <K>', 'with --generate: blank exactly K cells (unique solution) instead of minimal puzzles', integer(1))
    .addOption(seedOption(0))
    .action(async (flags: SudokuFlags) => {
      exactlyOne(flags.inputDir, flags.generate, '--input-dir and --generate');
      const progress = stderrProgress();
      try {
        let result;
        if (flags.generate !== undefined) {
          const puzzles = await generateSudoku({
            count: flags.generate + flags.testSize,
            seed: flags.seed,
            minDifficulty: flags.minDifficulty,
            blanks: flags.blanks,
            onProgress: progress,
          });
          result = await buildSudokuFromPuzzles({
            outputDir: flags.outputDir,
            train: puzzles.slice(0, flags.generate),
            test: puzzles.slice(flags.generate),
            numAug: flags.numAug,
            seed: flags.seed,
            onProgress: progress,
          });
        } else {
          result = await buildSudoku({
            inputDir: flags.inputDir as string,
            outputDir: flags.outputDir,
            subsampleSize: flags.subsampleSize,
            minDifficulty: flags.minDifficulty,
            numAug: flags.numAug,
            seed: flags.seed,
            onProgress: progress,
          });
        }
        progress.end();
        process.stdout.write(
          summary(result.outputDir, [
            ['train', result.train],
            ['test', result.test],
          ]),
        );
      } finally {
        progress.end();
      }
    });
}

interface MazeFlags {
  inputDir?: string;
  generate?: number;
  outputDir: string;
  aug?: boolean;
  seed: number;
  subsampleSize?: number;
  testSize: number;
  size: number;
  minPathLength: number;
}

function mazeCommand(): Command {
  return new Command('maze')
    .description('Maze (docs/algorithm.md §5.5) from train.csv/test.csv of "# SGo" grids, or generated mazes')
    .option('--input-dir <dir>', 'directory with train.csv and test.csv (source,question,answer,rating)')
    .option('--generate <N>', 'generate N training mazes instead of reading CSV files', integer(1))
    .requiredOption('--output-dir <dir>', 'dataset directory to write')
    .option('--aug', 'add the 8 dihedral transforms of each training maze', false)
    .option('--subsample-size <N>', 'keep N training mazes drawn without replacement', integer(1))
    .option('--test-size <M>', 'with --generate: number of test mazes', integer(1), 1000)
    .option('--size <N>', 'with --generate: side of the square maze', integer(5), 30)
    .option('--min-path-length <L>', 'with --generate: the shortest S→G path must be longer than L steps', integer(0), 110)
    .addOption(seedOption(0))
    .action(async (flags: MazeFlags) => {
      exactlyOne(flags.inputDir, flags.generate, '--input-dir and --generate');
      const progress = stderrProgress();
      try {
        let result;
        if (flags.generate !== undefined) {
          const mazes = await generateMaze({
            count: flags.generate + flags.testSize,
            seed: flags.seed,
            size: flags.size,
            minPathLength: flags.minPathLength,
            onProgress: progress,
          });
          result = await buildMazeFromPuzzles({
            outputDir: flags.outputDir,
            train: mazes.slice(0, flags.generate),
            test: mazes.slice(flags.generate),
            aug: flags.aug,
            seed: flags.seed,
            onProgress: progress,
          });
        } else {
          result = await buildMaze({
            inputDir: flags.inputDir as string,
            outputDir: flags.outputDir,
            aug: flags.aug,
            seed: flags.seed,
            subsampleSize: flags.subsampleSize,
            onProgress: progress,
          });
        }
        progress.end();
        process.stdout.write(
          summary(result.outputDir, [
            ['train', result.train],
            ['test', result.test],
          ]),
        );
      } finally {
        progress.end();
      }
    });
}

interface ArcFlags {
  inputFilePrefix?: string;
  inputDir?: string;
  outputDir: string;
  subsets: string[];
  testSetName: string;
  testSetName2: string;
  numAug: number;
  seed: number;
  puzzleIdentifiersStart: number;
}

function arcCommand(): Command {
  return new Command('arc')
    .description('ARC (docs/algorithm.md §5.7) with colour-permutation × dihedral augmentation, from either input layout')
    .option('--input-file-prefix <prefix>', 'prefix of {prefix}_{subset}_challenges.json / _solutions.json, e.g. kaggle/combined/arc-agi')
    .option('--input-dir <dir>', 'directory with one folder of per-task JSON files per subset')
    .requiredOption('--output-dir <dir>', 'dataset directory to write')
    .requiredOption('--subsets <names...>', 'subsets to read, in order, e.g. training evaluation concept')
    .requiredOption('--test-set-name <name>', 'subset whose test pairs form the test split, e.g. evaluation')
    .option('--test-set-name2 <name>', 'a second test subset', 'your_test_set')
    .option('--num-aug <N>', 'augmented versions per task', integer(0), 1000)
    .addOption(seedOption(42))
    .option('--puzzle-identifiers-start <K>', 'first puzzle identifier (0 is <blank>)', integer(1), 1)
    .action(async (flags: ArcFlags) => {
      exactlyOne(flags.inputFilePrefix, flags.inputDir, '--input-file-prefix and --input-dir');
      const progress = stderrProgress();
      try {
        const result = await buildArc({ ...flags, onProgress: progress });
        progress.end();
        if (result.notFull.length > 0) {
          const shown = result.notFull
            .slice(0, 10)
            .map((t) => `${t.taskId} (${t.versions})`)
            .join(', ');
          process.stderr.write(
            `augmentation not full for ${result.notFull.length} task(s): ${shown}${result.notFull.length > 10 ? ', ...' : ''}\n`,
          );
        }
        process.stdout.write(
          summary(result.outputDir, [
            ['train', result.train],
            ['test', result.test],
          ]),
        );
      } finally {
        progress.end();
      }
    });
}

/** The `build-data` command with its `sudoku`, `maze` and `arc` subcommands (commander 14). */
export function buildDataCommand(): Command {
  return new Command('build-data')
    .description('build a dataset in the official TRM/HRM on-disk format')
    .addCommand(sudokuCommand())
    .addCommand(mazeCommand())
    .addCommand(arcCommand());
}
