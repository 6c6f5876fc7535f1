import * as fs from 'fs';
import { ErrorCodes, TrmError } from './errors';

/** Writes `data` to `file` through a temp file + fsync + rename, so no reader ever sees half a file. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new TrmError(ErrorCodes.IO, `cannot write ${file}: ${(e as Error).message}`);
  }
}
