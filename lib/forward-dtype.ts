/**
 * Which forward dtype a model gets when none is asked for: the one place this rule lives.
 *
 * - CUDA: bfloat16, as the official recipes train (`forward_dtype: bfloat16` in config/arch/trm.yaml,
 *   docs/algorithm.md §1.8).
 * - A CPU that multiplies bf16 natively — AVX512-BF16 or AMX-BF16, with LibTorch's oneDNN to use
 *   them (Xeon Sapphire Rapids and later, for instance): bfloat16, where its matmuls run ~4× fp32.
 * - Any other CPU: float32. bf16 matrix products are slow or emulated there (docs/algorithm.md §11.2).
 *
 * A `forwardDtype` given to {@link TRM.create}, {@link TRM.load} or the CLI (`--set forward_dtype=...`)
 * always wins; the dtype recorded in a checkpoint does not decide, the device does.
 */
import type { ForwardDtype } from './config';
import type { Device } from './model';
import { native } from './native';

/** A forward dtype and why it was chosen (what `buildInfo()` and `trm inspect` print). */
export interface DtypeChoice {
  dtype: ForwardDtype;
  reason: string;
}

/** The default forward dtype on `device`, with the reason. */
export function forwardDtypeChoice(device: Device | string = 'cpu'): DtypeChoice {
  if (device.startsWith('cuda')) return { dtype: 'bfloat16', reason: 'CUDA: bf16, as the official recipes train' };
  const cpu = native().buildInfo().cpuBf16;
  if (cpu.native) return { dtype: 'bfloat16', reason: `this CPU multiplies bf16 natively (${cpu.features.join(', ')})` };
  const why = cpu.features.length === 0 ? 'no AVX512-BF16 or AMX-BF16' : 'LibTorch was built without oneDNN';
  return { dtype: 'float32', reason: `this CPU has no native bf16 (${why}); bf16 would be emulated` };
}

/** The default forward dtype on `device` (see the rule above). */
export function defaultForwardDtype(device: Device | string = 'cpu'): ForwardDtype {
  return forwardDtypeChoice(device).dtype;
}
