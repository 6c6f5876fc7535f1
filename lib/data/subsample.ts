/**
 * Training-row subsampling shared by the Sudoku and Maze builders: `np.random.choice(total, k,
 * replace=False)` over the rows of a file, in bounded memory (one counting pass, then only the
 * chosen rows are kept, in the drawn order).
 */
import { ProgressReporter } from './progress';
import { RandomState } from './rng';

/** A re-readable source of rows, each knowing how far into the file it is (for progress). */
export type RowSource<T> = () => Iterable<T & { bytesRead: number }>;

/**
 * Returns all rows (when `size` is undefined or ≥ the row count) or `size` rows chosen like
 * `np.random.choice(total, size, replace=False)`, which draws from `rng` only in that case.
 * The first pass also validates every row, so errors surface before anything is written.
 */
export async function subsampleRows<T>(
  read: RowSource<T>,
  size: number | undefined,
  rng: RandomState,
  reporter: ProgressReporter,
  stage: string,
  fileBytes: number,
): Promise<{ rows: Iterable<T>; total: number }> {
  reporter.start(stage, fileBytes, 'bytes');
  let total = 0;
  for (const row of read()) {
    total += 1;
    if (reporter.tick(row.bytesRead)) await reporter.pause();
  }
  reporter.finish();
  if (size === undefined || size >= total) return { rows: read(), total };
  const chosen = rng.choiceWithoutReplacement(total, size);
  const slotOf = new Map<number, number>();
  chosen.forEach((rowIndex, slot) => slotOf.set(rowIndex, slot));
  const picked = new Array<T>(size);
  let index = 0;
  for (const row of read()) {
    const slot = slotOf.get(index++);
    if (slot !== undefined) picked[slot] = row;
  }
  return { rows: picked, total: size };
}
