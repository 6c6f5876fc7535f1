/**
 * `trm adapt`: test-time adaptation to an ARC task the checkpoint was not trained on. Adds puzzle
 * rows for the task's augmented versions (at the mean row), fine-tunes only them on the task's
 * demonstration pairs (dense weights frozen), then solves the task's test input(s) and prints the
 * top-2 attempts. `--out <dir>` keeps the adapted model and its extended identifiers.json, which
 * `trm solve arc --checkpoint <dir>/model.safetensors --data <dir>` can serve afterwards.
 */
import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { adaptToTask, type AdaptEvent, type AdaptTask } from '../adapt';
import { readIdentifiers, writeIdentifiers } from '../data/format';
import { ErrorCodes, TrmError } from '../errors';
import { TRM, type Device } from '../model';
import { Solver, type ArcSolution } from '../solver';
import { Progress } from './progress';
import { readRegularFile } from '../regular-file';

interface AdaptCliOptions {
  checkpoint: string;
  data: string;
  task: string;
  taskId?: string;
  numAug: number;
  epochs?: number;
  maxSteps?: number;
  maxSeconds?: number;
  batchSize: number;
  puzzleEmbLr?: number;
  seed: number;
  device: string;
  out?: string;
  earlyHalt?: boolean;
  json?: boolean;
}

const int =
  (min: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
    return n;
  };
const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
};

