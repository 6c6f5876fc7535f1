// The model core against docs/algorithm.md §1, §2, §7.4 and §11.3: sizes, init, state dict, the ACT
// semantics, every architecture's forward and backward, seeds, and bad input.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  TRM,
  buildInfo,
  recipe,
  resolveConfig,
  stablemaxCrossEntropy,
  softmaxCrossEntropy,
  swigluIntermediate,
  toFloat32,
  type ModelConfig,
} from '../lib';
import { defaultForwardDtype } from '../lib/forward-dtype';
import { TINY, expectCode, norm, tinyBatch } from './helpers/tiny';

describe('parameter counts (docs/algorithm.md §7.4: dense parameters only)', () => {
  // The puzzle table is a buffer and is not counted, so a small table gives the same counts.
  const cases: [string, Partial<ModelConfig>, number][] = [
    ['sudoku-mlp', {}, 5_028_866],
    ['sudoku-att', {}, 6_828_034],
    ['maze-att', {}, 6_822_914],
    ['arc-att', { numPuzzleIdentifiers: 10 }, 6_829_058],
    ['arc-att', { numPuzzleIdentifiers: 10, mlpT: true, posEncodings: 'none' }, 18_801_666],
    ['maze-att', { mlpT: true, posEncodings: 'none' }, 18_795_522],
    ['hrm-sudoku', {}, 27_275_266],
    ['hrm-arc', { numPuzzleIdentifiers: 10 }, 27_276_290],
  ];
  it.each(cases)('%s %j has the official count', (name, over, count) => {
    const m = TRM.create(name as 'sudoku-mlp', over);
    try {
      expect(m.numParameters()).toBe(count);
    } finally {
      m.dispose();
    }
  });
});

describe('state dict of the Sudoku TRM-MLP (docs/algorithm.md §7.4)', () => {
  it('has the official names, order, shapes and dtypes', () => {
    const m = TRM.create('sudoku-mlp', { forwardDtype: 'bfloat16' });
    try {
      const layer = (i: number) => [
        [`L_level.layers.${i}.mlp_t.gate_up_proj.weight`, [1024, 97], 'Float', true],
        [`L_level.layers.${i}.mlp_t.down_proj.weight`, [97, 512], 'Float', true],
        [`L_level.layers.${i}.mlp.gate_up_proj.weight`, [3072, 512], 'Float', true],
        [`L_level.layers.${i}.mlp.down_proj.weight`, [512, 1536], 'Float', true],
      ];
      expect(m.stateDict().map((e) => [e.name, e.shape, e.dtype, e.trainable])).toEqual([
        ['H_init', [512], 'BFloat16', false],
        ['L_init', [512], 'BFloat16', false],
        ['embed_tokens.embedding_weight', [11, 512], 'Float', true],
        ['lm_head.weight', [11, 512], 'Float', true],
        ['q_head.weight', [2, 512], 'Float', true],
        ['q_head.bias', [2], 'Float', true],
        ['puzzle_emb.weights', [1, 512], 'Float', false],
        ...layer(0),
        ...layer(1),
      ]);
    } finally {
      m.dispose();
    }
  });

  it('gives the SwiGLU widths of docs/algorithm.md §1.5/§11.3 through the core rule (512→1536, 97→512, 916→2560)', () => {
    expect([swigluIntermediate(512, 4), swigluIntermediate(97, 4), swigluIntermediate(916, 4), swigluIntermediate(64, 4)]).toEqual([
      1536, 512, 2560, 256,
    ]);
    expect(() => swigluIntermediate(0, 4)).toThrow(expect.objectContaining({ code: 'ERR_TRM_INVALID_ARGUMENT' }));
  });

  it('sizes the ARC mlp_t SwiGLU from L = 916 (inter 2560, docs/algorithm.md §1.6)', () => {
    const m = TRM.create('arc-att', { numPuzzleIdentifiers: 2, mlpT: true, posEncodings: 'none' });
    try {
      const e = m.stateDict().find((x) => x.name === 'L_level.layers.0.mlp_t.gate_up_proj.weight');
      expect(e?.shape).toEqual([5120, 916]);
    } finally {
      m.dispose();
    }
  });

  it('adds embed_pos for learned positions', () => {
    const m = TRM.create(TINY, { posEncodings: 'learned' });
    try {
      expect(m.stateDict().find((x) => x.name === 'embed_pos.embedding_weight')?.shape).toEqual([16, 32]);
    } finally {
      m.dispose();
    }
  });
});

