/**
 * The official on-disk dataset format (docs/algorithm.md §5.1–5.3): `dataset.json` metadata,
 * `identifiers.json`, `test_puzzles.json` and the five `.npy` arrays of each set, with reading,
 * validation and writing. Files are written byte-identical to the official Python builders.
 * The streaming writer of a whole split is {@link DatasetSplitWriter} in `split-writer.ts`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError } from '../errors';
import { writeFileAtomic } from '../atomic-write';
import { readRegularFile } from '../regular-file';
import { NpyArray, NpyDtype, readNpy, readNpyHeader } from './npy';
import { parseJsonObjectInOrder, parseJsonText } from './json-order';
import { PyFloat, PyJsonValue, toPythonJson } from './python-json';

/** `dataset.json` of one split (`PuzzleDatasetMetadata`, docs/algorithm.md §5.2), with camelCase fields. */
export interface PuzzleDatasetMetadata {
  /** Input token used to pad partial eval batches (`pad_id`). */
  padId: number;
  /** Label value mapped to −100 at load time, or null for none (`ignore_label_id`). */
  ignoreLabelId: number | null;
  /** Puzzle id used for padded rows (`blank_identifier_id`). */
  blankIdentifierId: number;
  /** Number of token ids (`vocab_size`). */
  vocabSize: number;
  /** Tokens per example (`seq_len`). */
  seqLen: number;
  /** Rows of the puzzle-embedding table, blank id 0 included (`num_puzzle_identifiers`). */
  numPuzzleIdentifiers: number;
  /** Number of groups in this split (`total_groups`). */
  totalGroups: number;
  /** Mean examples per puzzle (`mean_puzzle_examples`). */
  meanPuzzleExamples: number;
  /** Number of puzzles (`total_puzzles`); defaulted to the rows of puzzle_identifiers when absent (HRM datasets). */
  totalPuzzles: number;
  /** Set names; each has five arrays `<set>__*.npy` (`sets`). */
  sets: string[];
}

/** The camelCase field → official snake_case key map, in the official key order. */
export const METADATA_KEYS = {
  padId: 'pad_id',
  ignoreLabelId: 'ignore_label_id',
  blankIdentifierId: 'blank_identifier_id',
  vocabSize: 'vocab_size',
  seqLen: 'seq_len',
  numPuzzleIdentifiers: 'num_puzzle_identifiers',
  totalGroups: 'total_groups',
  meanPuzzleExamples: 'mean_puzzle_examples',
  totalPuzzles: 'total_puzzles',
  sets: 'sets',
} as const satisfies Record<keyof PuzzleDatasetMetadata, string>;

/** The five arrays of one set, in the order the official builders save them. */
export const DATASET_ARRAY_NAMES = ['inputs', 'labels', 'puzzle_identifiers', 'puzzle_indices', 'group_indices'] as const;

/** One of the five array names of a set. */
export type DatasetArrayName = (typeof DATASET_ARRAY_NAMES)[number];

/** Path of array `name` of set `setName` inside a split directory: `<split>/<set>__<name>.npy`. */
export function datasetArrayPath(splitDir: string, setName: string, name: DatasetArrayName): string {
  return path.join(splitDir, `${setName}__${name}.npy`);
}

function formatError(where: string, message: string): TrmError {
  return new TrmError(ErrorCodes.DATA_FORMAT, `${where}: ${message}`);
}

function readText(file: string): string {
  return readRegularFile(file, 'utf8');
}

/**
 * Validates a parsed `dataset.json` object. `total_puzzles` may be missing (HRM); then
 * `defaultTotalPuzzles` supplies it (docs/algorithm.md §5.2 suggests the rows of puzzle_identifiers).
 */
