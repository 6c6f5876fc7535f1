/**
 * The Maze builder (docs/algorithm.md §5.5) against the official builder's arrays
 * (test/fixtures/data/maze-official-sha256.json), its errors, and the maze generator's
 * guarantees, checked with an independent breadth-first search.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes } from '../lib/errors';
import { readDataset } from '../lib/data/format';
import { buildMaze, buildMazeFromPuzzles, MazePuzzle } from '../lib/data/maze';
import { generateMaze } from '../lib/data/maze-generator';
import { FIXTURES, makeTempDir, rejectsTrmError, runPythonFile, sha256 } from './fixtures/data/helpers';
import official from './fixtures/data/maze-official-sha256.json';

const CSV_DIR = path.join(FIXTURES, 'maze');
const TOKEN: Record<string, number> = { '#': 1, ' ': 2, S: 3, G: 4, o: 5 };

/** Shortest path length from S to G by BFS over non-wall cells, or −1. */
function bfsDistance(maze: string, side: number): number {
  const start = maze.indexOf('S');
  const goal = maze.indexOf('G');
  const dist = new Array<number>(maze.length).fill(-1);
  dist[start] = 0;
  const queue = [start];
  for (let h = 0; h < queue.length; h++) {
    const cell = queue[h];
    const r = Math.floor(cell / side);
    const c = cell % side;
    for (const [nr, nc] of [
      [r - 1, c],
      [r + 1, c],
      [r, c - 1],
      [r, c + 1],
    ]) {
      if (nr < 0 || nc < 0 || nr >= side || nc >= side) continue;
      const n = nr * side + nc;
      if (maze[n] === '#' || dist[n] >= 0) continue;
      dist[n] = dist[cell] + 1;
      queue.push(n);
    }
  }
  return dist[goal];
}

describe('buildMaze from CSV', () => {
  const tmp = makeTempDir('maze');
  afterAll(() => tmp.cleanup());
  const out = path.join(tmp.dir, 'out');
  beforeAll(async () => {
    await buildMaze({ inputDir: CSV_DIR, outputDir: out, aug: true });
  });

  test('arrays equal the official builder with aug', () => {
    for (const [key, want] of Object.entries(official.arrays)) {
      const [split, name] = key.split('/');
      const set = readDataset(out, split).sets.all;
      const field = {
        all__inputs: set.inputs.data,
        all__labels: set.labels.data,
        all__puzzle_identifiers: set.puzzleIdentifiers,
        all__puzzle_indices: set.puzzleIndices,
        all__group_indices: set.groupIndices,
      }[name] as Uint8Array | Int32Array;
      expect([key, sha256(new Uint8Array(field.buffer, field.byteOffset, field.byteLength))]).toEqual([key, want.sha256]);
    }
  });

  test('8 dihedral puzzles per training maze, tokens "# SGo" → 1..5, test not augmented', () => {
    const rows = fs
      .readFileSync(path.join(CSV_DIR, 'train.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const side = Math.sqrt(rows[0][1].length);
    const train = readDataset(out, 'train');
    const test = readDataset(out, 'test');
    expect([
      train.metadata.totalGroups,
      train.sets.all.puzzleIdentifiers.length,
      test.metadata.totalGroups,
      test.sets.all.puzzleIdentifiers.length,
    ]).toEqual([8, 64, 4, 4]);
    expect(train.metadata).toMatchObject({ vocabSize: 6, seqLen: side * side, numPuzzleIdentifiers: 1, totalPuzzles: 8 });
    const tokens = Array.from(rows[0][1], (ch) => TOKEN[ch]);
    const data = train.sets.all.inputs.data as Uint8Array;
    expect(Array.from(data.subarray(0, side * side))).toEqual(tokens);
    // Puzzle 1 of the group is rot90 counter-clockwise: new[i][j] = old[j][side − 1 − i].
    const rot = data.subarray(side * side, 2 * side * side);
    for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) expect(rot[i * side + j]).toBe(tokens[j * side + side - 1 - i]);
  });

  test('the official loader logic accepts the dataset', () => {
    const summary = JSON.parse(runPythonFile(path.join(FIXTURES, 'check_official_loader.py'), [out, 'train', 'test'])) as Record<
      string,
      { sets: { all: { examples: number } } }
    >;
    expect([summary.train.sets.all.examples, summary.test.sets.all.examples]).toEqual([64, 4]);
  });

  test('malformed mazes → DATA_FORMAT with file and line', async () => {
    const good = '####S  G#';
    const cases: Array<[string, string, string]> = [
      ['not square', `src,${good}#,${good}#,1`, 'not a perfect square'],
      ['bad character', `src,####S xG#,####S  G#,1`, 'expected one of "# SGo"'],
      ['size differs from the first maze', `src,${'#'.repeat(16)},${'#'.repeat(16)},1`, 'earlier mazes are 3×3'],
      ['answer length differs', `src,${good},${good}#,1`, 'the answer has 10 characters'],
    ];
    for (const [name, row, message] of cases) {
      const dir = path.join(tmp.dir, name.replace(/\W+/g, '-'));
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'train.csv'), `source,question,answer,rating\nsrc,${good},${good},1\n${row}\n`);
      fs.writeFileSync(path.join(dir, 'test.csv'), `source,question,answer,rating\nsrc,${good},${good},1\n`);
      const e = await rejectsTrmError(buildMaze({ inputDir: dir, outputDir: path.join(dir, 'out') }));
      expect([name, e.code, e.message.includes(`${path.join(dir, 'train.csv')}:3:`), e.message.includes(message)]).toEqual([
        name,
        ErrorCodes.DATA_FORMAT,
        true,
        true,
      ]);
    }
  });
});

