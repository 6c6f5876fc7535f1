// Runs a Python snippet with the `torch` that provides our LibTorch (installed by .ci/run), to write
// fixtures the way the official code does and to read back what we write.
import { execFileSync } from 'child_process';

export function python(code: string, args: string[] = []): string {
  return execFileSync(process.env.PYTHON ?? 'python3', ['-c', code, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
