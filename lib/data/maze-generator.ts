/**
 * Offline maze generator in the "# SGo" layout of Maze-Hard (docs/algorithm.md §5.5): a random labyrinth
 * (depth-first carving on a lattice of cells two apart, at a random offset), a few extra openings
 * that create loops, then a start and a goal whose shortest path, verified by breadth-first
 * search, is longer than a minimum (Maze-Hard: > 110 steps) and, by default, unique. The label is
 * the maze with that path drawn in 'o' (start and goal keep 'S' and 'G').
 */
import { ErrorCodes, TrmError, check } from '../errors';
import { MazePuzzle } from './maze';
import { ProgressCallback, ProgressReporter } from './progress';
import { RandomState } from './rng';

/** Options of {@link generateMaze} and {@link generateMazePuzzle}. */
export interface MazeGenerateOptions {
  /** Side of the square maze (default 30). */
  size?: number;
  /** The shortest S→G path must have more steps than this (default 110, the Maze-Hard threshold). */
  minPathLength?: number;
  /** Probability of opening each remaining wall between two lattice cells, creating loops (default 0.05). */
  loopFraction?: number;
  /** Require the shortest path to be the only one of its length, so the label is unambiguous (default true). */
  uniquePath?: boolean;
}

/** Options of {@link generateMaze}. */
export interface MazeGenerateManyOptions extends MazeGenerateOptions {
  /** Number of mazes. */
  count: number;
  /** Seed (default 0); the same seed gives the same mazes. */
  seed?: number;
  /** Receives progress reports. */
  onProgress?: ProgressCallback;
}

const WALL = 0;
const OPEN = 1;
const MAX_TRIES = 200;

/** Breadth-first distances from `start` over open cells (−1 = unreachable) and shortest-path counts (capped at 2). */
export function mazeDistances(open: Uint8Array, side: number, start: number): { dist: Int32Array; ways: Uint8Array } {
  const dist = new Int32Array(side * side).fill(-1);
  const ways = new Uint8Array(side * side);
  const queue = new Int32Array(side * side);
  let head = 0;
  let tail = 0;
  dist[start] = 0;
  ways[start] = 1;
  queue[tail++] = start;
  while (head < tail) {
    const cell = queue[head++];
    const r = Math.floor(cell / side);
    const c = cell % side;
    const next = [r > 0 ? cell - side : -1, r < side - 1 ? cell + side : -1, c > 0 ? cell - 1 : -1, c < side - 1 ? cell + 1 : -1];
    for (const n of next) {
      if (n < 0 || open[n] !== OPEN) continue;
      if (dist[n] < 0) {
        dist[n] = dist[cell] + 1;
        ways[n] = ways[cell];
        queue[tail++] = n;
      } else if (dist[n] === dist[cell] + 1) {
        ways[n] = Math.min(2, ways[n] + ways[cell]);
      }
    }
  }
  return { dist, ways };
}

/** Carves a labyrinth: open[cell] = 1 for corridors. */
function carve(rng: RandomState, side: number, loopFraction: number): Uint8Array {
  const open = new Uint8Array(side * side).fill(WALL);
  const rowOffset = 1 + rng.randint(0, 2);
  const colOffset = 1 + rng.randint(0, 2);
  const nr = Math.floor((side - 2 - rowOffset) / 2) + 1;
  const nc = Math.floor((side - 2 - colOffset) / 2) + 1;
  const at = (i: number, j: number): number => (rowOffset + 2 * i) * side + colOffset + 2 * j;
  const visited = new Uint8Array(nr * nc);
  const stack: number[] = [rng.randint(0, nr * nc)];
  visited[stack[0]] = 1;
  open[at(Math.floor(stack[0] / nc), stack[0] % nc)] = OPEN;
  const dirs: Array<[number, number]> = [
    [-1, 0],
    [1, 0],
    [0, -1],
    [0, 1],
  ];
  while (stack.length > 0) {
    const cur = stack[stack.length - 1];
    const i = Math.floor(cur / nc);
    const j = cur % nc;
    const options: Array<[number, number]> = [];
    for (const [di, dj] of dirs) {
      const ni = i + di;
      const nj = j + dj;
      if (ni >= 0 && ni < nr && nj >= 0 && nj < nc && !visited[ni * nc + nj]) options.push([ni, nj]);
    }
    if (options.length === 0) {
      stack.pop();
      continue;
    }
    const [ni, nj] = options[rng.randint(0, options.length)];
    visited[ni * nc + nj] = 1;
    open[at(ni, nj)] = OPEN;
    open[(at(i, j) + at(ni, nj)) / 2] = OPEN;
    stack.push(ni * nc + nj);
  }
  if (loopFraction > 0) {
    for (let i = 0; i < nr; i++) {
      for (let j = 0; j < nc; j++) {
        if (i + 1 < nr && rng.randomSample() < loopFraction) open[(at(i, j) + at(i + 1, j)) / 2] = OPEN;
        if (j + 1 < nc && rng.randomSample() < loopFraction) open[(at(i, j) + at(i, j + 1)) / 2] = OPEN;
      }
    }
  }
  return open;
}

