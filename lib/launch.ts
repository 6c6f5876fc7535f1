/**
 * A torchrun-style launcher: starts one process per rank on this node with the environment
 * contract RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT (docs/design.md,
 * "Principles"), streams rank 0's output, and stops every rank as soon as one fails.
 */
import { spawn, type ChildProcess } from 'child_process';
import { ErrorCodes, TrmError, check } from './errors';

/** Options of {@link launch}. */
export interface LaunchOptions {
  /** Processes on this node (one per GPU with CUDA). */
  nprocPerNode: number;
  /** Nodes in the job (default 1). */
  nnodes?: number;
  /** This node's index (default 0). */
  nodeRank?: number;
  /** Address of rank 0's node (default 127.0.0.1). */
  masterAddr?: string;
  /** Port of the rendezvous store on rank 0 (default 29500). */
  masterPort?: number;
  /** The program and arguments each rank runs (default: this node process with `args`). */
  command?: string;
  args: string[];
  /** Extra environment for every rank. */
  env?: NodeJS.ProcessEnv;
  /** Show the output of ranks other than 0 too (default false: they are quiet unless they fail). */
  verbose?: boolean;
}

/** Starts the ranks of this node and resolves when all exited 0; rejects with TrmError(DIST) if any failed. */
export async function launch(opts: LaunchOptions): Promise<void> {
  const nnodes = opts.nnodes ?? 1,
    nodeRank = opts.nodeRank ?? 0,
    n = opts.nprocPerNode;
  check(Number.isInteger(n) && n >= 1, `nprocPerNode must be a positive integer, got ${n}`);
  check(
    Number.isInteger(nnodes) && nnodes >= 1 && nodeRank >= 0 && nodeRank < nnodes,
    `nodeRank ${nodeRank} must be in [0, nnodes=${nnodes})`,
  );
  const world = n * nnodes;
  const children: ChildProcess[] = [];
  const stderrTail: string[][] = [];
  let failed: { rank: number; code: number | null; signal: NodeJS.Signals | null } | undefined;

  const done = new Promise<void>((resolve, reject) => {
    let exited = 0;
    for (let local = 0; local < n; local++) {
      const rank = nodeRank * n + local;
      const env = {
        ...process.env,
        ...opts.env,
        RANK: String(rank),
        WORLD_SIZE: String(world),
        LOCAL_RANK: String(local),
        LOCAL_WORLD_SIZE: String(n),
        GROUP_RANK: String(nodeRank),
        MASTER_ADDR: opts.masterAddr ?? '127.0.0.1',
        MASTER_PORT: String(opts.masterPort ?? 29500),
      };
      const child = spawn(opts.command ?? process.execPath, opts.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      stderrTail[local] = [];
      const show = rank === 0 || opts.verbose;
      child.stdout!.on('data', (d: Buffer) => show && process.stdout.write(d));
      child.stderr!.on('data', (d: Buffer) => {
        if (show) process.stderr.write(d);
        stderrTail[local].push(d.toString());
        if (stderrTail[local].length > 50) stderrTail[local].shift();
      });
      child.on('exit', (code, signal) => {
        exited++;
        if ((code !== 0 || signal) && !failed) {
          failed = { rank, code, signal };
          // A failed rank stops all: the others would only wait for it until their timeout.
          for (const c of children) if (c !== child && c.exitCode === null) c.kill('SIGTERM');
        }
        if (exited === n) {
          if (!failed) resolve();
          else {
            const tail = stderrTail[failed.rank - nodeRank * n]?.join('').trim().split('\n').slice(-8).join('\n') ?? '';
            reject(
              new TrmError(
                ErrorCodes.DIST,
                `rank ${failed.rank} of ${world} failed (${failed.signal ?? `exit code ${failed.code}`}); the other ranks were stopped${tail ? `\n${tail}` : ''}`,
              ),
            );
          }
        }
      });
    }
  });
  const forward = (sig: NodeJS.Signals) => children.forEach((c) => c.exitCode === null && c.kill(sig));
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    await done;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}
