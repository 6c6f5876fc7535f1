/**
 * `SolverPool`: solvers in `worker_threads`, for a host service that wants the model's work and
 * the answer checks off its own thread. Each worker loads its own {@link Solver} from the
 * checkpoint (micro-batching inside it as usual); a solve goes to the worker with the fewest
 * solves in flight. Back-pressure: past `maxPending` solves in flight the pool refuses at once with
 * ERR_TRM_BUSY rather than queueing without bound. Cancellation: an aborted `signal` rejects the
 * solve with ERR_TRM_CANCELLED at once and cancels its work in the worker (the native run stops
 * at its next supervision step once no request waits for it).
 *
 *     const pool = await SolverPool.create('demo/sudoku-demo.safetensors', { kind: 'sudoku', workers: 2 });
 *     const r = await pool.solve(puzzle, { signal: AbortSignal.timeout(5000) });
 *     await pool.close();
 *
 * LibTorch's intra-op thread pool is process-wide: with several workers, `threads` (shared by all)
 * around cores / workers keeps them from oversubscribing the CPU.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { ModelCard } from '../card';
import { ErrorCodes, TrmError, check, type ErrorCode } from '../errors';
import type { SolveOptions, SolverInputs, SolverKind, SolverLoadOptions, SolverResults } from './index';

/** Messages to a worker. */
export type PoolRequest =
  { kind: 'solve'; id: number; input: unknown; recordSteps?: boolean } | { kind: 'cancel'; id: number } | { kind: 'close' };

/** Messages from a worker. */
export type PoolReply =
  | { kind: 'ready'; solverKind: SolverKind; card?: ModelCard }
  | { kind: 'failed'; error: { code?: string; message: string } }
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: { code?: string; message: string } };

/** Options of {@link SolverPool.create}: those of `Solver.load`, plus the pool's. */
export interface SolverPoolOptions extends SolverLoadOptions {
  /** Worker threads, each with its own model (default 2). */
  workers?: number;
  /** Most solves in flight over the whole pool; more are refused with ERR_TRM_BUSY (default 64 per worker). */
  maxPending?: number;
}

interface Pending {
  worker: PoolWorker;
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
  detach: () => void;
}

interface PoolWorker {
  thread: Worker;
  inFlight: number;
}

function toTrmError(e: { code?: string; message: string }): TrmError {
  return new TrmError((e.code ?? ErrorCodes.INTERNAL) as ErrorCode, e.message);
}

/** Starts `pool-worker` in a thread: the compiled .js beside this file, or the .ts through ts-node (tests, examples). */
function startWorker(checkpoint: string, options: SolverLoadOptions): Worker {
  const workerData = { checkpoint, options };
  if (__filename.endsWith('.ts')) {
    const file = path.join(__dirname, 'pool-worker.ts');
    return new Worker(`require('ts-node').register({ transpileOnly: true }); require(${JSON.stringify(file)});`, {
      eval: true,
      workerData,
    });
  }
  return new Worker(path.join(__dirname, 'pool-worker.js'), { workerData });
}

/** Solvers in worker threads behind one `solve()`; see the module comment. */
export class SolverPool<K extends SolverKind = SolverKind> {
  /** The puzzle family the workers' solvers handle. */
  readonly kind: K;
  /** The checkpoint's model card, if it has one. */
  readonly card: ModelCard | undefined;
  /** Most solves in flight before the pool refuses with ERR_TRM_BUSY. */
  readonly maxPending: number;
  readonly #workers: PoolWorker[];
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;

