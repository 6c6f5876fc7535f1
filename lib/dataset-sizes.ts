/** The data-dependent model sizes of one or several dataset folders (docs/algorithm.md §1.2, §5.2, §5.8). */
import * as path from 'path';
import type { ModelConfig } from './config';
import { readDatasetMetadata } from './data/format';
import { ErrorCodes, TrmError } from './errors';

/**
 * seqLen and vocabSize from `<dir>/train/dataset.json` (they must agree across folders), and
 * numPuzzleIdentifiers summed over folders — the native loader offsets each folder's ids by the
 * previous folders' counts (the fix of the official loader's id-offset bug, docs/algorithm.md §5.8).
 */
export function readDatasetSizes(dirs: string[]): Pick<ModelConfig, 'seqLen' | 'vocabSize' | 'numPuzzleIdentifiers'> {
  if (dirs.length === 0) throw new TrmError(ErrorCodes.CONFIG, 'at least one dataset folder is needed');
  const metas = dirs.map((d) => readDatasetMetadata(path.join(d, 'train')));
  for (const [i, m] of metas.entries()) {
    if (m.seqLen !== metas[0].seqLen || m.vocabSize !== metas[0].vocabSize) {
      throw new TrmError(
        ErrorCodes.DATA_FORMAT,
        `${dirs[i]} has seq_len ${m.seqLen} / vocab_size ${m.vocabSize}, but ${dirs[0]} has ${metas[0].seqLen} / ${metas[0].vocabSize}`,
      );
    }
  }
  return {
    seqLen: metas[0].seqLen,
    vocabSize: metas[0].vocabSize,
    numPuzzleIdentifiers: metas.reduce((s, m) => s + m.numPuzzleIdentifiers, 0),
  };
}
