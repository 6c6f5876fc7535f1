/**
 * The ARC dataset builder (docs/algorithm.md §5.7, `dataset/build_arc_dataset.py`).
 *
 * 1. Seed the NumPy-compatible RNG; for each subset in order, read its tasks, shuffle them, and
 *    send each task's test pairs to split "test" if the subset is a test set, else to "train"
 *    (demonstration pairs always go to "train"; a task's pairs that share a split form one puzzle,
 *    in the key order of the task's JSON: test pairs first in the ARC-AGI-1 combined files, train
 *    pairs first in ConceptARC's and ARC-AGI-2's).
 * 2. Plan each task's augmented versions with hash dedup (arc-augment.ts).
 * 3. Number the puzzle names (train split first, then test) from `puzzleIdentifiersStart`.
 * 4. Stream both splits to disk, regenerating each version's grids on the fly, with a random
 *    translation of all but one example per puzzle in train; then identifiers.json and
 *    test_puzzles.json.
 * Memory holds the raw tasks, 10 bytes per version and the index arrays, never the examples.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError, check } from '../errors';
import { ArcPair, ARC_MAX_GRID_SIZE, ARC_SEQ_LEN, ARC_VOCAB_SIZE, encodeArcGridInto } from './arc-grid';
import { ArcSource, ArcTask, loadArcSubset } from './arc-input';
import { ArcVersionPlan, ARC_VERSION_CODE_BYTES, arcVersionAugmentation, planArcVersions } from './arc-augment';
import { arcPuzzleName } from './arc-names';
import { DihedralId, dihedralSwapsAxes } from './dihedral';
import { ArcTaskJson, PuzzleDatasetMetadata, writeTestPuzzles } from './format';
import { gridToRows } from './grid';
import { ProgressCallback, ProgressReporter } from './progress';
import { RandomState } from './rng';
import { DatasetSplitWriter } from './split-writer';
import { AtomicTextWriter } from './text-writer';
import { pythonStringLiteral } from './python-json';

/** Options of {@link buildArc}; give exactly one of `inputFilePrefix` and `inputDir`. */
export interface ArcBuildOptions {
  /** Prefix of the combined files, e.g. `kaggle/combined/arc-agi` for `arc-agi_training_challenges.json`. */
  inputFilePrefix?: string;
  /** Directory with one folder of per-task JSON files per subset, e.g. `data/arc-agi-1` for `training/*.json`. */
  inputDir?: string;
  /** Dataset directory to write. */
  outputDir: string;
  /** Subsets to read, in order (e.g. ["training", "evaluation", "concept"]). */
  subsets: readonly string[];
  /** The subset whose test pairs form the test split (e.g. "evaluation"). */
  testSetName: string;
  /** A second test subset (default "your_test_set", which matches nothing unless such a subset is given). */
  testSetName2?: string;
  /** RNG seed (default 42, as the official builder). */
  seed?: number;
  /** Augmented versions wanted per task (default 1000). */
  numAug?: number;
  /** First puzzle identifier (default 1; 0 is `<blank>`); raise it to stack several datasets. */
  puzzleIdentifiersStart?: number;
  /** Receives progress reports. */
  onProgress?: ProgressCallback;
}

/** What an ARC build wrote. */
export interface ArcBuildResult {
  /** The dataset directory written. */
  outputDir: string;
  /** Metadata of the train split. */
  train: PuzzleDatasetMetadata;
  /** Null when no subset is a test set (then no test split is written, as the official builder). */
  test: PuzzleDatasetMetadata | null;
  /** Rows of the puzzle-embedding table, `<blank>` included. */
  numPuzzleIdentifiers: number;
  /** Tasks read, over all subsets. */
  tasks: number;
  /** Tasks with fewer than 1 + numAug distinct versions (the official "augmentation not full" notice). */
  notFull: Array<{ taskId: string; versions: number }>;
}

/** A task with its destinations and planned versions. */
interface PlannedTask {
  id: string;
  trainPairs: ArcPair[];
  /** Pairs of the test split, or null when the task's test pairs train. */
  testPairs: ArcPair[] | null;
  plan: ArcVersionPlan;
}

interface ResolvedOptions {
  source: ArcSource;
  outputDir: string;
  subsets: readonly string[];
  testSets: ReadonlySet<string>;
  seed: number;
  numAug: number;
  idStart: number;
}

