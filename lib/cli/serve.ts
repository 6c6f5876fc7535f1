/**
 * `trm serve`: a trained checkpoint behind the HTTP solver service (lib/service/server.ts) —
 * POST /solve/<kind>, GET /health, GET /openapi.json and the web page at /. Prints the URL;
 * SIGINT/SIGTERM shut it down: no new connections, running solves get the grace period to finish
 * and are then aborted (503), the model is freed and the process exits — within the grace period
 * plus {@link EXIT_BOUND_MS} whatever happens. A second signal exits at once.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { ForwardDtype } from '../config';
import type { Device } from '../model';
import { Solver, type SolverKind } from '../solver';
import { createServer, examplesFromDataset, SERVER_DEFAULTS } from '../service/server';

interface ServeOptions {
  checkpoint: string;
  port: number;
  host: string;
  kind?: SolverKind;
  data?: string;
  config?: string;
  device: string;
  threads?: number;
  maxBatch?: number;
  earlyHalt?: boolean;
  haltMaxSteps?: number;
  dtype?: ForwardDtype;
  maxConcurrent: number;
  timeout: number;
  headersTimeout?: number;
  idleTimeout: number;
  maxConnections: number;
  shutdownGrace: number;
  bodyLimit: number;
  logLevel: string;
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

/** After the grace period, the most a shutdown may take before the process exits anyway. */
const EXIT_BOUND_MS = 5000;

/** Resolves once `app` has closed after SIGINT or SIGTERM; a second signal exits immediately. */
function closeOnSignals(app: FastifyInstance, graceMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let closing = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (closing) {
        console.error(`trm serve: ${signal} again, exiting without waiting`);
        process.exit(130);
      }
      closing = true;
      console.error(`trm serve: ${signal}, giving running solves ${graceMs} ms, then aborting them (press Ctrl-C again to exit now)`);
      setTimeout(() => {
        console.error(`trm serve: still not stopped ${graceMs + EXIT_BOUND_MS} ms after ${signal}; exiting`);
        process.exit(1);
      }, graceMs + EXIT_BOUND_MS).unref();
      app.close().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        console.error('trm serve: stopped');
        resolve();
      }, reject);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** The `trm serve` command (registered in lib/cli/index.ts). */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a trained checkpoint over HTTP: POST /solve/<kind>, GET /health, GET /openapi.json and a web page at /')
    .requiredOption('--checkpoint <path>', 'official step_N (with all_config.yaml beside it) or trm-native safetensors')
    .option('--port <N>', 'TCP port (0 picks a free one)', integer(0, 65535), 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .addOption(new Option('--kind <kind>', 'puzzle kind (default: inferred from the model)').choices(['sudoku', 'maze', 'arc']))
    .option(
      '--data <dir>',
      "dataset folder: identifiers.json for ARC, sizes for official checkpoints, and the page's examples (its test split)",
    )
    .option('--config <file>', 'all_config.yaml of an official checkpoint (default: beside it)')
    .option('--device <device>', 'cpu or cuda[:N]', 'cpu')
    .option('--threads <N>', 'LibTorch intra-op threads (default: all cores)', integer(1))
    .option('--max-batch <N>', 'most puzzles per native run (concurrent requests are batched together)', integer(1))
    .option(
      '--early-halt',
      "stop each puzzle at its first q_halt > 0 instead of running every supervision step (default: the model card's setting, else off)",
    )
    .option('--no-early-halt', 'run every supervision step even if the model card recommends early halting')
    .option(
      '--halt-max-steps <N>',
      "most supervision steps per solve (default: the model card's setting, else the checkpoint's)",
      integer(1),
    )
    .addOption(new Option('--dtype <dtype>', 'forward dtype (default: float32 on CPU)').choices(['float32', 'bfloat16', 'float16']))
    .option('--max-concurrent <N>', 'most solves running at once; more are answered 429', integer(1), SERVER_DEFAULTS.maxConcurrent)
    .option(
      '--timeout <ms>',
      'per-request time limit; slower solves are aborted and answered 504',
      integer(1),
      SERVER_DEFAULTS.requestTimeoutMs,
    )
    .option('--headers-timeout <ms>', 'time a client may take to send its request headers (default: 10000, at most --timeout)', integer(1))
    .option('--idle-timeout <ms>', 'time an idle keep-alive connection stays open', integer(1), SERVER_DEFAULTS.idleTimeoutMs)
    .option('--max-connections <N>', 'most open connections; further ones are closed at once', integer(1), SERVER_DEFAULTS.maxConnections)
    .option(
      '--shutdown-grace <ms>',
      'on SIGINT/SIGTERM, how long running solves may finish before they are aborted',
      integer(0),
      SERVER_DEFAULTS.shutdownGraceMs,
    )
    .option('--body-limit <bytes>', 'largest request body; larger ones are answered 413', integer(1), SERVER_DEFAULTS.bodyLimit)
    .addOption(
      new Option('--log-level <level>', 'request log level (JSON lines on stdout)')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent'])
        .default('warn'),
    )
    .action(async (o: ServeOptions) => {
      const solver = await Solver.load(o.checkpoint, {
        kind: o.kind,
        dataDir: o.data,
        config: o.config,
        device: o.device as Device,
        threads: o.threads,
        maxBatch: o.maxBatch,
        earlyHalt: o.earlyHalt,
        haltMaxSteps: o.haltMaxSteps,
        forwardDtype: o.dtype,
      });
      let app: FastifyInstance;
      try {
        const examples = o.data ? examplesFromDataset(solver.kind, o.data) : undefined;
        app = createServer({
          solver,
          examples,
          maxConcurrent: o.maxConcurrent,
          requestTimeoutMs: o.timeout,
          headersTimeoutMs: o.headersTimeout,
          idleTimeoutMs: o.idleTimeout,
          maxConnections: o.maxConnections,
          shutdownGraceMs: o.shutdownGrace,
          bodyLimit: o.bodyLimit,
          logger: o.logLevel === 'silent' ? false : { level: o.logLevel },
        });
        const closed = closeOnSignals(app, o.shutdownGrace);
        const url = await app.listen({ port: o.port, host: o.host });
        console.log(
          `trm serve: ${solver.kind} solver at ${url}  (POST ${url}/solve/${solver.kind}, page ${url}/, API ${url}/openapi.json)`,
        );
        const c = solver.config;
        console.log(
          `trm serve: up to ${c.haltMaxSteps} supervision steps${solver.earlyHalt ? ', early halting' : ''}, ${c.forwardDtype}; ` +
            (solver.card ? `trained on ${solver.card.trainedOn}` : 'no model card: the page cannot say what the model was trained on'),
        );
        await closed;
      } catch (e) {
        solver.dispose();
        throw e;
      }
    });
}
