/**
 * POST /solve/<kind>: the one solve route matching the solver's kind. Each request is validated
 * (schema, then lib/service/validate.ts), admitted by {@link SolveSlots} (concurrency cap,
 * timeout, abort on client disconnect), solved, and answered with the solver's result plus its
 * wall time.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ArcSolution, MazeSolution, SolverInputs, SolverKind, SolverResults, SudokuSolution } from '../solver';
import { ArcResponse, ErrorResponse, MazeResponse, SudokuResponse, type BodySchemas } from './schemas';
import type { SolveSlots } from './slots';
import type { ServiceSolver } from './solver-like';
import { checkArcBody, checkMazeBody, checkSudokuBody } from './validate';

/** What the solve routes need. */
export interface SolveRouteContext {
  solver: ServiceSolver;
  slots: SolveSlots;
  bodies: BodySchemas;
  maxGrid: number;
}

const ERRORS = { '4xx': ErrorResponse, '5xx': ErrorResponse } as const;

/** An AbortSignal that fires when the client hangs up before its answer is written. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('the client closed the connection'));
  });
  return controller.signal;
}

/** Runs one solve in a slot and checks the solver answered for the expected kind. */
async function solveIn<K extends SolverKind>(
  ctx: SolveRouteContext,
  reply: FastifyReply,
  kind: K,
  input: SolverInputs[K],
  recordSteps: boolean | undefined,
): Promise<SolverResults[K] & { elapsedMs: number }> {
  const t0 = performance.now();
  const result = await ctx.slots.run((signal) => ctx.solver.solve(input, { recordSteps, signal }), clientGone(reply));
  if (result.kind !== kind) throw new Error(`the solver answered a ${result.kind} for a ${kind} request`);
  return { ...(result as SolverResults[K]), elapsedMs: Math.round((performance.now() - t0) * 100) / 100 };
}

function sudokuRoute(app: FastifyInstance, ctx: SolveRouteContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/solve/sudoku',
    {
      schema: {
        summary: 'Solve a Sudoku',
        description:
          "An 81-character puzzle or a 9×9 array in; the model's answer, its validity, its confidence sigmoid(q_halt) and the supervision steps out.",
        body: ctx.bodies.sudoku,
        response: { 200: SudokuResponse, ...ERRORS },
      },
    },
    async (req, reply) => {
      checkSudokuBody(req.body);
      const r: SudokuSolution & { elapsedMs: number } = await solveIn(ctx, reply, 'sudoku', req.body.puzzle, req.body.recordSteps);
      return r;
    },
  );
}

function mazeRoute(app: FastifyInstance, ctx: SolveRouteContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/solve/maze',
    {
      schema: {
        summary: 'Solve a maze',
        description: 'A square maze of "# SG" characters in; the maze with the predicted path in "o", its validity and confidence out.',
        body: ctx.bodies.maze,
        response: { 200: MazeResponse, ...ERRORS },
      },
    },
    async (req, reply) => {
      checkMazeBody(req.body, ctx.maxGrid);
      const r: MazeSolution & { elapsedMs: number } = await solveIn(ctx, reply, 'maze', req.body.maze, req.body.recordSteps);
      return r;
    },
  );
}

function arcRoute(app: FastifyInstance, ctx: SolveRouteContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/solve/arc',
    {
      schema: {
        summary: 'Solve an ARC test input',
        description:
          "A task id the model was trained on and a test input in; the top two attempts voted over the task's augmented versions out.",
        body: ctx.bodies.arc,
        response: { 200: ArcResponse, ...ERRORS },
      },
    },
    async (req, reply) => {
      checkArcBody(req.body);
      const { taskId, input, train } = req.body;
      const r: ArcSolution & { elapsedMs: number } = await solveIn(ctx, reply, 'arc', { taskId, input, train }, req.body.recordSteps);
      return r;
    },
  );
}

/** Registers POST /solve/<solver.kind>. */
export function registerSolveRoute(app: FastifyInstance, ctx: SolveRouteContext): void {
  const routes: Record<SolverKind, (a: FastifyInstance, c: SolveRouteContext) => void> = {
    sudoku: sudokuRoute,
    maze: mazeRoute,
    arc: arcRoute,
  };
  routes[ctx.solver.kind](app, ctx);
}
