/**
 * The HTTP solver service: a {@link Solver} behind fastify with
 * typed TypeBox schemas, an OpenAPI document, input validation, body-size and grid limits,
 * per-request timeouts, a concurrency cap answered with 429s, a health endpoint, graceful
 * shutdown, and a web page that shows the answer refining step by step.
 *
 *     const solver = await Solver.load('model.safetensors');
 *     const app = createServer({ solver });
 *     await app.listen({ port: 8080, host: '127.0.0.1' });
 *     // ... later: stops accepting, lets running solves finish (or aborts them after a grace period), disposes the solver
 *     await app.close();
 *
 * Routes: POST /solve/<kind> (the solver's kind only), GET /health, GET /examples (puzzles like
 * the model's training data, for the page), GET /openapi.json, and the page at GET /. Every error is `{ error: { code, message } }` (lib/service/errors.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import { check } from '../errors';
import { clientErrorHandler, errorHandler, methodNotAllowedBody, notFoundBody } from './errors';
import { examplesFromCard, type PageExamples } from './examples';
import { registerHealth } from './health';
import { registerPage } from './page';
import { registerSolveRoute } from './routes';
import { ExamplesResponse, Q_HALT_MEANING, bodySchemas } from './schemas';
import { SolveSlots } from './slots';
import type { ServiceSolver } from './solver-like';

export type { ServiceSolver } from './solver-like';
export { ServiceError, ServiceErrorCodes, type ErrorBody, type ServiceErrorCode } from './errors';
export type { Health } from './schemas';
export { examplesFromCard, examplesFromDataset, type ArcPageExample, type PageExamples } from './examples';

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** The solver to serve (a loaded {@link Solver}, or anything implementing {@link ServiceSolver}). */
  solver: ServiceSolver;
  /** Largest request body in bytes; larger ones are answered 413 (default 64 KiB). */
  bodyLimit?: number;
  /** Largest grid side accepted for mazes and ARC grids (default 30). */
  maxGrid?: number;
  /**
   * Time a solve may take before the client gets 504 and the solve is aborted, in ms (default
   * 30000); also the most time a client may take to send a whole request (headers and body).
   */
  requestTimeoutMs?: number;
  /** Time a client may take to send the request headers, in ms (default 10000, at most requestTimeoutMs). */
  headersTimeoutMs?: number;
  /** Time a keep-alive connection may stay idle between requests before it is closed, in ms (default 5000). */
  idleTimeoutMs?: number;
  /** Most open connections; further ones are closed as soon as they are accepted (default 256). */
  maxConnections?: number;
  /** Most solves running at once; more are answered 429 with Retry-After (default 64). */
  maxConcurrent?: number;
  /**
   * On close, how long running solves may still finish, in ms (default 2000); the rest are then
   * answered 503 and aborted (their native runs stop at the next supervision step).
   */
  shutdownGraceMs?: number;
  /** Fastify's logger option: false (default), true, or pino options such as `{ level: 'info' }`. */
  logger?: FastifyServerOptions['logger'];
  /**
   * The page's examples, served at GET /examples (default: generated like the training puzzles
   * the solver's model card describes; see {@link examplesFromDataset} for a test split).
   */
  examples?: PageExamples;
  /** Dispose the solver when the server closes (default true). */
  disposeSolver?: boolean;
}

/** Defaults of {@link ServerOptions}. */
export const SERVER_DEFAULTS = {
  bodyLimit: 64 * 1024,
  maxGrid: 30,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 5_000,
  maxConcurrent: 64,
  maxConnections: 256,
  shutdownGraceMs: 2000,
} as const;

/** The methods a 405 can list in its `Allow` header. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

function positiveInteger(name: string, v: number): number {
  check(Number.isInteger(v) && v > 0, `${name} must be a positive integer, got ${v}`);
  return v;
}

/** The package version, for the OpenAPI document (found from lib/service or dist/cjs/service). */
function packageVersion(): string {
  for (const up of [path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'trm-native' && pkg.version) return pkg.version;
    } catch {
      // not this folder
    }
  }
  return '0.0.0';
}

/**
 * Creates the service (not yet listening: call `listen`). `close()` stops accepting requests,
 * answers new solves on open connections with 503, gives running solves `shutdownGraceMs` to
 * finish and aborts the rest (503), waits until they have stopped, then disposes the solver.
 */
