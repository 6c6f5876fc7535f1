/**
 * The training configuration: the official `PretrainConfig` keys of docs/algorithm.md §7.1 in camelCase,
 * the mapping to `all_config.yaml`, and the four README recipes of §8 as presets.
 */
import { resolveConfig, type ModelConfig } from './config';
import { ErrorCodes, TrmError } from './errors';
import { preset, type PresetName } from './presets';

/** Every key of the official PretrainConfig (docs/algorithm.md §7.1), camelCase. */
export interface TrainConfig {
  /** Dataset folders (the builders' output: train/ and test/ inside). */
  dataPaths: string[];
  /** If non-empty, used for evaluation instead of dataPaths. */
  dataPathsTest: string[];
  /** Evaluators by official name, e.g. 'arc@ARC'; [] for Sudoku and Maze. */
  evaluators: string[];
  globalBatchSize: number;
  epochs: number;
  /**
   * Epochs between evaluations (must divide epochs). Default 10000 (config/cfg_pretrain.yaml) where
   * that divides epochs, else epochs; null = epochs (the PretrainConfig default `None`).
   */
  evalInterval?: number | null;
  checkpointEveryEval: boolean;
  lr: number;
  /** 1.0 = no cosine decay after warm-up (the shipped configs). */
  lrMinRatio: number;
  lrWarmupSteps: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  puzzleEmbWeightDecay: number;
  puzzleEmbLr: number;
  seed: number;
  minEvalInterval: number;
  ema: boolean;
  emaRate: number;
  /** Train only the puzzle embeddings. */
  freezeWeights: boolean;
  projectName?: string;
  runName?: string;
  checkpointPath?: string;
  loadCheckpoint?: string;
  evalSaveOutputs: string[];
}

/** The config/cfg_pretrain.yaml values (docs/algorithm.md §7.1). */
export const PRETRAIN_DEFAULTS: TrainConfig = {
  dataPaths: ['data/arc-aug-1000'],
  dataPathsTest: [],
  evaluators: ['arc@ARC'],
  globalBatchSize: 768,
  epochs: 100000,
  evalInterval: 10000,
  checkpointEveryEval: true,
  lr: 1e-4,
  lrMinRatio: 1.0,
  lrWarmupSteps: 2000,
  beta1: 0.9,
  beta2: 0.95,
  weightDecay: 0.1,
  puzzleEmbWeightDecay: 0.1,
  puzzleEmbLr: 1e-2,
  seed: 0,
  minEvalInterval: 0,
  ema: false,
  emaRate: 0.999,
  freezeWeights: false,
  evalSaveOutputs: [],
};

const TRAIN_KEYS: Readonly<Record<keyof TrainConfig, string>> = {
  dataPaths: 'data_paths',
  dataPathsTest: 'data_paths_test',
  evaluators: 'evaluators',
  globalBatchSize: 'global_batch_size',
  epochs: 'epochs',
  evalInterval: 'eval_interval',
  checkpointEveryEval: 'checkpoint_every_eval',
  lr: 'lr',
  lrMinRatio: 'lr_min_ratio',
  lrWarmupSteps: 'lr_warmup_steps',
  beta1: 'beta1',
  beta2: 'beta2',
  weightDecay: 'weight_decay',
  puzzleEmbWeightDecay: 'puzzle_emb_weight_decay',
  puzzleEmbLr: 'puzzle_emb_lr',
  seed: 'seed',
  minEvalInterval: 'min_eval_interval',
  ema: 'ema',
  emaRate: 'ema_rate',
  freezeWeights: 'freeze_weights',
  projectName: 'project_name',
  runName: 'run_name',
  checkpointPath: 'checkpoint_path',
  loadCheckpoint: 'load_checkpoint',
  evalSaveOutputs: 'eval_save_outputs',
};

/** A recipe: the model preset and training settings of one README command (docs/algorithm.md §8). */
export interface Recipe {
  arch: PresetName;
  train: Partial<TrainConfig>;
}

const SUDOKU_MAZE_TRAIN: Partial<TrainConfig> = {
  evaluators: [],
  epochs: 50000,
  evalInterval: 5000,
  lr: 1e-4,
  puzzleEmbLr: 1e-4,
  weightDecay: 1.0,
  puzzleEmbWeightDecay: 1.0,
  ema: true,
};

