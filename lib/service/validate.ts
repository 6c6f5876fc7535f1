/**
 * The checks the body schemas cannot phrase well: a Sudoku is 9×9 of digits, a maze is square
 * with one S and one G and no wider than the server's `maxGrid`, an ARC grid is rectangular.
 * They run before a request takes a solver slot, so bad input is answered 400 with a message
 * naming the field, the value found and what was expected — and never reaches the model.
 * The parsers are the Solver's own (lib/solver/*), so the service and the library agree.
 */
import { ErrorCodes, TrmError } from '../errors';
import { parseSudokuBoard } from '../solver/sudoku';
import { parseMazeInput } from '../solver/maze';
import { parseArcInput } from '../solver/arc';
import type { ArcBody, MazeBody, SudokuBody } from './schemas';

function invalid(message: string): TrmError {
  return new TrmError(ErrorCodes.INVALID_ARGUMENT, message);
}

/** Throws ERR_TRM_INVALID_ARGUMENT unless `body.puzzle` is a 9×9 Sudoku. */
export function checkSudokuBody(body: SudokuBody): void {
  parseSudokuBoard(body.puzzle, 'puzzle');
}

/** Rows of a maze as given (text lines or an array), for the size check. */
function mazeRows(maze: string | string[]): number {
  if (Array.isArray(maze)) return maze.length;
  const lines = maze.replace(/\r/g, '').split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length > 1 ? lines.length : Math.round(Math.sqrt((lines[0] ?? '').length));
}

/** Throws ERR_TRM_INVALID_ARGUMENT unless `body.maze` is a square maze of side ≤ `maxGrid`. */
export function checkMazeBody(body: MazeBody, maxGrid: number): void {
  const rows = mazeRows(body.maze);
  if (rows > maxGrid) throw invalid(`maze: the maze has ${rows} rows but this server accepts mazes up to ${maxGrid}×${maxGrid}`);
  parseMazeInput(body.maze, maxGrid);
}

/** Throws ERR_TRM_INVALID_ARGUMENT unless the ARC grids are rectangular grids of colours 0–9. */
export function checkArcBody(body: ArcBody): void {
  parseArcInput({ taskId: body.taskId, input: body.input, train: body.train });
}
