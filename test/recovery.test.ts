// Crash leftovers and lost state: temp files of killed writers are removed on the next start (only
// when their process is gone), and a training run killed with SIGKILL resumes from the state written
// with its last checkpoint, ending bit-identical to a run that was never interrupted.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TRM, Trainer, toFloat32, type ModelConfig } from '../lib';
import { removeStaleTempFiles } from '../lib/atomic-write';
import { native } from '../lib/native';
import { writeSuccessorTask } from './helpers/synthetic';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-recovery-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tsNode = require.resolve('ts-node/dist/bin.js');
const MODEL: Partial<ModelConfig> = {
  seqLen: 8,
  vocabSize: 6,
  numPuzzleIdentifiers: 1,
  hiddenSize: 32,
  numHeads: 2,
  hCycles: 2,
  lCycles: 2,
  lLayers: 1,
  puzzleEmbNdim: 32,
  puzzleEmbLen: 2,
  haltMaxSteps: 4,
};
const data = writeSuccessorTask(path.join(tmp, 'successor'), { train: 256, test: 32, seqLen: 8, vocab: 6, seed: 1 });
const TRAIN = {
  dataPaths: [data],
  globalBatchSize: 32,
  evaluators: [],
  lr: 3e-3,
  lrWarmupSteps: 10,
  weightDecay: 0.01,
  puzzleEmbLr: 1e-2,
  puzzleEmbWeightDecay: 0.01,
  seed: 0,
  epochs: 12,
  evalInterval: 1,
  checkpointEveryEval: true,
  ema: true,
  emaRate: 0.95,
  evaluate: false,
};

/** The pid of a process that has exited (so no process has it, barring reuse in the meantime). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('temp files of killed writers', () => {
  test('removeStaleTempFiles deletes only the temp files whose writer is gone', () => {
    const dir = path.join(tmp, 'temps');
    fs.mkdirSync(dir);
    const dead = deadPid();
    const names = {
      deadNative: `step_4.tmp-${dead}`,
      deadTs: `all_config.yaml.tmp-${dead}-1733000000000`,
      deadStream: `all__inputs.npy.tmp-${dead}-k3j9x0ab.2`,
      live: `step_5.tmp-${process.pid}`,
      unrelated: 'step_4',
      lookalike: 'notes.tmp-x',
    };
    for (const n of Object.values(names)) fs.writeFileSync(path.join(dir, n), 'x');
    const removed = removeStaleTempFiles(dir)
      .map((f) => path.basename(f))
      .sort();
    expect(removed).toEqual([names.deadNative, names.deadStream, names.deadTs].sort());
    expect(fs.readdirSync(dir).sort()).toEqual([names.live, names.lookalike, names.unrelated].sort());
  });

  test("a training run removes the dead writers' temp files from its checkpoint folder when it starts", async () => {
    const ckpt = path.join(tmp, 'stale-run');
    fs.mkdirSync(ckpt);
    const stale = path.join(ckpt, `step_16.tmp-${deadPid()}`);
    fs.writeFileSync(stale, Buffer.alloc(4096));
    const m = TRM.create(MODEL, {}, { seed: 1 });
    await new Trainer(m, { ...TRAIN, epochs: 1, checkpointPath: ckpt }).run();
    m.dispose();
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.readdirSync(ckpt).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('training state with every checkpoint', () => {
  test('each checkpoint writes state.safetensors for the position after it, without saveState', async () => {
    const ckpt = path.join(tmp, 'state-run');
    const m = TRM.create(MODEL, {}, { seed: 2 });
    const trainer = new Trainer(m, { ...TRAIN, epochs: 2, checkpointPath: ckpt });
    const seen: number[] = [];
    trainer.on('checkpoint', (e) => seen.push(e.step));
    await trainer.run();
    m.dispose();
    expect(trainer.statePath).toBe(path.join(ckpt, 'state.safetensors'));
    expect(seen).toEqual([8, 16]);
    const { metadata } = await native().readCheckpointIndex(trainer.statePath!);
    expect({ step: metadata.step, iteration: metadata.iteration, mid: metadata.mid_iteration }).toEqual({
      step: '16',
      iteration: '2',
      mid: '0',
    });
  });

  test('a run killed with SIGKILL after a checkpoint resumes from its folder and ends bit-identical to an uninterrupted run', async () => {
    const whole = TRM.create(MODEL, {}, { seed: 3 });
    await new Trainer(whole, { ...TRAIN, checkpointPath: path.join(tmp, 'whole') }).run();

    const ckpt = path.join(tmp, 'killed');
    const child = spawn(process.execPath, [tsNode, '-T', path.join(__dirname, 'helpers', 'train-worker.ts')], {
      env: {
        ...process.env,
        TRM_TEST_MODEL: JSON.stringify(MODEL),
        TRM_TEST_TRAIN: JSON.stringify({ ...TRAIN, checkpointPath: ckpt }),
        TRM_TEST_SEED: '3',
        OMP_NUM_THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // The second checkpoint event means the first state file is complete: kill without warning then.
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d) => {
        out += d.toString();
        if ((out.match(/^checkpoint /gm) ?? []).length >= 2) {
          child.kill('SIGKILL');
          resolve();
        }
      }),
    );
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toMatch(/done/);
    const { metadata } = await native().readCheckpointIndex(path.join(ckpt, 'state.safetensors'));
    expect(Number(metadata.step)).toBeLessThan(12 * 8);

    const resumed = TRM.create(MODEL, {}, { seed: 99 }); // a different init: everything must come from the state
    await new Trainer(resumed, { ...TRAIN, checkpointPath: ckpt }).run({ resumeFrom: ckpt });
    for (const e of whole.stateDict()) {
      const same = Buffer.from(toFloat32(whole.getTensor(e.name)).buffer).equals(Buffer.from(toFloat32(resumed.getTensor(e.name)).buffer));
      expect({ name: e.name, same }).toEqual({ name: e.name, same: true });
    }
    expect(fs.readdirSync(ckpt).filter((f) => f.includes('.tmp-'))).toEqual([]);
    [whole, resumed].forEach((m) => m.dispose());
  }, 120_000);
});