export function parseDatasetMetadata(raw: unknown, where: string, defaultTotalPuzzles?: () => number): PuzzleDatasetMetadata {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw formatError(where, 'expected a JSON object');
  const obj = raw as Record<string, unknown>;
  const int = (key: string, min: number): number => {
    const v = obj[key];
    if (v === undefined)
      throw formatError(where, `missing key "${key}" (the keys of PuzzleDatasetMetadata are ${Object.values(METADATA_KEYS).join(', ')})`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw formatError(where, `"${key}" must be an integer ≥ ${min}, found ${JSON.stringify(v)}`);
    return v;
  };
  const ignore = obj.ignore_label_id;
  if (ignore === undefined) throw formatError(where, 'missing key "ignore_label_id" (use null for none)');
  if (ignore !== null && (typeof ignore !== 'number' || !Number.isInteger(ignore))) {
    throw formatError(where, `"ignore_label_id" must be an integer or null, found ${JSON.stringify(ignore)}`);
  }
  const mean = obj.mean_puzzle_examples;
  if (typeof mean !== 'number' || !Number.isFinite(mean) || mean < 0) {
    throw formatError(where, `"mean_puzzle_examples" must be a non-negative number, found ${JSON.stringify(mean)}`);
  }
  const sets = obj.sets;
  if (!Array.isArray(sets) || sets.length === 0 || sets.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw formatError(where, `"sets" must be a non-empty list of set names, found ${JSON.stringify(sets)}`);
  }
  let totalPuzzles: number;
  if (obj.total_puzzles === undefined && defaultTotalPuzzles) totalPuzzles = defaultTotalPuzzles();
  else totalPuzzles = int('total_puzzles', 0);
  return {
    padId: int('pad_id', 0),
    ignoreLabelId: ignore as number | null,
    blankIdentifierId: int('blank_identifier_id', 0),
    vocabSize: int('vocab_size', 1),
    seqLen: int('seq_len', 1),
    numPuzzleIdentifiers: int('num_puzzle_identifiers', 1),
    totalGroups: int('total_groups', 0),
    meanPuzzleExamples: mean,
    totalPuzzles,
    sets: sets as string[],
  };
}

/**
 * Reads `<splitDir>/dataset.json`. When `total_puzzles` is missing (datasets built by HRM), it
 * is set to the number of puzzles in the split's puzzle_identifiers arrays (read from their headers).
 */
export function readDatasetMetadata(splitDir: string): PuzzleDatasetMetadata {
  const file = path.join(splitDir, 'dataset.json');
  const raw = parseJsonText(readText(file), file);
  return parseDatasetMetadata(raw, file, () => {
    const sets = (raw as { sets: string[] }).sets;
    return sets.reduce((sum, set) => sum + (readNpyHeader(datasetArrayPath(splitDir, set, 'puzzle_identifiers')).shape[0] ?? 0), 0);
  });
}

/** `dataset.json` text exactly as the official builders write it (`json.dump(metadata.model_dump(), f)`). */
export function encodeDatasetMetadata(meta: PuzzleDatasetMetadata): string {
  const obj = new Map<string, PyJsonValue>();
  for (const [field, key] of Object.entries(METADATA_KEYS) as Array<[keyof PuzzleDatasetMetadata, string]>) {
    const value = meta[field];
    obj.set(key, field === 'meanPuzzleExamples' ? new PyFloat(value as number) : (value as PyJsonValue));
  }
  return toPythonJson(obj);
}

/** Writes `<splitDir>/dataset.json` atomically. */
export function writeDatasetMetadata(splitDir: string, meta: PuzzleDatasetMetadata): void {
  writeFileAtomic(path.join(splitDir, 'dataset.json'), encodeDatasetMetadata(meta));
}

/** Reads `identifiers.json`: the puzzle name of each identifier id (entry 0 is "<blank>"). */
export function readIdentifiers(datasetDir: string): string[] {
  const file = path.join(datasetDir, 'identifiers.json');
  const raw = parseJsonText(readText(file), file);
  if (!Array.isArray(raw) || raw.some((s) => typeof s !== 'string')) throw formatError(file, 'expected a JSON list of strings');
  return raw as string[];
}

/** Writes `identifiers.json` atomically, laid out as `json.dump(list, f)`. */
export function writeIdentifiers(datasetDir: string, names: readonly string[]): void {
  writeFileAtomic(path.join(datasetDir, 'identifiers.json'), toPythonJson(names));
}

/** One input/output pair of an ARC task: grids as lists of rows of colours 0..9. */
export interface ArcExampleJson {
  /** The input grid. */
  input: number[][];
  /** The output grid ([[0]] when the real one is unknown). */
  output: number[][];
}

/** An ARC task as stored in `test_puzzles.json`: its demonstration ("train") and test pairs. */
export interface ArcTaskJson {
  /** Demonstration pairs. */
  train: ArcExampleJson[];
  /** Test pairs. */
  test: ArcExampleJson[];
  /** Whether test_puzzles.json lists this task's "train" before its "test" (the task's own key order); default false. */
  trainFirst?: boolean;
}

function parseGridJson(raw: unknown, where: string): number[][] {
  if (
    !Array.isArray(raw) ||
    raw.some((row) => !Array.isArray(row) || row.some((v: unknown) => typeof v !== 'number' || !Number.isInteger(v)))
  ) {
    throw formatError(where, 'expected a grid: a list of rows of integers');
  }
  return raw as number[][];
}

function parseExamplesJson(raw: unknown, where: string): ArcExampleJson[] {
  if (!Array.isArray(raw)) throw formatError(where, 'expected a list of {"input", "output"} pairs');
  return raw.map((ex: unknown, i) => {
    const e = (ex ?? {}) as Record<string, unknown>;
    return { input: parseGridJson(e.input, `${where}[${i}].input`), output: parseGridJson(e.output, `${where}[${i}].output`) };
  });
}

/** Reads `test_puzzles.json` (task id → task, in file order), as the ARC evaluator needs it (docs/algorithm.md §6.2). */
export function readTestPuzzles(datasetDir: string): Map<string, ArcTaskJson> {
  const file = path.join(datasetDir, 'test_puzzles.json');
  const out = new Map<string, ArcTaskJson>();
  for (const [id, task] of parseJsonObjectInOrder(readText(file), file)) {
    const t = (task ?? {}) as Record<string, unknown>;
    const keys = Object.keys(t);
    out.set(id, {
      train: parseExamplesJson(t.train, `${file}: task ${id}.train`),
      test: parseExamplesJson(t.test, `${file}: task ${id}.test`),
      trainFirst: keys.indexOf('train') < keys.indexOf('test'),
    });
  }
  return out;
}

/**
 * `test_puzzles.json` text as the official ARC builder writes it: each task in its own key order
 * ("test" first as in the ARC-AGI-1 combined files, "train" first where `trainFirst`).
 */
export function encodeTestPuzzles(puzzles: ReadonlyMap<string, ArcTaskJson>): string {
  const obj = new Map<string, PyJsonValue>();
  const pairs = (list: readonly ArcExampleJson[]): PyJsonValue =>
    list.map(
      (e) =>
        new Map<string, PyJsonValue>([
          ['input', e.input],
          ['output', e.output],
        ]),
    );
  for (const [id, task] of puzzles) {
    const entries: [string, PyJsonValue][] = [
      ['test', pairs(task.test)],
      ['train', pairs(task.train)],
    ];
    obj.set(id, new Map<string, PyJsonValue>(task.trainFirst ? entries.reverse() : entries));
  }
  return toPythonJson(obj);
}

/** Writes `test_puzzles.json` atomically. */
export function writeTestPuzzles(datasetDir: string, puzzles: ReadonlyMap<string, ArcTaskJson>): void {
  writeFileAtomic(path.join(datasetDir, 'test_puzzles.json'), encodeTestPuzzles(puzzles));
}

/** The five arrays of one set, validated. */
export interface DatasetSetArrays {
  /** [E, seq_len] token ids of the example inputs (any integer dtype; uint8 as written). */
  inputs: NpyArray;
  /** [E, seq_len] token ids of the targets, same shape as inputs. */
  labels: NpyArray;
  /** [P] embedding id of each puzzle. */
  puzzleIdentifiers: Int32Array;
  /** [P + 1] CSR offsets of each puzzle's examples. */
  puzzleIndices: Int32Array;
  /** [G + 1] CSR offsets of each group's puzzles. */
  groupIndices: Int32Array;
}

/** A split read by {@link readDataset}: metadata plus the arrays of every set. */
export interface DatasetSplit {
  /** The split directory that was read. */
  dir: string;
  /** Its dataset.json. */
  metadata: PuzzleDatasetMetadata;
  /** Arrays by set name, for every name in `metadata.sets`. */
  sets: Record<string, DatasetSetArrays>;
}

const INTEGER_DTYPES: ReadonlySet<NpyDtype> = new Set<NpyDtype>([
  'uint8',
  'int8',
  'uint16',
  'int16',
  'uint32',
  'int32',
  'int64',
  'uint64',
  'bool',
]);

function toInt32(arr: NpyArray, file: string): Int32Array {
  if (!INTEGER_DTYPES.has(arr.dtype)) throw formatError(file, `expected an integer array, found dtype ${arr.dtype}`);
  if (arr.shape.length !== 1) throw formatError(file, `expected a 1-D array, found shape [${arr.shape}]`);
  if (arr.data instanceof Int32Array) return arr.data;
  const out = new Int32Array(arr.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(arr.data[i]);
    if (v < -(2 ** 31) || v >= 2 ** 31) throw formatError(file, `value ${v} at index ${i} does not fit in int32`);
    out[i] = v;
  }
  return out;
}

function checkOffsets(offsets: Int32Array, end: number, file: string, endName: string): void {
  if (offsets.length === 0 || offsets[0] !== 0)
    throw formatError(file, `CSR offsets must start with 0, found ${offsets.length === 0 ? 'an empty array' : offsets[0]}`);
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i] < offsets[i - 1])
      throw formatError(file, `CSR offsets must be non-decreasing, but entry ${i} (${offsets[i]}) < entry ${i - 1} (${offsets[i - 1]})`);
  }
  const last = offsets[offsets.length - 1];
  if (last !== end) throw formatError(file, `CSR offsets must end at ${endName} = ${end}, found ${last}`);
}

