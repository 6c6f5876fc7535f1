// Small synthetic datasets in the official on-disk format (docs/algorithm.md §5.1), for training tests.
import * as path from 'path';
import { DatasetSplitWriter } from '../../lib/data/split-writer';

export interface SyntheticOptions {
  train: number;
  test: number;
  seqLen: number;
  /** Token ids 1..vocab-1 are used; 0 is PAD / ignored. */
  vocab: number;
  seed: number;
  /** Puzzle ids: 1 (all rows id 0) or more (row i of a split gets id 1 + i % (ids - 1)). */
  ids?: number;
}

/**
 * A per-token task: label[i] = the successor of input[i] in 1..vocab-1 (cyclic). Easy enough for a
 * tiny model to learn in a few hundred steps, hard enough that exact accuracy starts near 0.
 * Each example is its own group and puzzle. Returns the dataset folder.
 */
export function writeSuccessorTask(root: string, o: SyntheticOptions): string {
  let x = o.seed * 2654435761 + 1;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const ids = o.ids ?? 1;
  for (const [split, rows] of [
    ['train', o.train],
    ['test', o.test],
  ] as const) {
    const w = new DatasetSplitWriter(path.join(root, split), { seqLen: o.seqLen });
    for (let r = 0; r < rows; r++) {
      w.startGroup();
      w.startPuzzle(ids > 1 ? 1 + (r % (ids - 1)) : 0);
      const input = Array.from({ length: o.seqLen }, () => 1 + rnd(o.vocab - 1));
      const label = input.map((t) => 1 + (t % (o.vocab - 1)));
      w.addExample(input, label);
    }
    w.finish({ vocabSize: o.vocab, numPuzzleIdentifiers: ids });
  }
  return root;
}
