/**
 * The Solver's plumbing with tiny untrained models (they do not solve anything; the tests check
 * that the machinery is honest): micro-batching of concurrent callers, error isolation, the
 * modelConfidence = sigmoid(q_halt) of the same input run directly, the confidence that is 0 for an
 * answer the rule check rejects (with the reason), per-step traces, early halting,
 * cancellation, dispose, event-loop responsiveness, and the Sudoku / maze validity checks.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TRM, type ModelConfig } from '../lib';
import { arcPuzzleName } from '../lib/data/arc-names';
import { sigmoid } from '../lib/eval';
import { Solver, checkMazeSolution, checkSudokuSolution, isValidSudoku, parseMazeInput } from '../lib/solver';
import { readDataset, readIdentifiers, readTestPuzzles } from '../lib/data/format';
import { gridFromRows } from '../lib/data/grid';
import { solveCommand } from '../lib/cli/solve';
import { ArcTaskIndex, encodeArcVersions } from '../lib/solver/arc';
import { ARC_DATA, makeTempDir } from './fixtures/data/helpers';
import { TINY_ARC_TASKS, buildTinyArc } from './helpers/arc-dataset';
import { TINY, expectCode } from './helpers/tiny';

const SUDOKU_CFG: Partial<ModelConfig> = { ...TINY, seqLen: 81, vocabSize: 11, numPuzzleIdentifiers: 1 };
const MAZE_CFG: Partial<ModelConfig> = { ...TINY, seqLen: 81, vocabSize: 6, numPuzzleIdentifiers: 1 };

const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const SOLVED = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';

/** Puzzles that differ from PUZZLE in one given (still consistent). */
function variants(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const cell = [2, 3, 5, 6, 7, 8][i % 6];
    return i === 0 ? PUZZLE : PUZZLE.slice(0, cell) + SOLVED[cell] + PUZZLE.slice(cell + 1);
  });
}

function forceQ(model: TRM, q: number): void {
  const D = TINY.hiddenSize!;
  model.setTensor('q_head.weight', { dtype: 'float32', shape: [2, D], data: new Float32Array(2 * D) });
  model.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: Float32Array.of(q, -q) });
}

