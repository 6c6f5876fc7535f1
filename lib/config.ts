/**
 * The model configuration (SPEC.md §1.2) with camelCase names in TypeScript, and the one place
 * that maps them to the official snake_case keys used by `all_config.yaml` and the native core.
 */
import { ErrorCodes, TrmError } from './errors';
import { defaultForwardDtype } from './forward-dtype';

/** Which recursion the model runs (SPEC §1.9, §9). */
export type ArchName = 'trm' | 'trm_singlez' | 'trm_hier6' | 'hrm';
/** Loss of the language-model head (SPEC §2.1, §2.2). */
export type LossType = 'stablemax_cross_entropy' | 'softmax_cross_entropy';
/** Dtype the forward pass runs in (SPEC §1.8). */
export type ForwardDtype = 'float32' | 'bfloat16' | 'float16';

/** Every architecture key; see SPEC.md §1.2 for each one's meaning and the official default. */
export interface ModelConfig {
  arch: ArchName;
  /** Local batch size of the trainer (informational for the model). */
  batchSize: number;
  /** Tokens per example (from dataset.json): 81 Sudoku, 900 Maze/ARC. */
  seqLen: number;
  /** Vocabulary size (from dataset.json): 11 Sudoku, 6 Maze, 12 ARC. */
  vocabSize: number;
  /** Rows of the puzzle-embedding table (from dataset.json). */
  numPuzzleIdentifiers: number;
  /** Width of a puzzle embedding; 0 disables it. */
  puzzleEmbNdim: number;
  /** Number of puzzle prefix tokens; 0 means ceil(puzzleEmbNdim / hiddenSize). */
  puzzleEmbLen: number;
  /** T: outer recursions per supervision step. */
  hCycles: number;
  /** n: latent updates per outer recursion. */
  lCycles: number;
  /** Blocks of HRM's high-level network (ignored by TRM). */
  hLayers: number;
  /** Blocks of the shared network. */
  lLayers: number;
  hiddenSize: number;
  /** SwiGLU expansion. */
  expansion: number;
  numHeads: number;
  /** 'rope', 'learned' or 'none'. */
  posEncodings: 'rope' | 'learned' | 'none';
  rmsNormEps: number;
  ropeTheta: number;
  /** N_sup: maximum supervision steps. */
  haltMaxSteps: number;
  haltExplorationProb: number;
  forwardDtype: ForwardDtype;
  /** Token-mixing MLP instead of attention (the Sudoku-MLP recipe). */
  mlpT: boolean;
  /** Halting from sigmoid(q_halt) alone (TRM) instead of Q-learning with a continue target (HRM). */
  noACTContinue: boolean;
  lossType: LossType;
}

/** The official key of each camelCase field. */
export const OFFICIAL_KEYS: Readonly<Record<keyof ModelConfig, string>> = {
  arch: 'arch',
  batchSize: 'batch_size',
  seqLen: 'seq_len',
  vocabSize: 'vocab_size',
  numPuzzleIdentifiers: 'num_puzzle_identifiers',
  puzzleEmbNdim: 'puzzle_emb_ndim',
  puzzleEmbLen: 'puzzle_emb_len',
  hCycles: 'H_cycles',
  lCycles: 'L_cycles',
  hLayers: 'H_layers',
  lLayers: 'L_layers',
  hiddenSize: 'hidden_size',
  expansion: 'expansion',
  numHeads: 'num_heads',
  posEncodings: 'pos_encodings',
  rmsNormEps: 'rms_norm_eps',
  ropeTheta: 'rope_theta',
  haltMaxSteps: 'halt_max_steps',
  haltExplorationProb: 'halt_exploration_prob',
  forwardDtype: 'forward_dtype',
  mlpT: 'mlp_t',
  noACTContinue: 'no_ACT_continue',
  lossType: 'loss_type',
};

/**
 * The defaults of config/arch/trm.yaml (SPEC §1.2); data-dependent sizes must be given. The forward
 * dtype depends on the device (trm.yaml's bfloat16 on CUDA, float32 on the CPU): see forward-dtype.ts.
 */
