/**
 * Opening the files a user names. Only regular files are read: a FIFO would block the process
 * until a writer appears, `/dev/zero` never ends, and a directory fails with a raw `EISDIR`, so
 * each of them is refused at once with a TrmError(IO) that says what the path is.
 */
import * as fs from 'fs';
import { ErrorCodes, TrmError } from './errors';

/** What a non-regular file is, for the message. */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `file` for reading and returns its descriptor, or throws TrmError(IO) when it cannot be
 * opened or is not a regular file. O_NONBLOCK makes opening a FIFO return at once (it has no
 * effect on regular files), so the type check runs before anything can block.
 */
export function openRegularFile(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new TrmError(ErrorCodes.IO, `cannot read ${file}: ${(e as Error).message}`);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new TrmError(ErrorCodes.IO, `cannot read ${file}: it is ${kindOf(st)}; expected a regular file`);
  }
  return fd;
}

/** The whole content of a regular file (TrmError(IO) otherwise, see {@link openRegularFile}). */
export function readRegularFile(file: string): Buffer;
export function readRegularFile(file: string, encoding: 'utf8'): string;
export function readRegularFile(file: string, encoding?: 'utf8'): Buffer | string {
  const fd = openRegularFile(file);
  try {
    return encoding ? fs.readFileSync(fd, encoding) : fs.readFileSync(fd);
  } catch (e) {
    throw new TrmError(ErrorCodes.IO, `cannot read ${file}: ${(e as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}
