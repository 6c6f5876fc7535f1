/**
 * `trm solve sudoku|maze|arc`: one puzzle through a trained checkpoint, printing the answer, its
 * rule check, its confidence (sigmoid(q_halt), 0 when the rule check fails) and the supervision
 * steps (`--json` for JSON, `--trace` for the answer after every step).
 */
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, TrmError } from '../errors';
import type { Device } from '../model';
import { Solver, type ArcSolution, type MazeSolution, type SolverKind, type SudokuSolution } from '../solver';
import { readRegularFile } from '../regular-file';

interface CommonOptions {
  checkpoint: string;
  data?: string;
  config?: string;
  device: string;
  earlyHalt?: boolean;
  trace?: boolean;
  json?: boolean;
  taskId?: string;
}

function withCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--checkpoint <path>', 'official step_N (with all_config.yaml beside it) or trm-native safetensors')
    .option('--device <device>', 'cpu or cuda[:N]', 'cpu')
    .option('--config <file>', 'all_config.yaml of an official checkpoint (default: beside it)')
    .option('--early-halt', 'stop at the first q_halt > 0 instead of running every supervision step')
    .option('--trace', 'also print the answer after every supervision step')
    .option('--json', 'print JSON');
}

function readText(file: string): string {
  if (file !== '-') return readRegularFile(file, 'utf8');
  try {
    return fs.readFileSync(0, 'utf8');
  } catch (e) {
    throw new TrmError(ErrorCodes.IO, `cannot read the standard input: ${(e as Error).message}`);
  }
}

