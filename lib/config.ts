/**
 * The model configuration (docs/algorithm.md §1.2) with camelCase names in TypeScript, and the one place
 * that maps them to the official snake_case keys used by `all_config.yaml` and the native core.
 */
import { ErrorCodes, TrmError } from './errors';
import { defaultForwardDtype } from './forward-dtype';
import { native } from './native';

/** Which model the official code builds: the recursion of `models/recursive_reasoning/<arch>.py`. */
export type ArchName = 'trm' | 'trm_singlez' | 'trm_hier6' | 'hrm' | 'transformers_baseline';
/** Loss of the language-model head (docs/algorithm.md §2.1, §2.2). */
export type LossType = 'stablemax_cross_entropy' | 'softmax_cross_entropy';
/** Dtype the forward pass runs in (docs/algorithm.md §1.8). */
export type ForwardDtype = 'float32' | 'bfloat16' | 'float16';

/**
 * Every architecture key; see docs/algorithm.md §1.2 for each one's meaning and the official default. Keys
 * that an architecture's official config class does not have take a fixed value for it (see
 * {@link ARCHITECTURES}): HRM has no `puzzleEmbLen` (its prefix is always ceil(ndim / hidden)) and
 * no `noACTContinue` (it always learns the continue target); the transformers baseline has no
 * L-level keys; only the baseline has `actEnabled` / `actInference`.
 */
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
  /** Width of a puzzle embedding; 0 disables it. Default: hiddenSize (the yaml's `${.hidden_size}`). */
  puzzleEmbNdim: number;
  /** Number of puzzle prefix tokens; 0 means ceil(puzzleEmbNdim / hiddenSize). */
  puzzleEmbLen: number;
  /** T: outer recursions per supervision step (unused by the transformers baseline). */
  hCycles: number;
  /** n: latent updates per outer recursion. */
  lCycles: number;
  /** Blocks of the high-level network (HRM, transformers baseline; ignored by TRM). */
  hLayers: number;
  /** Blocks of the shared network. */
  lLayers: number;
  hiddenSize: number;
  /** SwiGLU expansion. */
  expansion: number;
  /** Attention heads of width floor(hiddenSize / numHeads). */
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
  /** Transformers baseline: halt on q_halt > q_continue while training (else run haltMaxSteps). */
  actEnabled: boolean;
  /** Transformers baseline: also halt on q_halt > q_continue in evaluation. */
  actInference: boolean;
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
  actEnabled: 'act_enabled',
  actInference: 'act_inference',
  lossType: 'loss_type',
};

/** Keys that are not architecture settings: the name, the loss, and the sizes the trainer fills in. */
type ArchSetting = Exclude<keyof ModelConfig, 'arch' | 'lossType' | 'batchSize' | 'seqLen' | 'vocabSize' | 'numPuzzleIdentifiers'>;

/** What one official model class is: its `arch.name`, its config class's keys and their defaults. */
export interface ArchitectureInfo {
  /** `arch.name` in all_config.yaml: `<module>@<class>` under models/. */
  className: string;
  /** The keys of the official config class (besides the data-dependent sizes). */
  keys: readonly ArchSetting[];
  /** The pydantic defaults of that class: what an all_config.yaml without the key means. */
  classDefaults: Partial<ModelConfig>;
  /**
   * config/arch/<arch>.yaml over the class defaults: what `TRM.create({ arch })` fills in; the
   * forward dtype is the device's (forward-dtype.ts) rather than the yaml's bfloat16.
   */
  defaults: Omit<ModelConfig, 'seqLen' | 'vocabSize' | 'numPuzzleIdentifiers' | 'puzzleEmbNdim' | 'forwardDtype'>;
  /** Values of the keys the class does not have: the behaviour that class hard-codes. */
  fixed: Partial<ModelConfig>;
}