  private constructor(workers: PoolWorker[], kind: K, card: ModelCard | undefined, maxPending: number) {
    this.#workers = workers;
    this.kind = kind;
    this.card = card;
    this.maxPending = maxPending;
    for (const w of workers) {
      w.thread.on('message', (m: PoolReply) => this.#onReply(m));
      w.thread.on('error', (e) => this.#failWorker(w, e));
      w.thread.on('exit', () => this.#failWorker(w, new TrmError(ErrorCodes.DISPOSED, 'the solver worker exited')));
    }
  }

  /** Starts `workers` threads, each loading the checkpoint; resolves once all are ready. */
  static async create<K extends SolverKind = SolverKind>(
    checkpoint: string,
    opts: SolverPoolOptions & { kind?: K } = {},
  ): Promise<SolverPool<K>> {
    const { workers: count = 2, maxPending, ...load } = opts;
    check(Number.isInteger(count) && count >= 1, `workers must be a positive integer, got ${count}`);
    const limit = maxPending ?? 64 * count;
    check(Number.isInteger(limit) && limit >= 1, `maxPending must be a positive integer, got ${maxPending}`);
    const threads = Array.from({ length: count }, () => startWorker(checkpoint, load));
    try {
      const ready = await Promise.all(
        threads.map(
          (t) =>
            new Promise<Extract<PoolReply, { kind: 'ready' }>>((resolve, reject) => {
              t.once('message', (m: PoolReply) =>
                m.kind === 'ready'
                  ? resolve(m)
                  : reject(
                      m.kind === 'failed'
                        ? toTrmError(m.error)
                        : new TrmError(ErrorCodes.INTERNAL, `unexpected ${m.kind} from a starting worker`),
                    ),
              );
              t.once('error', reject);
            }),
        ),
      );
      return new SolverPool<K>(
        threads.map((thread) => ({ thread, inFlight: 0 })),
        ready[0].solverKind as K,
        ready[0].card,
        limit,
      );
    } catch (e) {
      await Promise.all(threads.map((t) => t.terminate()));
      throw e;
    }
  }

  /** Solves in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Solves one puzzle in the least busy worker. Rejects with ERR_TRM_BUSY when `maxPending`
   * solves are in flight, ERR_TRM_CANCELLED when `signal` aborts, ERR_TRM_DISPOSED after
   * {@link close}, and with the solver's own errors (e.g. ERR_TRM_INVALID_ARGUMENT).
   */
  solve(input: SolverInputs[K], opts: SolveOptions = {}): Promise<SolverResults[K]> {
    if (this.#closed) return Promise.reject(new TrmError(ErrorCodes.DISPOSED, 'this SolverPool was closed'));
    if (opts.signal?.aborted) return Promise.reject(new TrmError(ErrorCodes.CANCELLED, 'solve cancelled by its AbortSignal'));
    if (this.#pending.size >= this.maxPending) {
      return Promise.reject(
        new TrmError(ErrorCodes.BUSY, `${this.#pending.size} solves are in flight, the pool's maxPending; retry later`),
      );
    }
    const worker = this.#workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.#nextId++;
    return new Promise<SolverResults[K]>((resolve, reject) => {
      const signal = opts.signal;
      const onAbort = (): void => {
        this.#settle(id, new TrmError(ErrorCodes.CANCELLED, 'solve cancelled by its AbortSignal'));
        worker.thread.postMessage({ kind: 'cancel', id } satisfies PoolRequest);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        worker,
        resolve: resolve as (r: unknown) => void,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      });
      worker.inFlight++;
      worker.thread.postMessage({ kind: 'solve', id, input, recordSteps: opts.recordSteps } satisfies PoolRequest);
    });
  }

  #onReply(m: PoolReply): void {
    if (m.kind === 'result') this.#settle(m.id, undefined, m.result);
    else if (m.kind === 'error') this.#settle(m.id, toTrmError(m.error));
  }

  #settle(id: number, error: unknown, result?: unknown): void {
    const p = this.#pending.get(id);
    if (!p) return; // already cancelled: the worker's late answer is dropped
    this.#pending.delete(id);
    p.worker.inFlight--;
    p.detach();
    if (error === undefined) p.resolve(result);
    else p.reject(error);
  }

  #failWorker(w: PoolWorker, e: unknown): void {
    for (const [id, p] of [...this.#pending])
      if (p.worker === w)
        this.#settle(
          id,
          e instanceof TrmError ? e : new TrmError(ErrorCodes.INTERNAL, `a solver worker failed: ${String((e as Error)?.message ?? e)}`),
        );
    w.inFlight = Number.POSITIVE_INFINITY; // never chosen again
  }

  /** Rejects every solve in flight with ERR_TRM_DISPOSED, frees the workers' models and ends the threads. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#pending.keys()])
      this.#settle(id, new TrmError(ErrorCodes.DISPOSED, 'the SolverPool was closed before this solve was answered'));
    await Promise.all(
      this.#workers.map((w) => {
        const exited = new Promise<void>((resolve) => w.thread.once('exit', () => resolve()));
        w.thread.postMessage({ kind: 'close' } satisfies PoolRequest);
        return exited;
      }),
    );
  }
}