/** The four README recipes (docs/algorithm.md §8). */
export const RECIPES: Readonly<Record<'arc1' | 'arc2' | 'sudoku-mlp' | 'sudoku-att' | 'maze', Recipe>> = {
  arc1: { arch: 'arc-att', train: { dataPaths: ['data/arc1concept-aug-1000'], evalInterval: 10000, ema: true } },
  arc2: { arch: 'arc2-att', train: { dataPaths: ['data/arc2concept-aug-1000'], evalInterval: 10000, ema: true } },
  'sudoku-mlp': { arch: 'sudoku-mlp', train: { dataPaths: ['data/sudoku-extreme-1k-aug-1000'], ...SUDOKU_MAZE_TRAIN } },
  'sudoku-att': { arch: 'sudoku-att', train: { dataPaths: ['data/sudoku-extreme-1k-aug-1000'], ...SUDOKU_MAZE_TRAIN } },
  maze: { arch: 'maze-att', train: { dataPaths: ['data/maze-30x30-hard-1k'], ...SUDOKU_MAZE_TRAIN } },
};

/** Fills defaults and checks the training config; throws TrmError(CONFIG) naming the key. */
export function resolveTrainConfig(partial: Partial<TrainConfig>): TrainConfig {
  for (const key of Object.keys(partial)) {
    if (!(key in TRAIN_KEYS)) throw new TrmError(ErrorCodes.CONFIG, `unknown training config key '${key}'`);
  }
  const c: TrainConfig = { ...PRETRAIN_DEFAULTS, ...partial };
  // The official run asserts that eval_interval divides epochs; a short run left at the default
  // evaluates once at the end instead of failing (docs/fidelity.md).
  const dflt = PRETRAIN_DEFAULTS.evalInterval as number;
  if (partial.evalInterval === undefined) c.evalInterval = c.epochs % dflt === 0 ? dflt : c.epochs;
  else if (partial.evalInterval === null) c.evalInterval = c.epochs;
  const positive: (keyof TrainConfig)[] = ['globalBatchSize', 'epochs'];
  for (const k of positive) {
    if (!Number.isInteger(c[k]) || (c[k] as number) < 1)
      throw new TrmError(ErrorCodes.CONFIG, `${k} must be a positive integer, got ${c[k]}`);
  }
  const interval = c.evalInterval as number;
  if (!Number.isInteger(interval) || interval < 1 || c.epochs % interval !== 0) {
    throw new TrmError(ErrorCodes.CONFIG, `evalInterval (${interval}) must be a positive integer that divides epochs (${c.epochs})`);
  }
  for (const k of ['lr', 'puzzleEmbLr', 'weightDecay', 'puzzleEmbWeightDecay', 'lrMinRatio', 'lrWarmupSteps', 'minEvalInterval'] as const) {
    if (!(typeof c[k] === 'number' && c[k] >= 0)) throw new TrmError(ErrorCodes.CONFIG, `${k} must be a non-negative number, got ${c[k]}`);
  }
  for (const k of ['beta1', 'beta2', 'emaRate'] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) throw new TrmError(ErrorCodes.CONFIG, `${k} must be in [0, 1), got ${c[k]}`);
  }
  if (!Array.isArray(c.dataPaths) || c.dataPaths.length === 0)
    throw new TrmError(ErrorCodes.CONFIG, 'dataPaths must list at least one dataset folder');
  return c;
}

/** The official snake_case form (what all_config.yaml holds at its top level). */
export function trainToOfficial(c: TrainConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, official] of Object.entries(TRAIN_KEYS)) {
    const v = c[k as keyof TrainConfig];
    if (v === undefined) continue;
    out[official] = k === 'evaluators' ? (v as string[]).map((name) => ({ name })) : v;
  }
  return out;
}

/** The training keys of an all_config.yaml document (official snake_case, top level). */
export function trainFromOfficial(doc: Record<string, unknown>): Partial<TrainConfig> {
  const train: Record<string, unknown> = {};
  for (const [k, official] of Object.entries(TRAIN_KEYS)) {
    const v = doc[official];
    if (v === undefined || (v === null && k !== 'evalInterval')) continue;
    train[k] = k === 'evaluators' ? (v as { name: string }[]).map((e) => e.name) : v;
  }
  return train as Partial<TrainConfig>;
}

/**
 * The model and training config of a recipe with overrides, for a model on `device` (which picks the
 * forward dtype unless `model` does, see forward-dtype.ts).
 */
export function recipe(name: keyof typeof RECIPES, train: Partial<TrainConfig> = {}, model: Partial<ModelConfig> = {}, device = 'cpu') {
  const r = RECIPES[name];
  if (!r) throw new TrmError(ErrorCodes.CONFIG, `unknown recipe '${name}' (known: ${Object.keys(RECIPES).join(', ')})`);
  return { model: resolveConfig({ ...preset(r.arch), ...model }, device), train: resolveTrainConfig({ ...r.train, ...train }) };
}