const TRM_KEYS: readonly ArchSetting[] = [
  'puzzleEmbNdim',
  'puzzleEmbLen',
  'hCycles',
  'lCycles',
  'hLayers',
  'lLayers',
  'hiddenSize',
  'expansion',
  'numHeads',
  'posEncodings',
  'rmsNormEps',
  'ropeTheta',
  'haltMaxSteps',
  'haltExplorationProb',
  'forwardDtype',
  'mlpT',
  'noACTContinue',
];
const TRM_CLASS_DEFAULTS: Partial<ModelConfig> = {
  puzzleEmbNdim: 0,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  forwardDtype: 'bfloat16',
  mlpT: false,
  puzzleEmbLen: 16,
  noACTContinue: true,
};
// config/arch/trm.yaml (also trm_singlez.yaml and trm_hier6.yaml) without forward_dtype: the device
// picks it (forward-dtype.ts): the yaml's bfloat16 on CUDA and on CPUs with native bf16, else float32.
const TRM_YAML = {
  batchSize: 1,
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
  puzzleEmbLen: 16,
  noACTContinue: true,
  actEnabled: true,
  actInference: false,
  lossType: 'stablemax_cross_entropy',
} as const;
// TRM and HRM have no act_enabled / act_inference: ACT always runs while training, never in evaluation.
const ACT_ALWAYS = { actEnabled: true, actInference: false };
const trmFamily = (arch: 'trm' | 'trm_singlez' | 'trm_hier6'): ArchitectureInfo => ({
  className: `recursive_reasoning.${arch}@TinyRecursiveReasoningModel_ACTV1`,
  keys: TRM_KEYS,
  classDefaults: TRM_CLASS_DEFAULTS,
  defaults: { ...TRM_YAML, arch },
  fixed: ACT_ALWAYS,
});

/** The official model classes (models/recursive_reasoning/*.py with config/arch/*.yaml). */
export const ARCHITECTURES: Readonly<Record<ArchName, ArchitectureInfo>> = {
  trm: trmFamily('trm'),
  trm_singlez: trmFamily('trm_singlez'),
  trm_hier6: trmFamily('trm_hier6'),
  hrm: {
    className: 'recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1',
    keys: TRM_KEYS.filter((k) => k !== 'puzzleEmbLen' && k !== 'noACTContinue'),
    classDefaults: { puzzleEmbNdim: 0, rmsNormEps: 1e-5, ropeTheta: 10000, forwardDtype: 'bfloat16', mlpT: false },
    defaults: { ...TRM_YAML, arch: 'hrm', hCycles: 2, lCycles: 2, hLayers: 4, lLayers: 4, puzzleEmbLen: 0, noACTContinue: false },
    // hrm.py: prefix ceil(ndim / hidden); always halts on q_halt > q_continue and learns the continue target.
    fixed: { puzzleEmbLen: 0, noACTContinue: false, ...ACT_ALWAYS },
  },
  transformers_baseline: {
    className: 'recursive_reasoning.transformers_baseline@Model_ACTV2',
    keys: [
      'puzzleEmbNdim',
      'hCycles',
      'hLayers',
      'hiddenSize',
      'expansion',
      'numHeads',
      'posEncodings',
      'rmsNormEps',
      'ropeTheta',
      'haltMaxSteps',
      'haltExplorationProb',
      'actEnabled',
      'actInference',
      'forwardDtype',
    ],
    classDefaults: {
      puzzleEmbNdim: 0,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      actEnabled: true,
      actInference: false,
      forwardDtype: 'bfloat16',
    },
    defaults: {
      ...TRM_YAML,
      arch: 'transformers_baseline',
      hCycles: 1,
      lCycles: 1,
      hLayers: 8,
      lLayers: 0,
      numHeads: 12,
      puzzleEmbLen: 0,
      noACTContinue: false,
    },
    // transformers_baseline.py: one pass of H_layers blocks per step, prefix ceil(ndim / hidden), halts
    // on q_halt > q_continue (when ACT is on) and never computes a continue target.
    fixed: { lCycles: 1, lLayers: 0, puzzleEmbLen: 0, mlpT: false, noACTContinue: false },
  },
};

/** The defaults of config/arch/trm.yaml (docs/algorithm.md §1.2); data-dependent sizes must be given. */
export const TRM_DEFAULTS: ArchitectureInfo['defaults'] & { puzzleEmbNdim: number } = { ...ARCHITECTURES.trm.defaults, puzzleEmbNdim: 512 };

const INTEGER_KEYS: (keyof ModelConfig)[] = [
  'batchSize',
  'seqLen',
  'vocabSize',
  'numPuzzleIdentifiers',
  'puzzleEmbNdim',
  'puzzleEmbLen',
  'hCycles',
  'lCycles',
  'hLayers',
  'lLayers',
  'hiddenSize',
  'numHeads',
  'haltMaxSteps',
];

