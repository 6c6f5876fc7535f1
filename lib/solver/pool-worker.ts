/**
 * One thread of a {@link SolverPool}: loads its own Solver (objects cannot cross threads) and
 * answers solve requests from the pool, cancelling the ones the pool cancels.
 */
import { parentPort, workerData } from 'worker_threads';
import { TrmError } from '../errors';
import { Solver, type SolverInputs, type SolverKind, type SolverLoadOptions } from './index';
import type { PoolReply, PoolRequest } from './pool';

async function main(): Promise<void> {
  const port = parentPort!;
  const { checkpoint, options } = workerData as { checkpoint: string; options: SolverLoadOptions };
  let solver: Solver;
  try {
    solver = await Solver.load(checkpoint, options);
  } catch (e) {
    port.postMessage({ kind: 'failed', error: errorOf(e) } satisfies PoolReply);
    return;
  }
  const running = new Map<number, AbortController>();
  port.on('message', (m: PoolRequest) => {
    if (m.kind === 'cancel') {
      running.get(m.id)?.abort();
      return;
    }
    if (m.kind === 'close') {
      solver.dispose();
      port.close();
      return;
    }
    const abort = new AbortController();
    running.set(m.id, abort);
    solver
      .solve(m.input as SolverInputs[SolverKind], { recordSteps: m.recordSteps, signal: abort.signal })
      .then(
        (result) => port.postMessage({ kind: 'result', id: m.id, result } satisfies PoolReply),
        (e: unknown) => port.postMessage({ kind: 'error', id: m.id, error: errorOf(e) } satisfies PoolReply),
      )
      .finally(() => running.delete(m.id));
  });
  port.postMessage({ kind: 'ready', solverKind: solver.kind, card: solver.card } satisfies PoolReply);
}

/** An error as structured data: a TrmError keeps its code across the thread boundary. */
function errorOf(e: unknown): { code?: string; message: string } {
  return e instanceof TrmError ? { code: e.code, message: e.message } : { message: String((e as Error)?.message ?? e) };
}

void main();