describe('maze generator', () => {
  const tmp = makeTempDir('maze-gen');
  afterAll(() => tmp.cleanup());
  let mazes: MazePuzzle[] = [];
  beforeAll(async () => {
    mazes = await generateMaze({ count: 40, seed: 7 });
  });

  test('30×30 mazes whose BFS shortest path is longer than 110 and equals the rating', () => {
    for (const m of mazes) {
      expect([m.question.length, m.answer.length]).toEqual([900, 900]);
      const d = bfsDistance(m.question, 30);
      expect(d).toBeGreaterThan(110);
      expect(d).toBe(m.rating);
    }
  });

  test('the label draws one shortest S→G path in "o" and changes nothing else', () => {
    for (const m of mazes) {
      let pathCells = 0;
      const wrong: number[] = [];
      for (let k = 0; k < 900; k++) {
        if (m.answer[k] === 'o') {
          pathCells += 1;
          if (m.question[k] !== ' ') wrong.push(k);
        } else if (m.answer[k] !== m.question[k]) wrong.push(k);
      }
      expect(wrong).toEqual([]);
      expect(pathCells).toBe(m.rating - 1);
      // The path cells alone (plus S and G) still connect S to G in exactly `rating` steps.
      const onlyPath = Array.from(m.answer, (ch) => (ch === 'o' || ch === 'S' || ch === 'G' ? ch : '#')).join('');
      expect(bfsDistance(onlyPath, 30)).toBe(m.rating);
    }
  });

  test('other sizes and thresholds, reproducible from the seed, and a dataset from generated mazes', async () => {
    const small = await generateMaze({ count: 5, seed: 1, size: 12, minPathLength: 20 });
    for (const m of small) expect(bfsDistance(m.question, 12)).toBeGreaterThan(20);
    expect(await generateMaze({ count: 5, seed: 1, size: 12, minPathLength: 20 })).toEqual(small);
    const result = await buildMazeFromPuzzles({ outputDir: tmp.dir, train: mazes.slice(0, 30), test: mazes.slice(30), aug: true });
    expect([result.train.totalGroups, result.test.totalGroups, result.side]).toEqual([30, 10, 30]);
    expect(readDataset(tmp.dir, 'train').sets.all.inputs.shape).toEqual([240, 900]);
  });

  test('an impossible threshold → INVALID_ARGUMENT', async () => {
    expect((await rejectsTrmError(generateMaze({ count: 1, size: 7, minPathLength: 100 }))).code).toBe(ErrorCodes.INVALID_ARGUMENT);
  });
});
