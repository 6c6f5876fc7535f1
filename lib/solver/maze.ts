/**
 * Mazes for the solver: parsing a text grid of "# SGo" ('#' wall, ' ' open, 'S' start, 'G' goal),
 * its tokens (docs/algorithm.md §5.5: '#' 1, ' ' 2, 'S' 3, 'G' 4, 'o' 5), placing a smaller maze in the
 * model's square canvas, and checking a predicted path.
 */
import { ErrorCodes, TrmError } from '../errors';
import { MAZE_CHARSET } from '../data/maze';
import { mazeDistances } from '../data/maze-generator';

/** A maze: text with one line per row, a flat string of side² characters, or an array of row strings. */
export type MazeInput = string | readonly string[];

/** A parsed maze: its rows. */
export interface MazeGrid {
  /** Side of the square maze. */
  side: number;
  /** Rows of "# SGo" characters. */
  rows: string[];
}

const WALL = 1;

function invalid(message: string): TrmError {
  return new TrmError(ErrorCodes.INVALID_ARGUMENT, `maze: ${message}`);
}

/**
 * Parses a square maze of side ≤ `maxSide` with exactly one 'S' and one 'G' and no path cells;
 * throws ERR_TRM_INVALID_ARGUMENT naming the problem.
 */
export function parseMazeInput(input: MazeInput, maxSide: number): MazeGrid {
  let rows: string[];
  if (typeof input === 'string') {
    const lines = input.replace(/\r/g, '').split('\n');
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length > 1) rows = lines;
    else {
      const flat = lines[0] ?? '';
      const side = Math.round(Math.sqrt(flat.length));
      if (side === 0 || side * side !== flat.length)
        throw invalid(`a one-line maze must have side² characters, found ${flat.length} (not a perfect square); or give one line per row`);
      rows = Array.from({ length: side }, (_, r) => flat.slice(r * side, (r + 1) * side));
    }
  } else if (Array.isArray(input)) {
    rows = [...input];
    if (rows.some((r) => typeof r !== 'string')) throw invalid('an array maze must hold one string per row');
  } else {
    throw invalid(`expected a string or an array of row strings, got ${input === null ? 'null' : typeof input}`);
  }
  const side = rows.length;
  if (side === 0) throw invalid('the maze is empty');
  if (side > maxSide) throw invalid(`the maze has ${side} rows but this model handles mazes up to ${maxSide}×${maxSide}`);
  let starts = 0,
    goals = 0;
  rows.forEach((row, r) => {
    if (row.length !== side) throw invalid(`row ${r} has ${row.length} characters but the maze has ${side} rows; a maze must be square`);
    for (let c = 0; c < side; c++) {
      const ch = row[c];
      if (ch === 'o') throw invalid(`cell (${r}, ${c}) is already a path cell 'o'; give the maze without its path`);
      if (!MAZE_CHARSET.includes(ch))
        throw invalid(`cell (${r}, ${c}) is ${JSON.stringify(ch)}; expected one of '#' (wall), ' ' (open), 'S' (start), 'G' (goal)`);
      if (ch === 'S') starts++;
      if (ch === 'G') goals++;
    }
  });
  if (starts !== 1 || goals !== 1) throw invalid(`a maze needs exactly one 'S' and one 'G', found ${starts} and ${goals}`);
  return { side, rows };
}

/** Tokens of a maze placed at the top left of a `canvas`×`canvas` grid, the rest filled with walls. */
export function encodeMaze(maze: MazeGrid, canvas: number): Int32Array {
  const out = new Int32Array(canvas * canvas).fill(WALL);
  for (let r = 0; r < maze.side; r++) {
    for (let c = 0; c < maze.side; c++) out[r * canvas + c] = MAZE_CHARSET.indexOf(maze.rows[r][c]) + 1;
  }
  return out;
}

/** Rows of the maze's part of predicted tokens; tokens outside 1..5 (PAD) show as '?'. */
export function decodeMaze(tokens: ArrayLike<number>, side: number, canvas: number): string[] {
  const rows: string[] = [];
  for (let r = 0; r < side; r++) {
    let s = '';
    for (let c = 0; c < side; c++) {
      const t = tokens[r * canvas + c];
      s += t >= 1 && t <= 5 ? MAZE_CHARSET[t - 1] : '?';
    }
    rows.push(s);
  }
  return rows;
}

/** The verdict of {@link checkMazeSolution}. */
export interface MazeCheck {
  /** The answer keeps the maze (walls, S, G) and its 'o' cells connect S to G. */
  valid: boolean;
  /** Valid, and the 'o' cells are exactly a shortest S→G path. */
  optimal: boolean;
  /** Number of 'o' cells. */
  pathLength: number;
  /** Why the answer is not valid (undefined when valid). */
  reason?: string;
}

/** Checks a predicted maze `answer` against the `question` maze (both as parsed rows). */
export function checkMazeSolution(question: MazeGrid, answer: readonly string[]): MazeCheck {
  const side = question.side;
  const open = new Uint8Array(side * side);
  let start = -1,
    goal = -1,
    pathLength = 0;
  const fail = (reason: string): MazeCheck => ({ valid: false, optimal: false, pathLength, reason });
  if (answer.length !== side || answer.some((r) => r.length !== side)) return fail(`the answer is not ${side}×${side}`);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const q = question.rows[r][c],
        a = answer[r][c],
        i = r * side + c;
      if (q === 'S') start = i;
      if (q === 'G') goal = i;
      if (a === 'o') pathLength++;
      const ok = q === ' ' ? a === ' ' || a === 'o' : a === q;
      if (!ok) return fail(`cell (${r}, ${c}) was ${JSON.stringify(q)} but the answer has ${JSON.stringify(a)}`);
      if (a === 'o' || a === 'S' || a === 'G') open[i] = 1;
    }
  }
  const onPath = mazeDistances(open, side, start).dist;
  if (onPath[goal] < 0) return fail("the 'o' cells do not connect S to G");
  const free = new Uint8Array(side * side);
  for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) free[r * side + c] = question.rows[r][c] === '#' ? 0 : 1;
  const shortest = mazeDistances(free, side, start).dist[goal];
  return { valid: true, optimal: pathLength === shortest - 1 && onPath[goal] === shortest, pathLength };
}