describe('initialisation (docs/algorithm.md §1.7)', () => {
  const m = TRM.create('sudoku-att');
  afterAll(() => m.dispose());

  it('draws LeCun truncated normals with the exact std and the +-2.2737 std bound', () => {
    const w = m.getTensor('L_level.layers.0.mlp.gate_up_proj.weight').data as Float32Array;
    const std = 1 / Math.sqrt(512);
    let s = 0,
      s2 = 0,
      mx = 0;
    for (const v of w) {
      s += v;
      s2 += v * v;
      mx = Math.max(mx, Math.abs(v));
    }
    const mean = s / w.length;
    const emp = Math.sqrt(s2 / w.length - mean * mean);
    expect(Math.abs(emp / std - 1)).toBeLessThan(0.01);
    expect(mx).toBeLessThanOrEqual(2.2738 * std);
    expect(mx).toBeGreaterThan(2.2 * std);
  });

  it('zeroes q_head.weight and the puzzle table, and sets q_head.bias to -5', () => {
    expect(norm(m.getTensor('q_head.weight').data as Float32Array)).toBe(0);
    expect(Array.from(m.getTensor('q_head.bias').data as Float32Array)).toEqual([-5, -5]);
    expect(norm(m.getTensor('puzzle_emb.weights').data as Float32Array)).toBe(0);
  });

  it('builds the same model off the event loop with createAsync', async () => {
    const a = TRM.create(TINY, {}, { seed: 7 });
    const b = await TRM.createAsync(TINY, {}, { seed: 7 });
    try {
      expect(b.config).toEqual(a.config);
      for (const e of a.stateDict()) expect(Array.from(toFloat32(b.getTensor(e.name)))).toEqual(Array.from(toFloat32(a.getTensor(e.name))));
      await expect(TRM.createAsync(TINY, { numHeads: 6 })).rejects.toMatchObject({ code: 'ERR_TRM_CONFIG' });
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('is repeatable for a seed and differs across seeds', () => {
    const a = TRM.create(TINY, {}, { seed: 7 }),
      b = TRM.create(TINY, {}, { seed: 7 }),
      c = TRM.create(TINY, {}, { seed: 8 });
    try {
      const w = (x: TRM) => Array.from(x.getTensor('lm_head.weight').data as Float32Array);
      expect(w(a)).toEqual(w(b));
      expect(w(a)).not.toEqual(w(c));
    } finally {
      [a, b, c].forEach((x) => x.dispose());
    }
  });
});

describe('stablemax and softmax cross-entropy (docs/algorithm.md §2.1, §11.3)', () => {
  it('gives -log(2/3.5) for logits [0, 1, -1] and label 1, and 0 for ignored labels', () => {
    const logits = { dtype: 'float32' as const, shape: [2, 3], data: Float32Array.from([0, 1, -1, 0, 1, -1]) };
    const labels = { dtype: 'int32' as const, shape: [2], data: Int32Array.from([1, -100]) };
    const out = stablemaxCrossEntropy(logits, labels);
    expect(out.dtype).toBe('float64');
    expect(out.data[0]).toBeCloseTo(-Math.log(2 / 3.5), 12);
    expect(Math.abs(Number(out.data[1]))).toBe(0); // -0: the official code negates a masked zero
    const sm = softmaxCrossEntropy(logits, labels);
    const z = Math.exp(0) + Math.exp(1) + Math.exp(-1);
    expect(sm.data[0]).toBeCloseTo(-Math.log(Math.exp(1) / z), 5);
    expect(Math.abs(Number(sm.data[1]))).toBe(0);
  });
});

const ARCHS: [string, Partial<ModelConfig>][] = [
  ['trm attention + rope', {}],
  ['trm mlp_t', { mlpT: true, posEncodings: 'none' }],
  ['trm learned positions', { posEncodings: 'learned' }],
  ['trm without puzzle embedding', { puzzleEmbNdim: 0, puzzleEmbLen: 0 }],
  ['trm without puzzle embedding, puzzleEmbLen left set (no prefix then)', { puzzleEmbNdim: 0 }],
  ['trm softmax loss', { lossType: 'softmax_cross_entropy' }],
  ['trm_singlez', { arch: 'trm_singlez' }],
  ['trm_hier6', { arch: 'trm_hier6', lCycles: 3 }],
  ['hrm (Q-learning continue target)', { arch: 'hrm', hLayers: 2, lLayers: 2, noACTContinue: false }],
  ['trm with Q-learning continue (fixed path, docs/algorithm.md §1.12)', { noACTContinue: false }],
  ['transformers_baseline, 3 heads of 10 in hidden 32', { arch: 'transformers_baseline', hLayers: 2, numHeads: 3 }],
];

describe.each(ARCHS)('forward and backward: %s', (_name, over) => {
  const cfg = { ...TINY, ...over };
  it('gives finite outputs of the right shapes and gradients exactly where they belong', async () => {
    const m = TRM.create(cfg, {}, { seed: 3 });
    try {
      m.train();
      const carry = m.initialCarry(4);
      const out = await m.step(carry, tinyBatch(cfg, 4));
      expect(out.logits!.shape).toEqual([4, 12, 7]);
      expect(out.qHalt.shape).toEqual([4]);
      expect(out.preds.shape).toEqual([4, 12]);
      expect(Array.from(out.logits!.data).every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(out.loss)).toBe(true);
      expect(out.targetQContinue !== undefined).toBe(over.noACTContinue === false);
      if (over.noACTContinue === false) expect(out.metrics.q_continue_loss).toBeGreaterThan(0);
      await m.backward(1 / 4);
      const grads = m.gradients();
      const trainable = m
        .stateDict()
        .filter((e) => e.trainable)
        .map((e) => e.name);
      for (const name of trainable) {
        expect({ name, hasGrad: grads[name] !== undefined }).toEqual({ name, hasGrad: true });
        expect({ name, nonzero: norm(grads[name].data as Float32Array) > 0 }).toEqual({ name, nonzero: true });
      }
      // Buffers (H_init, L_init, the puzzle table) never get gradients; the puzzle rows do, through local_weights.
      const buffers = m
        .stateDict()
        .filter((e) => !e.trainable)
        .map((e) => e.name);
      for (const name of buffers) expect(grads[name]).toBeUndefined();
      if ((cfg.puzzleEmbNdim ?? 0) > 0) {
        expect(grads['puzzle_emb.local_weights'].shape).toEqual([4, cfg.puzzleEmbNdim]);
        expect(Array.from(grads['puzzle_emb.local_ids'].data as Int32Array)).toEqual(
          Array.from(tinyBatch(cfg, 4).puzzleIdentifiers.data as Int32Array),
        );
      } else {
        expect(grads['puzzle_emb.local_weights']).toBeUndefined();
      }
    } finally {
      m.dispose();
    }
  });
});

describe('forward dtypes (docs/algorithm.md §1.8)', () => {
  const { forwardDtype: _asked, ...noDtype } = TINY;

  // The CPU's default: bfloat16 where it multiplies bf16 natively (checked against /proc/cpuinfo in fused.test.ts).
  const cpuDtype = () => (buildInfo().cpuBf16.native ? 'bfloat16' : 'float32');

  it('follow the device unless asked: bfloat16 on CUDA (the official recipe) and on CPUs with native bf16, else float32', () => {
    expect(['cpu', 'cuda', 'cuda:3'].map((d) => defaultForwardDtype(d))).toEqual([cpuDtype(), 'bfloat16', 'bfloat16']);
    expect(resolveConfig(noDtype, 'cuda').forwardDtype).toBe('bfloat16');
    expect(resolveConfig(noDtype, 'cuda:1').forwardDtype).toBe('bfloat16');
    expect(resolveConfig(noDtype).forwardDtype).toBe(cpuDtype());
    expect(resolveConfig({ ...noDtype, forwardDtype: 'float32' }, 'cuda').forwardDtype).toBe('float32');
    const sizes = { seqLen: 900, vocabSize: 12, numPuzzleIdentifiers: 10 };
    expect([recipe('arc1', {}, sizes, 'cuda').model.forwardDtype, recipe('arc1', {}, sizes).model.forwardDtype]).toEqual([
      'bfloat16',
      cpuDtype(),
    ]);
    const m = TRM.create(noDtype);
    expect(m.config.forwardDtype).toBe(cpuDtype());
    m.dispose();
  });

  it('a saved model loads in the dtype of the device it loads to, not the one it was saved with', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-dtype-'));
    const other = cpuDtype() === 'bfloat16' ? 'float32' : 'bfloat16';
    const m = TRM.create(noDtype, { forwardDtype: other });
    try {
      await m.save(path.join(dir, 'm.safetensors'));
      const cpu = await TRM.load(path.join(dir, 'm.safetensors'));
      const asked = await TRM.load(path.join(dir, 'm.safetensors'), { forwardDtype: other });
      expect([cpu.config.forwardDtype, asked.config.forwardDtype]).toEqual([cpuDtype(), other]);
      cpu.dispose();
      asked.dispose();
    } finally {
      m.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs in bfloat16 close to the float32 result of the same weights', async () => {
    const a = TRM.create(TINY, {}, { seed: 4 }),
      b = TRM.create(TINY, { forwardDtype: 'bfloat16' }, { seed: 4 });
    try {
      for (const e of a.stateDict()) b.setTensor(e.name, a.getTensor(e.name));
      const batch = tinyBatch(TINY, 3);
      const fa = await a.run(batch, { steps: 2 });
      const fb = await b.run(batch, { steps: 2 });
      let d = 0,
        m = 0;
      fa.logits!.data.forEach((v, i) => {
        d = Math.max(d, Math.abs(v - fb.logits!.data[i]));
        m = Math.max(m, Math.abs(v));
      });
      expect(d / m).toBeLessThan(0.1);
      expect(d).toBeGreaterThan(0); // really computed in another dtype
      expect(Number.isFinite(fb.loss)).toBe(true);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});

describe('ACT semantics (docs/algorithm.md §1.11)', () => {
  it('runs every eval batch for exactly haltMaxSteps steps', async () => {
    const m = TRM.create(TINY);
    try {
      const batch = tinyBatch(TINY, 3);
      const { trace: all = [], stepsRun } = await m.run(batch, { trace: true });
      expect(stepsRun).toBe(16);
      expect(all).toHaveLength(16);
      expect(all.slice(0, 15).every((s) => !s.allHalted)).toBe(true);
      expect(all[15].allHalted).toBe(true);
      expect(Array.from(all[15].steps.data)).toEqual([16, 16, 16]);
      expect(all[15].metrics.count).toBe(3);
      expect(all[15].metrics.steps).toBe(48);
      const last = await m.run(batch);
      expect(last.trace).toBeUndefined();
      expect(Array.from(last.logits!.data)).toEqual(Array.from(all[15].logits!.data));
    } finally {
      m.dispose();
    }
  });

  it('halts at the first step with earlyHalt when q_halt > 0, and never early without it', async () => {
    const m = TRM.create(TINY);
    try {
      m.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: Float32Array.from([5, 0]) });
      const early = await m.run(tinyBatch(TINY, 2), { earlyHalt: true, trace: true });
      expect(early.stepsRun).toBe(1);
      expect(early.trace).toHaveLength(1);
      expect(early.allHalted).toBe(true);
      expect((await m.run(tinyBatch(TINY, 2))).stepsRun).toBe(16);
      // Without a trace, a row's answer is the one of the step where it first halted, not a restarted pass.
      const frozen = await m.run(tinyBatch(TINY, 2), { earlyHalt: true });
      expect(Array.from(frozen.steps.data)).toEqual([1, 1]);
      expect(Array.from(frozen.logits!.data)).toEqual(Array.from(early.trace![0].logits!.data));
    } finally {
      m.dispose();
    }
  });

  it('with earlyHalt, each row answers with its outputs at its first q_halt > 0, as the full run computed them', async () => {
    const m = TRM.create(TINY, {}, { seed: 3 });
    try {
      // q_halt = w · z_H[0] with a large random w: its sign changes from step to step and row to row.
      const D = TINY.hiddenSize!;
      const w = Float32Array.from({ length: 2 * D }, (_, i) => 8 * Math.sin(1 + i * 2.399));
      m.setTensor('q_head.weight', { dtype: 'float32', shape: [2, D], data: w });
      m.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
      const B = 8,
        S = TINY.seqLen!;
      const batch = tinyBatch(TINY, B, 7);
      const full = (await m.run(batch, { trace: true })).trace!;
      const halting = Array.from({ length: B }, (_, b) => {
        const k = full.findIndex((o) => o.qHalt.data[b] > 0);
        return k < 0 ? 16 : k + 1;
      });
      expect(new Set(halting).size).toBeGreaterThan(1); // rows really halt at different steps
      const early = await m.run(batch, { earlyHalt: true, trace: true });
      expect(Array.from(early.steps.data)).toEqual(halting);
      expect(early.stepsRun).toBe(Math.max(...halting));
      expect(early.trace).toHaveLength(early.stepsRun);
      for (let b = 0; b < B; b++) {
        const at = full[halting[b] - 1];
        expect(Array.from(early.preds.data.slice(b * S, (b + 1) * S))).toEqual(Array.from(at.preds.data.slice(b * S, (b + 1) * S)));
        expect(early.qHalt.data[b]).toBeCloseTo(at.qHalt.data[b], 4);
        // A halted row keeps its answer in the later trace entries.
        expect(Array.from(early.trace![early.stepsRun - 1].preds.data.slice(b * S, (b + 1) * S))).toEqual(
          Array.from(early.preds.data.slice(b * S, (b + 1) * S)),
        );
      }
      // The halted-row counts cover every row once, at its halting step.
      expect(early.metrics.count).toBe(B);
      expect(early.metrics.steps).toBe(halting.reduce((a, h) => a + h, 0));
    } finally {
      m.dispose();
    }
  });

  it('in training, halts on q_halt > 0 and keeps non-halted slots on their old data', async () => {
    const cfg = { ...TINY, haltExplorationProb: 0 };
    const m = TRM.create(cfg).train();
    try {
      const a = tinyBatch(cfg, 3, 1),
        b = tinyBatch(cfg, 3, 2);
      // q_halt = -5 < 0: nobody halts, so the second step must ignore batch b entirely.
      const c1 = m.initialCarry(3);
      await m.step(c1, a);
      const withB = await m.step(c1, b);
      const c2 = m.initialCarry(3);
      await m.step(c2, a);
      const withA = await m.step(c2, a);
      expect(withB.loss).toBe(withA.loss);
      expect(Array.from(withB.steps.data)).toEqual([2, 2, 2]);
      expect(withB.metrics.count).toBe(0);
      // q_halt = +5 > 0: every slot halts after one step and takes fresh data.
      m.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: Float32Array.from([5, 0]) });
      const c3 = m.initialCarry(3);
      const s1 = await m.step(c3, a);
      expect(s1.allHalted).toBe(true);
      const s2 = await m.step(c3, b);
      expect(Array.from(s2.steps.data)).toEqual([1, 1, 1]);
      expect(s2.metrics.count).toBe(3);
    } finally {
      m.dispose();
    }
  });

  it('exploration keeps some rows running (p = 1: at least 2 steps)', async () => {
    const cfg = { ...TINY, haltExplorationProb: 1 };
    const m = TRM.create(cfg).train();
    try {
      m.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: Float32Array.from([5, 0]) });
      const c = m.initialCarry(8);
      const s1 = await m.step(c, tinyBatch(cfg, 8));
      expect(Array.from(s1.halted.data).every((h) => h === 0)).toBe(true);
    } finally {
      m.dispose();
    }
  });

  it('repeats training steps exactly for the same seed', async () => {
    const run = async () => {
      const m = TRM.create(TINY, {}, { seed: 11 }).train();
      try {
        const c = m.initialCarry(4);
        const out = [];
        for (let i = 0; i < 3; i++) out.push((await m.step(c, tinyBatch(TINY, 4, i + 1))).loss);
        return out;
      } finally {
        m.dispose();
      }
    };
    expect(await run()).toEqual(await run());
  });
});

