/**
 * Cancellation reaches the native loop: an AbortSignal stops `TRM.run` between supervision steps
 * and inside a long step between recursion cycles; a Solver stops a run nobody waits for; the
 * HTTP service cancels the work of a timed-out request; `trm serve` exits promptly on SIGTERM
 * with a solve in flight. Each run here would take seconds to minutes if it were not stopped, and
 * the native error says how many steps ran, so "stopped early" is checked on the count, not a clock.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TRM, type ModelConfig, type RunOutput } from '../lib';
import { Solver } from '../lib/solver';
import { createServer } from '../lib/service/server';
import { TINY, expectCode, tinyBatch } from './helpers/tiny';

/** 1000 supervision steps of 3 × 9 recursion cycles: seconds on any CPU, so an abort lands while the run is going. */
const LONG: Partial<ModelConfig> = { ...TINY, haltMaxSteps: 1000, hCycles: 3, lCycles: 8 };
const SUDOKU_LONG: Partial<ModelConfig> = { ...LONG, seqLen: 81, vocabSize: 11, numPuzzleIdentifiers: 1 };
const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';

/** The steps a cancelled run reports having executed, and of how many. */
async function cancelledAfter(run: Promise<unknown>): Promise<{ done: number; of: number }> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'ERR_TRM_CANCELLED' });
  const m = /after (\d+) of (\d+) supervision steps/.exec((err as Error).message);
  expect(m).not.toBeNull();
  return { done: Number(m![1]), of: Number(m![2]) };
}

function abortAfter(ms: number): AbortSignal {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), ms);
  return ac.signal;
}

/** Captures the promise of every model.run the solver makes. */
function spyRuns(model: TRM): Promise<RunOutput>[] {
  const runs: Promise<RunOutput>[] = [];
  const real = model.run.bind(model);
  jest.spyOn(model, 'run').mockImplementation((b, o) => {
    const p = real(b, o);
    runs.push(p);
    p.catch(() => undefined);
    return p;
  });
  return runs;
}

describe('TRM.run with an AbortSignal', () => {
  test('stops the native loop between supervision steps, and the model works afterwards', async () => {
    const m = TRM.create(LONG, {}, { seed: 1 });
    try {
      const { done, of } = await cancelledAfter(m.run(tinyBatch(LONG, 2), { signal: abortAfter(100) }));
      expect(of).toBe(1000);
      expect(done).toBeLessThan(of);
      expect(m.training).toBe(false);
      const out = await m.run(tinyBatch(LONG, 2), { steps: 2 });
      expect(out.stepsRun).toBe(2);
    } finally {
      m.dispose();
    }
  });

  test('stops a long supervision step at its next recursion cycle', async () => {
    // One step of 200 × 200 recursion cycles: far longer than the 100 ms before the abort.
    const m = TRM.create({ ...TINY, haltMaxSteps: 1, hCycles: 200, lCycles: 200 }, {}, { seed: 1 });
    try {
      expect(await cancelledAfter(m.run(tinyBatch(TINY, 1), { signal: abortAfter(100) }))).toEqual({ done: 0, of: 1 });
    } finally {
      m.dispose();
    }
  });

  test('an aborted signal rejects before any work; a signal must be an AbortSignal', async () => {
    const m = TRM.create(TINY);
    try {
      const ac = new AbortController();
      ac.abort();
      await expectCode(m.run(tinyBatch(TINY, 1), { signal: ac.signal }), 'ERR_TRM_CANCELLED');
      await expectCode(m.run(tinyBatch(TINY, 1), { signal: {} as AbortSignal }), 'ERR_TRM_INVALID_ARGUMENT');
    } finally {
      m.dispose();
    }
  });
});

describe('Solver', () => {
  test('stops the native run once its only request is cancelled', async () => {
    const model = TRM.create(SUDOKU_LONG, {}, { seed: 2 });
    const runs = spyRuns(model);
    const solver = Solver.fromModel(model, { kind: 'sudoku' });
    try {
      await expectCode(solver.solve(PUZZLE, { signal: abortAfter(100) }), 'ERR_TRM_CANCELLED');
      expect(runs).toHaveLength(1);
      const { done, of } = await cancelledAfter(runs[0]);
      expect(done).toBeLessThan(of);
    } finally {
      solver.dispose();
    }
  });

  test('dispose stops the run in flight', async () => {
    const model = TRM.create(SUDOKU_LONG, {}, { seed: 2 });
    const runs = spyRuns(model);
    const solver = Solver.fromModel(model, { kind: 'sudoku' });
    const pending = solver.solve(PUZZLE);
    await new Promise((r) => setTimeout(r, 100));
    solver.dispose();
    await expectCode(pending, 'ERR_TRM_DISPOSED');
    const { done, of } = await cancelledAfter(runs[0]);
    expect(done).toBeLessThan(of);
  });
});

describe('HTTP service', () => {
  test('a timed-out request is answered 504 and its native run is cancelled', async () => {
    const model = TRM.create(SUDOKU_LONG, {}, { seed: 2 });
    const runs = spyRuns(model);
    const app = createServer({ solver: Solver.fromModel(model, { kind: 'sudoku' }), requestTimeoutMs: 300 });
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${url}/solve/sudoku`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ puzzle: PUZZLE }),
      });
      expect(res.status).toBe(504);
      const { done, of } = await cancelledAfter(runs[0]);
      expect(done).toBeLessThan(of);
    } finally {
      await app.close();
    }
  });
});

describe('trm serve', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-cancel-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('SIGTERM with a solve in flight: the solve is answered 503 and the process exits 0 within the bound', async () => {
    const file = path.join(dir, 'long.safetensors');
    const model = TRM.create({ ...SUDOKU_LONG, hCycles: 8 }, {}, { seed: 2 });
    await model.save(file);
    model.dispose();
    const trm = path.join(__dirname, '..', 'bin', 'trm.js');
    const child = spawn(
      process.execPath,
      [trm, 'serve', '--checkpoint', file, '--port', '0', '--shutdown-grace', '200', '--timeout', '600000'],
      {
        env: { ...process.env, TRM_CLI_FROM_SOURCE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /at (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`trm serve exited (${code}) before listening: ${out}`)));
      });
      const solve = fetch(`${url}/solve/sudoku`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ puzzle: PUZZLE }),
      });
      for (let i = 0; i < 200; i++) {
        const h = (await (await fetch(`${url}/health`)).json()) as { inFlight: number };
        if (h.inFlight === 1) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGTERM');
      // The solve alone would take minutes; the server gives it 200 ms, aborts it and exits.
      // Without cancellation it would run on, and the 5 s bound in serve.ts would exit with 1.
      const res = await solve;
      expect(res.status).toBe(503);
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
