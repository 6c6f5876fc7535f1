/**
 * SolverPool: solvers in worker threads behind one solve(). Answers equal an in-process Solver's on
 * the same checkpoint; past maxPending the pool refuses with ERR_TRM_BUSY; an aborted signal
 * rejects with ERR_TRM_CANCELLED and the pool keeps working; the solver's own errors keep their
 * code across the thread boundary; close() rejects what is in flight.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ErrorCodes, TRM, TrmError, type ModelCard } from '../lib';
import { Solver } from '../lib/solver';
import { SolverPool } from '../lib/solver/pool';

const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const SOLVED = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
const CARD: ModelCard = { trainedOn: 'nothing (an untrained test model)', sudokuBlanks: { min: 1, max: 5 } };

function variants(n: number): string[] {
  const blanks = [...PUZZLE].flatMap((c, i) => (c === '.' ? [i] : []));
  return Array.from({ length: n }, (_, i) => PUZZLE.slice(0, blanks[i]) + SOLVED[blanks[i]] + PUZZLE.slice(blanks[i] + 1));
}

describe('SolverPool', () => {
  let dir: string;
  let file: string;
  let pool: SolverPool<'sudoku'>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-pool-'));
    file = path.join(dir, 'tiny.safetensors');
    const model = TRM.create(
      'sudoku-mlp',
      { hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1, haltMaxSteps: 3 },
      { seed: 7 },
    );
    await model.save(file, { card: CARD });
    model.dispose();
    pool = await SolverPool.create(file, { workers: 2, maxPending: 12 });
  });
  afterAll(async () => {
    await pool?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('answers concurrent solves as an in-process Solver does, and knows the kind and card', async () => {
    expect(pool.kind).toBe('sudoku');
    expect(pool.card).toEqual(CARD);
    const puzzles = variants(8);
    const [pooled, local] = await Promise.all([
      Promise.all(puzzles.map((p) => pool.solve(p))),
      (async () => {
        const s = await Solver.load(file, { kind: 'sudoku' });
        try {
          return await Promise.all(puzzles.map((p) => s.solve(p)));
        } finally {
          s.dispose();
        }
      })(),
    ]);
    pooled.forEach((r, i) => {
      expect(r.text).toBe(local[i].text);
      expect(r.modelConfidence).toBeCloseTo(local[i].modelConfidence, 6);
      expect(r.steps).toBe(3);
    });
    expect(pool.pending).toBe(0);
  });

  test('back-pressure: past maxPending the next solve is refused at once with ERR_TRM_BUSY', async () => {
    const jobs = variants(13).map((p) =>
      pool.solve(p).then(
        () => 'ok',
        (e: TrmError) => e.code,
      ),
    );
    const outcomes = await Promise.all(jobs);
    expect(outcomes.slice(0, 12)).toEqual(Array(12).fill('ok'));
    expect(outcomes[12]).toBe(ErrorCodes.BUSY);
  });

  test('an aborted signal rejects with ERR_TRM_CANCELLED; the pool keeps answering', async () => {
    const abort = new AbortController();
    const job = pool.solve(PUZZLE, { signal: abort.signal });
    abort.abort();
    await expect(job).rejects.toMatchObject({ name: 'TrmError', code: ErrorCodes.CANCELLED });
    expect(pool.pending).toBe(0);
    await expect(pool.solve(PUZZLE, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: ErrorCodes.CANCELLED });
    expect((await pool.solve(PUZZLE)).kind).toBe('sudoku');
  });

  test("the solver's errors keep their code and message across the thread", async () => {
    const e = await pool.solve(`55${PUZZLE.slice(2)}`).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TrmError);
    expect(e).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, message: expect.stringMatching(/digit 5 is given twice in row 1/) });
  });

  test('a checkpoint that does not load fails create() with its error; close() rejects solves in flight', async () => {
    await expect(SolverPool.create(path.join(dir, 'missing.safetensors'), { workers: 1 })).rejects.toMatchObject({ name: 'TrmError' });
    const other = await SolverPool.create(file, { workers: 1 });
    const inFlight = other.solve(PUZZLE).catch((e: unknown) => e);
    await other.close();
    expect(await inFlight).toMatchObject({ code: ErrorCodes.DISPOSED });
    await expect(other.solve(PUZZLE)).rejects.toMatchObject({ code: ErrorCodes.DISPOSED });
  });
});
