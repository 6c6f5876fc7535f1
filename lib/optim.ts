/**
 * The optimizers, the EMA and the learning-rate schedule of the official trainer (docs/algorithm.md §3, §4)
 * as classes you can drive step by step in your own loop. They run natively on the model's
 * tensors (the Trainer uses the same C++ classes).
 *
 *     model.train();
 *     const adam = new AdamAtan2(model, { lr: 1e-4, beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });
 *     const sgd = new SparseSignSGD(model, { weightDecay: 0.1 });
 *     const ema = new EMA(model, 0.999);
 *     for (let step = 1; ...; step++) {
 *       await model.step(carry, batch);
 *       await model.backward(1 / globalBatchSize);
 *       await sgd.step(cosineScheduleWithWarmup(step, 1e-2, 2000, total, 1));
 *       await adam.step(cosineScheduleWithWarmup(step, 1e-4, 2000, total, 1));
 *       adam.zeroGrad();
 *       await ema.update();
 *     }
 */
import { check } from './errors';
import type { TRM } from './model';
import { native, type NativeAdamAtan2, type NativeEMA, type NativeSignSGD } from './native';
import type { Tensor } from './tensor';

/** Options of {@link AdamAtan2}; the class defaults are the package's, TRM passes betas (0.9, 0.95). */
export interface AdamAtan2Options {
  /** Default 1e-3. */
  lr?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-2. */
  weightDecay?: number;
}

/** The AdamAtan2 class defaults of the adam-atan2 package (the native layer has none). */
const ADAM_ATAN2_DEFAULTS: Readonly<Required<AdamAtan2Options>> = { lr: 1e-3, beta1: 0.9, beta2: 0.999, weightDecay: 1e-2 };

/**
 * Adam-atan2 (sapientinc/adam-atan2 0.0.3, what the official requirements install) over the model's
 * trained parameters: decoupled decay before the moments, then p −= lr / (1 − β1^t) ·
 * atan2(m, √v / √(1 − β2^t)), no epsilon, as one fused vectorised multi-threaded kernel (a CUDA
 * twin when LibTorch has CUDA).
 */
export class AdamAtan2 {
  readonly #n: NativeAdamAtan2;
  constructor(model: TRM, opts: AdamAtan2Options = {}) {
    for (const [k, v] of Object.entries(opts))
      check(typeof v === 'number' && Number.isFinite(v) && v >= 0, `${k} must be a non-negative number, got ${v}`);
    this.#n = new (native().NativeAdamAtan2)(model.nativeHandle(), { ...ADAM_ATAN2_DEFAULTS, ...opts });
  }
  /** One update of every parameter that has a gradient, with `lr` (default: the constructor's). */
  step(lr?: number): Promise<void> {
    return this.#n.step(lr);
  }
  /** Drops the gradients (set to none, as the official zero_grad). */
  zeroGrad(): void {
    this.#n.zeroGrad();
  }
  /** The step counter t of each parameter. */
  steps(): number[] {
    return this.#n.steps();
  }
}

/**
 * Sign-SGD on the puzzle-embedding table (docs/algorithm.md §3.3): the rows of the last training batch move by
 * -lr·sign(summed gradient) after a decay of those rows only; duplicate ids are summed.
 */
export class SparseSignSGD {
  readonly #n: NativeSignSGD;
  /** `weightDecay` defaults to 0.1. */
  constructor(model: TRM, opts: { weightDecay?: number } = {}) {
    this.#n = new (native().NativeSignSGD)(model.nativeHandle(), { weightDecay: opts.weightDecay ?? 0.1 });
  }
  /** Updates the batch's puzzle rows and clears their gradient. */
  step(lr: number): Promise<void> {
    check(Number.isFinite(lr) && lr >= 0, `lr must be a non-negative number, got ${lr}`);
    return this.#n.step(lr);
  }
}

/** Exponential moving average of the trained parameters (docs/algorithm.md §4); buffers are not averaged. */
export class EMA {
  readonly #n: NativeEMA;
  constructor(model: TRM, mu = 0.999) {
    this.#n = new (native().NativeEMA)(model.nativeHandle(), mu);
  }
  /** shadow ← (1 − mu)·param + mu·shadow. */
  update(): Promise<void> {
    return this.#n.update();
  }
  /** Copies the averaged weights into the model. */
  copyTo(): void {
    this.#n.copyTo();
  }
  /** Exchanges averaged and live weights (call again to undo, bit-exactly): evaluate with the EMA in place. */
  swap(): void {
    this.#n.swap();
  }
  /** The averaged value of one parameter. */
  shadow(name: string): Tensor {
    return this.#n.shadow(name);
  }
}

/** The lr of 1-based `step`: linear warm-up, then cosine down to minRatio·base (1 = constant) (docs/algorithm.md §3.5). */
export function cosineScheduleWithWarmup(step: number, baseLr: number, warmup: number, total: number, minRatio: number): number {
  return native().cosineSchedule(step, baseLr, warmup, total, minRatio);
}
