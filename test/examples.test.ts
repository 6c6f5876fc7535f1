/**
 * The embedding examples run as a user runs them (ts-node, a checkpoint path): each serves POST
 * /api/sudoku, answers a well-formed puzzle with the rule check's verdict (the tiny untrained model
 * gets it wrong: 422 with the reason, never a cancelled solve) and a malformed one with 400.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { TRM } from '../lib';
import { makeTempDir } from './fixtures/data/helpers';
import { TINY } from './helpers/tiny';

const ROOT = path.join(__dirname, '..');
const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';

let checkpoint: string;
let cleanup: () => void;
beforeAll(async () => {
  const model = TRM.create(
    { ...TINY, seqLen: 81, vocabSize: 11, numPuzzleIdentifiers: 1, puzzleEmbNdim: 0, puzzleEmbLen: 0 },
    {},
    { seed: 2 },
  );
  const tmp = makeTempDir('examples');
  cleanup = tmp.cleanup;
  checkpoint = path.join(tmp.dir, 'tiny-sudoku.safetensors');
  await model.save(checkpoint);
  model.dispose();
});
afterAll(() => cleanup());

/** Starts an example on a free port; resolves with its URL once it says where it serves. */
function start(example: string): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'examples', example), checkpoint], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving POST (http:\/\/\S+)\/api\/sudoku/.exec(out);
      if (m) resolve({ proc, url: m[1] });
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code) => reject(new Error(`${example} exited with ${code}: ${out}`)));
  });
}

async function post(url: string, puzzle: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/sudoku`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ puzzle }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.each(['embed-fastify.ts', 'solver-pool.ts'])('examples/%s', (example) => {
  test('answers with the rule check, 400 for bad input', async () => {
    const { proc, url } = await start(example);
    try {
      const r = await post(url, PUZZLE);
      expect(r.status).toBe(422);
      expect(r.body.error).toMatch(/appears twice|blank|missing|given/);
      const bad = await post(url, '123');
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/81/);
    } finally {
      proc.kill();
    }
  }, 120_000);
});