function checkTokens(arr: NpyArray, vocabSize: number, file: string): void {
  const data = arr.data;
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (v < 0 || v >= vocabSize) {
      const row = Math.floor(i / (arr.shape[1] || 1));
      throw new TrmError(ErrorCodes.TOKEN_RANGE, `${file}: token ${v} in row ${row} is outside [0, vocab_size=${vocabSize})`);
    }
  }
}

function readSetArrays(splitDir: string, setName: string, meta: PuzzleDatasetMetadata): DatasetSetArrays {
  const file = (name: DatasetArrayName): string => datasetArrayPath(splitDir, setName, name);
  const inputs = readNpy(file('inputs'));
  const labels = readNpy(file('labels'));
  for (const [arr, name] of [
    [inputs, 'inputs'],
    [labels, 'labels'],
  ] as const) {
    if (!INTEGER_DTYPES.has(arr.dtype)) throw formatError(file(name), `expected an integer array, found dtype ${arr.dtype}`);
    if (arr.shape.length !== 2 || arr.shape[1] !== meta.seqLen) {
      throw formatError(file(name), `expected shape [examples, seq_len=${meta.seqLen}], found [${arr.shape}]`);
    }
  }
  if (labels.shape[0] !== inputs.shape[0]) {
    throw formatError(file('labels'), `has ${labels.shape[0]} rows but ${file('inputs')} has ${inputs.shape[0]}`);
  }
  const puzzleIdentifiers = toInt32(readNpy(file('puzzle_identifiers')), file('puzzle_identifiers'));
  const puzzleIndices = toInt32(readNpy(file('puzzle_indices')), file('puzzle_indices'));
  const groupIndices = toInt32(readNpy(file('group_indices')), file('group_indices'));
  if (puzzleIndices.length !== puzzleIdentifiers.length + 1) {
    throw formatError(
      file('puzzle_indices'),
      `expected ${puzzleIdentifiers.length + 1} entries (puzzles + 1, from ${file('puzzle_identifiers')}), found ${puzzleIndices.length}`,
    );
  }
  checkOffsets(puzzleIndices, inputs.shape[0], file('puzzle_indices'), 'the number of examples');
  checkOffsets(groupIndices, puzzleIdentifiers.length, file('group_indices'), 'the number of puzzles');
  for (let i = 0; i < puzzleIdentifiers.length; i++) {
    const id = puzzleIdentifiers[i];
    if (id < 0 || id >= meta.numPuzzleIdentifiers) {
      throw new TrmError(
        ErrorCodes.TOKEN_RANGE,
        `${file('puzzle_identifiers')}: puzzle ${i} has id ${id}, outside [0, num_puzzle_identifiers=${meta.numPuzzleIdentifiers})`,
      );
    }
  }
  checkTokens(inputs, meta.vocabSize, file('inputs'));
  checkTokens(labels, meta.vocabSize, file('labels'));
  return { inputs, labels, puzzleIdentifiers, puzzleIndices, groupIndices };
}

