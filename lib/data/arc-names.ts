/**
 * Names of augmented ARC puzzles (docs/algorithm.md §5.7 step 3): `{task_id}|||t{tid}|||{colour map}`,
 * where the ten digits are the new colour of colours 0..9 (the first is always 0). The original
 * puzzle keeps its bare task id. The evaluator parses these names to undo an augmentation.
 */
import { ErrorCodes, TrmError } from '../errors';
import { checkDihedralId, DihedralId, dihedralTransform, DIHEDRAL_INVERSE } from './dihedral';
import { Grid } from './grid';

/** Separator between the parts of an augmented puzzle name. */
export const ARC_NAME_SEPARATOR = '|||';

/** An augmentation: dihedral transform plus colour map (colour c becomes colorMap[c]). */
export interface ArcAugmentation {
  /** Dihedral transform id (docs/algorithm.md §5.6). */
  tid: DihedralId;
  /** Ten entries, a permutation of 0..9 with colorMap[0] = 0. */
  colorMap: Uint8Array;
}

/** The name of task `taskId` under augmentation `aug` (the bare id for none). */
export function arcPuzzleName(taskId: string, aug?: ArcAugmentation): string {
  if (!aug) return taskId;
  return `${taskId}${ARC_NAME_SEPARATOR}t${aug.tid}${ARC_NAME_SEPARATOR}${Array.from(aug.colorMap).join('')}`;
}

/** Splits a puzzle name into its task id and augmentation (undefined for an original puzzle). */
export function parseArcPuzzleName(name: string): { taskId: string; aug?: ArcAugmentation } {
  if (!name.includes(ARC_NAME_SEPARATOR)) return { taskId: name };
  const parts = name.split(ARC_NAME_SEPARATOR);
  const tidText = parts[parts.length - 2];
  const mapText = parts[parts.length - 1];
  const tid = Number(tidText.slice(1));
  if (parts.length < 3 || !/^t[0-7]$/.test(tidText) || !/^[0-9]{10}$/.test(mapText) || new Set(mapText).size !== 10) {
    throw new TrmError(
      ErrorCodes.DATA_FORMAT,
      `"${name}" is not an augmented ARC puzzle name (expected id|||t<0-7>|||<permutation of the ten digits>)`,
    );
  }
  checkDihedralId(tid);
  return { taskId: parts[0], aug: { tid, colorMap: Uint8Array.from(mapText, (ch) => Number(ch)) } };
}

/** Undoes an augmentation on a predicted grid: inverse dihedral first, then the inverse colour map (docs/algorithm.md §6.2 step 4). */
export function inverseArcAugmentation(grid: Grid, aug: ArcAugmentation): Grid {
  const inverseColors = new Uint8Array(10);
  aug.colorMap.forEach((to, from) => {
    inverseColors[to] = from;
  });
  return dihedralTransform(grid, DIHEDRAL_INVERSE[aug.tid], inverseColors);
}
