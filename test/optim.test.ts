// The optimizer, EMA and schedule classes against hand-computed values (docs/algorithm.md §3.2–§3.5, §4, §11.3).
import { AdamAtan2, EMA, SparseSignSGD, TRM, cosineScheduleWithWarmup, toFloat32 } from '../lib';
import { TINY, expectCode, tinyBatch } from './helpers/tiny';

async function gradStep(model: TRM, seed: number): Promise<Record<string, Float32Array>> {
  const carry = model.initialCarry(4);
  await model.step(carry, tinyBatch(TINY, 4, seed));
  await model.backward(1 / 4);
  return Object.fromEntries(Object.entries(model.gradients()).map(([k, t]) => [k, toFloat32(t)]));
}

describe('AdamAtan2', () => {
  it('first step: p·(1 − lr·wd) − 10·lr·atan(0.1)·sign(g) (m = v = 0, t = 1, adam-atan2 0.0.3)', async () => {
    const m = TRM.create(TINY, {}, { seed: 1 }).train();
    try {
      const lr = 0.01,
        wd = 0.1;
      const adam = new AdamAtan2(m, { lr, beta1: 0.9, beta2: 0.95, weightDecay: wd });
      const before = toFloat32(m.getTensor('lm_head.weight'));
      const g = (await gradStep(m, 1))['lm_head.weight'];
      await adam.step();
      const after = toFloat32(m.getTensor('lm_head.weight'));
      let checked = 0;
      after.forEach((v, i) => {
        // m = 0.1·g, sqrt(v) / sqrt(1 − 0.95) = |g|, step lr / (1 − 0.9): the bias correction of m scales the step.
        const expected = before[i] * (1 - lr * wd) - (g[i] === 0 ? 0 : (lr / 0.1) * Math.atan(0.1) * Math.sign(g[i]));
        expect(Math.abs(v - expected)).toBeLessThan(2e-6);
        checked++;
      });
      expect(checked).toBe(7 * 32);
      expect(adam.steps().every((t) => t === 1)).toBe(true);
    } finally {
      m.dispose();
    }
  });

  it('two steps follow the formula computed in double precision', async () => {
    const m = TRM.create(TINY, {}, { seed: 2 }).train();
    try {
      const lr = 0.003,
        wd = 0.1,
        b1 = 0.9,
        b2 = 0.95;
      const adam = new AdamAtan2(m, { lr, beta1: b1, beta2: b2, weightDecay: wd });
      const p = Float64Array.from(toFloat32(m.getTensor('q_head.weight')));
      const mm = new Float64Array(p.length),
        vv = new Float64Array(p.length);
      for (let t = 1; t <= 2; t++) {
        const g = (await gradStep(m, t))['q_head.weight'];
        await adam.step();
        adam.zeroGrad();
        for (let i = 0; i < p.length; i++) {
          p[i] *= 1 - lr * wd;
          mm[i] += (1 - b1) * (g[i] - mm[i]);
          vv[i] += (1 - b2) * (g[i] * g[i] - vv[i]);
          p[i] -= (lr / (1 - b1 ** t)) * Math.atan2(mm[i], Math.sqrt(vv[i]) / Math.sqrt(1 - b2 ** t));
        }
      }
      const got = toFloat32(m.getTensor('q_head.weight'));
      got.forEach((v, i) => expect(Math.abs(v - p[i])).toBeLessThan(1e-6));
    } finally {
      m.dispose();
    }
  });

  it('skips parameters without a gradient', async () => {
    const m = TRM.create(TINY).train();
    try {
      const adam = new AdamAtan2(m, { lr: 0.1 });
      const before = toFloat32(m.getTensor('lm_head.weight'));
      await adam.step();
      expect(Array.from(toFloat32(m.getTensor('lm_head.weight')))).toEqual(Array.from(before));
      expect(adam.steps().every((t) => t === 0)).toBe(true);
    } finally {
      m.dispose();
    }
  });
});

