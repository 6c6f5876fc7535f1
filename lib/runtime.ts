/** Facts about the loaded native build and process-wide LibTorch settings. */
import * as os from 'os';
import { check } from './errors';
import { native } from './native';

/**
 * LibTorch version, whether CUDA was compiled in / is usable, whether multi-process training is built
 * in (Gloo) and multi-GPU training (NCCL), and the intra-op thread count.
 */
export function buildInfo(): { torchVersion: string; cudaCompiled: boolean; cudaAvailable: boolean; distributed: boolean; nccl: boolean; numThreads: number } {
  return native().buildInfo();
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
