/**
 * A streaming reader of the simple CSV files the Sudoku and Maze datasets ship
 * (`source,question,answer,rating`), in bounded memory, with 1-based line numbers for errors.
 */
import * as fs from 'fs';
import { StringDecoder } from 'string_decoder';
import { ErrorCodes, TrmError } from '../errors';
import { openRegularFile } from '../regular-file';

/** One CSV record. */
export interface CsvRow {
  /** 1-based line number in the file. */
  line: number;
  /** The fields, unquoted. */
  fields: string[];
  /** Bytes of the file read so far (for progress). */
  bytesRead: number;
}

const CHUNK_BYTES = 1 << 20;

/** Splits one CSV line into fields (RFC 4180 quoting; a quoted field may not span lines). */
export function parseCsvLine(text: string, where: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 0x22 /* " */) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: unterminated quoted field (quoted fields may not span lines)`);
        value += text.slice(j, q);
        if (text.charCodeAt(q + 1) === 0x22) {
          value += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      fields.push(value);
      if (j >= text.length) return fields;
      if (text.charCodeAt(j) !== 0x2c /* , */)
        throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: unexpected character after a closing quote`);
      i = j + 1;
    } else {
      const comma = text.indexOf(',', i);
      if (comma < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** Yields the non-empty records of a CSV file in order. Throws IO if it cannot be read. */
export function* readCsvRows(file: string): Generator<CsvRow> {
  const fd = openRegularFile(file);
  try {
    const decoder = new StringDecoder('utf8');
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let pending = '';
    let line = 0;
    let bytesRead = 0;
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        throw new TrmError(ErrorCodes.IO, `cannot read ${file}: ${(e as Error).message}`);
      }
      bytesRead += n;
      const text = n > 0 ? pending + decoder.write(chunk.subarray(0, n)) : pending + decoder.end();
      const lines = text.split('\n');
      pending = n > 0 ? (lines.pop() as string) : '';
      for (let raw of lines) {
        line += 1;
        if (raw.endsWith('\r')) raw = raw.slice(0, -1);
        if (raw.length === 0) continue;
        yield { line, fields: parseCsvLine(raw, `${file}:${line}`), bytesRead };
      }
      if (n === 0) return;
    }
  } finally {
    fs.closeSync(fd);
  }
}