/**
 * Reads and validates one split (`<datasetDir>/<split>`): metadata and, for every set, the five
 * arrays (shapes agree, CSR offsets start at 0, never decrease and end at the row counts, ids and
 * tokens are in range). Loads everything into memory; the native loader memory-maps instead.
 */
export function readDataset(datasetDir: string, split: string): DatasetSplit {
  const dir = path.join(datasetDir, split);
  if (!fs.existsSync(dir)) throw new TrmError(ErrorCodes.IO, `no split "${split}" in ${datasetDir} (expected the directory ${dir})`);
  const metadata = readDatasetMetadata(dir);
  const sets: Record<string, DatasetSetArrays> = {};
  for (const setName of metadata.sets) sets[setName] = readSetArrays(dir, setName, metadata);
  // total_groups must be the arrays' group count (every official builder writes it so); total_puzzles
  // is not checked: the Sudoku and Maze builders write the group count there.
  const groups = Object.values(sets).reduce((n, s) => n + s.groupIndices.length - 1, 0);
  if (metadata.totalGroups !== groups) {
    throw formatError(
      path.join(dir, 'dataset.json'),
      `"total_groups" is ${metadata.totalGroups} but the group_indices of its sets hold ${groups} groups`,
    );
  }
  return { dir, metadata, sets };
}