describe('Sudoku solver', () => {
  let model: TRM;
  let solver: Solver<'sudoku'>;
  let runSpy: jest.SpyInstance;
  let realRun: TRM['run'];
  beforeAll(() => {
    model = TRM.create(SUDOKU_CFG, {}, { seed: 5 });
    realRun = model.run.bind(model);
    runSpy = jest.spyOn(model, 'run');
    solver = Solver.fromModel(model, { kind: 'sudoku' });
  });
  afterAll(() => solver.dispose());
  beforeEach(() => runSpy.mockClear());

  test('infers the kind from the model (vocab 11, seq 81 → sudoku)', () => {
    const s = Solver.fromModel(TRM.create(SUDOKU_CFG));
    expect(s.kind).toBe('sudoku');
    s.dispose();
  });

  test('solve() is typed by the kind: a Sudoku solver takes Sudoku input and returns a SudokuSolution', async () => {
    // These lines are checked by the compiler (ts-jest type-checks): each @ts-expect-error must meet an error.
    const fromGrid = await solver.solve(
      Array.from({ length: 9 }, (_, r) => Array.from(PUZZLE.slice(r * 9, r * 9 + 9), (c) => (c === '.' ? 0 : Number(c)))),
    );
    const grid: number[][] = fromGrid.grid;
    const ruleChecked: true = fromGrid.ruleChecked;
    expect([grid.length, ruleChecked]).toEqual([9, true]);
    // @ts-expect-error a SudokuSolution has no ARC attempts
    expect(fromGrid.attempts).toBeUndefined();
    // @ts-expect-error a Sudoku solver does not take an ARC input; at run time it is refused
    await expect(solver.solve({ taskId: 'x', input: [[1]] })).rejects.toMatchObject({ code: 'ERR_TRM_INVALID_ARGUMENT' });
  });

  test('20 concurrent solves are batched into fewer native runs and all answered', async () => {
    const puzzles = variants(20);
    const before = solver.stats.runs;
    const results = await Promise.all(puzzles.map((p) => solver.solve(p)));
    expect(results).toHaveLength(20);
    for (const r of results) {
      expect(r.kind).toBe('sudoku');
      expect(r.text).toMatch(/^[1-9.]{81}$/);
      expect(r.grid).toHaveLength(9);
      expect(r.steps).toBe(16);
      expect(r.modelConfidence).toBeGreaterThan(0);
      expect(r.modelConfidence).toBeLessThan(1);
    }
    expect(runSpy.mock.calls.length).toBeLessThan(20);
    expect(runSpy.mock.calls.length).toBe(solver.stats.runs - before);
    expect(solver.stats.largestBatch).toBeGreaterThan(1);
  });

  test('modelConfidence is sigmoid(q_halt) and the answer the argmax of the same input run directly', async () => {
    const r = await solver.solve(PUZZLE);
    const tokens = Int32Array.from(PUZZLE, (ch) => (ch === '.' ? 1 : Number(ch) + 1));
    const last = await model.run({
      inputs: { dtype: 'int32', shape: [1, 81], data: tokens },
      puzzleIdentifiers: { dtype: 'int32', shape: [1], data: Int32Array.of(0) },
    });
    expect(r.modelConfidence).toBeCloseTo(sigmoid(last.qHalt.data[0]), 6);
    const text = Array.from(last.preds.data, (t) => (t >= 2 && t <= 10 ? String(t - 1) : '.')).join('');
    expect(r.text).toBe(text);
    expect(r.valid).toBe(isValidSudoku(r.grid, PUZZLE));
    expect(r.ruleChecked).toBe(true);
  });

  test('rule check first: an answer that breaks a rule has confidence 0 however sure the model is; a valid one keeps sigmoid(q_halt)', async () => {
    const tokens = (text: string) => Int32Array.from(text, (ch) => Number(ch) + 1);
    const answer = (text: string, qHalt: number) =>
      runSpy.mockImplementationOnce(async (batch: { inputs: { shape: number[] } }) => {
        const B = batch.inputs.shape[0];
        const preds = new Int32Array(B * 81);
        for (let b = 0; b < B; b++) preds.set(tokens(text), b * 81);
        const q = new Float32Array(B).fill(qHalt);
        return {
          preds: { dtype: 'int32', shape: [B, 81], data: preds },
          qHalt: { dtype: 'float32', shape: [B], data: q },
          steps: { dtype: 'int32', shape: [B], data: new Int32Array(B).fill(16) },
          stepsRun: 16,
        } as never;
      });
    const swapped = SOLVED[1] + SOLVED[0] + SOLVED.slice(2); // its columns break, and so do the givens 5 and 3
    answer(swapped, 5);
    const wrong = await solver.solve(PUZZLE);
    expect(wrong.valid).toBe(false);
    expect(wrong.reason).toMatch(/given as 5|appears twice/);
    expect(wrong.modelConfidence).toBeCloseTo(sigmoid(5), 6); // the model is 99.3% sure ...
    expect(wrong.confidence).toBe(0); // ... of an answer the rules prove wrong
    answer(SOLVED, 3);
    const right = await solver.solve(PUZZLE);
    expect(right).toMatchObject({ valid: true, text: SOLVED, steps: 16 });
    expect(right.reason).toBeUndefined();
    expect(right.confidence).toBeCloseTo(sigmoid(3), 6);
    expect(right.modelConfidence).toBe(right.confidence);
  });

  test('a 9×9 array gives the same answer as the string', async () => {
    const grid = Array.from({ length: 9 }, (_, r) => Array.from(PUZZLE.slice(r * 9, r * 9 + 9), (ch) => (ch === '.' ? 0 : Number(ch))));
    const [a, b] = await Promise.all([solver.solve(grid), solver.solve(PUZZLE.replace(/\./g, '0'))]);
    expect(a.text).toBe(b.text);
  });

  test('recordSteps gives haltMaxSteps predictions, the last one the answer', async () => {
    const r = await solver.solve(PUZZLE, { recordSteps: true });
    expect(r.trace).toHaveLength(model.config.haltMaxSteps);
    expect(r.trace![15].text).toBe(r.text);
    expect(r.trace![15].modelConfidence).toBeCloseTo(r.modelConfidence, 12);
    expect(r.trace![15].valid).toBe(r.valid);
    expect((await solver.solve(PUZZLE)).trace).toBeUndefined();
  });

  test('bad inputs reject with INVALID_ARGUMENT naming the problem; the others are still answered', async () => {
    const bad: unknown[] = [
      '123', // too short
      PUZZLE.slice(0, 80) + 'x', // bad character
      '55' + PUZZLE.slice(2), // 5 twice in row 1
      [[1, 2, 3]], // not 9 rows
      42,
    ];
    const jobs = [...bad.map((b) => solver.solve(b as string)), ...variants(3).map((p) => solver.solve(p))];
    const settled = await Promise.allSettled(jobs);
    settled.slice(0, bad.length).forEach((s) => {
      expect(s.status).toBe('rejected');
      const e = (s as PromiseRejectedResult).reason as { name: string; code: string; message: string };
      expect(e.name).toBe('TrmError');
      expect(e.code).toBe('ERR_TRM_INVALID_ARGUMENT');
    });
    expect(((settled[0] as PromiseRejectedResult).reason as Error).message).toMatch(/81 characters, found 3/);
    expect(((settled[2] as PromiseRejectedResult).reason as Error).message).toMatch(/digit 5 is given twice in row 1/);
    for (const s of settled.slice(bad.length)) expect(s.status).toBe('fulfilled');
  });

  test('a native failure in a shared run is isolated: only the guilty request fails', async () => {
    const poison = '9' + PUZZLE.slice(1).replace(/9/g, '.');
    const real = realRun;
    runSpy.mockImplementation(async (batch, opts) => {
      const data = batch.inputs.data as Int32Array;
      for (let r = 0; r < data.length / 81; r++) if (data[r * 81] === 10) throw new Error('native failure');
      return real(batch, opts);
    });
    try {
      const settled = await Promise.allSettled([solver.solve(PUZZLE), solver.solve(poison), ...variants(3).map((p) => solver.solve(p))]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    } finally {
      runSpy.mockImplementation(real);
    }
  });

  test('an aborted signal cancels only its own request', async () => {
    const ac = new AbortController();
    const a = solver.solve(PUZZLE, { signal: ac.signal });
    const b = solver.solve(PUZZLE);
    ac.abort();
    await expectCode(a, 'ERR_TRM_CANCELLED');
    expect((await b).steps).toBe(16);
    const pre = new AbortController();
    pre.abort();
    await expectCode(solver.solve(PUZZLE, { signal: pre.signal }), 'ERR_TRM_CANCELLED');
  });

  test('the event loop stays responsive while 40 solves run', async () => {
    let worst = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      worst = Math.max(worst, now - last - 5);
      last = now;
    }, 5);
    try {
      await Promise.all(variants(40).map((p) => solver.solve(p, { recordSteps: true })));
    } finally {
      clearInterval(timer);
    }
    expect(worst).toBeLessThan(200);
  });
});

