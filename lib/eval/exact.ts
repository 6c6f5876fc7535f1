/**
 * The exact-accuracy evaluation loop of SPEC.md §6.1 (`evaluate` in pretrain.py), single process:
 * every test batch of every set, in file order, from a fresh carry through every ACT step in one
 * native call (`model.run`), in evaluation mode, so each batch runs haltMaxSteps steps (§1.11).
 * The final step's metric sums are added per set and reduced by {@link reduceSetMetrics}.
 */
import { ErrorCodes, TrmError, check } from '../errors';
import { readDataset, type DatasetSplit } from '../data/format';
import type { RunOutput, TRM } from '../model';
import type { Tensor } from '../tensor';
import { setExampleCount, testBatches, type TestBatch } from './batches';
import { addMetricSums, emptyMetricSums, reduceSetMetrics, type MetricSums, type SetMetrics } from './metrics';

/** What an evaluator sees of each batch: the batch's inputs and puzzle ids and the final step's outputs. */
export interface EvalBatchView {
  /** Name of the set the batch belongs to. */
  set: string;
  /** [B, seqLen] int32 input tokens (padding rows included). */
  inputs: Tensor<'int32'>;
  /** [B] int32 puzzle ids (padding rows carry the blank id). */
  puzzleIdentifiers: Tensor<'int32'>;
  /** [B, seqLen] argmax predictions of the final step. */
  preds: Tensor<'int32'>;
  /** [B] halting logits of the final step. */
  qHalt: Tensor<'float32'>;
}

/** A consumer of evaluation batches, such as the ARC voting evaluator (SPEC.md §6.2). */
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
  /** Split directory name (default 'test'). */
  split?: string;
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

function checkCompatible(model: TRM, split: DatasetSplit): void {
  const m = split.metadata;
  const c = model.config;
  const where = `${split.dir}/dataset.json`;
  if (m.seqLen !== c.seqLen) {
    throw new TrmError(ErrorCodes.CONFIG, `${where} has seq_len ${m.seqLen} but the model was built for seqLen ${c.seqLen}; evaluate the model on the dataset it was trained for`);
  }
  if (m.vocabSize > c.vocabSize) {
    throw new TrmError(ErrorCodes.CONFIG, `${where} has vocab_size ${m.vocabSize} but the model only knows ${c.vocabSize} tokens`);
  }
  if (c.puzzleEmbNdim > 0 && m.numPuzzleIdentifiers > c.numPuzzleIdentifiers) {
    throw new TrmError(ErrorCodes.CONFIG, `${where} has num_puzzle_identifiers ${m.numPuzzleIdentifiers} but the model's puzzle table has ${c.numPuzzleIdentifiers} rows; was it trained on another build of this dataset?`);
  }
}

/** BCE-with-logits of the padding rows (index ≥ rows) against target 1: Σ softplus(−q), as the loss head added it. */
function paddingQHaltLoss(qHalt: Float32Array, rows: number): number {
  let sum = 0;
  for (let i = rows; i < qHalt.length; i++) {
    const x = -qHalt[i];
    sum += x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  }
  return sum;
}

function cancelled(): TrmError {
  return new TrmError(ErrorCodes.CANCELLED, 'evaluation cancelled by its AbortSignal');
}

/**
 * Evaluates `model` on the test split of `datasetDir` (SPEC.md §6.1). Metrics count every
 * non-padding row (padding rows have no supervised label, so the loss head's `count` skips
 * them). As in the official code, `q_halt_loss` is the loss head's batch sum, which also holds
 * the padding rows of a short last batch (their target is "correct", since they have no label);
 * `lm_loss` gets nothing from them; `excludePaddingLoss` removes them. The model is switched to evaluation mode for each batch by
 * `model.run` and left in the mode it was in.
 */
export async function evaluateExact(model: TRM, datasetDir: string, opts: EvaluateExactOptions): Promise<ExactEvalResult> {
  const b = opts.globalBatchSize;
  check(Number.isInteger(b) && b > 0, `globalBatchSize must be a positive integer, got ${b}`);
  const split = readDataset(datasetDir, opts.split ?? 'test');
  checkCompatible(model, split);
  const names = opts.setNames ?? split.metadata.sets;
  for (const name of names) {
    check(name in split.sets, `set "${name}" is not in ${split.dir}/dataset.json (its sets are ${split.metadata.sets.join(', ')})`);
  }
  const evaluators = opts.evaluators ?? [];
  for (const e of evaluators) e.beginEval?.();

  const totalBatches = names.reduce((n, s) => n + Math.ceil(setExampleCount(split.sets[s]) / b), 0);
  const sums: Record<string, MetricSums> = {};
  let batches = 0;
  for (const set of names) {
    const arrays = split.sets[set];
    const total = setExampleCount(arrays);
    sums[set] = emptyMetricSums();
    // Run batch k+1 on the native thread while batch k's outputs are handed to the evaluators.
    let pending: { batch: TestBatch; out: Promise<RunOutput> } | undefined;
    const finish = async (p: { batch: TestBatch; out: Promise<RunOutput> }): Promise<void> => {
      const last = await p.out;
      addMetricSums(sums[set], last.metrics);
      if (opts.excludePaddingLoss) sums[set].q_halt_loss -= paddingQHaltLoss(last.qHalt.data, p.batch.rows);
      const view: EvalBatchView = { set, inputs: p.batch.inputs, puzzleIdentifiers: p.batch.puzzleIdentifiers, preds: last.preds, qHalt: last.qHalt };
      for (const e of evaluators) e.updateBatch(view);
      batches += 1;
      opts.onProgress?.({ set, done: p.batch.start + p.batch.rows, total, batches, totalBatches });
    };
    for (const batch of testBatches(arrays, split.metadata, b, opts.rank ?? 0, opts.worldSize ?? 1)) {
      if (opts.signal?.aborted) {
        await pending?.out.catch(() => undefined);
        throw cancelled();
      }
      const out = model.run(batch, { logits: false });
      out.catch(() => undefined); // awaited below; this only keeps an early rejection from being "unhandled"
      if (pending) await finish(pending);
      pending = { batch, out };
    }
    if (pending) await finish(pending);
  }
  return { metrics: reduceSetMetrics([sums]), sums, batches };
}
