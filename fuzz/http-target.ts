/**
 * The child process of the HTTP campaign (fuzz/run.ts): `trm serve` as a library call, a real
 * (tiny, untrained) Sudoku solver behind createServer with short deadlines, listening on a free
 * port that it reports to the parent.
 */
import { TRM } from '../lib/model';
import { Solver } from '../lib/solver';
import { createServer } from '../lib/service/server';

async function main(): Promise<void> {
  const model = TRM.create('sudoku-mlp', { hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1, haltMaxSteps: 2 }, { seed: 1 });
  const app = createServer({
    solver: Solver.fromModel(model, { kind: 'sudoku' }),
    requestTimeoutMs: 2000,
    headersTimeoutMs: 500,
    idleTimeoutMs: 500,
    maxConnections: 64,
    bodyLimit: 16 * 1024,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ port: Number(new URL(url).port) });
}

void main();