export function createServer(opts: ServerOptions): FastifyInstance {
  const { solver } = opts;
  check(
    solver && typeof solver.solve === 'function',
    'createServer needs { solver }: a Solver (Solver.load) or an object with kind, solve() and dispose()',
  );
  check(
    ['sudoku', 'maze', 'arc'].includes(solver.kind),
    `solver.kind must be 'sudoku', 'maze' or 'arc', got ${JSON.stringify(solver.kind)}`,
  );
  const bodyLimit = positiveInteger('bodyLimit', opts.bodyLimit ?? SERVER_DEFAULTS.bodyLimit);
  const maxGrid = positiveInteger('maxGrid', opts.maxGrid ?? SERVER_DEFAULTS.maxGrid);
  const requestTimeoutMs = positiveInteger('requestTimeoutMs', opts.requestTimeoutMs ?? SERVER_DEFAULTS.requestTimeoutMs);
  const maxConcurrent = positiveInteger('maxConcurrent', opts.maxConcurrent ?? SERVER_DEFAULTS.maxConcurrent);
  const headersTimeoutMs = positiveInteger(
    'headersTimeoutMs',
    opts.headersTimeoutMs ?? Math.min(SERVER_DEFAULTS.headersTimeoutMs, requestTimeoutMs),
  );
  check(
    headersTimeoutMs <= requestTimeoutMs,
    `headersTimeoutMs (${headersTimeoutMs}) must not exceed requestTimeoutMs (${requestTimeoutMs})`,
  );
  const idleTimeoutMs = positiveInteger('idleTimeoutMs', opts.idleTimeoutMs ?? SERVER_DEFAULTS.idleTimeoutMs);
  const maxConnections = positiveInteger('maxConnections', opts.maxConnections ?? SERVER_DEFAULTS.maxConnections);
  const shutdownGraceMs = opts.shutdownGraceMs ?? SERVER_DEFAULTS.shutdownGraceMs;
  const examples = opts.examples ?? examplesFromCard(solver.kind, solver.card);
  check(Number.isInteger(shutdownGraceMs) && shutdownGraceMs >= 0, `shutdownGraceMs must be an integer ≥ 0, got ${shutdownGraceMs}`);

  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit,
    // Receiving a request (headers and body) may take no longer than a solve may.
    requestTimeout: requestTimeoutMs,
    // Node checks the header and request deadlines every connectionsCheckingInterval (30 s by
    // default, which let a stalled client hold its connection for over a minute): check often.
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
    },
    keepAliveTimeout: idleTimeoutMs,
    clientErrorHandler,
    // Requests fastify refuses before routing (a malformed URL) get the same error body as the rest.
    frameworkErrors: (err, req, reply) => errorHandler(err, req, reply),
    // A socket silent for longer than any request may take is dead; the request deadlines above act first.
    connectionTimeout: 2 * requestTimeoutMs,
    // We answer with our own `{ error }` body while closing (see the onRequest hook).
    return503OnClosing: false,
    // No type coercion and no silent stripping: a wrong type or an unknown field is a 400.
    // verbose: errors carry the value and its schema, so a message can say what was found and expected.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, verbose: true } },
  });
  app.server.maxConnections = maxConnections;
  const slots = new SolveSlots({ maxConcurrent, timeoutMs: requestTimeoutMs });

  // The API speaks JSON only: any other body type is a 415, not a string failing the schema.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0];
    const allowed = METHODS.filter((method) => app.hasRoute({ method, url }));
    if (allowed.length > 0)
      return reply
        .code(405)
        .header('Allow', allowed.join(', '))
        .send(methodNotAllowedBody(req.method, url, allowed));
    return reply.code(404).send(notFoundBody(req.method, req.url, solver.kind));
  });
  // Once closing, answers carry `Connection: close` so keep-alive clients move elsewhere and the
  // server can finish closing.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (slots.closed) reply.header('Connection', 'close');
    return payload;
  });
  let grace: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    slots.close();
    grace = setTimeout(() => slots.abortAll(), shutdownGraceMs);
  });
  app.addHook('onClose', async () => {
    await slots.drain();
    clearTimeout(grace);
    if (opts.disposeSolver ?? true) solver.dispose();
  });

  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'trm-native solver',
        version: packageVersion(),
        description:
          `A Tiny Recursive Model solving ${solver.kind} puzzles${solver.card ? `, trained on ${solver.card.trainedOn}` : ''}. ` +
          'Every answer reports its rule check first (valid, reason; ARC has none: ruleChecked false), then confidence: ' +
          `sigmoid(q_halt) for an answer that passes, 0 for one the check proves wrong. ${Q_HALT_MEANING} Errors are { error: { code, message } }.`,
      },
    },
  });
  // Routes go in a plugin registered after swagger, so swagger sees them (its onRoute hook).
  app.register(async (scope) => {
    registerSolveRoute(scope, { solver, slots, bodies: bodySchemas({ maxGrid }), maxGrid });
    registerHealth(scope, { solver, slots, bodyLimit, maxGrid, startedAt: Date.now() });
    scope.get(
      '/examples',
      {
        schema: {
          summary: "Puzzles like the model's training data (its test split, or generated alike), for the page",
          response: { 200: ExamplesResponse },
        },
      },
      async () => examples,
    );
    scope.get('/openapi.json', { schema: { hide: true } }, async () => scope.swagger());
    registerPage(scope);
  });
  return app;
}
