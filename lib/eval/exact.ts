/**
 * The exact-accuracy evaluation of docs/algorithm.md §6.1 (`evaluate` in pretrain.py) for one process: the
 * native test sampler and evaluation pass walk every test batch of every set in file order, from a
 * fresh carry through every ACT step on the model's device and dtype, and add up the final step's
 * metric sums per set; {@link reduceSetMetrics} divides them by count. The trainer runs the same
 * native pass at every evaluation.
 */
import { ErrorCodes, TrmError, check } from '../errors';
import type { TRM } from '../model';
import { native, type NativeEvalBatch, type NativeEvalEvent } from '../native';
import type { Tensor } from '../tensor';
import { EVAL_METRIC_KEYS, emptyMetricSums, reduceSetMetrics, type MetricSums, type SetMetrics } from './metrics';

/** What an evaluator sees of each batch: the batch's inputs and puzzle ids and the final step's outputs. */
export interface EvalBatchView {
  /** Name of the set the batch belongs to. */
  set: string;
  /** Real rows: a prefix of the batch; the rest is padding (blank puzzle id). */
  rows: number;
  /** [B, seqLen] int32 input tokens (padding rows included). */
  inputs: Tensor<'int32'>;
  /** [B] int32 puzzle ids (padding rows carry the blank id). */
  puzzleIdentifiers: Tensor<'int32'>;
  /**
   * Added to the ids of this batch's dataset path when several paths are loaded together (the id-offset
   * fix of the native loader; 0 for the first path): identifiers.json index = id − offset.
   */
  identifierOffset?: number;
  /** [B, seqLen] argmax predictions of the final step. */
  preds: Tensor<'int32'>;
  /** [B] halting logits of the final step. */
  qHalt: Tensor<'float32'>;
}

/** A consumer of evaluation batches, such as the ARC voting evaluator (docs/algorithm.md §6.2). */
export interface BatchEvaluator {
  /** Called once before an evaluation's first batch. */
  beginEval?(): void;
  /** Called with every batch, in order. */
  updateBatch(view: EvalBatchView): void;
}

/** Progress of {@link evaluateExact}. */
export interface ExactEvalProgress {
  /** Set being evaluated. */
  set: string;
  /** Examples of this set done. */
  done: number;
  /** Examples of this set. */
  total: number;
  /** Batches done over all sets. */
  batches: number;
  /** Batches over all sets. */
  totalBatches: number;
}

/** Options of {@link evaluateExact}. */
export interface EvaluateExactOptions {
  /** Rows per batch (the official `global_batch_size`; a short last window is padded). */
  globalBatchSize: number;
  /** Only these sets (default: every set of the test split's dataset.json). */
  setNames?: readonly string[];
  /** Called after every batch. */
  onProgress?: (p: ExactEvalProgress) => void;
  /** Evaluators fed with every batch (e.g. an {@link ArcEvaluator}). */
  evaluators?: readonly BatchEvaluator[];
  /** Stops between batches; the promise rejects with ERR_TRM_CANCELLED. */
  signal?: AbortSignal;
  /**
   * Leave the padding rows of a short last batch out of `q_halt_loss` too (default false: as the
   * official code, whose loss head sums the halting BCE over every row of the batch, padding
   * included with target "correct"; then q_halt_loss depends slightly on the batch size).
   */
  excludePaddingLoss?: boolean;
  /** This process's rank and the number of ranks: each evaluates its slice of every window (§5.8 test mode); sum the `sums` over ranks. */
  rank?: number;
  worldSize?: number;
}

/** What {@link evaluateExact} returns. */
export interface ExactEvalResult {
  /** Per set: count and the means (the official `{set: {accuracy, exact_accuracy, ...}}` plus count). */
  metrics: Record<string, SetMetrics>;
  /** Per set: the raw sums, for summing across ranks with {@link reduceSetMetrics}. */
  sums: Record<string, MetricSums>;
  /** Batches run. */
  batches: number;
}