describe('Solver lifecycle', () => {
  test('dispose rejects pending requests with ERR_TRM_DISPOSED and later solves too', async () => {
    const solver = Solver.fromModel(TRM.create(SUDOKU_CFG), { maxWaitMs: 10_000 });
    const pending = [solver.solve(PUZZLE), solver.solve(PUZZLE)];
    expect(solver.pending).toBe(2);
    solver.dispose();
    for (const p of pending) await expectCode(p, 'ERR_TRM_DISPOSED');
    await expectCode(solver.solve(PUZZLE), 'ERR_TRM_DISPOSED');
    solver.dispose(); // twice is fine
  });

  test('dispose while a run is in flight rejects its requests', async () => {
    const solver = Solver.fromModel(TRM.create(SUDOKU_CFG), { maxWaitMs: 0 });
    const p = solver.solve(PUZZLE);
    await new Promise((r) => setTimeout(r, 5));
    solver[Symbol.dispose]();
    await expectCode(p, 'ERR_TRM_DISPOSED');
  });

  test('Solver.load reads a checkpoint and infers the kind; a model of no known kind needs { kind }', async () => {
    const { dir, cleanup } = makeTempDir('solver-load');
    try {
      const m = TRM.create(SUDOKU_CFG, {}, { seed: 2 });
      const file = path.join(dir, 'sudoku.safetensors');
      await m.save(file);
      m.dispose();
      const solver = await Solver.load(file, { maxBatch: 8 });
      try {
        expect(solver.kind).toBe('sudoku');
        expect((await solver.solve(PUZZLE)).steps).toBe(16);
      } finally {
        solver.dispose();
      }
      expect(() => Solver.fromModel(TRM.create(TINY))).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_CONFIG', message: expect.stringMatching(/pass \{ kind \}/) }),
      );
      expect(() => Solver.fromModel(TRM.create(SUDOKU_CFG), { kind: 'arc', identifiers: [] })).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_CONFIG' }),
      );
      expect(() => Solver.fromModel(TRM.create(SUDOKU_CFG), { maxBatch: 0 })).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_INVALID_ARGUMENT' }),
      );
    } finally {
      cleanup();
    }
  });

  test('earlyHalt on a Sudoku solver: the rule check decides, not q_halt; model.run alone halts at q_halt > 0', async () => {
    const eager = TRM.create(SUDOKU_CFG);
    forceQ(eager, 3); // the model is sure after step 1 ...
    const solver = Solver.fromModel(eager, { kind: 'sudoku', earlyHalt: true });
    try {
      const r = await solver.solve(PUZZLE, { recordSteps: true });
      expect(r.valid).toBe(false); // ... of an answer the rules reject, so the solve keeps refining
      expect(r.steps).toBe(16);
      expect(r.trace).toHaveLength(16);
      expect(r.modelConfidence).toBeCloseTo(sigmoid(3), 6);
      // Without a rule check (what an ARC solver uses), the q head halts the row at step 1.
      const tokens = Int32Array.from(PUZZLE, (ch) => (ch === '.' ? 1 : Number(ch) + 1));
      const direct = await eager.run(
        {
          inputs: { dtype: 'int32', shape: [1, 81], data: tokens },
          puzzleIdentifiers: { dtype: 'int32', shape: [1], data: Int32Array.of(0) },
        },
        { earlyHalt: true },
      );
      expect(direct.steps.data[0]).toBe(1);
    } finally {
      solver.dispose();
    }
  });
});

