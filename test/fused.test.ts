// The recursion's optimisations (native/core/fused.h, docs/performance.md): fused kernels and
// the mlp_t layout agree with the plain LibTorch ops on every architecture, forward and backward;
// the switches validate their input; the default forward dtype follows the hardware; the compute
// thread never makes a job wait for a training run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  TRM,
  Trainer,
  buildInfo,
  defaultForwardDtype,
  forwardDtypeChoice,
  fusions,
  setFusions,
  type Fusions,
  type ModelConfig,
} from '../lib';
import { ErrorCodes } from '../lib/errors';
import { relDiff } from './helpers/parity';
import { writeSuccessorTask } from './helpers/synthetic';
import { TINY, tinyBatch } from './helpers/tiny';

const ALL_ON: Fusions = { norm: true, swiglu: true, rope: true, tokenMix: true, castCache: true, cudaGraphs: true };
const ALL_OFF: Fusions = { norm: false, swiglu: false, rope: false, tokenMix: false, castCache: false, cudaGraphs: false };

const ARCHS: Record<string, Partial<ModelConfig>> = {
  'trm attention + rope': { ...TINY },
  'trm mlp_t': { ...TINY, mlpT: true, posEncodings: 'none' },
  hrm: { ...TINY, arch: 'hrm', hLayers: 1, lLayers: 1 },
  trm_singlez: { ...TINY, arch: 'trm_singlez' },
  trm_hier6: { ...TINY, arch: 'trm_hier6', lCycles: 6, posEncodings: 'learned' },
};

/** Logits of 2 eval steps and every gradient of one training step, under the given switches. */
async function outputs(model: TRM, cfg: Partial<ModelConfig>, f: Fusions) {
  setFusions(f);
  const batch = tinyBatch(cfg, 3);
  const steps = (await model.run(batch, { steps: 2, trace: true })).trace!;
  model.train();
  model.zeroGrad();
  await model.step(model.initialCarry(3), batch);
  await model.backward(1);
  const grads = model.gradients();
  model.eval();
  return { logits: steps.map((s) => s.logits!.data as Float32Array), grads };
}

afterEach(() => {
  setFusions(ALL_ON);
});

describe.each(Object.entries(ARCHS))('fused = unfused: %s', (_name, cfg) => {
  it('fp32: logits within 1e-5 at the first step, every gradient within 1e-4', async () => {
    const model = TRM.create(cfg, { forwardDtype: 'float32' }, { seed: 3 });
    try {
      const plain = await outputs(model, cfg, ALL_OFF);
      const fused = await outputs(model, cfg, ALL_ON);
      // Later steps only amplify rounding (a random recursive net is chaotic), so step 0 is the check.
      expect(relDiff(fused.logits[0], plain.logits[0])).toBeLessThan(1e-5);
      const names = Object.keys(plain.grads).filter((n) => n !== 'puzzle_emb.local_ids');
      expect(Object.keys(fused.grads).sort()).toEqual(Object.keys(plain.grads).sort());
      for (const n of names)
        expect({ n, ok: relDiff(fused.grads[n].data as Float32Array, plain.grads[n].data as Float32Array) < 1e-4 }).toEqual({
          n,
          ok: true,
        });
    } finally {
      model.dispose();
    }
  });

  it('bf16: logits within 1e-2 at both steps, every gradient within 2e-2 (bf16 rounding, docs/performance.md)', async () => {
    const model = TRM.create(cfg, { forwardDtype: 'bfloat16' }, { seed: 3 });
    try {
      const plain = await outputs(model, cfg, ALL_OFF);
      const fused = await outputs(model, cfg, ALL_ON);
      for (let k = 0; k < 2; k++) expect(relDiff(fused.logits[k], plain.logits[k])).toBeLessThan(1e-2);
      for (const n of Object.keys(plain.grads).filter((x) => x !== 'puzzle_emb.local_ids'))
        expect({ n, ok: relDiff(fused.grads[n].data as Float32Array, plain.grads[n].data as Float32Array) < 2e-2 }).toEqual({
          n,
          ok: true,
        });
    } finally {
      model.dispose();
    }
  });
});

describe('setFusions', () => {
  it('switches each optimisation and reports the settings in force', () => {
    expect(fusions()).toEqual(ALL_ON);
    expect(setFusions({ norm: false, tokenMix: false })).toEqual({ ...ALL_ON, norm: false, tokenMix: false });
    expect(fusions()).toEqual({ ...ALL_ON, norm: false, tokenMix: false });
  });

  it('rejects unknown switches and non-boolean values with INVALID_ARGUMENT', () => {
    expect(() => setFusions({ nrom: false } as unknown as Partial<Fusions>)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT, message: expect.stringContaining("unknown switch 'nrom'") }),
    );
    expect(() => setFusions({ norm: 1 } as unknown as Partial<Fusions>)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT, message: expect.stringContaining('norm must be a boolean, got 1') }),
    );
    expect(fusions()).toEqual(ALL_ON);
  });
});

