/**
 * Progress reporting for long builds: a throttled callback plus periodic yields to the event
 * loop, so a build running in the main thread still lets timers, signals and I/O through.
 */

/** One progress report of a build stage. */
export interface BuildProgress {
  /** What is being done, e.g. "augment", "write train", "read train.csv". */
  stage: string;
  /** Units finished in this stage. */
  done: number;
  /** Units in this stage (0 when unknown). */
  total: number;
  /** Unit of `done` / `total`, e.g. "tasks", "groups", "rows". */
  unit: string;
}

/** Receives {@link BuildProgress} reports, at most every few hundred milliseconds plus once at each stage end. */
export type ProgressCallback = (progress: BuildProgress) => void;

const REPORT_INTERVAL_MS = 200;
const YIELD_INTERVAL_MS = 50;

/** Throttles progress reports and event-loop yields for one build. */
export class ProgressReporter {
  private stageName = '';
  private unit = '';
  private total = 0;
  private lastReport = 0;
  private lastYield = Date.now();

  constructor(private readonly callback?: ProgressCallback) {}

  /** Starts a stage and reports 0 of `total`. */
  start(stage: string, total: number, unit: string): void {
    this.stageName = stage;
    this.total = total;
    this.unit = unit;
    this.report(0);
  }

  /**
   * Records that `done` units are finished. Returns true when the caller should
   * `await reporter.pause()` (about every 50 ms). Costs one clock read: call it per item
   * (task, group, puzzle), not per token.
   */
  tick(done: number): boolean {
    const now = Date.now();
    if (now - this.lastReport >= REPORT_INTERVAL_MS) this.report(done, now);
    return now - this.lastYield >= YIELD_INTERVAL_MS;
  }

  /** Yields to the event loop once. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = Date.now();
  }

  /** Reports the end of the current stage. */
  finish(done: number = this.total): void {
    this.report(done);
  }

  private report(done: number, now = Date.now()): void {
    this.lastReport = now;
    this.callback?.({ stage: this.stageName, done, total: this.total, unit: this.unit });
  }
}