/**
 * A model that copies its input: no mixing or MLP (their output projections are zero, so each
 * block is its two norms), each token embedded far along its own channel, and the output head
 * reading that channel. It "solves" exactly the puzzles that are already solved (from its second
 * step on: the first still carries the initial states).
 */
function copyModel(cfg: Partial<ModelConfig>, haltMaxSteps: number): TRM {
  const D = 32;
  const model = TRM.create(
    {
      ...cfg,
      mlpT: true,
      posEncodings: 'none',
      hiddenSize: D,
      numHeads: 2,
      hCycles: 1,
      lCycles: 1,
      lLayers: 1,
      puzzleEmbNdim: 0,
      puzzleEmbLen: 0,
      haltMaxSteps,
      forwardDtype: 'float32',
    },
    {},
    { seed: 1 },
  );
  const V = model.config.vocabSize;
  for (const e of model.stateDict()) {
    if (/down_proj/.test(e.name))
      model.setTensor(e.name, { dtype: 'float32', shape: e.shape, data: new Float32Array(e.shape[0] * e.shape[1]) });
  }
  const oneHot = (scale: number) => Float32Array.from({ length: V * D }, (_, i) => (i % D === Math.floor(i / D) ? scale : 0));
  model.setTensor('embed_tokens.embedding_weight', { dtype: 'float32', shape: [V, D], data: oneHot(100) });
  model.setTensor('lm_head.weight', { dtype: 'float32', shape: [V, D], data: oneHot(1) });
  return model;
}

