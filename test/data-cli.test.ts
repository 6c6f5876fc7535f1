/** `trm build-data`: the commander command runs each builder with the documented flags and reports progress. */
import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError } from 'commander';
import { ErrorCodes, TrmError } from '../lib/errors';
import { buildDataCommand, stderrProgress } from '../lib/cli/build-data';
import { readDataset, readIdentifiers } from '../lib/data/format';
import { ARC_DATA, FIXTURES, makeTempDir } from './fixtures/data/helpers';

/** Runs `trm build-data ...args`, capturing stdout; commander errors are thrown instead of exiting. */
async function run(args: string[]): Promise<string> {
  const out: string[] = [];
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const cmd = buildDataCommand();
    const program = new Command('trm')
      .exitOverride()
      .configureOutput({ writeErr: () => undefined })
      .addCommand(cmd);
    for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeErr: () => undefined });
    await program.parseAsync(['build-data', ...args], { from: 'user' });
    return out.join('');
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('trm build-data', () => {
  const tmp = makeTempDir('cli');
  afterAll(() => tmp.cleanup());

  test('sudoku --input-dir with subsample, min difficulty, aug and seed', async () => {
    const out = path.join(tmp.dir, 'sudoku');
    const text = await run([
      'sudoku',
      '--input-dir',
      path.join(FIXTURES, 'sudoku'),
      '--output-dir',
      out,
      '--subsample-size',
      '10',
      '--min-difficulty',
      '3',
      '--num-aug',
      '2',
      '--seed',
      '5',
    ]);
    expect(text).toContain(`wrote ${out}`);
    expect(readDataset(out, 'train').sets.all.inputs.shape).toEqual([30, 81]);
  });

  test('sudoku --generate and maze --generate with --test-size', async () => {
    const sudoku = path.join(tmp.dir, 'gen-sudoku');
    await run(['sudoku', '--generate', '6', '--test-size', '3', '--num-aug', '1', '--output-dir', sudoku]);
    expect([
      readDataset(sudoku, 'train').metadata.totalGroups,
      readDataset(sudoku, 'train').sets.all.inputs.shape[0],
      readDataset(sudoku, 'test').metadata.totalGroups,
    ]).toEqual([6, 12, 3]);
    const maze = path.join(tmp.dir, 'gen-maze');
    await run(['maze', '--generate', '4', '--test-size', '2', '--aug', '--output-dir', maze]);
    expect([readDataset(maze, 'train').sets.all.inputs.shape, readDataset(maze, 'test').metadata.totalGroups]).toEqual([[32, 900], 2]);
  });

  test('maze --input-dir --aug', async () => {
    const out = path.join(tmp.dir, 'maze');
    await run(['maze', '--input-dir', path.join(FIXTURES, 'maze'), '--output-dir', out, '--aug', '--seed', '1']);
    expect(readDataset(out, 'train').metadata.totalGroups).toBe(8);
  });

  test('arc with --input-file-prefix and with --input-dir give the same files', async () => {
    const a = path.join(tmp.dir, 'arc-a');
    const b = path.join(tmp.dir, 'arc-b');
    const common = [
      '--subsets',
      'training',
      '--test-set-name',
      'training',
      '--test-set-name2',
      'none',
      '--num-aug',
      '2',
      '--seed',
      '3',
      '--puzzle-identifiers-start',
      '2',
    ];
    await run(['arc', '--input-file-prefix', path.join(ARC_DATA, 'kaggle', 'arc-agi'), '--output-dir', a, ...common]);
    await run(['arc', '--input-dir', ARC_DATA, '--output-dir', b, ...common]);
    expect(readIdentifiers(a).slice(0, 2)).toEqual(['<blank>', '<blank>']);
    for (const f of ['train/all__inputs.npy', 'test/all__labels.npy', 'identifiers.json', 'test_puzzles.json']) {
      expect(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f)))).toBe(true);
    }
  });

  test('bad flags: both or neither input, a non-integer, a missing required flag', async () => {
    const out = path.join(tmp.dir, 'bad');
    await expect(run(['sudoku', '--output-dir', out])).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    await expect(
      run([
        'arc',
        '--input-dir',
        ARC_DATA,
        '--input-file-prefix',
        'x',
        '--output-dir',
        out,
        '--subsets',
        'training',
        '--test-set-name',
        't',
      ]),
    ).rejects.toBeInstanceOf(TrmError);
    await expect(run(['sudoku', '--generate', 'many', '--output-dir', out])).rejects.toBeInstanceOf(CommanderError);
    await expect(run(['arc', '--input-dir', ARC_DATA, '--output-dir', out, '--test-set-name', 't'])).rejects.toMatchObject({
      code: 'commander.missingMandatoryOptionValue',
    });
  });
});

describe('stderr progress line', () => {
  const fake = (isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } => {
    const chunks: string[] = [];
    const stream = {
      isTTY,
      write: (s: string) => {
        chunks.push(s);
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    return { stream, text: () => chunks.join('') };
  };

  test('a terminal gets one line rewritten with \\r; a pipe gets plain lines at stage changes and ends', () => {
    const tty = fake(true);
    const p = stderrProgress(tty.stream);
    p({ stage: 'augment', done: 0, total: 4, unit: 'tasks' });
    p({ stage: 'augment', done: 4, total: 4, unit: 'tasks' });
    p({ stage: 'write train', done: 1, total: 2, unit: 'groups' });
    p.end();
    expect(tty.text()).toBe(
      '\raugment: 0/4 tasks (0.0%)\x1b[K\raugment: 4/4 tasks (100.0%)\x1b[K\n\rwrite train: 1/2 groups (50.0%)\x1b[K\n',
    );

    const pipe = fake(false);
    const q = stderrProgress(pipe.stream);
    q({ stage: 'augment', done: 0, total: 4, unit: 'tasks' });
    q({ stage: 'augment', done: 2, total: 4, unit: 'tasks' });
    q({ stage: 'augment', done: 4, total: 4, unit: 'tasks' });
    q.end();
    expect(pipe.text()).toBe('augment: 0/4 tasks (0.0%)\naugment: 4/4 tasks (100.0%)\n');
  });
});
