/**
 * The solver inside your own fastify service, in a few lines: one route, the client's disconnect
 * cancelling its solve, the rule check deciding the status code. (`createServer` from
 * 'trm-native/service' is the whole ready-made service; this is the other way round.)
 *
 *     npx ts-node examples/embed-fastify.ts demo/sudoku-demo.safetensors     # PORT=… to change 3000
 *     curl -s localhost:3000/api/sudoku -H 'content-type: application/json' -d '{"puzzle": "<81 characters>"}'
 */
import Fastify from 'fastify';
import { Solver, TrmError } from '../lib';

async function main(checkpoint: string): Promise<void> {
  const solver = await Solver.load(checkpoint, { kind: 'sudoku' });
  const app = Fastify({ logger: { level: 'warn' } });
  app.addHook('onClose', async () => solver.dispose());

  app.post<{ Body: { puzzle: string } }>('/api/sudoku', async (req, reply) => {
    // A client that hangs up cancels its solve. (The response's 'close', not the request's: that
    // one fires as soon as the body has been read.)
    const gone = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    try {
      const r = await solver.solve(req.body.puzzle, { signal: gone.signal });
      // The rule check comes first: an invalid answer is no answer, whatever the model thinks of it.
      return r.valid
        ? { solution: r.text, confidence: r.confidence, steps: r.steps }
        : reply.code(422).send({ error: r.reason, steps: r.steps });
    } catch (e) {
      if (e instanceof TrmError && e.code === 'ERR_TRM_INVALID_ARGUMENT') return reply.code(400).send({ error: e.message });
      throw e;
    }
  });

  const url = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
  console.log(`serving POST ${url}/api/sudoku`);
}

main(process.argv[2] ?? 'demo/sudoku-demo.safetensors').catch((e) => {
  console.error(e);
  process.exit(1);
});