describe('early halting by the rule check', () => {
  test('a solved Sudoku halts at the first step its answer passes, though q_halt < 0; an unsolved one runs every step though q_halt > 0', async () => {
    const model = copyModel(SUDOKU_CFG, 6);
    const solver = Solver.fromModel(model, { kind: 'sudoku', earlyHalt: true });
    const parity = Solver.fromModel(copyModel(SUDOKU_CFG, 6), { kind: 'sudoku' });
    try {
      forceQ(model, -4);
      const done = await solver.solve(SOLVED); // 81 givens: copying them is the solution
      const everyStep = (await parity.solve(SOLVED, { recordSteps: true })).trace!;
      const firstValid = everyStep.findIndex((t) => t.valid) + 1;
      expect(firstValid).toBe(2);
      expect(done).toMatchObject({ text: SOLVED, valid: true, steps: firstValid });
      expect(done.confidence).toBeCloseTo(sigmoid(-4), 6); // valid: the model's own (low) estimate stands
      forceQ(model, 4);
      const stuck = await solver.solve(PUZZLE); // copying leaves the blanks blank
      expect(stuck).toMatchObject({ valid: false, steps: 6, confidence: 0 });
      expect(stuck.reason).toMatch(/holds 0/);
    } finally {
      solver.dispose();
      parity.dispose();
    }
  });

  test('a maze halts once its path is a shortest one', async () => {
    const model = copyModel(MAZE_CFG, 5);
    const solver = Solver.fromModel<'maze'>(model, { earlyHalt: true });
    try {
      const adjacent = ['#####', '#SG #', '#   #', '#   #', '#####']; // S next to G: no path cells needed
      const done = await solver.solve(adjacent);
      expect(done).toMatchObject({ valid: true, optimal: true, pathLength: 0, steps: 2 }); // the copy settles at step 2
      const apart = ['#####', '#S  #', '#   #', '#  G#', '#####'];
      expect(await solver.solve(apart)).toMatchObject({ valid: false, steps: 5 });
    } finally {
      solver.dispose();
    }
  });

  test("the native check early halting uses agrees with the solver's verdicts", () => {
    const { native } = jest.requireActual('../lib/native') as typeof import('../lib/native');
    const toTokens = (s: string) => Array.from(s, (ch) => (ch === '.' ? 1 : Number(ch) + 1));
    // Sudoku: the solution, and answers with one cell changed, blanked, or two cells swapped.
    const answers: string[] = [SOLVED];
    for (let i = 0; i < 81; i += 4) {
      answers.push(SOLVED.slice(0, i) + String((Number(SOLVED[i]) % 9) + 1) + SOLVED.slice(i + 1));
      answers.push(SOLVED.slice(0, i) + '.' + SOLVED.slice(i + 1));
      const j = (i * 7 + 3) % 81;
      const a = [...SOLVED];
      [a[i], a[j]] = [a[j], a[i]];
      answers.push(a.join(''));
    }
    for (const givens of [PUZZLE, SOLVED]) {
      const inputs = answers.flatMap(() => toTokens(givens));
      const preds = answers.flatMap(toTokens);
      const B = answers.length;
      const solved = native().checkAnswers(
        'sudoku',
        { dtype: 'int32', shape: [B, 81], data: Int32Array.from(inputs) },
        { dtype: 'int32', shape: [B, 81], data: Int32Array.from(preds) },
      );
      const expected = answers.map((a) => isValidSudoku(a.replace(/\./g, '0'), givens));
      expect(Array.from(solved.data, Boolean)).toEqual(expected);
      expect(expected[0]).toBe(true); // the solution passes, and most changes fail
      expect(expected.filter((v) => !v).length).toBeGreaterThan(answers.length / 2);
    }
    // Maze: the shortest path, a longer one, a broken one, and a moved wall (on a 9×9 canvas).
    const MAZE = ['#######', '#S    #', '#####.#', '#     #', '# #####', '#    G#', '#######'].map((r) => r.replace('.', ' '));
    const SOLUTION = ['#######', '#Soooo#', '#####o#', '#ooooo#', '#o#####', '#ooooG#', '#######'];
    const tries = [SOLUTION, SOLUTION.map((r, i) => (i === 3 ? '#oo oo#' : r)), SOLUTION.map((r, i) => (i === 0 ? '###o###' : r)), MAZE];
    const canvas = (rows: string[]) =>
      Array.from({ length: 81 }, (_, k) => {
        const r = Math.floor(k / 9),
          c = k % 9;
        return r < 7 && c < 7 ? '# SGo'.indexOf(rows[r][c]) + 1 : 1;
      });
    const solvedMaze = native().checkAnswers(
      'maze',
      { dtype: 'int32', shape: [tries.length, 81], data: Int32Array.from(tries.flatMap(() => canvas(MAZE))) },
      { dtype: 'int32', shape: [tries.length, 81], data: Int32Array.from(tries.flatMap(canvas)) },
    );
    const maze = parseMazeInput(MAZE, 9);
    expect(Array.from(solvedMaze.data, Boolean)).toEqual(tries.map((t) => checkMazeSolution(maze, t).optimal));
    expect(Array.from(solvedMaze.data, Boolean)).toEqual([true, false, false, false]);
    expect(() =>
      native().checkAnswers(
        'chess' as 'maze',
        { dtype: 'int32', shape: [1, 81], data: new Int32Array(81) },
        { dtype: 'int32', shape: [1, 81], data: new Int32Array(81) },
      ),
    ).toThrow(
      expect.objectContaining({ code: 'ERR_TRM_INVALID_ARGUMENT', message: expect.stringMatching(/haltCheck must be 'sudoku' or 'maze'/) }),
    );
  });
});

