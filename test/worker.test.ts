/**
 * The library in worker_threads: each thread loads its own addon instance, so a Worker can load and
 * run a model and receive TrmErrors while the main thread does the same, before and after the
 * Worker exits. Also: an error found later on a native thread carries the stack of the call that
 * started the job.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { TRM, TrmError } from '../lib';
import { TINY, tinyBatch } from './helpers/tiny';

interface WorkerReport {
  preds: number[];
  qHalt: number[];
  isTrmError: boolean;
  code?: string;
  stack?: string;
  failed?: string;
}

function startWorker(file: string, rows: number): { report: Promise<WorkerReport>; exited: Promise<number> } {
  const job = path.join(__dirname, 'helpers', 'worker-job.ts');
  const w = new Worker(`require('ts-node').register({ transpileOnly: true }); require(${JSON.stringify(job)});`, {
    eval: true,
    workerData: { file, rows },
  });
  const report = new Promise<WorkerReport>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  const exited = new Promise<number>((resolve) => w.once('exit', resolve));
  return { report, exited };
}

/** A batch with a token outside the vocabulary (the native job finds it, not TypeScript). */
function badBatch(): ReturnType<typeof tinyBatch> {
  const b = tinyBatch(TINY, 1);
  b.inputs.data[0] = 99;
  return b;
}

describe('worker_threads', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-worker-'));
    file = path.join(dir, 'tiny.safetensors');
    const m = TRM.create(TINY, {}, { seed: 9 });
    await m.save(file);
    m.dispose();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a Worker loads, runs and gets TrmErrors while the main thread does too, and after it exits', async () => {
    const main = await TRM.load(file);
    try {
      const rows = 3;
      const worker = startWorker(file, rows);
      // The main thread keeps using the addon while the worker loads and runs its own copy.
      let mainRuns = 0;
      let reported = false;
      const done = worker.report.finally(() => (reported = true));
      while (!reported) {
        await main.run(tinyBatch(TINY, rows), { steps: 2 });
        await expect(main.run(badBatch())).rejects.toBeInstanceOf(TrmError);
        mainRuns++;
      }
      const r = await done;
      expect(r.failed).toBeUndefined();
      expect(mainRuns).toBeGreaterThan(0);
      const mine = await main.run(tinyBatch(TINY, rows), { steps: 2 });
      expect(r.preds).toEqual(Array.from(mine.preds.data));
      r.qHalt.forEach((q, i) => expect(q).toBeCloseTo(mine.qHalt.data[i], 5));
      expect(r).toMatchObject({ isTrmError: true, code: 'ERR_TRM_TOKEN_RANGE' });
      expect(r.stack).toContain('worker-job.ts');
      expect(await worker.exited).toBe(0);
      // The worker's environment is gone; the main thread's classes are still its own.
      const again = await TRM.createAsync(TINY, {}, { seed: 9 });
      again.dispose();
      await expect(main.run(badBatch())).rejects.toBeInstanceOf(TrmError);
      // A second worker starts from a clean slate.
      const second = startWorker(file, 1);
      expect(await second.report).toMatchObject({ isTrmError: true, code: 'ERR_TRM_TOKEN_RANGE' });
      expect(await second.exited).toBe(0);
    } finally {
      main.dispose();
    }
  });

  test('an asynchronous native error carries the stack of the call that started it', async () => {
    const m = TRM.create(TINY);
    try {
      const err = await m.run(badBatch()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TrmError);
      const stack = (err as Error).stack!;
      expect(stack.startsWith(`TrmError: ${(err as Error).message}`)).toBe(true);
      expect(stack).toContain('worker.test.ts');
    } finally {
      m.dispose();
    }
  });
});