export const TRM_DEFAULTS: Omit<ModelConfig, 'seqLen' | 'vocabSize' | 'numPuzzleIdentifiers' | 'forwardDtype'> = {
  arch: 'trm',
  batchSize: 1,
  puzzleEmbNdim: 512,
  puzzleEmbLen: 16,
  hCycles: 3,
  lCycles: 6,
  hLayers: 0,
  lLayers: 2,
  hiddenSize: 512,
  expansion: 4,
  numHeads: 8,
  posEncodings: 'rope',
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  haltMaxSteps: 16,
  haltExplorationProb: 0.1,
  mlpT: false,
  noACTContinue: true,
  lossType: 'stablemax_cross_entropy',
};

const INTEGER_KEYS: (keyof ModelConfig)[] = [
  'batchSize', 'seqLen', 'vocabSize', 'numPuzzleIdentifiers', 'puzzleEmbNdim', 'puzzleEmbLen', 'hCycles', 'lCycles',
  'hLayers', 'lLayers', 'hiddenSize', 'numHeads', 'haltMaxSteps',
];

/**
 * Fills defaults (the forward dtype for `device`, see forward-dtype.ts) and checks every field;
 * throws TrmError(CONFIG) naming the field and value.
 */
export function resolveConfig(partial: Partial<ModelConfig>, device = 'cpu'): ModelConfig {
  for (const key of Object.keys(partial)) {
    if (!(key in OFFICIAL_KEYS)) {
      throw new TrmError(ErrorCodes.CONFIG, `unknown config key '${key}' (known: ${Object.keys(OFFICIAL_KEYS).join(', ')})`);
    }
  }
  const cfg = { ...TRM_DEFAULTS, forwardDtype: defaultForwardDtype(device), ...partial } as ModelConfig;
  for (const key of ['seqLen', 'vocabSize', 'numPuzzleIdentifiers'] as const) {
    if (cfg[key] === undefined) {
      throw new TrmError(ErrorCodes.CONFIG, `config.${key} is required (it comes from the dataset's dataset.json)`);
    }
  }
  for (const key of INTEGER_KEYS) {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new TrmError(ErrorCodes.CONFIG, `config.${key} must be a non-negative integer, got ${JSON.stringify(v)}`);
    }
  }
  const enums: [keyof ModelConfig, readonly string[]][] = [
    ['arch', ['trm', 'trm_singlez', 'trm_hier6', 'hrm']],
    ['posEncodings', ['rope', 'learned', 'none']],
    ['forwardDtype', ['float32', 'bfloat16', 'float16']],
    ['lossType', ['stablemax_cross_entropy', 'softmax_cross_entropy']],
  ];
  for (const [key, allowed] of enums) {
    if (!allowed.includes(cfg[key] as string)) {
      throw new TrmError(ErrorCodes.CONFIG, `config.${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(cfg[key])}`);
    }
  }
  return cfg;
}

/** The official snake_case form (what the native core and all_config.yaml's `arch:` use). */
export function toOfficial(cfg: ModelConfig): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, official] of Object.entries(OFFICIAL_KEYS)) out[official] = cfg[k as keyof ModelConfig];
  return out;
}

/** The camelCase form of an official-keys object (unknown keys are ignored). */
export function fromOfficial(o: Record<string, unknown>): Partial<ModelConfig> {
  const out: Record<string, unknown> = {};
  for (const [k, official] of Object.entries(OFFICIAL_KEYS)) {
    if (o[official] !== undefined) out[k] = o[official];
  }
  return out as Partial<ModelConfig>;
}

/** SwiGLU intermediate width: round-half-even(expansion · hidden · 2/3) rounded up to a multiple of 256 (SPEC §1.5). */
export function swigluIntermediate(hidden: number, expansion: number): number {
  const x = (expansion * hidden * 2) / 3;
  const r = Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
  return Math.ceil(r / 256) * 256;
}