describe('Sudoku validity check', () => {
  test('a known solved grid is valid; broken ones are not, with the reason', () => {
    expect(checkSudokuSolution(SOLVED)).toBeNull();
    expect(isValidSudoku(SOLVED, PUZZLE)).toBe(true);
    const swapped = SOLVED[1] + SOLVED[0] + SOLVED.slice(2); // rows still fine, columns broken
    expect(checkSudokuSolution(swapped)).toMatch(/appears twice in column/);
    expect(isValidSudoku(SOLVED.slice(0, 80) + '.')).toBe(false);
    const otherGivens = '6' + PUZZLE.slice(1);
    expect(checkSudokuSolution(SOLVED, otherGivens)).toMatch(/given as 6/);
  });
});

describe('Maze solver', () => {
  // A 7×7 maze; the model's canvas is 9×9, so it is padded with walls.
  const MAZE = ['#######', '#S    #', '#####.#', '#     #', '# #####', '#    G#', '#######'].map((r) => r.replace('.', ' '));
  const SOLUTION = ['#######', '#Soooo#', '#####o#', '#ooooo#', '#o#####', '#ooooG#', '#######'];

  test('solves a text maze padded into the canvas and answers in its own size', async () => {
    const model = TRM.create(MAZE_CFG, {}, { seed: 4 });
    const solver = Solver.fromModel<'maze'>(model); // kind inferred (vocab 6 → maze); the type parameter only narrows the results
    try {
      expect(solver.kind).toBe('maze');
      const [a, b] = await Promise.all([solver.solve(MAZE.join('\n')), solver.solve(MAZE, { recordSteps: true })]);
      expect(a.rows).toHaveLength(7);
      expect(a.rows.every((r) => r.length === 7)).toBe(true);
      expect(a.text).toBe(b.text);
      expect(b.trace).toHaveLength(16);
      const verdict = checkMazeSolution(parseMazeInput(MAZE, 9), a.rows);
      expect(a.valid).toBe(verdict.valid);
      expect(a.reason).toBe(verdict.reason);
      expect(a.confidence).toBe(verdict.valid ? a.modelConfidence : 0);
      expect(a.ruleChecked).toBe(true);
      await expectCode(solver.solve(['#S', 'G']), 'ERR_TRM_INVALID_ARGUMENT');
      await expectCode(solver.solve('#'.repeat(100)), 'ERR_TRM_INVALID_ARGUMENT'); // 10×10 > 9×9
      await expectCode(solver.solve(MAZE.join('\n').replace('G', ' ')), 'ERR_TRM_INVALID_ARGUMENT');
    } finally {
      solver.dispose();
    }
  });

  test('the path check: a shortest path is valid and optimal; a gap or a moved wall is not', () => {
    const maze = parseMazeInput(MAZE, 9);
    expect(checkMazeSolution(maze, SOLUTION)).toEqual({ valid: true, optimal: true, pathLength: 15 });
    const gap = SOLUTION.map((r, i) => (i === 3 ? '#oo oo#' : r));
    expect(checkMazeSolution(maze, gap)).toMatchObject({ valid: false, reason: expect.stringMatching(/do not connect/) });
    const wall = SOLUTION.map((r, i) => (i === 0 ? '###o###' : r));
    expect(checkMazeSolution(maze, wall).valid).toBe(false);
    const open = parseMazeInput(['#####', '#S  #', '#   #', '#  G#', '#####'], 9);
    expect(checkMazeSolution(open, ['#####', '#Soo#', '#  o#', '#  G#', '#####'])).toEqual({ valid: true, optimal: true, pathLength: 3 });
    expect(checkMazeSolution(open, ['#####', '#Soo#', '#o o#', '#  G#', '#####'])).toEqual({ valid: true, optimal: false, pathLength: 4 });
  });
});