/** The view of a native batch with outputs. */
export function batchView(b: NativeEvalBatch): EvalBatchView {
  return {
    set: b.set,
    rows: b.rows,
    inputs: b.inputs!,
    puzzleIdentifiers: b.puzzleIdentifiers!,
    identifierOffset: b.identifierOffset,
    preds: b.preds!,
    qHalt: b.qHalt!,
  };
}

/** Named sums from the native vector (q_continue_loss never occurs in evaluation mode). */
function metricSums(v: Record<string, number>): MetricSums {
  const sums = emptyMetricSums();
  sums.count = v.count;
  for (const k of EVAL_METRIC_KEYS) sums[k] = v[k];
  return sums;
}

/**
 * Evaluates `model` on the test split of `datasetDir` (docs/algorithm.md §6.1). Metrics count every
 * non-padding row (padding rows have no supervised label, so the loss head's `count` skips
 * them). As in the official code, `q_halt_loss` is the loss head's batch sum, which also holds
 * the padding rows of a short last batch (their target is "correct", since they have no label);
 * `lm_loss` gets nothing from them; `excludePaddingLoss` removes them. The model runs in
 * evaluation mode for the pass and is left in the mode it was in; it cannot train meanwhile.
 */
export async function evaluateExact(model: TRM, datasetDir: string, opts: EvaluateExactOptions): Promise<ExactEvalResult> {
  const b = opts.globalBatchSize;
  check(Number.isInteger(b) && b > 0, `globalBatchSize must be a positive integer, got ${b}`);
  const rank = opts.rank ?? 0;
  const worldSize = opts.worldSize ?? 1;
  check(
    Number.isInteger(worldSize) && worldSize > 0 && Number.isInteger(rank) && rank >= 0 && rank < worldSize && b % worldSize === 0,
    `evaluateExact: globalBatchSize (${b}) must be a multiple of worldSize (${worldSize}) and rank (${rank}) in [0, worldSize)`,
  );
  if (opts.signal?.aborted) throw cancelled();
  const evaluators = opts.evaluators ?? [];
  for (const e of evaluators) e.beginEval?.();

  const examples = new Map<string, number>();
  const done = new Map<string, number>();
  let totalBatches = 0;
  let batches = 0;
  let failure: unknown;
  const onEvent = (e: NativeEvalEvent): void => {
    if (failure !== undefined) return;
    try {
      if (e.kind === 'begin') {
        e.sets.forEach((set, i) => examples.set(set, e.setExamples[i]));
        for (const set of opts.setNames ?? e.sets) totalBatches += Math.ceil((examples.get(set) ?? 0) / b);
        return;
      }
      if (evaluators.length > 0) {
        const view = batchView(e);
        for (const ev of evaluators) ev.updateBatch(view);
      }
      batches += 1;
      done.set(e.set, (done.get(e.set) ?? 0) + e.effective);
      opts.onProgress?.({ set: e.set, done: done.get(e.set)!, total: examples.get(e.set) ?? 0, batches, totalBatches });
    } catch (err) {
      failure = err; // an evaluator or progress callback threw: stop the pass and report it
      job.cancel();
    }
  };
  const job = new (native().NativeEvaluation)(
    model.nativeHandle(),
    {
      data_paths: [datasetDir],
      global_batch_size: b,
      rank,
      world_size: worldSize,
      sets: opts.setNames ?? [],
      exclude_padding_loss: opts.excludePaddingLoss ?? false,
      outputs: evaluators.length > 0,
    },
    onEvent,
  );
  const abort = (): void => job.cancel();
  opts.signal?.addEventListener('abort', abort);
  try {
    const r = await job.start().catch((e: unknown) => {
      throw failure ?? e;
    });
    if (failure !== undefined) throw failure;
    const sums: Record<string, MetricSums> = {};
    for (const set of r.sets) sums[set] = metricSums(r.sums[set]);
    return { metrics: reduceSetMetrics([sums]), sums, batches: r.batches };
  } finally {
    opts.signal?.removeEventListener('abort', abort);
  }
}

function cancelled(): TrmError {
  return new TrmError(ErrorCodes.CANCELLED, 'evaluation cancelled by its AbortSignal');
}
