// Data-parallel training over c10d/Gloo with 2 processes on localhost: the same
// parameters as one process with the same global batch, and a dead rank fails the others fast.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildInfo, launch } from '../lib';
import { writeSuccessorTask } from './helpers/synthetic';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-dist-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const data = writeSuccessorTask(path.join(tmp, 'data'), { train: 256, test: 16, seqLen: 8, vocab: 6, seed: 2, ids: 5 });
const worker = path.join(__dirname, 'helpers', 'rank-worker.ts');
const tsNode = require.resolve('ts-node/dist/bin');
const env = {
  TRM_TEST_MODEL: JSON.stringify({
    seqLen: 8,
    vocabSize: 6,
    numPuzzleIdentifiers: 5,
    hiddenSize: 32,
    numHeads: 2,
    hCycles: 2,
    lCycles: 2,
    lLayers: 1,
    puzzleEmbNdim: 32,
    puzzleEmbLen: 2,
    haltMaxSteps: 4,
    haltExplorationProb: 0,
    forwardDtype: 'float32',
  }),
  TRM_TEST_TRAIN: JSON.stringify({
    globalBatchSize: 16,
    epochs: 4,
    evaluators: [],
    lr: 3e-3,
    lrWarmupSteps: 4,
    puzzleEmbLr: 1e-2,
    seed: 0,
  }),
  OMP_NUM_THREADS: '1',
};
let port = 29610;

/** The raw bytes of one tensor of a safetensors file. */
function safetensorsEntry(file: string, name: string): Buffer {
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const [from, to] = header[name].data_offsets;
  return bytes.subarray(8 + headerLength + from, 8 + headerLength + to);
}

function single(out: string, steps: number): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [tsNode, '-T', worker, data, out, String(steps)], {
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    c.on('exit', (code) => resolve(code ?? 1));
  });
}

describe('distributed training over Gloo (2 processes)', () => {
  it('is built in (scripts/setup.sh installs the Gloo headers)', () => {
    expect(buildInfo().distributed).toBe(true);
  });

  it('ends with the same parameters as one process with the same global batch', async () => {
    const one = path.join(tmp, 'one.json'),
      two = path.join(tmp, 'two.json');
    expect(await single(one, 12)).toBe(0);
    await launch({ nprocPerNode: 2, masterPort: port++, args: [tsNode, '-T', worker, data, two, '12'], env });
    const a = JSON.parse(fs.readFileSync(one, 'utf8')) as Record<string, number[]>;
    const b = JSON.parse(fs.readFileSync(two, 'utf8')) as Record<string, number[]>;
    expect(Object.keys(b)).toEqual(Object.keys(a));
    let moved = 0;
    for (const k of Object.keys(a)) {
      a[k].forEach((v, i) => {
        expect(Math.abs(v - b[k][i])).toBeLessThan(1e-5);
      });
      moved += a[k].length;
    }
    expect(moved).toBeGreaterThan(0);
  }, 240000);

  it('explores with seed + rank even when every rank builds its model from the same seed', async () => {
    const state = path.join(tmp, 'explore-state');
    await launch({
      nprocPerNode: 2,
      masterPort: port++,
      args: [tsNode, '-T', worker, data, path.join(tmp, 'params.json'), '6'],
      env: { ...env, TRM_TEST_MODEL_SEED: '5', TRM_TEST_STATE: state },
    });
    // The exploration generator's state after the same number of draws: equal only if seeded alike.
    const [r0, r1] = [0, 1].map((r) => safetensorsEntry(`${state}.rank${r}`, 'rng/explore'));
    expect(r0.length).toBeGreaterThan(1000);
    expect(r0.equals(r1)).toBe(false);
  }, 240000);

  it('makes the surviving rank fail fast with a TrmError when its peer dies', async () => {
    const masterPort = port++;
    const rank = (r: number) =>
      spawn(process.execPath, [tsNode, '-T', worker, data, path.join(tmp, 'x.json'), '100000'], {
        env: {
          ...process.env,
          ...env,
          TRM_TEST_TRAIN: JSON.stringify({ ...JSON.parse(env.TRM_TEST_TRAIN), epochs: 1000 }),
          RANK: String(r),
          WORLD_SIZE: '2',
          LOCAL_RANK: String(r),
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: String(masterPort),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const r0 = rank(0),
      r1 = rank(1);
    let err0 = '';
    r0.stderr!.on('data', (d: Buffer) => (err0 += d.toString()));
    const exit0 = new Promise<number | null>((resolve) => r0.on('exit', (code) => resolve(code)));
    // Once rank 0 reports training steps, kill rank 1 without warning.
    await new Promise<void>((resolve) => r0.stdout!.on('data', (d: Buffer) => d.toString().includes('step 3') && resolve()));
    const killedAt = Date.now();
    r1.kill('SIGKILL');
    const code = await exit0;
    expect(code).not.toBe(0);
    expect(err0).toContain('ERR_TRM_DIST');
    expect(Date.now() - killedAt).toBeLessThan(60000);
  }, 240000);
});
