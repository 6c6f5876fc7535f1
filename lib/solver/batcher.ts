/**
 * Micro-batching for the {@link Solver}: concurrent requests queue their rows, and the queue is
 * flushed into ONE `model.run` call (the whole ACT loop on a native thread) as soon as `maxBatch`
 * rows wait or `maxWaitMs` after the first one arrived. One run is in flight at a time; rows that
 * arrive meanwhile go out together when it returns. A request larger than `maxBatch` (an ARC task
 * with hundreds of augmented versions) is spread over several runs. If a run that mixes requests
 * fails, each request is re-run alone, so one bad request never fails the others. A run whose
 * requests have all been cancelled (or the batcher closed) is cancelled natively too.
 */
import { ErrorCodes, TrmError } from '../errors';
import type { Batch, RunOptions, RunOutput } from '../model';

/** One supervision step of one row, kept when a trace was asked for. */
export interface RowStep {
  /** argmax prediction after this step, [seqLen]. */
  preds: Int32Array;
  /** Halting logit after this step. */
  qHalt: number;
}

/** The answer for one row. */
export interface RowResult {
  /** Final prediction, [seqLen] token ids. */
  preds: Int32Array;
  /** Final halting logit (confidence = sigmoid of it). */
  qHalt: number;
  /** Supervision steps the row ran (with early halting: the step it halted at). */
  steps: number;
  /** The answer after every step 1..steps (only when recorded). */
  trace?: RowStep[];
}

/** The row's answer after step `k` (0-based) of a recorded run: a row that halted before keeps its answer. */
export function answerAfterStep(row: RowResult, k: number): RowStep {
  const trace = row.trace ?? [];
  return trace.length > 0 ? trace[Math.min(k, trace.length - 1)] : { preds: row.preds, qHalt: row.qHalt };
}

/** Runs a batch through the ACT loop (model.run). */
export type RunBatch = (batch: Batch, opts: RunOptions) => Promise<RunOutput>;

/** Options of a {@link MicroBatcher}. */
export interface MicroBatcherOptions {
  /** Tokens per row. */
  seqLen: number;
  /** Most rows per run. */
  maxBatch: number;
  /** Longest wait for more rows after the first one arrived, in ms. */
  maxWaitMs: number;
  /** Halt each row early instead of after haltMaxSteps: at its first q_halt > 0, or once solved by `haltCheck`. */
  earlyHalt: boolean;
  /** With earlyHalt: the puzzle rule check that decides when a row is done (see RunOptions.haltCheck). */
  haltCheck?: 'sudoku' | 'maze';
}

/** Counters of a {@link MicroBatcher}. */
export interface BatcherStats {
  /** model.run calls made. */
  runs: number;
  /** Rows run. */
  rows: number;
  /** Largest batch run. */
  largestBatch: number;
}

interface Request {
  inputs: Int32Array;
  ids: Int32Array;
  n: number;
  /** Rows handed to a run so far. */
  next: number;
  /** Rows answered so far. */
  done: number;
  results: RowResult[];
  record: boolean;
  settled: boolean;
  resolve: (rows: RowResult[]) => void;
  reject: (e: unknown) => void;
  detach: () => void;
}

interface Slice {
  req: Request;
  from: number;
  count: number;
}

/** Queues rows of concurrent requests and answers each from shared native runs. */
export class MicroBatcher {
  readonly #run: RunBatch;
  readonly #o: MicroBatcherOptions;
  readonly #queue: Request[] = [];
  readonly #active = new Set<Request>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight = false;
  /** The requests of the native run in progress, and how to cancel it. */
  #running: { reqs: Request[]; abort: AbortController } | undefined;
  #closed: TrmError | undefined;
  readonly #stats: BatcherStats = { runs: 0, rows: 0, largestBatch: 0 };

  constructor(run: RunBatch, opts: MicroBatcherOptions) {
    this.#run = run;
    this.#o = opts;
  }

