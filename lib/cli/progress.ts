/** Progress reporting of long CLI jobs: a bar redrawn in place on a TTY, plain lines otherwise. */

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const h = Math.floor(seconds / 3600),
    m = Math.floor((seconds % 3600) / 60),
    s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

export class Progress {
  readonly #tty: boolean;
  #lastPlain = 0;

  constructor(
    readonly stream: NodeJS.WriteStream = process.stderr,
    readonly plainEverySeconds = 10,
  ) {
    this.#tty = Boolean(stream.isTTY);
  }

  /** Shows `done` of `total` with a label and fields; on a TTY the line is redrawn. */
  update(done: number, total: number, elapsedSeconds: number, fields: Record<string, string>): void {
    const frac = total > 0 ? Math.min(done / total, 1) : 0;
    const eta = frac > 0 ? (elapsedSeconds * (1 - frac)) / frac : NaN;
    const text = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ');
    if (this.#tty) {
      const width = 24,
        filled = Math.round(frac * width);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
      this.stream.write(`\r${bar} ${done}/${total}  ${text}  ETA ${duration(eta)}\x1b[K`);
    } else if (elapsedSeconds - this.#lastPlain >= this.plainEverySeconds || done === total) {
      this.#lastPlain = elapsedSeconds;
      this.stream.write(
        `${done}/${total} (${(frac * 100).toFixed(1)}%)  ${text}  elapsed ${duration(elapsedSeconds)}  ETA ${duration(eta)}\n`,
      );
    }
  }

  /** Prints a line without breaking the bar. */
  log(line: string): void {
    this.stream.write(this.#tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.#tty) this.stream.write('\n');
  }
}
