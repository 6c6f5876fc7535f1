/**
 * A c10d process group (Gloo over TCP) for reductions done in TypeScript — multi-process
 * evaluation sums metric totals and gathers the ARC evaluator's votes with it. The ranks come from
 * the torchrun variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as `launch()` sets them.
 */
import { ErrorCodes, TrmError } from './errors';
import { native, type NativeProcessGroup } from './native';

export class ProcessGroup {
  readonly #n: NativeProcessGroup;
  private constructor(n: NativeProcessGroup) {
    this.#n = n;
  }

  /** Joins the job of the torchrun variables; resolves once every rank has arrived. */
  static async join(): Promise<ProcessGroup> {
    const n = new (native().NativeProcessGroup)();
    await n.join();
    return new ProcessGroup(n);
  }

  get rank(): number {
    return this.#n.rank();
  }
  get worldSize(): number {
    return this.#n.worldSize();
  }

  /** Element-wise sum over ranks. */
  allReduceSum(values: Float64Array): Promise<Float64Array> {
    return this.#n.allReduceSum(values);
  }

  /** Every rank's bytes, in rank order. */
  allGatherBytes(bytes: Uint8Array): Promise<Uint8Array[]> {
    return this.#n.allGatherBytes(bytes);
  }

  /** Every rank's JSON value, in rank order. */
  async allGatherJson<T>(value: T): Promise<T[]> {
    const parts = await this.allGatherBytes(Buffer.from(JSON.stringify(value)));
    return parts.map((p, r) => {
      try {
        return JSON.parse(Buffer.from(p).toString('utf8')) as T;
      } catch {
        throw new TrmError(ErrorCodes.DIST, `rank ${r} sent malformed data`);
      }
    });
  }

  close(): void {
    this.#n.close();
  }
}
