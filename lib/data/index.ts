/**
 * The public data API of trm-native: the official on-disk dataset format, the Sudoku, Maze and
 * ARC builders, offline generators, and the helpers the evaluators share (docs/algorithm.md §5).
 * The package exports it as the `datasets` namespace object.
 */
import { buildArc } from './arc';
import { arcGridHash, arcPuzzleHash, cropArcGrid, encodeArcGrid, encodeArcGridInto } from './arc-grid';
import { arcGridFromJson, loadArcSubset } from './arc-input';
import { arcPuzzleName, inverseArcAugmentation, parseArcPuzzleName } from './arc-names';
import { dihedralTransform, inverseDihedralTransform } from './dihedral';
import {
  readDataset,
  readDatasetMetadata,
  readIdentifiers,
  readTestPuzzles,
  writeDatasetMetadata,
  writeIdentifiers,
  writeTestPuzzles,
} from './format';
import { buildMaze, buildMazeFromPuzzles } from './maze';
import { generateMaze, generateMazePuzzle } from './maze-generator';
import { buildSudoku, buildSudokuFromPuzzles } from './sudoku';
import { applySudokuTransform, drawSudokuTransform, shuffleSudoku } from './sudoku-augment';
import { generateSudoku, generateSudokuPuzzle } from './sudoku-generator';
import { hasUniqueSolution, solveSudoku } from './sudoku-solver';

export { buildArc } from './arc';
export type { ArcBuildOptions, ArcBuildResult } from './arc';
export {
  ARC_COLOR_OFFSET,
  ARC_EOS,
  ARC_MAX_GRID_SIZE,
  ARC_PAD,
  ARC_SEQ_LEN,
  ARC_VOCAB_SIZE,
  arcGridHash,
  arcPuzzleHash,
  cropArcGrid,
  encodeArcGrid,
  encodeArcGridInto,
} from './arc-grid';
export type { ArcPair } from './arc-grid';
export { arcGridFromJson, loadArcSubset } from './arc-input';
export type { ArcSource, ArcTask } from './arc-input';
export { ARC_NAME_SEPARATOR, arcPuzzleName, inverseArcAugmentation, parseArcPuzzleName } from './arc-names';
export type { ArcAugmentation } from './arc-names';
export type { BuildProgress, ProgressCallback } from './progress';
export { DIHEDRAL_INVERSE, NUM_DIHEDRAL, dihedralTransform, inverseDihedralTransform } from './dihedral';
export type { DihedralId } from './dihedral';
export {
  DATASET_ARRAY_NAMES,
  METADATA_KEYS,
  datasetArrayPath,
  encodeDatasetMetadata,
  parseDatasetMetadata,
  readDataset,
  readDatasetMetadata,
  readIdentifiers,
  readTestPuzzles,
  writeDatasetMetadata,
  writeIdentifiers,
  writeTestPuzzles,
} from './format';
export type { ArcExampleJson, ArcTaskJson, DatasetArrayName, DatasetSetArrays, DatasetSplit, PuzzleDatasetMetadata } from './format';
export { gridFromRows, gridToRows, gridsEqual, makeGrid } from './grid';
export type { Grid } from './grid';
export { MAZE_CHARSET, MAZE_VOCAB_SIZE, buildMaze, buildMazeFromPuzzles } from './maze';
export type { MazeBuildCommonOptions, MazeBuildOptions, MazeBuildResult, MazeFromPuzzlesOptions, MazePuzzle } from './maze';
export { generateMaze, generateMazePuzzle, mazeDistances } from './maze-generator';
export type { MazeGenerateManyOptions, MazeGenerateOptions } from './maze-generator';
export { NpyRowWriter } from './npy-stream';
export { RandomState } from './rng';
export { DatasetSplitWriter } from './split-writer';
export type { DatasetSplitWriterOptions, SplitMetadataFields } from './split-writer';
export { SUDOKU_VOCAB_SIZE, buildSudoku, buildSudokuFromPuzzles } from './sudoku';
export type { SudokuBuildCommonOptions, SudokuBuildOptions, SudokuBuildResult, SudokuFromPuzzlesOptions } from './sudoku';
export { applySudokuTransform, drawSudokuTransform, shuffleSudoku } from './sudoku-augment';
export type { SudokuTransform } from './sudoku-augment';
export { generateSudoku, generateSudokuPuzzle, generateSudokuWithBlanks } from './sudoku-generator';
export type { SudokuGenerateOptions } from './sudoku-generator';
export type { SudokuPuzzle } from './sudoku-rules';
export { hasUniqueSolution, solveSudoku } from './sudoku-solver';
export type { SudokuSolveOptions, SudokuSolveResult } from './sudoku-solver';