function resolveOptions(o: ArcBuildOptions): ResolvedOptions {
  const given = [o.inputFilePrefix, o.inputDir].filter((x) => x !== undefined);
  check(
    given.length === 1,
    'give exactly one of inputFilePrefix (combined challenges/solutions files) and inputDir (one folder of task files per subset)',
  );
  check(
    Array.isArray(o.subsets) && o.subsets.length > 0 && o.subsets.every((s) => typeof s === 'string' && s.length > 0),
    'subsets must be a non-empty list of subset names',
  );
  check(typeof o.testSetName === 'string' && o.testSetName.length > 0, 'testSetName must be a subset name, e.g. "evaluation"');
  check(typeof o.outputDir === 'string' && o.outputDir.length > 0, 'outputDir must be a non-empty path');
  const seed = o.seed ?? 42;
  const numAug = o.numAug ?? 1000;
  const idStart = o.puzzleIdentifiersStart ?? 1;
  check(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, `seed must be an integer in [0, 2^32 − 1], got ${seed}`);
  check(Number.isInteger(numAug) && numAug >= 0, `numAug must be an integer ≥ 0, got ${numAug}`);
  check(Number.isInteger(idStart) && idStart >= 1, `puzzleIdentifiersStart must be an integer ≥ 1 (0 is <blank>), got ${idStart}`);
  const source: ArcSource = o.inputFilePrefix !== undefined ? { inputFilePrefix: o.inputFilePrefix } : { inputDir: o.inputDir as string };
  return {
    source,
    outputDir: o.outputDir,
    subsets: o.subsets,
    testSets: new Set([o.testSetName, o.testSetName2 ?? 'your_test_set']),
    seed,
    numAug,
    idStart,
  };
}

function taskJson(task: ArcTask): ArcTaskJson {
  const pairs = (list: ArcPair[]): ArcTaskJson['train'] => list.map((p) => ({ input: gridToRows(p.input), output: gridToRows(p.output) }));
  return { train: pairs(task.train), test: pairs(task.test), trainFirst: task.trainFirst };
}

/** Steps 1–2: read, shuffle, route and plan every task, in the official RNG order. */
async function planTasks(
  opts: ResolvedOptions,
  rng: RandomState,
  reporter: ProgressReporter,
): Promise<{ planned: PlannedTask[]; testPuzzles: Map<string, ArcTaskJson> }> {
  const subsets = opts.subsets.map((name) => ({ name, tasks: loadArcSubset(opts.source, name) }));
  const total = subsets.reduce((n, s) => n + s.tasks.length, 0);
  reporter.start('augment', total, 'tasks');
  const planned: PlannedTask[] = [];
  const testPuzzles = new Map<string, ArcTaskJson>();
  for (const subset of subsets) {
    rng.shuffle(subset.tasks);
    const toTest = opts.testSets.has(subset.name);
    for (const task of subset.tasks) {
      const where = `task ${task.id} of subset "${subset.name}"`;
      if (task.train.length === 0) throw new TrmError(ErrorCodes.DATA_FORMAT, `${where} has no demonstration ("train") pairs`);
      if (toTest && task.test.length === 0) throw new TrmError(ErrorCodes.DATA_FORMAT, `${where} is in a test set but has no test pairs`);
      if (toTest) testPuzzles.set(task.id, taskJson(task));
      const all = task.trainFirst ? [...task.train, ...task.test] : [...task.test, ...task.train];
      const trainPairs = toTest ? task.train : all;
      const plan = planArcVersions(all, opts.numAug, rng);
      planned.push({ id: task.id, trainPairs, testPairs: toTest ? task.test : null, plan });
      if (reporter.tick(planned.length)) await reporter.pause();
    }
  }
  reporter.finish(planned.length);
  return { planned, testPuzzles };
}

/** A number that identifies version `v` of a plan within its task (−1 for the original). */
function versionKey(plan: ArcVersionPlan, v: number): number {
  if (v === 0) return -1;
  const at = v * ARC_VERSION_CODE_BYTES;
  let key = plan.codes[at];
  for (let k = 1; k < ARC_VERSION_CODE_BYTES; k++) key = key * 10 + plan.codes[at + k];
  return key;
}

/**
 * Step 3: puzzle identifiers. Names are numbered in order of first appearance (train split first;
 * every name appears there). Names repeat only when a task id occurs in several subsets, so each
 * task stores its versions' ids in a typed array and only repeated task ids need a lookup table.
 * `owner` lists, per id, the (task, version) that named it, so identifiers.json can be streamed.
 */
class IdentifierTable {
  /** ids[t][v]: identifier of version v of planned task t. */
  readonly ids: Int32Array[] = [];
  private readonly ownerTask: number[] = [];
  private readonly ownerVersion: number[] = [];

  constructor(
    readonly planned: readonly PlannedTask[],
    readonly start: number,
  ) {
    const firstSeen = new Map<string, number>();
    const repeated = new Map<string, Map<number, number>>();
    let next = start;
    planned.forEach((task, t) => {
      const ids = new Int32Array(task.plan.count);
      const first = firstSeen.get(task.id);
      if (first === undefined) {
        firstSeen.set(task.id, t);
        for (let v = 0; v < ids.length; v++) {
          ids[v] = next++;
          this.ownerTask.push(t);
          this.ownerVersion.push(v);
        }
      } else {
        let known = repeated.get(task.id);
        if (!known) {
          known = new Map();
          for (let v = 0; v < this.ids[first].length; v++) known.set(versionKey(planned[first].plan, v), this.ids[first][v]);
          repeated.set(task.id, known);
        }
        for (let v = 0; v < ids.length; v++) {
          const key = versionKey(task.plan, v);
          let id = known.get(key);
          if (id === undefined) {
            id = next++;
            known.set(key, id);
            this.ownerTask.push(t);
            this.ownerVersion.push(v);
          }
          ids[v] = id;
        }
      }
      this.ids.push(ids);
    });
  }

