/**
 * Which forward dtype a model gets when none is asked for: the one place this rule lives.
 *
 * - CUDA: bfloat16, as the official recipes train (`forward_dtype: bfloat16` in config/arch/trm.yaml,
 *   SPEC.md §1.8).
 * - CPU: float32. bf16 matrix products are slow or emulated on most CPUs (SPEC.md §11.2).
 *
 * A `forwardDtype` given to {@link TRM.create}, {@link TRM.load} or the CLI (`--set forward_dtype=...`)
 * always wins; the dtype recorded in a checkpoint does not decide, the device does.
 */
import type { ForwardDtype } from './config';
import type { Device } from './model';

export function defaultForwardDtype(device: Device | string = 'cpu'): ForwardDtype {
  return device.startsWith('cuda') ? 'bfloat16' : 'float32';
}
