/**
 * Admission control for solves: at most `maxConcurrent` run at once (the next one is refused
 * with 429 and `Retry-After` instead of queueing without bound), each gets `timeoutMs` before
 * the client is answered 504 and the solve is aborted through its AbortSignal (the native run stops
 * at its next supervision step), `abortAll()` ends every running solve with 503 at shutdown, and
 * `drain()` waits for every solve still running — including ones whose client already got its
 * answer — so shutdown frees the model only when nothing uses it.
 */
import { ServiceError, ServiceErrorCodes } from './errors';

/** Limits of {@link SolveSlots}. */
export interface SolveSlotsOptions {
  /** Most solves running at once. */
  maxConcurrent: number;
  /** Per-solve time limit in ms. */
  timeoutMs: number;
  /** Seconds a refused client is told to wait (the `Retry-After` header; default 1). */
  retryAfterSeconds?: number;
}

/** Counts, limits, times out and drains the solves of one server. */
export class SolveSlots {
  readonly maxConcurrent: number;
  readonly timeoutMs: number;
  readonly #retryAfter: number;
  readonly #running = new Set<Promise<unknown>>();
  /** How to stop each running solve now: answer its client with `err` and abort its work. */
  readonly #stops = new Set<(err: ServiceError) => void>();
  #closed = false;

  constructor(opts: SolveSlotsOptions) {
    this.maxConcurrent = opts.maxConcurrent;
    this.timeoutMs = opts.timeoutMs;
    this.#retryAfter = opts.retryAfterSeconds ?? 1;
  }

  /** Solves running now (a timed-out solve counts until it has really stopped). */
  get inFlight(): number {
    return this.#running.size;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `work` in a slot. Rejects with 503 SHUTTING_DOWN after {@link close}, 429 BUSY when
   * every slot is taken, and 504 TIMEOUT when `work` outlives the time limit (its signal is
   * aborted then). `clientGone` aborts the work early when the client disconnects.
   */
  run<T>(work: (signal: AbortSignal) => Promise<T>, clientGone?: AbortSignal): Promise<T> {
    if (this.#closed) {
      return Promise.reject(
        new ServiceError(ServiceErrorCodes.SHUTTING_DOWN, 503, 'the server is shutting down and takes no new solves', {
          Connection: 'close',
        }),
      );
    }
    if (this.#running.size >= this.maxConcurrent) {
      return Promise.reject(
        new ServiceError(ServiceErrorCodes.BUSY, 429, `${this.maxConcurrent} solves are already running; retry in ${this.#retryAfter} s`, {
          'Retry-After': String(this.#retryAfter),
        }),
      );
    }
    const controller = new AbortController();
    const onGone = (): void => controller.abort(clientGone?.reason);
    clientGone?.addEventListener('abort', onGone, { once: true });
    let stop: (err: ServiceError) => void = () => undefined;
    const stopped = new Promise<never>((_, reject) => {
      stop = (err) => {
        reject(err);
        controller.abort(err);
      };
    });
    stopped.catch(() => undefined);
    const timer = setTimeout(
      () => stop(new ServiceError(ServiceErrorCodes.TIMEOUT, 504, `the solve took longer than ${this.timeoutMs} ms and was aborted`)),
      this.timeoutMs,
    );
    this.#stops.add(stop);
    // The slot is held until the work itself settles, not merely until the client is answered.
    const task = Promise.resolve().then(() => work(controller.signal));
    const held: Promise<unknown> = task
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        clearTimeout(timer);
        clientGone?.removeEventListener('abort', onGone);
        this.#stops.delete(stop);
        this.#running.delete(held);
      });
    this.#running.add(held);
    return Promise.race([task, stopped]);
  }

  /** Answers every running solve 503 SHUTTING_DOWN and aborts its work (shutdown after the grace period). */
  abortAll(): void {
    const err = new ServiceError(ServiceErrorCodes.SHUTTING_DOWN, 503, 'the server is shutting down; this solve was aborted', {
      Connection: 'close',
    });
    for (const stop of [...this.#stops]) stop(err);
  }

  /** Refuses new solves from now on. */
  close(): void {
    this.#closed = true;
  }

  /** Resolves once no solve is running. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}
