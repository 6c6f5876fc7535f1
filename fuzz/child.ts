/**
 * A fuzz target in its own process (a TypeScript file run through ts-node with an IPC channel).
 * A case that kills the process is a crash, one that gets no answer in time is a hang; either way
 * the process is replaced and the campaign goes on.
 */
import { fork, type ChildProcess } from 'child_process';

/** How one case ended, seen from outside the target. */
export type Ending<T> = { kind: 'reply'; reply: T } | { kind: 'crash'; detail: string } | { kind: 'hang' };

const TS_NODE = require.resolve('ts-node/dist/bin.js');

export class TargetProcess<T extends { id?: number }> {
  #child: ChildProcess | undefined;
  #first: Promise<unknown> | undefined;
  /** Processes started (1 + one per crash or hang). */
  starts = 0;

  constructor(
    readonly script: string,
    readonly env: NodeJS.ProcessEnv = {},
  ) {}

  /** Starts the process if needed; resolves with its first message (its "ready" or its port). */
  start(): Promise<unknown> {
    if (this.#child && this.#first) return this.#first;
    this.starts++;
    const child = fork(TS_NODE, ['-T', this.script], {
      execArgv: [],
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr?.resume();
    this.#child = child;
    this.#first = new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code, signal) => reject(new Error(`${this.script} exited (${signal ?? code}) before it was ready`)));
    });
    return this.#first;
  }

  /** Whether the process is still running (a target that serves over a port is judged by this). */
  get alive(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Sends one case and waits for its reply, the process's death, or the time limit. */
  async call(message: { id: number } & Record<string, unknown>, timeoutMs: number): Promise<Ending<T>> {
    await this.start();
    const child = this.#child!;
    return new Promise<Ending<T>>((resolve) => {
      const done = (e: Ending<T>): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(e);
      };
      const onMessage = (m: T): void => {
        if (m.id === message.id) done({ kind: 'reply', reply: m });
      };
      const onExit = (code: number | null, signal: string | null): void => {
        this.#child = undefined;
        this.#first = undefined;
        done({ kind: 'crash', detail: signal ?? `exit ${code}` });
      };
      const timer = setTimeout(() => {
        this.stop();
        done({ kind: 'hang' });
      }, timeoutMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(message);
    });
  }

  /** Ends the process (SIGKILL: a hung target does not answer SIGTERM). */
  stop(): void {
    this.#child?.kill('SIGKILL');
    this.#child = undefined;
    this.#first = undefined;
  }
}