describe('withPuzzleRows', () => {
  it('copies every tensor, keeps the old puzzle rows and puts each new row at their mean; the original is untouched', async () => {
    const m = TRM.create(TINY, {}, { seed: 4 });
    const n = TINY.numPuzzleIdentifiers!,
      d = TINY.puzzleEmbNdim!;
    m.setTensor('puzzle_emb.weights', {
      dtype: 'float32',
      shape: [n, d],
      data: Float32Array.from({ length: n * d }, (_, i) => Math.sin(i) * 3),
    });
    const grown = await m.withPuzzleRows(n + 3);
    try {
      expect(grown.config.numPuzzleIdentifiers).toBe(n + 3);
      expect(m.config.numPuzzleIdentifiers).toBe(n);
      for (const e of m.stateDict()) {
        const a = toFloat32(m.getTensor(e.name)),
          b = toFloat32(grown.getTensor(e.name));
        if (e.name !== 'puzzle_emb.weights') {
          expect(Array.from(b)).toEqual(Array.from(a));
          continue;
        }
        expect(Array.from(b.subarray(0, n * d))).toEqual(Array.from(a));
        for (let c = 0; c < d; c++) {
          let mean = 0;
          for (let r = 0; r < n; r++) mean += a[r * d + c] / n;
          for (let r = n; r < n + 3; r++) expect(b[r * d + c]).toBeCloseTo(mean, 5);
        }
      }
      expect(m.getTensor('puzzle_emb.weights').shape).toEqual([n, d]);
      await expectCode(m.withPuzzleRows(n - 1), 'ERR_TRM_INVALID_ARGUMENT');
      const none = TRM.create({ ...TINY, puzzleEmbNdim: 0 });
      await expectCode(none.withPuzzleRows(10), 'ERR_TRM_CONFIG');
      none.dispose();
    } finally {
      m.dispose();
      grown.dispose();
    }
  });
});