  /** Rows of the embedding table: the blank ids plus every name. */
  get count(): number {
    return this.start + this.ownerTask.length;
  }

  /** Writes identifiers.json (`<blank>` for ids below the start), as `json.dump(list, f)` would. */
  write(outputDir: string): void {
    const out = new AtomicTextWriter(path.join(outputDir, 'identifiers.json'));
    try {
      out.write('[');
      for (let i = 0; i < this.start; i++) out.write(i === 0 ? '"<blank>"' : ', "<blank>"');
      for (let i = 0; i < this.ownerTask.length; i++) {
        const task = this.planned[this.ownerTask[i]];
        const v = this.ownerVersion[i];
        out.write(', ' + pythonStringLiteral(arcPuzzleName(task.id, v === 0 ? undefined : arcVersionAugmentation(task.plan, v))));
      }
      out.write(']');
      out.close();
    } catch (e) {
      out.abort();
      throw e;
    }
  }
}

/** Step 4 for one split: every version of every task as one puzzle, its pairs as examples. */
async function writeSplit(
  dir: string,
  tasks: Array<{ t: number; pairs: ArcPair[] }>,
  translate: boolean,
  rng: RandomState,
  ids: IdentifierTable,
  reporter: ProgressReporter,
  stage: string,
): Promise<DatasetSplitWriter> {
  const writer = new DatasetSplitWriter(dir, { seqLen: ARC_SEQ_LEN });
  try {
    reporter.start(stage, tasks.length, 'groups');
    const colorMap = new Uint8Array(10);
    let done = 0;
    for (const { t, pairs } of tasks) {
      const task = ids.planned[t];
      writer.startGroup();
      for (let v = 0; v < task.plan.count; v++) {
        const at = v * ARC_VERSION_CODE_BYTES;
        const tid = task.plan.codes[at] as DihedralId;
        colorMap.set(task.plan.codes.subarray(at + 1, at + ARC_VERSION_CODE_BYTES), 1);
        const swap = dihedralSwapsAxes(tid);
        writer.startPuzzle(ids.ids[t][v]);
        const untranslated = rng.randint(0, pairs.length);
        for (let e = 0; e < pairs.length; e++) {
          const { input, output } = pairs[e];
          let padR = 0;
          let padC = 0;
          if (translate && e !== untranslated) {
            const maxRows = Math.max(swap ? input.cols : input.rows, swap ? output.cols : output.rows);
            const maxCols = Math.max(swap ? input.rows : input.cols, swap ? output.rows : output.cols);
            padR = rng.randint(0, ARC_MAX_GRID_SIZE - maxRows + 1);
            padC = rng.randint(0, ARC_MAX_GRID_SIZE - maxCols + 1);
          }
          const rows = writer.nextExample();
          encodeArcGridInto(rows.input, input, padR, padC, tid, colorMap);
          encodeArcGridInto(rows.label, output, padR, padC, tid, colorMap);
        }
      }
      done += 1;
      if (reporter.tick(done)) await reporter.pause();
    }
    reporter.finish(done);
    return writer;
  } catch (e) {
    writer.abort();
    throw e;
  }
}

/**
 * Builds an ARC dataset exactly as the official builder does (same RNG stream for the same
 * seed), streaming examples to disk. Both input layouts of the same tasks give byte-identical output.
 */
export async function buildArc(options: ArcBuildOptions): Promise<ArcBuildResult> {
  const opts = resolveOptions(options);
  const reporter = new ProgressReporter(options.onProgress);
  const rng = new RandomState(opts.seed);
  const { planned, testPuzzles } = await planTasks(opts, rng, reporter);
  const ids = new IdentifierTable(planned, opts.idStart);
  const numPuzzleIdentifiers = ids.count;
  fs.mkdirSync(opts.outputDir, { recursive: true });

  const trainWriter = await writeSplit(
    path.join(opts.outputDir, 'train'),
    planned.map((task, t) => ({ t, pairs: task.trainPairs })),
    true,
    rng,
    ids,
    reporter,
    'write train',
  );
  const train = trainWriter.finish({ vocabSize: ARC_VOCAB_SIZE, numPuzzleIdentifiers });
  const testTasks = planned.flatMap((task, t) => (task.testPairs ? [{ t, pairs: task.testPairs }] : []));
  let test: PuzzleDatasetMetadata | null = null;
  if (testTasks.length > 0) {
    const testWriter = await writeSplit(path.join(opts.outputDir, 'test'), testTasks, false, rng, ids, reporter, 'write test');
    test = testWriter.finish({ vocabSize: ARC_VOCAB_SIZE, numPuzzleIdentifiers });
  }
  ids.write(opts.outputDir);
  writeTestPuzzles(opts.outputDir, testPuzzles);
  const notFull = planned.filter((t) => t.plan.count < opts.numAug + 1).map((t) => ({ taskId: t.id, versions: t.plan.count }));
  return { outputDir: opts.outputDir, train, test, numPuzzleIdentifiers, tasks: planned.length, notFull };
}