describe('ARC solver', () => {
  const taskId = '007bbfb7';
  const task = JSON.parse(fs.readFileSync(path.join(ARC_DATA, 'training', `${taskId}.json`), 'utf8')) as {
    test: Array<{ input: number[][] }>;
  };
  const colorMap = Uint8Array.from([0, 2, 3, 4, 5, 6, 7, 8, 9, 1]);
  const identifiers = [
    '<blank>',
    'other',
    taskId,
    ...Array.from({ length: 7 }, (_, t) => arcPuzzleName(taskId, { tid: (t + 1) as 1, colorMap })),
  ];
  let model: TRM;
  let solver: Solver<'arc'>;
  beforeAll(() => {
    // Fewer cycles and steps than the others: 900-token rows are the slow part of this suite.
    model = TRM.create(
      {
        ...TINY,
        seqLen: 900,
        vocabSize: 12,
        numPuzzleIdentifiers: identifiers.length,
        hCycles: 1,
        lCycles: 1,
        lLayers: 1,
        haltMaxSteps: 4,
      },
      {},
      { seed: 6 },
    );
    solver = Solver.fromModel(model, { identifiers, maxBatch: 4 });
  });
  afterAll(() => solver.dispose());

  test('runs every augmented version the model knows, inverts and votes; top-2 attempts', async () => {
    expect(solver.kind).toBe('arc');
    expect(solver.knowsTask(taskId)).toBe(true);
    const runs = solver.stats.runs;
    const r = await solver.solve({ taskId, input: task.test[0].input }, { recordSteps: true });
    expect(r.versions).toBe(8);
    expect(solver.stats.runs - runs).toBe(2); // 8 rows in runs of at most 4
    expect(r.attempts.length).toBeGreaterThanOrEqual(1);
    expect(r.attempts.length).toBeLessThanOrEqual(2);
    expect(r.attempts.reduce((n, a) => n + a.votes, 0)).toBeLessThanOrEqual(8);
    if (r.attempts.length === 2) expect(r.attempts[0].votes).toBeGreaterThanOrEqual(r.attempts[1].votes);
    expect(r.confidence).toBe(r.attempts[0].confidence);
    expect(r.ruleChecked).toBe(false);
    expect(r.steps).toBe(4);
    expect(r.trace).toHaveLength(4);
    expect(r.trace![3].attempt).toEqual(r.attempts[0]);
  });

  test('an unknown task explains that unseen tasks need trm adapt', async () => {
    await expectCode(solver.solve({ taskId: 'ffffffff', input: [[1]] }), 'ERR_TRM_INVALID_ARGUMENT');
    await expect(solver.solve({ taskId: 'ffffffff', input: [[1]] })).rejects.toThrow(/trm adapt/);
    await expectCode(solver.solve({ taskId, input: [[1, 2], [3]] }), 'ERR_TRM_INVALID_ARGUMENT');
    await expectCode(solver.solve({ taskId, input: [[1]], train: [{ input: [[1]], output: [[12]] }] }), 'ERR_TRM_INVALID_ARGUMENT');
  });

  test('an ARC solver needs identifiers that fit the puzzle table', () => {
    const m = TRM.create({ ...TINY, seqLen: 900, vocabSize: 12, numPuzzleIdentifiers: 3 });
    expect(() => Solver.fromModel(m)).toThrow(
      expect.objectContaining({ code: 'ERR_TRM_INVALID_ARGUMENT', message: expect.stringMatching(/identifiers/) }),
    );
    expect(() => Solver.fromModel(m, { identifiers })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
    m.dispose();
  });
});

describe('ARC solver on a dataset built by buildArc', () => {
  const tmp = makeTempDir('solver-arc');
  let data: string;
  beforeAll(async () => {
    data = await buildTinyArc(tmp.dir);
  });
  afterAll(tmp.cleanup);

  test('encodes a test input exactly as the builder encoded every augmented version of it', () => {
    const identifiers = readIdentifiers(data);
    const index = new ArcTaskIndex(identifiers);
    const split = readDataset(data, 'test');
    const { inputs, puzzleIdentifiers, puzzleIndices } = split.sets.all;
    const puzzles = readTestPuzzles(data);
    let compared = 0;
    for (const taskId of TINY_ARC_TASKS.evaluation) {
      const versions = index.versions(taskId)!;
      expect(versions).toHaveLength(5);
      const testInput = gridFromRows(puzzles.get(taskId)!.test[0].input);
      const encoded = encodeArcVersions(testInput, versions);
      versions.forEach((v, i) => {
        const p = Array.from(puzzleIdentifiers).indexOf(v.id);
        expect(p).toBeGreaterThanOrEqual(0);
        const row = puzzleIndices[p]; // the first test pair of this version
        const want = Array.from(inputs.data.subarray(row * 900, (row + 1) * 900) as Uint8Array);
        expect(Array.from(encoded.inputs.subarray(i * 900, (i + 1) * 900))).toEqual(want);
        expect(encoded.ids[i]).toBe(v.id);
        compared++;
      });
    }
    expect(compared).toBe(15);
  });

  test('trm solve arc --json answers every test input of a task file', async () => {
    const meta = readDataset(data, 'test').metadata;
    const model = TRM.create({
      ...TINY,
      seqLen: 900,
      vocabSize: 12,
      numPuzzleIdentifiers: meta.numPuzzleIdentifiers,
      hCycles: 1,
      lCycles: 1,
      lLayers: 1,
      haltMaxSteps: 2,
    });
    const file = path.join(tmp.dir, 'arc.safetensors');
    await model.save(file);
    model.dispose();
    const taskId = TINY_ARC_TASKS.evaluation[0];
    const taskFile = path.join(tmp.dir, 'src', 'evaluation', `${taskId}.json`);
    const out = await captureStdout(() =>
      solveCommand().parseAsync(['arc', taskFile, '--checkpoint', file, '--data', data, '--json'], { from: 'user' }),
    );
    const results = JSON.parse(out) as Array<{ taskId: string; versions: number; steps: number; attempts: unknown[] }>;
    expect(results).toHaveLength(readTestPuzzles(data).get(taskId)!.test.length);
    for (const r of results) {
      expect(r).toMatchObject({ taskId, versions: 5, steps: 2 });
      expect(r.attempts.length).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('trm solve sudoku', () => {
  test('prints the grid, validity, confidence and steps', async () => {
    const { dir, cleanup } = makeTempDir('solve-cli');
    try {
      const m = TRM.create(SUDOKU_CFG, {}, { seed: 2 });
      const file = path.join(dir, 'sudoku.safetensors');
      await m.save(file);
      m.dispose();
      const lines: string[] = [];
      const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
      try {
        await solveCommand().parseAsync(['sudoku', PUZZLE, '--checkpoint', file], { from: 'user' });
      } finally {
        log.mockRestore();
      }
      // An untrained model's answer breaks a rule: confidence 0, and the model's own estimate beside it.
      expect(lines.join('\n')).toMatch(/valid: no \(.+\) {2}confidence 0\.0% \(the model's own estimate: \d+\.\d%\) {2}steps 16/);
      const json = JSON.parse(
        await captureStdout(() =>
          solveCommand().parseAsync(['sudoku', PUZZLE, '--checkpoint', file, '--json', '--trace'], { from: 'user' }),
        ),
      );
      expect(json).toMatchObject({ kind: 'sudoku', steps: 16 });
      expect(json.trace).toHaveLength(16);
    } finally {
      cleanup();
    }
  });
});

async function captureStdout(f: () => Promise<unknown>): Promise<string> {
  let text = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  try {
    await f();
  } finally {
    spy.mockRestore();
  }
  return text;
}