describe('default forward dtype', () => {
  it('reads native bf16 off the CPU as the kernel reports it (/proc/cpuinfo flags on Linux x86-64)', () => {
    const info = buildInfo();
    if (process.platform === 'linux' && process.arch === 'x64') {
      const flags = new Set(
        fs
          .readFileSync('/proc/cpuinfo', 'utf8')
          .split('\n')
          .find((l) => l.startsWith('flags'))!
          .split(':')[1]
          .trim()
          .split(/\s+/),
      );
      const expected = ['avx512_bf16', 'amx_bf16'].filter((f) => flags.has(f) && (f !== 'amx_bf16' || flags.has('amx_tile')));
      expect(info.cpuBf16.features).toEqual(expected);
    }
    expect(info.cpuBf16.native).toBe(info.cpuBf16.onednn && info.cpuBf16.features.length > 0);
    expect(['avx512', 'avx2', 'base']).toContain(info.fusedCpuKernels);
  });

  it('is bf16 on CUDA and on CPUs with native bf16, fp32 elsewhere, with the reason', () => {
    expect(forwardDtypeChoice('cuda:1')).toEqual({ dtype: 'bfloat16', reason: expect.stringContaining('CUDA') });
    const cpu = forwardDtypeChoice('cpu');
    expect(cpu.dtype).toBe(buildInfo().cpuBf16.native ? 'bfloat16' : 'float32');
    expect(cpu.reason).toMatch(buildInfo().cpuBf16.native ? /natively \(avx512_bf16|natively \(amx_bf16/ : /no native bf16/);
    expect(buildInfo().defaultForwardDtype).toEqual(cpu);
    expect(defaultForwardDtype('cpu')).toBe(cpu.dtype);
  });

  it('applies when a config does not set forwardDtype; a config that sets it wins', () => {
    const { forwardDtype: _drop, ...noDtype } = TINY;
    const a = TRM.create(noDtype, {}, { seed: 1 });
    const other = defaultForwardDtype('cpu') === 'bfloat16' ? 'float32' : 'bfloat16';
    const b = TRM.create(noDtype, { forwardDtype: other }, { seed: 1 });
    try {
      expect(a.config.forwardDtype).toBe(defaultForwardDtype('cpu'));
      expect(b.config.forwardDtype).toBe(other);
      expect(a.getTensor('H_init').dtype).toBe(defaultForwardDtype('cpu'));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it("loads an official checkpoint on the CPU in the CPU's default dtype, whatever its all_config says", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-dtype-'));
    const m = TRM.create(TINY, {}, { seed: 2 });
    try {
      await m.save(path.join(dir, 'step_1'), { format: 'official' });
      const written = fs.readFileSync(path.join(dir, 'all_config.yaml'), 'utf8');
      const other = defaultForwardDtype('cpu') === 'bfloat16' ? 'float32' : 'bfloat16';
      fs.writeFileSync(path.join(dir, 'all_config.yaml'), written.replace(/forward_dtype: \w+/, `forward_dtype: ${other}`));
      const back = await TRM.load(path.join(dir, 'step_1'));
      try {
        expect(back.config.forwardDtype).toBe(defaultForwardDtype('cpu'));
      } finally {
        back.dispose();
      }
    } finally {
      m.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compute thread', () => {
  it('runs another model while a training run holds the compute thread (no job waits for training to end)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-compute-'));
    const data = writeSuccessorTask(path.join(dir, 'data'), {
      train: 64,
      test: 8,
      seqLen: TINY.seqLen!,
      vocab: TINY.vocabSize!,
      seed: 1,
      ids: TINY.numPuzzleIdentifiers,
    });
    const trained = TRM.create(TINY, {}, { seed: 1 });
    const other = TRM.create(TINY, {}, { seed: 2 });
    try {
      const trainer = new Trainer(trained, {
        dataPaths: [data],
        globalBatchSize: 8,
        epochs: 100000,
        evaluate: false,
        evaluators: [],
        checkpointPath: path.join(dir, 'ckpt'),
        lrWarmupSteps: 1,
      });
      let ran = -1;
      trainer.on('step', (e) => {
        if (e.step !== 2) return;
        // Resolving needs the compute thread's work to run beside the training loop; the run is
        // stopped only afterwards, so a queued job would never finish and the test would time out.
        void other.run(tinyBatch(TINY, 2), { steps: 1 }).then((out) => {
          ran = out.stepsRun;
          trainer.stop();
        });
      });
      await trainer.run();
      expect(ran).toBe(1);
    } finally {
      trained.dispose();
      other.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});