describe('SparseSignSGD', () => {
  it('sums duplicate ids, decays only touched rows, leaves the others bit-identical', async () => {
    const m = TRM.create(TINY, {}, { seed: 3 }).train();
    try {
      const D = 32,
        lr = 0.05,
        wd = 0.2;
      const table0 = Float32Array.from({ length: 5 * D }, (_, i) => Math.sin(i));
      m.setTensor('puzzle_emb.weights', { dtype: 'float32', shape: [5, D], data: table0 });
      const batch = tinyBatch(TINY, 4, 1);
      batch.puzzleIdentifiers = { dtype: 'int32', shape: [4], data: Int32Array.from([1, 3, 1, 1]) };
      await m.step(m.initialCarry(4), batch);
      await m.backward(1);
      const g = toFloat32(m.gradients()['puzzle_emb.local_weights']);
      await new SparseSignSGD(m, { weightDecay: wd }).step(lr);
      const t = toFloat32(m.getTensor('puzzle_emb.weights'));
      for (let j = 0; j < D; j++) {
        const sum1 = g[0 * D + j] + g[2 * D + j] + g[3 * D + j];
        expect(Math.abs(t[1 * D + j] - (table0[1 * D + j] * (1 - lr * wd) - lr * Math.sign(sum1)))).toBeLessThan(1e-6);
        expect(Math.abs(t[3 * D + j] - (table0[3 * D + j] * (1 - lr * wd) - lr * Math.sign(g[1 * D + j])))).toBeLessThan(1e-6);
        for (const row of [0, 2, 4]) expect(t[row * D + j]).toBe(table0[row * D + j]);
      }
      await expectCode(new SparseSignSGD(m).step(lr), 'ERR_TRM_STATE'); // its gradient was consumed
    } finally {
      m.dispose();
    }
  });
});

describe('EMA', () => {
  it('averages (1 − mu)·param + mu·shadow and swaps back bit-exactly', async () => {
    const m = TRM.create(TINY, {}, { seed: 4 });
    try {
      const ema = new EMA(m, 0.9);
      const w0 = toFloat32(m.getTensor('lm_head.weight'));
      const w1 = w0.map((v) => v + 1);
      m.setTensor('lm_head.weight', { dtype: 'float32', shape: [7, 32], data: w1 });
      await ema.update();
      const s = toFloat32(ema.shadow('lm_head.weight'));
      s.forEach((v, i) => expect(Math.abs(v - (0.1 * w1[i] + 0.9 * w0[i]))).toBeLessThan(1e-6));
      ema.swap();
      expect(Array.from(toFloat32(m.getTensor('lm_head.weight')))).toEqual(Array.from(s));
      ema.swap();
      expect(Array.from(toFloat32(m.getTensor('lm_head.weight')))).toEqual(Array.from(w1));
    } finally {
      m.dispose();
    }
  });
});

describe('cosineScheduleWithWarmup (docs/algorithm.md §3.5)', () => {
  it('gives base·step/W in warm-up, base at W and after (ratio 1), and the cosine floor at N', () => {
    const base = 1e-4,
      W = 2000,
      N = 10000;
    expect(cosineScheduleWithWarmup(1, base, W, N, 1)).toBeCloseTo(base / W, 15);
    expect(cosineScheduleWithWarmup(W, base, W, N, 1)).toBeCloseTo(base, 15);
    expect(cosineScheduleWithWarmup(W + 1, base, W, N, 1)).toBeCloseTo(base, 15);
    expect(cosineScheduleWithWarmup(N, base, W, N, 0.1)).toBeCloseTo(0.1 * base, 15);
    const mid = cosineScheduleWithWarmup((W + N) / 2, base, W, N, 0.1);
    expect(mid).toBeCloseTo(base * (0.1 + 0.9 * 0.5), 12);
  });
});