describe('bad input gives a TrmError with a code', () => {
  const m = TRM.create(TINY);
  afterAll(() => m.dispose());
  const ok = tinyBatch(TINY, 2);

  it('rejects wrong shapes, out-of-range tokens and ids, and non-integer dtypes', async () => {
    await expectCode(m.run({ ...ok, inputs: { dtype: 'int32', shape: [2, 11], data: new Int32Array(22) } }), 'ERR_TRM_SHAPE');
    await expectCode(m.run({ ...ok, inputs: { dtype: 'int32', shape: [2, 12], data: new Int32Array(24).fill(7) } }), 'ERR_TRM_TOKEN_RANGE');
    await expectCode(
      m.run({ ...ok, inputs: { dtype: 'int32', shape: [2, 12], data: new Int32Array(24).fill(-1) } }),
      'ERR_TRM_TOKEN_RANGE',
    );
    await expectCode(
      m.run({ ...ok, puzzleIdentifiers: { dtype: 'int32', shape: [2], data: Int32Array.from([0, 5]) } }),
      'ERR_TRM_TOKEN_RANGE',
    );
    await expectCode(m.run({ ...ok, labels: { dtype: 'int32', shape: [2, 12], data: new Int32Array(24).fill(9) } }), 'ERR_TRM_TOKEN_RANGE');
    await expectCode(m.run({ ...ok, puzzleIdentifiers: { dtype: 'int32', shape: [3], data: new Int32Array(3) } }), 'ERR_TRM_SHAPE');
    await expectCode(() => m.run({ ...ok, inputs: { dtype: 'float32', shape: [2, 12], data: new Float32Array(24) } }), 'ERR_TRM_DTYPE');
    await expectCode(() => m.run({ ...ok, inputs: { dtype: 'int32', shape: [2, 12], data: new Int32Array(5) } }), 'ERR_TRM_SHAPE');
    await expectCode(m.step(m.initialCarry(3), ok), 'ERR_TRM_SHAPE');
  });

  it('rejects invalid configs, unknown presets, backward without a step, and use after dispose', async () => {
    expect(() => TRM.create(TINY, { numHeads: 6 })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' })); // head_dim 5: odd for RoPE
    expect(() => TRM.create(TINY, { posEncodings: 'alibi' as 'rope' })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
    expect(() => TRM.create({ hiddenSize: 64 })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
    expect(() => TRM.create('sudoku-xl' as 'sudoku-mlp')).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
    expect(() => TRM.create(TINY, { arch: 'trm_hier6', lCycles: 7 })).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG' }));
    await expectCode(m.backward(), 'ERR_TRM_STATE');
    expect(() => TRM.create(TINY, {}, { device: 'cuda' })).toThrow(expect.objectContaining({ code: 'ERR_TRM_DEVICE' }));
    const d = TRM.create(TINY);
    d.dispose();
    expect(() => d.numParameters()).toThrow(expect.objectContaining({ code: 'ERR_TRM_DISPOSED' }));
  });
});
