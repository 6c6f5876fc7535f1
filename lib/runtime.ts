/** Facts about the loaded native build and process-wide LibTorch settings. */
import * as os from 'os';
import { check } from './errors';
import { forwardDtypeChoice, type DtypeChoice } from './forward-dtype';
import { native, type Fusions, type NativeBuildInfo } from './native';

export type { Fusions } from './native';

/** What {@link buildInfo} reports. */
export interface BuildInfo extends NativeBuildInfo {
  /** The forward dtype a CPU model gets when its config does not set one, and why. */
  defaultForwardDtype: DtypeChoice;
}

/**
 * LibTorch version, whether CUDA was compiled in / is usable, whether multi-process training is built
 * in (Gloo) and multi-GPU training (NCCL), the intra-op thread count, which copy of the fused CPU
 * kernels runs here ('avx512', 'avx2' or 'base'), whether this CPU does bf16 natively, and so the
 * default CPU forward dtype.
 */
export function buildInfo(): BuildInfo {
  return { ...native().buildInfo(), defaultForwardDtype: forwardDtypeChoice('cpu') };
}

/**
 * The most intra-op threads {@link setNumThreads} accepts: 4 × the cores this process may use.
 * LibTorch starts every thread at the next parallel operation and aborts the process when it
 * cannot, so an absurd count must be refused before it is set.
 */
export function maxThreads(): number {
  return 4 * os.availableParallelism();
}

/** Sets LibTorch's intra-op thread count (default: all cores); n from 1 to {@link maxThreads}. */
export function setNumThreads(n: number): void {
  const max = maxThreads();
  check(Number.isInteger(n) && n >= 1 && n <= max, `setNumThreads: n must be an integer from 1 to ${max} (4 × ${max / 4} cores), got ${n}`);
  native().setNumThreads(n);
}

const FUSION_SWITCHES = ['norm', 'swiglu', 'rope', 'tokenMix', 'castCache', 'cudaGraphs'];

/** The recursion's optimisations now in force (process-wide; all on by default). */
export function fusions(): Fusions {
  return native().fusions();
}

/**
 * Turns the recursion's optimisations on or off, process-wide, e.g. `setFusions({ norm: false })`
 * to run the plain LibTorch ops instead of the fused kernel (for measurements and bug reports).
 * Results agree either way to rounding (docs/performance.md). Returns the settings now in force.
 */
export function setFusions(f: Partial<Fusions>): Fusions {
  check(f !== null && typeof f === 'object', 'setFusions needs an object such as { norm: false }');
  for (const [k, v] of Object.entries(f)) {
    check(FUSION_SWITCHES.includes(k), `setFusions: unknown switch '${k}' (known: ${FUSION_SWITCHES.join(', ')})`);
    check(typeof v === 'boolean', `setFusions: ${k} must be a boolean, got ${JSON.stringify(v)}`);
  }
  return native().setFusions(f);
}