/**
 * The data API as one object, exported by the package as `datasets`:
 * `datasets.buildSudoku(...)`, `datasets.buildArc(...)`, `datasets.readDataset(...)`, ...
 */
export const datasets = {
  /** Builds the Sudoku dataset from train.csv / test.csv (docs/algorithm.md §5.4). */
  buildSudoku,
  /** Builds the Sudoku dataset from puzzles in memory (e.g. generated ones). */
  buildSudokuFromPuzzles,
  /** Builds the Maze dataset from train.csv / test.csv (docs/algorithm.md §5.5). */
  buildMaze,
  /** Builds the Maze dataset from mazes in memory (e.g. generated ones). */
  buildMazeFromPuzzles,
  /** Builds an ARC dataset from either input layout (docs/algorithm.md §5.7). */
  buildArc,
  /** Generates Sudoku puzzles with unique solutions. */
  generateSudoku,
  /** Generates one Sudoku puzzle from a given RNG. */
  generateSudokuPuzzle,
  /** Generates 30×30 mazes with long, BFS-verified shortest paths. */
  generateMaze,
  /** Generates one maze from a given RNG. */
  generateMazePuzzle,
  /** Reads and validates one split of a dataset. */
  readDataset,
  /** Reads a split's dataset.json. */
  readDatasetMetadata,
  /** Writes a split's dataset.json. */
  writeDatasetMetadata,
  /** Reads identifiers.json. */
  readIdentifiers,
  /** Writes identifiers.json. */
  writeIdentifiers,
  /** Reads test_puzzles.json. */
  readTestPuzzles,
  /** Writes test_puzzles.json. */
  writeTestPuzzles,
  /** Reads the tasks of one ARC subset from either layout. */
  loadArcSubset,
  /** Validates and converts one ARC JSON grid. */
  arcGridFromJson,
  /** Encodes an ARC grid as 900 tokens with its EOS frame. */
  encodeArcGrid,
  /** Encodes an ARC grid into an existing 900-token row. */
  encodeArcGridInto,
  /** Crops 900 tokens back to an ARC grid (the evaluator's rule). */
  cropArcGrid,
  /** The official sha256 grid hash. */
  arcGridHash,
  /** The official sha256 puzzle hash. */
  arcPuzzleHash,
  /** Names an augmented ARC puzzle. */
  arcPuzzleName,
  /** Parses an augmented ARC puzzle name. */
  parseArcPuzzleName,
  /** Undoes an ARC augmentation on a grid. */
  inverseArcAugmentation,
  /** Applies one of the 8 dihedral transforms. */
  dihedralTransform,
  /** Undoes one of the 8 dihedral transforms. */
  inverseDihedralTransform,
  /** Draws a validity-preserving Sudoku transform. */
  drawSudokuTransform,
  /** Applies a Sudoku transform to a board. */
  applySudokuTransform,
  /** Draws and applies one Sudoku transform to a puzzle and its solution. */
  shuffleSudoku,
  /** Solves a Sudoku board, counting solutions. */
  solveSudoku,
  /** True when a Sudoku board has exactly one solution. */
  hasUniqueSolution,
} as const;
