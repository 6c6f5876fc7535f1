/** Facts about the loaded native build and process-wide LibTorch settings. */
import { check } from './errors';
import { native } from './native';

/**
 * LibTorch version, whether CUDA was compiled in / is usable, whether multi-process training is built
 * in (Gloo) and multi-GPU training (NCCL), and the intra-op thread count.
 */
export function buildInfo(): { torchVersion: string; cudaCompiled: boolean; cudaAvailable: boolean; distributed: boolean; nccl: boolean; numThreads: number } {
  return native().buildInfo();
}

/** Sets LibTorch's intra-op thread count (default: all cores). */
export function setNumThreads(n: number): void {
  check(Number.isInteger(n) && n > 0, `setNumThreads needs a positive integer, got ${n}`);
  native().setNumThreads(n);
}
