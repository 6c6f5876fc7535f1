/**
 * Streaming `.npy` writer: appends rows of a [N, ...rowShape] array to disk in bounded memory and
 * produces exactly the bytes `np.save` would for the final array (docs/algorithm.md §5.1). The file is
 * written under a temporary name and renamed into place by {@link NpyRowWriter.close}, so no
 * reader ever sees a half-written array.
 */
import * as fs from 'fs';
import { ErrorCodes, TrmError } from '../errors';
import { NpyDtype, npyHeader, npyItemSize, numel } from './npy';
import { discardTempFile } from './temp-file';

const DEFAULT_BUFFER_BYTES = 4 << 20;

/** Appends fixed-size rows to an `.npy` file whose first dimension grows as rows arrive. */
export class NpyRowWriter {
  /** Final path of the array. */
  readonly file: string;
  /** Element type of the array. */
  readonly dtype: NpyDtype;
  /** Shape of one row (the array's shape without its first dimension). */
  readonly rowShape: readonly number[];
  /** Bytes of one row. */
  readonly rowBytes: number;

  private readonly tmp: string;
  private fd: number | null;
  private readonly buffer: Buffer;
  private used = 0;
  private rowCount = 0;
  private readonly headerBytes: number;

  /**
   * Opens `file` for writing (through a temporary file beside it).
   * @param bufferBytes size of the in-memory write buffer; at least one row is always buffered.
   */
  constructor(file: string, dtype: NpyDtype, rowShape: readonly number[], bufferBytes = DEFAULT_BUFFER_BYTES) {
    if (rowShape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new TrmError(ErrorCodes.INVALID_ARGUMENT, `NpyRowWriter: row shape [${rowShape}] must hold non-negative integers`);
    }
    this.file = file;
    this.dtype = dtype;
    this.rowShape = [...rowShape];
    this.rowBytes = numel(rowShape) * npyItemSize(dtype);
    this.tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    this.buffer = Buffer.alloc(Math.max(bufferBytes, this.rowBytes));
    const header = npyHeader(dtype, [0, ...rowShape]);
    this.headerBytes = header.length;
    try {
      this.fd = fs.openSync(this.tmp, 'w');
      fs.writeSync(this.fd, header);
    } catch (e) {
      throw new TrmError(ErrorCodes.IO, `cannot create ${file}: ${(e as Error).message}`);
    }
  }

  /** Number of rows appended so far. */
  get rows(): number {
    return this.rowCount;
  }

  /**
   * Returns a zero-filled view of the next row inside the write buffer; fill it before the next
   * call to any method of this writer. Saves a copy when rows are built in place.
   */
  nextRow(): Uint8Array {
    this.ensureOpen();
    if (this.used + this.rowBytes > this.buffer.length) this.flush();
    const row = this.buffer.subarray(this.used, this.used + this.rowBytes);
    row.fill(0);
    this.used += this.rowBytes;
    this.rowCount += 1;
    return row;
  }

  /** Appends one row given as raw bytes (its byte length must be {@link rowBytes}). */
  appendRow(row: ArrayBufferView): void {
    if (row.byteLength !== this.rowBytes) {
      throw new TrmError(
        ErrorCodes.SHAPE,
        `${this.file}: a row of shape [${this.rowShape}] ${this.dtype} has ${this.rowBytes} bytes, got ${row.byteLength}`,
      );
    }
    const target = this.nextRow();
    target.set(new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
  }

  /** Writes the final header, flushes, fsyncs and renames the file into place. */
  close(): void {
    this.ensureOpen();
    const fd = this.fd as number;
    try {
      this.flush();
      const header = npyHeader(this.dtype, [this.rowCount, ...this.rowShape]);
      if (header.length === this.headerBytes) {
        fs.writeSync(fd, header, 0, header.length, 0);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        this.fd = null;
        fs.renameSync(this.tmp, this.file);
      } else {
        fs.closeSync(fd);
        this.fd = null;
        this.rewriteWithHeader(header);
      }
    } catch (e) {
      this.abort();
      if (e instanceof TrmError) throw e;
      throw new TrmError(ErrorCodes.IO, `cannot write ${this.file}: ${(e as Error).message}`);
    }
  }

  /** Discards everything written; the final file is not created. Safe to call more than once. */
  abort(): void {
    this.fd = discardTempFile(this.fd, this.tmp);
  }

  private flush(): void {
    if (this.used === 0) return;
    try {
      fs.writeSync(this.fd as number, this.buffer, 0, this.used);
    } catch (e) {
      this.abort();
      throw new TrmError(ErrorCodes.IO, `cannot write ${this.file}: ${(e as Error).message}`);
    }
    this.used = 0;
  }

  private ensureOpen(): void {
    if (this.fd === null) throw new TrmError(ErrorCodes.STATE, `${this.file}: the writer is already closed`);
  }

  /** Fallback for a header whose length changed (a first dimension over 21 digits): copy the data behind it. */
  private rewriteWithHeader(header: Buffer): void {
    const second = `${this.tmp}.2`;
    const src = fs.openSync(this.tmp, 'r');
    const dst = fs.openSync(second, 'w');
    try {
      fs.writeSync(dst, header);
      const chunk = Buffer.alloc(DEFAULT_BUFFER_BYTES);
      let pos = this.headerBytes;
      for (;;) {
        const n = fs.readSync(src, chunk, 0, chunk.length, pos);
        if (n === 0) break;
        fs.writeSync(dst, chunk, 0, n);
        pos += n;
      }
      fs.fsyncSync(dst);
    } finally {
      fs.closeSync(src);
      fs.closeSync(dst);
    }
    fs.renameSync(second, this.file);
    fs.rmSync(this.tmp, { force: true });
  }
}
