// `trm eval --nproc-per-node 2`: two processes over c10d/Gloo give the same metrics, pass@K and
// submission as one process (docs/algorithm.md §6.1, §6.2: sums reduced over ranks, votes gathered to rank 0).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TRM, readDatasetSizes } from '../lib';
import { buildTinyArc } from './helpers/arc-dataset';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-eval-dist-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const trm = path.resolve(__dirname, '..', 'bin', 'trm.js');

function evalRun(args: string[]): Record<string, unknown> {
  execFileSync(process.execPath, [trm, 'eval', ...args], {
    env: { ...process.env, TRM_CLI_FROM_SOURCE: '1', OMP_NUM_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const out = args[args.indexOf('--out') + 1];
  return JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
}

describe('trm eval over 2 processes', () => {
  it('matches the single-process metrics, pass@K and submission', async () => {
    const data = await buildTinyArc(tmp, 3);
    const model = TRM.create(
      { ...readDatasetSizes([data]), hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1, puzzleEmbNdim: 32, haltMaxSteps: 2 },
      {},
      { seed: 1 },
    );
    const ckpt = path.join(tmp, 'model.safetensors');
    await model.save(ckpt);
    model.dispose();
    const one = evalRun(['--checkpoint', ckpt, '--data', data, '--batch-size', '8', '--out', path.join(tmp, 'one')]);
    const two = evalRun([
      '--checkpoint',
      ckpt,
      '--data',
      data,
      '--batch-size',
      '8',
      '--out',
      path.join(tmp, 'two'),
      '--nproc-per-node',
      '2',
      '--master-port',
      '29577',
    ]);
    const m1 = one.metrics as Record<string, Record<string, number>>,
      m2 = two.metrics as Record<string, Record<string, number>>;
    expect(Object.keys(m2)).toEqual(Object.keys(m1));
    for (const set of Object.keys(m1)) {
      expect(m2[set].count).toBe(m1[set].count);
      for (const k of ['accuracy', 'exact_accuracy', 'q_halt_accuracy', 'steps', 'lm_loss']) expect(m2[set][k]).toBeCloseTo(m1[set][k], 5);
    }
    expect(two.arc).toEqual(one.arc);
    const sub1 = fs.readFileSync(path.join(tmp, 'one', 'submission.json'), 'utf8');
    const sub2 = fs.readFileSync(path.join(tmp, 'two', 'submission.json'), 'utf8');
    expect(sub2).toBe(sub1);
  }, 240000);
});
