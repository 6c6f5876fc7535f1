/**
 * The solver service embedded in your own Node program: load a checkpoint, create the server,
 * add what your deployment needs (here: an optional API key), listen, and shut down gracefully.
 * `trm serve` does the same from the command line.
 *
 *     npx ts-node examples/solver-service.ts <checkpoint> [port]
 *     curl -s localhost:8080/solve/sudoku -H 'content-type: application/json' \
 *       -d '{"puzzle": "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79", "recordSteps": true}'
 *
 * Then open http://127.0.0.1:8080/ for the page that replays the answer step by step.
 */
import { Solver } from '../lib/solver';
import { createServer } from '../lib/service/server';

async function main(checkpoint: string, port: number): Promise<void> {
  // One Solver per process. It micro-batches concurrent requests into one native call, so there
  // is no need for a pool inside a process; scale out with more processes (each with
  // `threads` ≈ cores / processes) behind your load balancer.
  const solver = await Solver.load(checkpoint, {
    threads: process.env.TRM_THREADS ? Number(process.env.TRM_THREADS) : undefined,
    maxBatch: 64, // the largest native batch; ARC requests take one row per augmented version
    maxWaitMs: 2, // how long a lone request waits for company before it runs
    earlyHalt: process.env.TRM_EARLY_HALT === '1', // stop at the first q_halt > 0: faster, not parity
  });

  const app = createServer({
    solver,
    maxConcurrent: 64, // solves running at once; the next request gets 429 + Retry-After
    requestTimeoutMs: 30_000, // a slower solve is aborted (its AbortSignal fires) and answered 504
    bodyLimit: 64 * 1024, // larger bodies get 413 before they are parsed
    maxGrid: 30, // the largest maze / ARC grid side accepted
    logger: { level: process.env.LOG_LEVEL ?? 'info' }, // pino JSON lines, one per request
  });

  // The server is a plain fastify instance: add hooks, routes or plugins before `listen`.
  // For example an API key, checked before the body is even parsed (the page and /health stay open).
  const apiKey = process.env.TRM_API_KEY;
  if (apiKey) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith('/solve/') && req.headers['x-api-key'] !== apiKey) {
        return reply.code(401).send({ error: { code: 'ERR_TRM_UNAUTHORIZED', message: 'missing or wrong x-api-key header' } });
      }
    });
  }

  // Graceful shutdown: `close()` stops accepting connections, answers new solves on open
  // connections with 503, waits for the running solves, then disposes the solver. Orchestrators
  // send SIGTERM and kill after a grace period (Kubernetes: 30 s), so give up a little earlier.
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130); // a second Ctrl-C: exit now
    stopping = true;
    app.log.info(`${signal}: draining`);
    setTimeout(() => process.exit(1), 25_000).unref();
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // GET /health answers 200 while serving and 503 while draining: use it as the readiness probe.
  const url = await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
  console.log(`${solver.kind} solver listening at ${url} (page ${url}/, OpenAPI ${url}/openapi.json)`);
}

const [checkpoint, port = '8080'] = process.argv.slice(2);
if (!checkpoint) {
  console.error('usage: ts-node examples/solver-service.ts <checkpoint> [port]');
  process.exit(2);
}
main(checkpoint, Number(port)).catch((e) => {
  console.error(e);
  process.exit(1);
});
