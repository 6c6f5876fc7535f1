/**
 * Reading ARC tasks from either input layout (docs/algorithm.md §5.7):
 *  - combined files: `{prefix}_{subset}_challenges.json` (task id → {"train": pairs, "test":
 *    inputs}) plus, if present, `{prefix}_{subset}_solutions.json` (task id → test outputs);
 *  - a directory per subset: `{inputDir}/{subset}/{task id}.json` with {"train", "test"} pairs.
 * Tasks keep file order in the combined layout and file-name order in the directory layout (the
 * order of the official combined files), so both layouts of the same tasks read identically. In the
 * combined layout each task also keeps its key order ("train" or "test" first); the directory
 * layout has no official counterpart and reads as test-first, the order of the ARC-AGI-1 combined files.
 * A test pair without an output gets the dummy output [[0]], as the official builder does.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError } from '../errors';
import { ArcPair } from './arc-grid';
import { Grid } from './grid';
import { parseJsonObjectInOrder, parseJsonText } from './json-order';
import { readRegularFile } from '../regular-file';

/** An ARC task: its demonstration ("train") pairs and its test pairs. */
export interface ArcTask {
  /** Task id (the file name or the key in the challenges file). */
  id: string;
  /** Demonstration pairs. */
  train: ArcPair[];
  /** Test pairs (output [[0]] when unknown). */
  test: ArcPair[];
  /**
   * Whether the task's JSON lists "train" before "test" (ConceptARC, ARC-AGI-2) rather than after
   * (the ARC-AGI-1 combined files): the official builder keeps that order in a training task's
   * examples and in test_puzzles.json. Tasks of the directory layout count as test-first.
   */
  trainFirst: boolean;
}

/** Where ARC tasks are read from: the combined-file prefix or the directory of subset folders. */
export type ArcSource = { inputFilePrefix: string } | { inputDir: string };

const MAX_SIDE = 30;

function formatError(where: string, message: string): TrmError {
  return new TrmError(ErrorCodes.DATA_FORMAT, `${where}: ${message}`);
}

/** Validates an ARC grid (1..30 × 1..30, rectangular, integers 0..9) and converts it. */
export function arcGridFromJson(raw: unknown, where: string): Grid {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((row) => Array.isArray(row))) {
    throw formatError(where, 'expected a grid: a non-empty list of rows, each a list of colours 0-9');
  }
  const rows = raw.length;
  const cols = (raw[0] as unknown[]).length;
  if (rows > MAX_SIDE || cols > MAX_SIDE || cols === 0) throw formatError(where, `grid is ${rows}×${cols}; ARC grids are 1..30 × 1..30`);
  const data = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = raw[r] as unknown[];
    if (row.length !== cols) throw formatError(where, `row ${r} has ${row.length} cells but row 0 has ${cols}; a grid must be rectangular`);
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 9) {
        throw formatError(where, `cell (${r}, ${c}) is ${JSON.stringify(v)}; colours are integers 0-9`);
      }
      data[r * cols + c] = v;
    }
  }
  return { rows, cols, data };
}

const DUMMY_OUTPUT: Grid = { rows: 1, cols: 1, data: new Uint8Array(1) };

function pairsFromJson(raw: unknown, where: string, outputs: 'required' | 'optional'): ArcPair[] {
  if (!Array.isArray(raw)) throw formatError(where, 'expected a list of {"input": grid, "output": grid} pairs');
  return raw.map((ex: unknown, i) => {
    if (ex === null || typeof ex !== 'object') throw formatError(`${where}[${i}]`, 'expected an object with "input" and "output"');
    const e = ex as Record<string, unknown>;
    const input = arcGridFromJson(e.input, `${where}[${i}].input`);
    if (e.output === undefined && outputs === 'optional') return { input, output: DUMMY_OUTPUT };
    return { input, output: arcGridFromJson(e.output, `${where}[${i}].output`) };
  });
}

function taskFromJson(id: string, raw: unknown, where: string, keepKeyOrder: boolean): ArcTask {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw formatError(where, 'expected a task object {"train": [...], "test": [...]}');
  const t = raw as Record<string, unknown>;
  const keys = Object.keys(t); // "train" and "test" are not integer-like, so JSON.parse kept their order
  const trainFirst = keepKeyOrder && keys.indexOf('train') < keys.indexOf('test');
  return {
    id,
    train: pairsFromJson(t.train, `${where} train`, 'required'),
    test: pairsFromJson(t.test, `${where} test`, 'optional'),
    trainFirst,
  };
}

function readText(file: string): string {
  return readRegularFile(file, 'utf8');
}

/** Reads one subset from the combined layout, filling test outputs from the solutions file if it exists. */
function loadCombinedSubset(prefix: string, subset: string): ArcTask[] {
  const challenges = `${prefix}_${subset}_challenges.json`;
  if (!fs.existsSync(challenges)) {
    throw new TrmError(
      ErrorCodes.IO,
      `cannot read ${challenges}: the file does not exist (--input-file-prefix ${prefix} with subset "${subset}")`,
    );
  }
  const tasks = parseJsonObjectInOrder(readText(challenges), challenges).map(([id, raw]) =>
    taskFromJson(id, raw, `${challenges}: task ${id}`, true),
  );
  const solutionsFile = `${prefix}_${subset}_solutions.json`;
  if (!fs.existsSync(solutionsFile)) return tasks;
  const solutions = parseJsonText(readText(solutionsFile), solutionsFile) as Record<string, unknown>;
  if (solutions === null || typeof solutions !== 'object' || Array.isArray(solutions))
    throw formatError(solutionsFile, 'expected an object mapping task ids to lists of output grids');
  for (const task of tasks) {
    const outputs = solutions[task.id];
    if (!Array.isArray(outputs)) throw formatError(solutionsFile, `no list of test outputs for task ${task.id}`);
    if (outputs.length !== task.test.length) {
      throw formatError(
        solutionsFile,
        `task ${task.id} has ${outputs.length} test outputs but ${challenges} lists ${task.test.length} test inputs`,
      );
    }
    outputs.forEach((grid: unknown, i) => {
      task.test[i].output = arcGridFromJson(grid, `${solutionsFile}: task ${task.id} output ${i}`);
    });
  }
  return tasks;
}

/** Reads one subset from the directory layout: every `*.json` file of `{inputDir}/{subset}`, by file name. */
function loadDirectorySubset(inputDir: string, subset: string): ArcTask[] {
  const dir = path.join(inputDir, subset);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (e) {
    throw new TrmError(ErrorCodes.IO, `cannot list ${dir}: ${(e as Error).message} (--input-dir must hold one folder per subset)`);
  }
  if (names.length === 0) throw new TrmError(ErrorCodes.IO, `${dir} holds no task files (*.json)`);
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return names.map((name) => {
    const file = path.join(dir, name);
    return taskFromJson(name.slice(0, -'.json'.length), parseJsonText(readText(file), file), file, false);
  });
}

/** Reads the tasks of one subset from `source`, in the builder's order. */
export function loadArcSubset(source: ArcSource, subset: string): ArcTask[] {
  return 'inputFilePrefix' in source ? loadCombinedSubset(source.inputFilePrefix, subset) : loadDirectorySubset(source.inputDir, subset);
}
