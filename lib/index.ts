/**
 * trm-native: the Tiny Recursive Model (and HRM) for Node.js on LibTorch.
 *
 *     import { TRM } from 'trm-native';
 *     const model = TRM.create('sudoku-mlp');
 */
export { TRM, Carry } from './model';
export type {
  Batch,
  CreateOptions,
  Device,
  LoadOptions,
  RunOptions,
  RunOutput,
  SaveOptions,
  StateDictEntry,
  StepMetrics,
  StepOutput,
} from './model';
export { CONFIG_METADATA_KEY, readModelCard } from './checkpoint';
export { CARD_METADATA_KEY, checkCard } from './card';
export type { ModelCard, CardScore, CardInference } from './card';
export {
  resolveConfig,
  toOfficial,
  fromOfficial,
  swigluIntermediate,
  prefixLength,
  TRM_DEFAULTS,
  OFFICIAL_KEYS,
  ARCHITECTURES,
} from './config';
export type { ModelConfig, ArchName, ArchitectureInfo, ForwardDtype, LossType } from './config';
export { readAllConfig, writeAllConfig, parseArchSection, archSection } from './all-config';
export type { AllConfig } from './all-config';
export { PRESETS, preset } from './presets';
export type { PresetName } from './presets';
export { TrmError, ErrorCodes } from './errors';
export type { ErrorCode } from './errors';
export { int32Tensor, float32Tensor, toInt32, toFloat32, numel } from './tensor';
export type { Tensor, DType } from './tensor';
export { readNpy, writeNpy, parseNpy, encodeNpy } from './data/npy';
export type { NpyArray, NpyDtype } from './data/npy';
export { buildInfo, fusions, maxThreads, setFusions, setNumThreads, type BuildInfo, type Fusions } from './runtime';
export { defaultForwardDtype, forwardDtypeChoice, type DtypeChoice } from './forward-dtype';
export { stablemaxCrossEntropy, softmaxCrossEntropy, IGNORE_LABEL } from './loss';
export * as datasets from './data/index';
export { Trainer } from './trainer';
export type { TrainEvent, RunLimits } from './trainer';
export { resolveTrainConfig, trainToOfficial, trainFromOfficial, recipe, RECIPES, PRETRAIN_DEFAULTS } from './train-config';
export type { TrainConfig, Recipe } from './train-config';
export { launch } from './launch';
export type { LaunchOptions } from './launch';
export { readDatasetSizes } from './dataset-sizes';
export { Solver, checkSudokuSolution, isValidSudoku, checkMazeSolution, parseMazeInput } from './solver';
export type {
  SolverKind,
  SolverOptions,
  SolverLoadOptions,
  SolveOptions,
  SudokuSolution,
  SudokuStep,
  MazeSolution,
  MazeStep,
  ArcSolution,
  ArcStep,
  SudokuInput,
  MazeInput,
  ArcInput,
  ArcAttempt,
  Checked,
  SolverInputs,
  SolverResults,
} from './solver';
export { SolverPool } from './solver/pool';
export type { SolverPoolOptions } from './solver/pool';
export * from './eval/index';
export { AdamAtan2, SparseSignSGD, EMA, cosineScheduleWithWarmup } from './optim';
export type { AdamAtan2Options } from './optim';
export { ProcessGroup } from './process-group';
export { adaptToTask, DEFAULT_ADAPT_STEPS } from './adapt';
export type { AdaptTask, AdaptOptions, AdaptResult, AdaptEvent, AdaptStageEvent } from './adapt';
