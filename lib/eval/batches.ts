/**
 * Test-mode batches of a dataset split (SPEC.md §5.8, `test_set_mode`): the examples of one set in
 * file order, in windows of the batch size; each row's puzzle id found through its puzzle's CSR
 * range; labels equal to ignore_label_id become −100; a short window is padded at the end with
 * inputs = pad_id, labels = −100 and puzzle id = blank_identifier_id.
 */
import { check } from '../errors';
import type { DatasetSetArrays, PuzzleDatasetMetadata } from '../data/format';
import type { Tensor } from '../tensor';

/** Label value of unsupervised cells. */
export const IGNORE_LABEL = -100;

/** One test batch: int32 tensors of `batchSize` rows, of which the first `rows` are real. */
export interface TestBatch {
  /** [batchSize, seqLen] token ids. */
  inputs: Tensor<'int32'>;
  /** [batchSize, seqLen] labels, −100 where unsupervised or padding. */
  labels: Tensor<'int32'>;
  /** [batchSize] puzzle-embedding ids (blank for padding). */
  puzzleIdentifiers: Tensor<'int32'>;
  /** Index of the first example of this window. */
  start: number;
  /** Real (non-padding) rows: the official "effective batch size". */
  rows: number;
}

/** Number of examples of a set. */
export function setExampleCount(arrays: DatasetSetArrays): number {
  return arrays.inputs.shape[0] ?? 0;
}

/**
 * Yields the test batches of one set: windows [start, start + batchSize) in file order, the last
 * one padded. For a rank r of `worldSize` the official loader takes rows
 * [start + r·b, start + (r+1)·b) of each global window; pass `rank`/`worldSize` for that split
 * (b = batchSize / worldSize; a rank whose slice is empty gets a fully padded batch).
 */
export function* testBatches(
  arrays: DatasetSetArrays, meta: PuzzleDatasetMetadata, globalBatchSize: number, rank = 0, worldSize = 1,
): Generator<TestBatch> {
  const local = globalBatchSize / worldSize;
  check(Number.isInteger(local) && local > 0 && Number.isInteger(rank) && rank >= 0 && rank < worldSize,
    `testBatches: the batch size (${globalBatchSize}) must be a positive multiple of worldSize (${worldSize}) and rank (${rank}) in [0, worldSize)`);
  const seqLen = meta.seqLen;
  const total = setExampleCount(arrays);
  const ignore = meta.ignoreLabelId;
  const src = { inputs: arrays.inputs.data, labels: arrays.labels.data };
  let puzzle = 0;
  for (let start = 0; start < total; start += globalBatchSize) {
    const end = Math.min(start + globalBatchSize, total);
    const lo = Math.min(start + rank * local, end);
    const hi = Math.min(start + (rank + 1) * local, end);
    const inputs = new Int32Array(local * seqLen).fill(meta.padId);
    const labels = new Int32Array(local * seqLen).fill(IGNORE_LABEL);
    const ids = new Int32Array(local).fill(meta.blankIdentifierId);
    for (let i = lo; i < hi; i++) {
      const row = i - lo;
      // puzzle_indices is sorted and rows are visited in order, so the searchsorted is a forward walk.
      while (arrays.puzzleIndices[puzzle + 1] <= i) puzzle++;
      ids[row] = arrays.puzzleIdentifiers[puzzle];
      const at = i * seqLen;
      for (let k = 0; k < seqLen; k++) {
        inputs[row * seqLen + k] = Number(src.inputs[at + k]);
        const y = Number(src.labels[at + k]);
        labels[row * seqLen + k] = y === ignore ? IGNORE_LABEL : y;
      }
    }
    yield {
      inputs: { dtype: 'int32', shape: [local, seqLen], data: inputs },
      labels: { dtype: 'int32', shape: [local, seqLen], data: labels },
      puzzleIdentifiers: { dtype: 'int32', shape: [local], data: ids },
      start,
      rows: hi - lo,
    };
  }
}
