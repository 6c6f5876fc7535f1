import * as fs from 'fs';

/**
 * Closes a streaming writer's temp file (if still open) and deletes it, so an aborted write leaves
 * nothing behind. Returns null for the writer's fd field. Safe to call more than once.
 */
export function discardTempFile(fd: number | null, tmp: string): null {
  if (fd !== null) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
  }
  fs.rmSync(tmp, { force: true });
  return null;
}
