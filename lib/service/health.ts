/**
 * GET /health: liveness and what is being served — the puzzle kind (the web page shows the
 * matching panel), the model's shape and card (what it was trained on, its scores), the limits, the solves in flight and batching counters.
 * Answers 503 with status "closing" during shutdown, so load balancers stop sending traffic.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HealthResponse, type Health } from './schemas';
import type { SolveSlots } from './slots';
import type { ServiceSolver } from './solver-like';

/** What GET /health reports. */
export interface HealthContext {
  solver: ServiceSolver;
  slots: SolveSlots;
  bodyLimit: number;
  maxGrid: number;
  startedAt: number;
}

/** The health document at this moment. */
export function healthOf(ctx: HealthContext): Health {
  const { solver, slots } = ctx;
  const c = solver.config;
  const h: Health = {
    status: slots.closed ? 'closing' : 'ok',
    kind: solver.kind,
    inFlight: slots.inFlight,
    limits: { maxConcurrent: slots.maxConcurrent, requestTimeoutMs: slots.timeoutMs, bodyLimit: ctx.bodyLimit, maxGrid: ctx.maxGrid },
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 100) / 10,
  };
  if (c) {
    h.model = {
      arch: String(c.arch),
      seqLen: c.seqLen,
      vocabSize: c.vocabSize,
      hiddenSize: c.hiddenSize,
      hCycles: c.hCycles,
      lCycles: c.lCycles,
      lLayers: c.lLayers,
      haltMaxSteps: c.haltMaxSteps,
    };
  }
  if (solver.earlyHalt !== undefined) h.earlyHalt = solver.earlyHalt;
  if (solver.card) h.card = solver.card;
  if (solver.stats) h.batching = { ...solver.stats };
  return h;
}

/** Registers GET /health. */
export function registerHealth(app: FastifyInstance, ctx: HealthContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/health',
    {
      schema: {
        summary: 'Liveness, the puzzle kind served, the model and the load',
        response: { 200: HealthResponse, 503: HealthResponse },
      },
    },
    async (_req, reply) => {
      const h = healthOf(ctx);
      return reply.code(h.status === 'ok' ? 200 : 503).send(h);
    },
  );
}
