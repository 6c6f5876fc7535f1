/**
 * Per-set evaluation metrics (docs/algorithm.md §6.1, §2.4): the loss head's metric *sums* of the final ACT
 * step are added up over every test batch of a set, summed across ranks, then divided by the
 * set's `count`. The reduction is a pure function so a multi-process evaluation can gather the
 * per-rank sums and call it once.
 */
import type { StepMetrics } from '../model';

/** The metric keys that are summed and then divided by `count`, in the official order. */
export const EVAL_METRIC_KEYS = ['accuracy', 'exact_accuracy', 'q_halt_accuracy', 'steps', 'lm_loss', 'q_halt_loss'] as const;

/** Metric sums of one set (the §2.4 sums added over batches; `q_continue_loss` only for HRM-style models). */
export type MetricSums = StepMetrics;

/**
 * Reduced metrics of one set: the keys of {@link StepMetrics}, where `count` is the number of
 * evaluated rows (halted, with a supervised label, padding excluded) and every other key is a mean
 * over them (`q_halt_loss` and `q_continue_loss` divided by count; see {@link evaluateExact} on
 * padding rows).
 */
export type SetMetrics = StepMetrics;

/** All-zero sums. */
export function emptyMetricSums(): MetricSums {
  const sums = { count: 0 } as MetricSums;
  for (const k of EVAL_METRIC_KEYS) sums[k] = 0;
  return sums;
}

/** Adds `b` into `a` (in place) and returns `a`. */
export function addMetricSums(a: MetricSums, b: Readonly<MetricSums>): MetricSums {
  a.count += b.count;
  for (const k of EVAL_METRIC_KEYS) a[k] += b[k];
  if (b.q_continue_loss !== undefined) a.q_continue_loss = (a.q_continue_loss ?? 0) + b.q_continue_loss;
  return a;
}

/**
 * Sums per-set metric sums over ranks (one record per rank; a single-process run passes one) and
 * divides every key by the set's count, as the official `evaluate` does. A set with count 0
 * (nothing evaluated) is divided by 1, so its means are 0 and its count says why.
 */
export function reduceSetMetrics(perRank: ReadonlyArray<Readonly<Record<string, MetricSums>>>): Record<string, SetMetrics> {
  const totals: Record<string, MetricSums> = {};
  for (const rank of perRank) {
    for (const [set, sums] of Object.entries(rank)) addMetricSums((totals[set] ??= emptyMetricSums()), sums);
  }
  const out: Record<string, SetMetrics> = {};
  for (const [set, t] of Object.entries(totals)) {
    const div = Math.max(t.count, 1);
    const m: SetMetrics = emptyMetricSums();
    m.count = t.count;
    for (const k of EVAL_METRIC_KEYS) m[k] = t[k] / div;
    if (t.q_continue_loss !== undefined) m.q_continue_loss = t.q_continue_loss / div;
    out[set] = m;
  }
  return out;
}