function render(open: Uint8Array, start: number, goal: number, path: ReadonlySet<number>): { question: string; answer: string } {
  let question = '';
  let answer = '';
  for (let k = 0; k < open.length; k++) {
    const q = k === start ? 'S' : k === goal ? 'G' : open[k] === OPEN ? ' ' : '#';
    question += q;
    answer += path.has(k) ? 'o' : q;
  }
  return { question, answer };
}

function checkOptions(options: MazeGenerateOptions): Required<MazeGenerateOptions> {
  const size = options.size ?? 30;
  const minPathLength = options.minPathLength ?? 110;
  const loopFraction = options.loopFraction ?? 0.05;
  check(Number.isInteger(size) && size >= 5 && size <= 255, `size must be an integer in [5, 255], got ${size}`);
  check(Number.isInteger(minPathLength) && minPathLength >= 0, `minPathLength must be an integer ≥ 0, got ${minPathLength}`);
  check(loopFraction >= 0 && loopFraction <= 1, `loopFraction must be in [0, 1], got ${loopFraction}`);
  return { size, minPathLength, loopFraction, uniquePath: options.uniquePath ?? true };
}

/**
 * Generates one maze whose shortest S→G path has more than `minPathLength` steps (and is unique
 * when `uniquePath`). `rating` is that path length.
 */
export function generateMazePuzzle(rng: RandomState, options: MazeGenerateOptions = {}): MazePuzzle {
  const { size, minPathLength, loopFraction, uniquePath } = checkOptions(options);
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const open = carve(rng, size, loopFraction);
    const cells: number[] = [];
    for (let k = 0; k < open.length; k++) if (open[k] === OPEN) cells.push(k);
    const start = cells[rng.randint(0, cells.length)];
    const { dist, ways } = mazeDistances(open, size, start);
    const goals = cells.filter((k) => dist[k] > minPathLength && (!uniquePath || ways[k] === 1));
    if (goals.length === 0) continue;
    const goal = goals[rng.randint(0, goals.length)];
    // Walk back from the goal along strictly decreasing distances (unique when ways = 1).
    const fromGoal = mazeDistances(open, size, goal).dist;
    const path = new Set<number>();
    let cell = start;
    while (cell !== goal) {
      const r = Math.floor(cell / size);
      const c = cell % size;
      const next = [r > 0 ? cell - size : -1, r < size - 1 ? cell + size : -1, c > 0 ? cell - 1 : -1, c < size - 1 ? cell + 1 : -1].find(
        (n) => n >= 0 && open[n] === OPEN && fromGoal[n] === fromGoal[cell] - 1,
      ) as number;
      cell = next;
      if (cell !== goal) path.add(cell);
    }
    return { source: 'trm-native-generator', ...render(open, start, goal, path), rating: dist[goal] };
  }
  throw new TrmError(
    ErrorCodes.INVALID_ARGUMENT,
    `generateMazePuzzle: no ${size}×${size} maze with a shortest path longer than ${minPathLength} in ${MAX_TRIES} attempts; lower minPathLength or loopFraction`,
  );
}

/** Generates `count` mazes (see {@link generateMazePuzzle}), yielding to the event loop now and then. */
export async function generateMaze(options: MazeGenerateManyOptions): Promise<MazePuzzle[]> {
  const seed = options.seed ?? 0;
  check(Number.isInteger(options.count) && options.count >= 0, `count must be an integer ≥ 0, got ${options.count}`);
  check(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, `seed must be an integer in [0, 2^32 − 1], got ${seed}`);
  checkOptions(options);
  const rng = new RandomState(seed);
  const reporter = new ProgressReporter(options.onProgress);
  reporter.start('generate maze', options.count, 'mazes');
  const out: MazePuzzle[] = [];
  while (out.length < options.count) {
    out.push(generateMazePuzzle(rng, options));
    if (reporter.tick(out.length)) await reporter.pause();
  }
  reporter.finish(out.length);
  return out;
}
