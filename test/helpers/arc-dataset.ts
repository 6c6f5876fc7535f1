// A small real ARC dataset for the evaluator and solver tests: 3 training and 3 "evaluation"
// tasks of ARC-AGI-1, built by the official-compatible builder with a few augmentations each.
import * as fs from 'fs';
import * as path from 'path';
import { buildArc } from '../../lib/data/arc';
import { ARC_DATA } from '../fixtures/data/helpers';

/** Task ids used as the "training" and "evaluation" subsets. */
export const TINY_ARC_TASKS = {
  training: ['007bbfb7', '00d62c1b', '017c7c7b'],
  evaluation: ['025d127b', '045e512c', '0520fde7'],
};

/** Builds the dataset into `<dir>/data` (augmentations per task: `numAug`) and returns that folder. */
export async function buildTinyArc(dir: string, numAug = 4): Promise<string> {
  const src = path.join(dir, 'src');
  for (const [subset, ids] of Object.entries(TINY_ARC_TASKS)) {
    fs.mkdirSync(path.join(src, subset), { recursive: true });
    for (const id of ids) fs.copyFileSync(path.join(ARC_DATA, 'training', `${id}.json`), path.join(src, subset, `${id}.json`));
  }
  const out = path.join(dir, 'data');
  await buildArc({ inputDir: src, outputDir: out, subsets: ['training', 'evaluation'], testSetName: 'evaluation', numAug, seed: 42 });
  return out;
}
