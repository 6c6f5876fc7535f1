import * as fs from 'fs';
import * as path from 'path';
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

/**
 * Every writer here (this module, the streaming dataset writers, the native checkpoint writer) fills
 * `<file>.tmp-<pid>[-<suffix>]` before renaming it over `<file>`; a writer killed mid-way leaves it.
 */
const TEMP_NAME = /\.tmp-(\d+)(?:-[0-9a-z]+)?(?:\.2)?$/;

/** Whether process `pid` is running on this machine (one we may not signal counts as running). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temporary files in `dir` left by writers that were killed: only those whose process
 * is no longer running, so a concurrent writer's file is kept. Returns the paths removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = TEMP_NAME.exec(name)?.[1];
    if (pid === undefined || running(Number(pid))) continue;
    const file = path.join(dir, name);
    fs.rmSync(file, { force: true });
    removed.push(file);
  }
  return removed;
}