/**
 * Fills the defaults of `partial.arch` (config/arch/<arch>.yaml; puzzleEmbNdim follows hiddenSize as
 * the yaml's `${.hidden_size}` does; the forward dtype for `device`, see forward-dtype.ts), sets the
 * keys that architecture's class does not have, and checks every field; throws TrmError(CONFIG)
 * naming the field and value.
 */
export function resolveConfig(partial: Partial<ModelConfig>, device = 'cpu'): ModelConfig {
  for (const key of Object.keys(partial)) {
    if (!(key in OFFICIAL_KEYS)) {
      throw new TrmError(ErrorCodes.CONFIG, `unknown config key '${key}' (known: ${Object.keys(OFFICIAL_KEYS).join(', ')})`);
    }
  }
  const arch = partial.arch ?? 'trm';
  const info = (ARCHITECTURES as Record<string, ArchitectureInfo>)[arch];
  if (!info)
    throw new TrmError(
      ErrorCodes.CONFIG,
      `config.arch must be one of ${Object.keys(ARCHITECTURES).join(', ')}, got ${JSON.stringify(arch)}`,
    );
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<ModelConfig>;
  const hiddenSize = defined.hiddenSize ?? info.defaults.hiddenSize;
  const cfg = {
    ...info.defaults,
    forwardDtype: defaultForwardDtype(device),
    puzzleEmbNdim: hiddenSize,
    ...defined,
    ...info.fixed,
  } as ModelConfig;
  for (const key of ['seqLen', 'vocabSize', 'numPuzzleIdentifiers'] as const) {
    if (cfg[key] === undefined) {
      throw new TrmError(ErrorCodes.CONFIG, `config.${key} is required (it comes from the dataset's dataset.json)`);
    }
  }
  for (const key of INTEGER_KEYS) {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new TrmError(ErrorCodes.CONFIG, `config.${key} must be a non-negative integer (at most 2^53), got ${JSON.stringify(v)}`);
    }
  }
  for (const key of ['expansion', 'rmsNormEps', 'ropeTheta', 'haltExplorationProb'] as const) {
    if (typeof cfg[key] !== 'number' || !Number.isFinite(cfg[key]))
      throw new TrmError(ErrorCodes.CONFIG, `config.${key} must be a number, got ${JSON.stringify(cfg[key])}`);
  }
  for (const key of ['mlpT', 'noACTContinue', 'actEnabled', 'actInference'] as const) {
    if (typeof cfg[key] !== 'boolean')
      throw new TrmError(ErrorCodes.CONFIG, `config.${key} must be true or false, got ${JSON.stringify(cfg[key])}`);
  }
  const enums: [keyof ModelConfig, readonly string[]][] = [
    ['posEncodings', arch === 'transformers_baseline' ? ['rope', 'learned'] : ['rope', 'learned', 'none']],
    ['forwardDtype', ['float32', 'bfloat16', 'float16']],
    ['lossType', ['stablemax_cross_entropy', 'softmax_cross_entropy']],
  ];
  for (const [key, allowed] of enums) {
    if (!allowed.includes(cfg[key] as string)) {
      throw new TrmError(
        ErrorCodes.CONFIG,
        `config.${key} must be one of ${allowed.join(', ')} for ${arch}, got ${JSON.stringify(cfg[key])}`,
      );
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

/**
 * SwiGLU intermediate width: round-half-even(expansion · hidden · 2/3) rounded up to a multiple of 256
 * (docs/algorithm.md §1.5), computed by the core's rule.
 */
export function swigluIntermediate(hidden: number, expansion: number): number {
  return native().swigluIntermediate({ hidden_size: hidden, expansion });
}

/** The number of puzzle-embedding prefix tokens of a config (docs/algorithm.md §1.3), computed by the core's rule. */
export function prefixLength(c: ModelConfig): number {
  return native().prefixLength({
    arch: c.arch,
    puzzle_emb_ndim: c.puzzleEmbNdim,
    puzzle_emb_len: c.puzzleEmbLen,
    hidden_size: c.hiddenSize,
  });
}
