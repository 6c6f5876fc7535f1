/**
 * What the service needs of a solver: the library's {@link Solver} satisfies it, and so can a
 * test double (dependency injection through `createServer({ solver })`).
 */
import type { ModelCard } from '../card';
import type { ModelConfig } from '../config';
import type { BatcherStats, SolveOptions, SolverInputs, SolverKind, SolverResults } from '../solver';

/** The part of {@link Solver} the HTTP service uses. */
export interface ServiceSolver {
  /** The puzzle family served; only its POST /solve/<kind> route exists. */
  readonly kind: SolverKind;
  /** Solves one puzzle; rejects with a TrmError on bad input, honours `opts.signal`. */
  solve(input: SolverInputs[SolverKind], opts?: SolveOptions): Promise<SolverResults[SolverKind]>;
  /** Frees the model; the server calls it once every solve has finished. */
  dispose(): void;
  /** The model's configuration, shown by GET /health when present. */
  readonly config?: Readonly<ModelConfig>;
  /** Batching counters, shown by GET /health when present. */
  readonly stats?: BatcherStats;
  /** Whether solves stop at the first q_halt > 0, shown by GET /health when present. */
  readonly earlyHalt?: boolean;
  /** What the model was trained on: shown by GET /health and the page, and the source of the page's examples. */
  readonly card?: ModelCard;
}