  /** Counters (a copy). */
  get stats(): BatcherStats {
    return { ...this.#stats };
  }

  /** Requests not yet answered. */
  get pending(): number {
    return this.#active.size;
  }

  /**
   * Queues `n` rows (`inputs` [n·seqLen], `ids` [n]) and resolves with one result per row, in
   * order. `record` keeps every step's prediction. An aborted `signal` rejects with ERR_TRM_CANCELLED.
   */
  submit(inputs: Int32Array, ids: Int32Array, opts: { record?: boolean; signal?: AbortSignal } = {}): Promise<RowResult[]> {
    if (this.#closed) return Promise.reject(this.#closed);
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<RowResult[]>((resolve, reject) => {
      const req: Request = {
        inputs,
        ids,
        n: ids.length,
        next: 0,
        done: 0,
        results: new Array<RowResult>(ids.length),
        record: opts.record ?? false,
        settled: false,
        resolve,
        reject,
        detach: () => undefined,
      };
      if (signal) {
        const onAbort = (): void => this.#settle(req, cancelled());
        signal.addEventListener('abort', onAbort, { once: true });
        req.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.#active.add(req);
      this.#queue.push(req);
      this.#schedule();
    });
  }

  /** Rejects every unanswered request with `error` and refuses new ones. */
  close(error: TrmError): void {
    this.#closed = error;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const req of [...this.#active]) this.#settle(req, error);
    this.#queue.length = 0;
  }

  #queuedRows(): number {
    let n = 0;
    for (const r of this.#queue) if (!r.settled) n += r.n - r.next;
    return n;
  }

  #schedule(): void {
    if (this.#inFlight || this.#closed) return; // the running batch flushes the queue when it returns
    if (this.#queuedRows() >= this.#o.maxBatch) {
      void this.#flush();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#flush();
      }, this.#o.maxWaitMs);
    }
  }

  #take(): Slice[] {
    const slices: Slice[] = [];
    let rows = 0;
    while (this.#queue.length > 0 && rows < this.#o.maxBatch) {
      const req = this.#queue[0];
      if (req.settled) {
        this.#queue.shift();
        continue;
      }
      const count = Math.min(req.n - req.next, this.#o.maxBatch - rows);
      slices.push({ req, from: req.next, count });
      req.next += count;
      rows += count;
      if (req.next === req.n) this.#queue.shift();
    }
    return slices;
  }

  async #flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#inFlight || this.#closed) return;
    const slices = this.#take();
    if (slices.length === 0) return;
    this.#inFlight = true;
    try {
      await this.#runIsolated(slices);
    } finally {
      this.#inFlight = false;
      if (this.#queuedRows() > 0 && !this.#closed) void this.#flush();
    }
  }

  /** Runs the slices together; if that fails and several requests share the run, each runs alone. */
  async #runIsolated(slices: Slice[]): Promise<void> {
    try {
      await this.#runSlices(slices);
    } catch (e) {
      const reqs = [...new Set(slices.map((s) => s.req))];
      if (reqs.length === 1) {
        this.#settle(reqs[0], e);
        return;
      }
      for (const req of reqs) {
        if (req.settled) continue;
        try {
          await this.#runSlices(slices.filter((s) => s.req === req));
        } catch (err) {
          this.#settle(req, err);
        }
      }
    }
  }

  async #runSlices(slices: Slice[]): Promise<void> {
    const live = slices.filter((s) => !s.req.settled);
    if (live.length === 0) return;
    const S = this.#o.seqLen;
    const B = live.reduce((n, s) => n + s.count, 0);
    const inputs = new Int32Array(B * S);
    const ids = new Int32Array(B);
    let row = 0;
    for (const s of live) {
      inputs.set(s.req.inputs.subarray(s.from * S, (s.from + s.count) * S), row * S);
      ids.set(s.req.ids.subarray(s.from, s.from + s.count), row);
      row += s.count;
    }
    const record = live.some((s) => s.req.record);
    const abort = new AbortController();
    this.#running = { reqs: live.map((s) => s.req), abort };
    let out: RunOutput;
    try {
      out = await this.#run(
        { inputs: { dtype: 'int32', shape: [B, S], data: inputs }, puzzleIdentifiers: { dtype: 'int32', shape: [B], data: ids } },
        {
          logits: false,
          trace: record,
          earlyHalt: this.#o.earlyHalt,
          haltCheck: this.#o.earlyHalt ? this.#o.haltCheck : undefined,
          signal: abort.signal,
        },
      );
    } finally {
      this.#running = undefined;
    }
    this.#stats.runs += 1;
    this.#stats.rows += B;
    this.#stats.largestBatch = Math.max(this.#stats.largestBatch, B);
    row = 0;
    for (const s of live) {
      for (let i = 0; i < s.count; i++, row++) s.req.results[s.from + i] = rowResult(out, row, S, this.#o.earlyHalt, s.req.record);
      s.req.done += s.count;
      if (s.req.done === s.req.n) this.#settle(s.req, undefined);
    }
  }

  #settle(req: Request, error: unknown): void {
    if (req.settled) return;
    req.settled = true;
    req.detach();
    this.#active.delete(req);
    if (error === undefined) req.resolve(req.results);
    else req.reject(error);
    // Nobody waits for the run in progress any more: stop it natively.
    if (this.#running?.reqs.every((r) => r.settled)) this.#running.abort.abort();
  }
}

function cancelled(): TrmError {
  return new TrmError(ErrorCodes.CANCELLED, 'solve cancelled by its AbortSignal');
}

/** Row `b`'s answer from the run's output; with `record`, its answer after each of its steps. */
function rowResult(out: RunOutput, b: number, S: number, earlyHalt: boolean, record: boolean): RowResult {
  const result: RowResult = { preds: out.preds.data.slice(b * S, (b + 1) * S), qHalt: out.qHalt.data[b], steps: out.steps.data[b] };
  if (record && out.trace) {
    // Early halting: the trace up to the row's halting step. Parity: every step of the run.
    const n = earlyHalt ? result.steps : out.stepsRun;
    result.trace = out.trace.slice(0, n).map((o) => ({ preds: o.preds.data.slice(b * S, (b + 1) * S), qHalt: o.qHalt.data[b] }));
  }
  return result;
}
