/**
 * Streams a large text file to disk in bounded memory, under a temporary name that is renamed
 * into place on close (the same atomicity as `writeFileAtomic` for whole files).
 */
import * as fs from 'fs';
import { ErrorCodes, TrmError } from '../errors';
import { discardTempFile } from './temp-file';

const FLUSH_CHARS = 1 << 20;

/** Buffered, atomic text-file writer. */
export class AtomicTextWriter {
  private readonly tmp: string;
  private fd: number | null;
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(readonly file: string) {
    this.tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    try {
      this.fd = fs.openSync(this.tmp, 'w');
    } catch (e) {
      throw new TrmError(ErrorCodes.IO, `cannot create ${file}: ${(e as Error).message}`);
    }
  }

  /** Appends text. */
  write(text: string): void {
    if (this.fd === null) throw new TrmError(ErrorCodes.STATE, `${this.file}: the writer is already closed`);
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= FLUSH_CHARS) this.flush();
  }

  /** Flushes, fsyncs and renames the file into place. */
  close(): void {
    try {
      this.flush();
      fs.fsyncSync(this.fd as number);
      fs.closeSync(this.fd as number);
      this.fd = null;
      fs.renameSync(this.tmp, this.file);
    } catch (e) {
      this.abort();
      throw e instanceof TrmError ? e : new TrmError(ErrorCodes.IO, `cannot write ${this.file}: ${(e as Error).message}`);
    }
  }

  /** Discards the file. Safe to call more than once. */
  abort(): void {
    this.fd = discardTempFile(this.fd, this.tmp);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    try {
      fs.writeSync(this.fd as number, this.pending.join(''));
    } catch (e) {
      this.abort();
      throw new TrmError(ErrorCodes.IO, `cannot write ${this.file}: ${(e as Error).message}`);
    }
    this.pending = [];
    this.pendingChars = 0;
  }
}
