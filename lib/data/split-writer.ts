/**
 * Streaming writer of one dataset split (docs/algorithm.md §5.1–5.3): groups → puzzles → examples are
 * appended in order; example rows go straight to disk, the three index arrays stay in memory
 * (4 bytes per puzzle / group), and `finish` writes them plus `dataset.json`.
 */
import * as fs from 'fs';
import { ErrorCodes, TrmError } from '../errors';
import { NpyRowWriter } from './npy-stream';
import { writeNpy } from './npy';
import { datasetArrayPath, PuzzleDatasetMetadata, writeDatasetMetadata } from './format';
import { removeStaleTempFiles } from '../atomic-write';

/** Options of a {@link DatasetSplitWriter}. */
export interface DatasetSplitWriterOptions {
  /** Tokens per example row. */
  seqLen: number;
  /** Set name (the file prefix); every builder uses "all". */
  setName?: string;
  /** Write-buffer size per example array, in bytes (default 4 MiB). */
  bufferBytes?: number;
}

/** The metadata fields a builder supplies; the counts come from what was written. */
export interface SplitMetadataFields {
  /** Number of token ids. */
  vocabSize: number;
  /** Rows of the puzzle-embedding table, blank id 0 included. */
  numPuzzleIdentifiers: number;
  /** Default 0. */
  padId?: number;
  /** Default 0. */
  ignoreLabelId?: number | null;
  /** Default 0. */
  blankIdentifierId?: number;
  /** Overrides the written total_puzzles (the Sudoku and Maze builders write total_groups, docs/algorithm.md §5.2). */
  totalPuzzles?: number;
  /** Overrides the written mean_puzzle_examples (the Sudoku and Maze builders write 1). */
  meanPuzzleExamples?: number;
}

/** A growable int32 list. */
class Int32List {
  private data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * Writes one split directory. Call `startGroup()`, then for each puzzle `startPuzzle(id)` and
 * `addExample(...)` (or `nextExample()`) per example; finally `finish(fields)`. Every group needs
 * at least one puzzle and every puzzle at least one example. On any error call `abort()`.
 */
export class DatasetSplitWriter {
  /** The split directory being written. */
  readonly dir: string;
  /** Tokens per example row. */
  readonly seqLen: number;
  /** Set name of the arrays. */
  readonly setName: string;

  private readonly inputs: NpyRowWriter;
  private readonly labels: NpyRowWriter;
  private readonly puzzleIdentifiers = new Int32List();
  private readonly puzzleIndices = new Int32List();
  private readonly groupIndices = new Int32List();
  private examplesInPuzzle = -1; // -1: no open puzzle
  private puzzlesInGroup = -1; // -1: no open group
  private done = false;