async function withSolver<K extends SolverKind>(kind: K, o: CommonOptions, f: (s: Solver<K>) => Promise<void>): Promise<void> {
  const solver = await Solver.load(o.checkpoint, {
    kind,
    dataDir: o.data,
    config: o.config,
    device: o.device as Device,
    earlyHalt: o.earlyHalt,
    maxBatch: 1024,
  });
  try {
    await f(solver);
  } finally {
    solver.dispose();
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The rule check first, then the confidence (and the model's own estimate when the check overrules it). */
function verdict(r: { valid: boolean; reason?: string; confidence: number; modelConfidence: number }): string {
  return `valid: ${r.valid ? 'yes' : `no (${r.reason})`}  confidence ${pct(r.confidence)}${r.valid ? '' : ` (the model's own estimate: ${pct(r.modelConfidence)})`}`;
}

function printSudoku(r: SudokuSolution, trace: boolean): void {
  if (trace)
    for (const [k, s] of (r.trace ?? []).entries())
      console.log(`step ${String(k + 1).padStart(2)}  ${s.text}  confidence ${pct(s.confidence)}`);
  r.grid.forEach((row, i) => {
    if (i % 3 === 0 && i > 0) console.log('------+-------+------');
    console.log(
      [0, 3, 6]
        .map((c) =>
          row
            .slice(c, c + 3)
            .map((d) => (d === 0 ? '.' : d))
            .join(' '),
        )
        .join(' | '),
    );
  });
  console.log(`${r.text}\n${verdict(r)}  steps ${r.steps}`);
}

function printMaze(r: MazeSolution, trace: boolean): void {
  if (trace) for (const [k, s] of (r.trace ?? []).entries()) console.log(`step ${k + 1}, confidence ${pct(s.confidence)}:\n${s.text}\n`);
  console.log(r.text);
  console.log(`${verdict(r)}${r.valid ? `  shortest: ${r.optimal ? 'yes' : 'no'}` : ''}  path ${r.pathLength} cells  steps ${r.steps}`);
}

function gridText(grid: number[][]): string {
  return grid.map((row) => row.join('')).join('\n');
}

/** Reads a task file: one task {train, test}, or a combined challenges file with --task-id. */
function readTask(
  file: string,
  taskId?: string,
): { id: string; task: { train: unknown[]; test: Array<{ input: number[][]; output?: number[][] }> } } {
  let doc: unknown;
  try {
    doc = JSON.parse(readText(file));
  } catch (e) {
    if (e instanceof TrmError) throw e;
    throw new TrmError(ErrorCodes.DATA_FORMAT, `${file} is not JSON: ${(e as Error).message}`);
  }
  const isTask = (x: unknown): boolean => !!x && typeof x === 'object' && Array.isArray((x as Record<string, unknown>).test);
  if (isTask(doc)) return { id: taskId ?? path.basename(file).replace(/\.json$/, ''), task: doc as never };
  const obj = (doc ?? {}) as Record<string, unknown>;
  if (taskId && isTask(obj[taskId])) return { id: taskId, task: obj[taskId] as never };
  throw new TrmError(
    ErrorCodes.DATA_FORMAT,
    `${file} is neither an ARC task ({"train": [...], "test": [...]}) nor a file of tasks holding --task-id ${taskId ?? '(not given)'}`,
  );
}

/** The `trm solve` command with its sudoku, maze and arc subcommands. */
export function solveCommand(): Command {
  const cmd = new Command('solve').description('solve one puzzle with a trained checkpoint');
  cmd.addCommand(
    withCommon(new Command('sudoku'))
      .description('solve a Sudoku given as 81 characters (1-9, with . or 0 for blanks)')
      .argument('<puzzle>', '81 characters, or a file holding them')
      .option('--data <dir>', 'dataset folder (for official checkpoints whose all_config.yaml does not locate it)')
      .action(async (puzzle: string, o: CommonOptions) => {
        const text = fs.existsSync(puzzle) ? readText(puzzle) : puzzle;
        await withSolver('sudoku', o, async (s) => {
          const r = await s.solve(text, { recordSteps: o.trace });
          if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          else printSudoku(r, Boolean(o.trace));
        });
      }),
  );
  cmd.addCommand(
    withCommon(new Command('maze'))
      .description('solve a maze given as a text file of "# SG" characters, one line per row ("-" reads stdin)')
      .argument('<file>', 'the maze file')
      .option('--data <dir>', 'dataset folder (for official checkpoints whose all_config.yaml does not locate it)')
      .action(async (file: string, o: CommonOptions) => {
        const maze = readText(file);
        await withSolver('maze', o, async (s) => {
          const r = await s.solve(maze, { recordSteps: o.trace });
          if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          else printMaze(r, Boolean(o.trace));
        });
      }),
  );
  cmd.addCommand(
    withCommon(new Command('arc'))
      .description('solve every test input of an ARC task the model was trained on, by voting over its augmented versions')
      .argument('<task.json>', 'an ARC task file {"train": [...], "test": [...]} (or a combined file with --task-id)')
      .requiredOption('--data <dir>', 'the dataset folder the model was trained on (its identifiers.json names the tasks)')
      .option('--task-id <id>', 'task id (default: the file name without .json)')
      .action(async (file: string, o: CommonOptions) => {
        const { id, task } = readTask(file, o.taskId);
        await withSolver('arc', o, async (s) => {
          const results: ArcSolution[] = await Promise.all(
            task.test.map((t) => s.solve({ taskId: id, input: t.input }, { recordSteps: o.trace })),
          );
          if (o.json) {
            process.stdout.write(JSON.stringify(results, null, 2) + '\n');
            return;
          }
          results.forEach((r, i) => {
            const expected = task.test[i].output;
            console.log(`task ${id}, test input ${i}: ${r.versions} augmented versions, steps ${r.steps}`);
            if (o.trace)
              for (const [k, st] of (r.trace ?? []).entries())
                console.log(`  step ${k + 1}: top attempt ${st.attempt.votes} votes, confidence ${pct(st.attempt.confidence)}`);
            r.attempts.forEach((a, k) => {
              const mark = expected ? (JSON.stringify(a.grid) === JSON.stringify(expected) ? ' (correct)' : ' (wrong)') : '';
              console.log(`attempt_${k + 1}: ${a.votes} votes, confidence ${pct(a.confidence)}${mark}\n${gridText(a.grid)}`);
            });
          });
        });
      }),
  );
  return cmd;
}
