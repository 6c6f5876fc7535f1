/**
 * The demo's Sudokus, generated with unique solutions and kept in its output folder so a second
 * run starts training at once: held-out sets by number of blanks (seeds never used for training)
 * and one training dataset per curriculum stage (a range of blanks, with augmented copies).
 */
import * as fs from 'fs';
import * as path from 'path';
import { datasets } from '../../lib';
import type { SudokuPuzzle } from '../../lib/data/sudoku-rules';

/** A held-out set: puzzles with `blanks` blank cells. */
export interface HeldOutSet {
  blanks: number;
  puzzles: SudokuPuzzle[];
}

/** One curriculum stage: puzzles with `min`..`max` blanks, trained on for `share` of the budget. */
export interface Stage {
  min: number;
  max: number;
  share: number;
}

const HELD_OUT_SEED = 1_000_000;

async function cachedPuzzles(file: string, make: () => Promise<SudokuPuzzle[]>): Promise<SudokuPuzzle[]> {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as SudokuPuzzle[];
  const puzzles = await make();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(puzzles));
  return puzzles;
}

/** `count` puzzles per level (half as many at 60 blanks and more: those take ~0.5 s each to generate). */
export async function heldOutSets(dir: string, levels: readonly number[], count: number): Promise<HeldOutSet[]> {
  const sets: HeldOutSet[] = [];
  for (const blanks of levels) {
    const n = blanks >= 60 ? Math.ceil(count / 2) : count;
    const file = path.join(dir, `held-out-${blanks}-blanks-${n}.json`);
    sets.push({ blanks, puzzles: await cachedPuzzles(file, () => datasets.generateSudoku({ count: n, seed: HELD_OUT_SEED + blanks, blanks, maxAttemptsPerPuzzle: 100_000 })) });
  }
  return sets;
}

/** The dataset folder of `stage`: `count` puzzles spread evenly over its blanks, each with `numAug` augmented copies. */
export async function stageDataset(dir: string, stage: Stage, count: number, numAug: number): Promise<string> {
  const out = path.join(dir, `train-${stage.min}-${stage.max}-blanks-${count}x${numAug + 1}`);
  if (fs.existsSync(path.join(out, 'test', 'dataset.json'))) return out;
  const levels = stage.max - stage.min + 1;
  const train: SudokuPuzzle[] = [];
  for (let b = stage.min; b <= stage.max; b++) {
    const n = Math.ceil(count / levels);
    train.push(...(await datasets.generateSudoku({ count: n, seed: b * 7919, blanks: b })));
  }
  // The trainer needs a test split; the demo scores on its own held-out sets instead.
  await datasets.buildSudokuFromPuzzles({ outputDir: out, train, test: train.slice(0, 8), numAug, seed: stage.min });
  return out;
}
