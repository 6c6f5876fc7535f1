/**
 * The architectures of the official README recipes (docs/algorithm.md §8, §9.1) with their datasets' sizes,
 * so `TRM.create('sudoku-mlp')` builds exactly the model those commands train.
 */
import { ErrorCodes, TrmError } from './errors';
import type { ModelConfig } from './config';

/** Names accepted by `TRM.create(preset)`. */
export type PresetName = 'sudoku-mlp' | 'sudoku-att' | 'maze-att' | 'arc-att' | 'arc2-att' | 'hrm-sudoku' | 'hrm-maze' | 'hrm-arc';

const SUDOKU = { seqLen: 81, vocabSize: 11, numPuzzleIdentifiers: 1 };
const MAZE = { seqLen: 900, vocabSize: 6, numPuzzleIdentifiers: 1 };
// The ARC tables of the README builds (docs/algorithm.md §5.7): 876,406 ids for ARC-AGI-1, 1,191,730 for ARC-AGI-2.
const ARC1 = { seqLen: 900, vocabSize: 12, numPuzzleIdentifiers: 876406 };
const ARC2 = { seqLen: 900, vocabSize: 12, numPuzzleIdentifiers: 1191730 };
const HRM = { arch: 'hrm', hCycles: 2, lCycles: 2, hLayers: 4, lLayers: 4, noACTContinue: false } as const;

/** Each preset's settings on top of the trm.yaml defaults. */
export const PRESETS: Readonly<Record<PresetName, Partial<ModelConfig>>> = {
  'sudoku-mlp': { ...SUDOKU, mlpT: true, posEncodings: 'none', hCycles: 3, lCycles: 6 },
  'sudoku-att': { ...SUDOKU, hCycles: 3, lCycles: 6 },
  'maze-att': { ...MAZE, hCycles: 3, lCycles: 4 },
  'arc-att': { ...ARC1, hCycles: 3, lCycles: 4 },
  'arc2-att': { ...ARC2, hCycles: 3, lCycles: 4 },
  'hrm-sudoku': { ...SUDOKU, ...HRM },
  'hrm-maze': { ...MAZE, ...HRM },
  'hrm-arc': { ...ARC1, ...HRM },
};

/** The settings of a preset; throws TrmError(CONFIG) listing the known names. */
export function preset(name: string): Partial<ModelConfig> {
  const p = (PRESETS as Record<string, Partial<ModelConfig>>)[name];
  if (!p) throw new TrmError(ErrorCodes.CONFIG, `unknown preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`);
  return { ...p };
}