  /** Creates `dir` if needed and opens the example arrays. */
  constructor(dir: string, options: DatasetSplitWriterOptions) {
    if (!Number.isInteger(options.seqLen) || options.seqLen <= 0) {
      throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `DatasetSplitWriter: seqLen must be a positive integer, got ${options.seqLen}`);
    }
    this.dir = dir;
    this.seqLen = options.seqLen;
    this.setName = options.setName ?? 'all';
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new TrmError(ErrorCodes.IO, `cannot create ${dir}: ${(e as Error).message}`);
    }
    // Arrays half-written by a build that was killed (its process is gone) are dropped now.
    removeStaleTempFiles(dir);
    this.inputs = new NpyRowWriter(datasetArrayPath(dir, this.setName, 'inputs'), 'uint8', [this.seqLen], options.bufferBytes);
    try {
      this.labels = new NpyRowWriter(datasetArrayPath(dir, this.setName, 'labels'), 'uint8', [this.seqLen], options.bufferBytes);
    } catch (e) {
      this.inputs.abort();
      throw e;
    }
    this.puzzleIndices.push(0);
    this.groupIndices.push(0);
  }

  /** Examples written so far. */
  get totalExamples(): number {
    return this.inputs.rows;
  }

  /** Puzzles started so far. */
  get totalPuzzles(): number {
    return this.puzzleIdentifiers.length;
  }

  /** Groups started so far. */
  get totalGroups(): number {
    return this.groupIndices.length - 1 + (this.puzzlesInGroup >= 0 ? 1 : 0);
  }

  /** Starts a new group (one original puzzle and its augmentations); closes the previous one. */
  startGroup(): void {
    this.ensureOpen();
    this.closeGroup();
    this.puzzlesInGroup = 0;
  }

  /** Starts a new puzzle in the current group, with embedding id `identifier`. */
  startPuzzle(identifier: number): void {
    this.ensureOpen();
    if (this.puzzlesInGroup < 0) throw new TrmError(ErrorCodes.STATE, `${this.dir}: startPuzzle() before startGroup()`);
    if (!Number.isInteger(identifier) || identifier < 0 || identifier >= 2 ** 31) {
      throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `${this.dir}: a puzzle identifier must be an int32 ≥ 0, got ${identifier}`);
    }
    this.closePuzzle();
    this.puzzleIdentifiers.push(identifier);
    this.puzzlesInGroup += 1;
    this.examplesInPuzzle = 0;
  }

  /**
   * Appends one example to the current puzzle and returns zero-filled `input` and `label` rows
   * of `seqLen` tokens to fill in place (valid until the next call on this writer).
   */
  nextExample(): { input: Uint8Array; label: Uint8Array } {
    this.ensureOpen();
    if (this.examplesInPuzzle < 0) throw new TrmError(ErrorCodes.STATE, `${this.dir}: an example before startPuzzle()`);
    this.examplesInPuzzle += 1;
    return { input: this.inputs.nextRow(), label: this.labels.nextRow() };
  }

  /** Appends one example (two rows of `seqLen` token ids 0..255) to the current puzzle. */
  addExample(input: ArrayLike<number>, label: ArrayLike<number>): void {
    if (input.length !== this.seqLen || label.length !== this.seqLen) {
      throw new TrmError(
        ErrorCodes.SHAPE,
        `${this.dir}: an example needs ${this.seqLen} input and label tokens, got ${input.length} and ${label.length}`,
      );
    }
    const rows = this.nextExample();
    rows.input.set(input);
    rows.label.set(label);
  }

  /**
   * Closes the last group, writes the five arrays and `dataset.json`, and returns the metadata.
   * total_groups, total_puzzles and mean_puzzle_examples come from the counts unless overridden.
   */
  finish(fields: SplitMetadataFields): PuzzleDatasetMetadata {
    this.ensureOpen();
    try {
      this.closeGroup();
      if (this.puzzleIdentifiers.length === 0) throw new TrmError(ErrorCodes.STATE, `${this.dir}: a split needs at least one puzzle`);
      this.inputs.close();
      this.labels.close();
      const file = (name: 'puzzle_identifiers' | 'puzzle_indices' | 'group_indices'): string =>
        datasetArrayPath(this.dir, this.setName, name);
      writeNpy(file('puzzle_identifiers'), {
        dtype: 'int32',
        shape: [this.puzzleIdentifiers.length],
        data: this.puzzleIdentifiers.toArray(),
      });
      writeNpy(file('puzzle_indices'), { dtype: 'int32', shape: [this.puzzleIndices.length], data: this.puzzleIndices.toArray() });
      writeNpy(file('group_indices'), { dtype: 'int32', shape: [this.groupIndices.length], data: this.groupIndices.toArray() });
      const totalPuzzles = this.puzzleIdentifiers.length;
      const metadata: PuzzleDatasetMetadata = {
        padId: fields.padId ?? 0,
        ignoreLabelId: fields.ignoreLabelId === undefined ? 0 : fields.ignoreLabelId,
        blankIdentifierId: fields.blankIdentifierId ?? 0,
        vocabSize: fields.vocabSize,
        seqLen: this.seqLen,
        numPuzzleIdentifiers: fields.numPuzzleIdentifiers,
        totalGroups: this.groupIndices.length - 1,
        meanPuzzleExamples: fields.meanPuzzleExamples ?? this.inputs.rows / totalPuzzles,
        totalPuzzles: fields.totalPuzzles ?? totalPuzzles,
        sets: [this.setName],
      };
      writeDatasetMetadata(this.dir, metadata);
      this.done = true;
      return metadata;
    } catch (e) {
      this.abort();
      throw e;
    }
  }

  /** Discards the example arrays being written. Safe to call more than once. */
  abort(): void {
    this.inputs.abort();
    this.labels.abort();
    this.done = true;
  }

  private closePuzzle(): void {
    if (this.examplesInPuzzle < 0) return;
    if (this.examplesInPuzzle === 0) {
      throw new TrmError(ErrorCodes.STATE, `${this.dir}: puzzle ${this.puzzleIdentifiers.length - 1} has no examples`);
    }
    this.puzzleIndices.push(this.inputs.rows);
    this.examplesInPuzzle = -1;
  }

  private closeGroup(): void {
    this.closePuzzle();
    if (this.puzzlesInGroup < 0) return;
    if (this.puzzlesInGroup === 0)
      throw new TrmError(ErrorCodes.STATE, `${this.dir}: group ${this.groupIndices.length - 1} has no puzzles`);
    this.groupIndices.push(this.puzzleIdentifiers.length);
    this.puzzlesInGroup = -1;
  }

  private ensureOpen(): void {
    if (this.done) throw new TrmError(ErrorCodes.STATE, `${this.dir}: the split writer is already finished or aborted`);
  }
}