/** Reads a task file {train, test} (id: --task-id or the file name), or one task of a combined challenges file. */
export function readTaskFile(file: string, taskId?: string): AdaptTask {
  const text = file === '-' ? undefined : readRegularFile(file, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text ?? fs.readFileSync(0, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ? ErrorCodes.IO : ErrorCodes.DATA_FORMAT;
    throw new TrmError(code, `cannot read the task ${file}: ${(e as Error).message}`);
  }
  const isTask = (x: unknown): x is Omit<AdaptTask, 'id'> =>
    !!x && typeof x === 'object' && Array.isArray((x as Record<string, unknown>).train);
  if (isTask(doc)) return { ...doc, test: doc.test ?? [], id: taskId ?? path.basename(file).replace(/\.json$/, '') };
  const entry = taskId !== undefined ? ((doc ?? {}) as Record<string, unknown>)[taskId] : undefined;
  if (taskId !== undefined && isTask(entry)) return { ...entry, test: entry.test ?? [], id: taskId };
  throw new TrmError(
    ErrorCodes.DATA_FORMAT,
    `${file} is neither an ARC task ({"train": [...], "test": [...]}) nor a file of tasks holding --task-id ${taskId ?? '(not given)'}`,
  );
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function printResults(task: AdaptTask, results: ArcSolution[]): void {
  results.forEach((r, i) => {
    const expected = task.test[i].output;
    console.log(`task ${task.id}, test input ${i}: ${r.versions} augmented versions, steps ${r.steps}`);
    r.attempts.forEach((a, k) => {
      const mark = expected ? (JSON.stringify(a.grid) === JSON.stringify(expected) ? ' (correct)' : ' (wrong)') : '';
      const rows = a.grid.length > 0 ? a.grid.map((row) => row.join('')).join('\n') : '(empty grid: the model predicted no cells)';
      console.log(`attempt_${k + 1}: ${a.votes} votes, confidence ${pct(a.confidence)}${mark}\n${rows}`);
    });
  });
}

/** A progress reporter for the adaptation on stderr: stage lines, then a step bar with the loss. */
function reporter(maxSteps: number | undefined): { onEvent: (e: AdaptEvent) => void; finish: () => void } {
  const progress = new Progress();
  return {
    onEvent: (e) => {
      if (e.kind === 'stage') progress.log(`adapt: ${e.message}`);
      else if (e.kind === 'step') {
        progress.update(e.step, Math.min(e.totalSteps, maxSteps ?? Infinity), e.elapsedSeconds, {
          loss: (e.metrics.lm_loss ?? 0).toFixed(4),
          exact: (e.metrics.exact_accuracy ?? 0).toFixed(3),
        });
      }
    },
    finish: () => progress.finish(),
  };
}

async function run(o: AdaptCliOptions): Promise<void> {
  const task = readTaskFile(o.task, o.taskId);
  const identifiers = readIdentifiers(o.data);
  const device = o.device as Device;
  const model = await TRM.load(o.checkpoint, { dataDir: o.data, device });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  const progress = reporter(o.maxSteps);
  const adapted = await adaptToTask(model, identifiers, task, {
    numAug: o.numAug,
    epochs: o.epochs,
    maxSteps: o.maxSteps,
    maxSeconds: o.maxSeconds,
    globalBatchSize: o.batchSize,
    puzzleEmbLr: o.puzzleEmbLr,
    seed: o.seed,
    device,
    signal: controller.signal,
    onEvent: progress.onEvent,
  }).finally(() => {
    process.off('SIGINT', onSignal);
    progress.finish();
    model.dispose();
  });
  console.error(
    `adapt: ${adapted.steps} steps; task ${task.id} is puzzle ids ${adapted.taskIds[0]}..${adapted.taskIds[adapted.taskIds.length - 1]}`,
  );
  const solver = Solver.fromModel(adapted.model, { kind: 'arc', identifiers: adapted.identifiers, earlyHalt: o.earlyHalt, maxBatch: 1024 });
  try {
    if (o.out) {
      const file = path.join(o.out, 'model.safetensors');
      fs.mkdirSync(o.out, { recursive: true });
      await adapted.model.save(file);
      writeIdentifiers(o.out, adapted.identifiers);
      console.error(
        `adapt: wrote ${file} and identifiers.json; serve it with: trm solve arc <task.json> --checkpoint ${file} --data ${o.out}`,
      );
    }
    const results = await Promise.all(task.test.map((t) => solver.solve({ taskId: task.id, input: t.input })));
    if (o.json)
      process.stdout.write(JSON.stringify({ taskId: task.id, steps: adapted.steps, puzzleIds: adapted.taskIds, results }, null, 2) + '\n');
    else if (results.length === 0) console.log(`task ${task.id} has no test inputs; nothing to solve`);
    else printResults(task, results);
  } finally {
    solver.dispose();
  }
}

/** The `trm adapt` command. */
export function adaptCommand(): Command {
  return new Command('adapt')
    .description(
      'adapt a trained ARC checkpoint to an unseen task (new puzzle embeddings fine-tuned on its demonstration pairs), then solve it',
    )
    .requiredOption('--checkpoint <path>', 'official step_N (with all_config.yaml beside it) or trm-native safetensors')
    .requiredOption(
      '--data <dir>',
      'the dataset folder the model was trained on (its identifiers.json; for official checkpoints also train/dataset.json)',
    )
    .requiredOption(
      '--task <task.json>',
      'an ARC task file {"train": [...], "test": [...]} (or a combined challenges file with --task-id; "-" reads stdin)',
    )
    .option('--task-id <id>', 'task id (default: the file name without .json)')
    .option('--num-aug <n>', 'augmented versions besides the original, one puzzle row each', int(0), 100)
    .option('--epochs <n>', 'epochs over the task (default: about 200 optimizer steps)', int(1))
    .option('--max-steps <n>', 'stop after this many optimizer steps', int(1))
    .option('--max-seconds <s>', 'stop after this many seconds', positive)
    .option('--batch-size <n>', 'global batch size (examples per step)', int(1), 32)
    .option('--puzzle-emb-lr <lr>', 'sign-SGD learning rate of the new rows (default 1e-2)', positive)
    .option('--seed <n>', 'seed of the augmentations, sampling and halting exploration', int(0), 0)
    .option('--device <device>', 'cpu or cuda[:N]', 'cpu')
    .option('--early-halt', 'when solving, stop at the first q_halt > 0 instead of running every supervision step')
    .option('--out <dir>', 'write the adapted model (model.safetensors) and the extended identifiers.json here')
    .option('--json', 'print the results as JSON')
    .action(run);
}
