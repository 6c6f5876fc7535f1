// Runs inside a worker_threads Worker (test/worker.test.ts): loads a saved model, runs it, and
// provokes a native error, reporting what it saw to the main thread.
import { parentPort, workerData } from 'worker_threads';
import { TRM, TrmError } from '../../lib';
import { TINY, tinyBatch } from './tiny';

async function main(): Promise<void> {
  const { file, rows } = workerData as { file: string; rows: number };
  const model = await TRM.load(file);
  try {
    const out = await model.run(tinyBatch(TINY, rows), { steps: 2 });
    const bad = tinyBatch(TINY, 1);
    bad.inputs.data[0] = 99; // outside the vocabulary: found by the native job
    const error = await model.run(bad).then(
      () => undefined,
      (e: unknown) => e,
    );
    parentPort!.postMessage({
      preds: Array.from(out.preds.data),
      qHalt: Array.from(out.qHalt.data),
      isTrmError: error instanceof TrmError,
      code: (error as TrmError | undefined)?.code,
      stack: (error as Error | undefined)?.stack,
    });
  } finally {
    model.dispose();
  }
}

main().catch((e: unknown) => parentPort!.postMessage({ failed: String((e as Error)?.stack ?? e) }));
