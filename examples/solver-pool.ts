/**
 * The solver in a worker_threads pool behind a host service: the model's work and the answer
 * checks run on the pool's threads, the host's event loop only routes. Back-pressure: past the
 * pool's `maxPending` a request is answered 429 at once instead of queueing without bound.
 * Cancellation: a request's AbortSignal (client gone, or its 5 s budget spent) cancels its solve.
 *
 *     npx ts-node examples/solver-pool.ts demo/sudoku-demo.safetensors     # PORT=… to change 3000
 *     curl -s localhost:3000/api/sudoku -H 'content-type: application/json' -d '{"puzzle": "<81 characters>"}'
 */
import Fastify from 'fastify';
import { SolverPool, TrmError } from '../lib';

async function main(checkpoint: string): Promise<void> {
  // LibTorch's thread pool is shared by every worker: one intra-op thread each on a 2-core machine.
  const pool = await SolverPool.create(checkpoint, { kind: 'sudoku', workers: 2, threads: 1, maxPending: 128 });
  const app = Fastify();
  app.addHook('onClose', async () => pool.close());

  app.post<{ Body: { puzzle: string } }>('/api/sudoku', async (req, reply) => {
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    try {
      const r = await pool.solve(req.body.puzzle, { signal: AbortSignal.any([gone.signal, AbortSignal.timeout(5000)]) });
      return r.valid ? { solution: r.text, confidence: r.confidence } : reply.code(422).send({ error: r.reason });
    } catch (e) {
      if (!(e instanceof TrmError)) throw e;
      const status = { ERR_TRM_BUSY: 429, ERR_TRM_INVALID_ARGUMENT: 400, ERR_TRM_CANCELLED: 503 }[e.code as string] ?? 500;
      if (status === 429) reply.header('Retry-After', '1');
      return reply.code(status).send({ error: e.message, code: e.code });
    }
  });

  const url = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
  console.log(`serving POST ${url}/api/sudoku from a pool of 2 workers (at most ${pool.maxPending} solves in flight)`);
}

main(process.argv[2] ?? 'demo/sudoku-demo.safetensors').catch((e) => {
  console.error(e);
  process.exit(1);
});
