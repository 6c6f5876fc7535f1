/**
 * TypeBox schemas of the service: request bodies, responses, errors and health. Fastify
 * validates bodies against them (Ajv), serialises responses through them, types the route
 * handlers from them, and @fastify/swagger publishes them at /openapi.json.
 *
 * The schemas bound every size (so validation cost is bounded before any work) and check
 * types; the rules with better messages — a Sudoku is 9×9, a maze is square with one S and one
 * G — are checked in lib/service/validate.ts.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Tuning knobs the schemas depend on. */
export interface SchemaLimits {
  /** Largest grid side accepted (mazes, ARC grids). */
  maxGrid: number;
}

const RecordSteps = Type.Optional(
  Type.Boolean({
    description: 'Also return the answer after every supervision step (`trace`): the recursion made visible.',
  }),
);

/** What q_halt is, said once for the OpenAPI document and docs/service.md. */
export const Q_HALT_MEANING =
  "q_halt is the logit of the model's halting head, trained with binary cross-entropy to predict whether " +
  "the current answer is exactly the training label; sigmoid(q_halt) is therefore the model's own estimate that its answer is right. " +
  'Training halts a puzzle once q_halt > 0 (an estimate above 50%), and so does early halting at inference. It is an estimate: ' +
  'a model can be confidently wrong, which is why the rule check comes first.';

const Reason = Type.Optional(Type.String({ description: 'Why the rule check failed (absent when valid).' }));
const ModelConfidence = Type.Number({ description: `sigmoid(q_halt), before any rule check. ${Q_HALT_MEANING}` });
const Confidence = Type.Number({ description: 'modelConfidence when the rule check passed, 0 when it proves the answer wrong.' });
const Steps = Type.Integer({ description: 'Supervision steps run.' });
const ElapsedMs = Type.Number({ description: 'Wall time of the solve in milliseconds.' });
/** 81 cells of 1–9, '.' or '0', whitespace anywhere (the Solver drops it). */
const SUDOKU_TEXT = '^\\s*(?:[0-9.]\\s*){81}$';
/** Rows of '#', ' ', 'S', 'G' (lines split by LF or CRLF) with exactly one S and one G. */
const MAZE_TEXT = '^(?=[^SG]*(?:S[^SG]*G|G[^SG]*S)[^SG]*$)[# SG\\r\\n]+$';
const MAZE_ROW = '^[# SG]*$';

const Digits = Type.Array(Type.Array(Type.Integer()), { description: '9 rows of 9 digits, 0 where the model predicts no digit.' });

/** `{ error: { code, message } }`, the body of every error response. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code (ERR_TRM_*).' }),
      message: Type.String({ description: 'What was wrong and how to fix it.' }),
    }),
  },
  { description: 'An error.' },
);

/** Builds the body schemas for the given limits. */
export function bodySchemas(limits: SchemaLimits) {
  const side = limits.maxGrid;
  const colourGrid = (what: string) =>
    Type.Array(Type.Array(Type.Integer({ minimum: 0, maximum: 9 }), { minItems: 1, maxItems: side }), {
      minItems: 1,
      maxItems: side,
      description: `${what}: rows of colours 0–9, at most ${side}×${side}.`,
    });
  return {
    sudoku: Type.Object(
      {
        puzzle: Type.Union([
          Type.String({
            minLength: 81,
            maxLength: 400,
            pattern: SUDOKU_TEXT,
            description:
              '81 cells: 1–9, with "." or "0" for a blank (whitespace ignored). The givens must not repeat a digit in a row, column or box (400 otherwise).',
          }),
          Type.Array(Type.Array(Type.Integer({ minimum: 0, maximum: 9 }), { minItems: 9, maxItems: 9 }), {
            minItems: 9,
            maxItems: 9,
            description:
              '9 rows of 9 numbers 0–9, 0 for a blank. The givens must not repeat a digit in a row, column or box (400 otherwise).',
          }),
        ]),
        recordSteps: RecordSteps,
      },
      { additionalProperties: false },
    ),
    maze: Type.Object(
      {
        maze: Type.Union([
          Type.String({
            minLength: 1,
            maxLength: 4 * side * (side + 2),
            pattern: MAZE_TEXT,
            description:
              `One line per row of "# SG" characters ('#' wall, ' ' open, 'S' start, 'G' goal) with exactly one S and one G, ` +
              `a square of side ≤ ${side} (400 otherwise); or a single line of side² characters.`,
          }),
          Type.Array(Type.String({ maxLength: side, pattern: MAZE_ROW, description: 'a row of "# SG" characters' }), {
            minItems: 1,
            maxItems: side,
            description: `The rows as strings of "# SG" characters: a square of side ≤ ${side} with exactly one S and one G in all (400 otherwise).`,
          }),
        ]),
        recordSteps: RecordSteps,
      },
      { additionalProperties: false },
    ),
    arc: Type.Object(
      {
        taskId: Type.String({
          minLength: 1,
          maxLength: 200,
          description: 'The task id the model was trained on (a name in its identifiers.json).',
        }),
        input: colourGrid('The test input (every row as long as the first, 400 otherwise)'),
        train: Type.Optional(
          Type.Array(
            Type.Object(
              { input: colourGrid('A demonstration input'), output: colourGrid('A demonstration output') },
              { additionalProperties: false },
            ),
            {
              maxItems: 64,
              description: "The task's demonstration pairs (validated; a trained model carries the task in its puzzle embeddings).",
            },
          ),
        ),
        recordSteps: RecordSteps,
      },
      { additionalProperties: false },
    ),
  };
}

/** The body schemas' types (the same for any limits). */
export type BodySchemas = ReturnType<typeof bodySchemas>;
/** Body of POST /solve/sudoku. */
export type SudokuBody = Static<BodySchemas['sudoku']>;
/** Body of POST /solve/maze. */
export type MazeBody = Static<BodySchemas['maze']>;
/** Body of POST /solve/arc. */
export type ArcBody = Static<BodySchemas['arc']>;

const SUDOKU_VALID = 'The answer is a complete Sudoku with 1–9 once in every row, column and box, keeping every given.';

const SudokuStep = Type.Object({
  text: Type.String({ description: '81 characters, "." where the model predicts no digit.' }),
  grid: Digits,
  valid: Type.Boolean({ description: SUDOKU_VALID }),
  reason: Reason,
  modelConfidence: ModelConfidence,
  confidence: Confidence,
});

/** Answer of POST /solve/sudoku. */
export const SudokuResponse = Type.Object({
  kind: Type.Literal('sudoku'),
  ruleChecked: Type.Literal(true, { description: 'A rule check ran: see valid.' }),
  valid: Type.Boolean({ description: SUDOKU_VALID }),
  reason: Reason,
  confidence: Confidence,
  modelConfidence: ModelConfidence,
  text: Type.String({ description: '81 characters, "." where the model predicts no digit.' }),
  grid: Digits,
  steps: Steps,
  trace: Type.Optional(Type.Array(SudokuStep, { description: 'With recordSteps: the answer after each supervision step.' })),
  elapsedMs: ElapsedMs,
});

const MAZE_VALID = 'The answer keeps the maze (walls, S, G) and its "o" cells connect S to G.';
const Optimal = Type.Boolean({ description: 'Valid and a shortest path (what the training labels are).' });
const PathLength = Type.Integer({ description: 'Number of "o" cells.' });

const MazeStep = Type.Object({
  text: Type.String({ description: 'The rows joined by newlines.' }),
  rows: Type.Array(Type.String(), { description: 'The maze with the predicted path in "o" ("?" where the model predicts padding).' }),
  valid: Type.Boolean({ description: MAZE_VALID }),
  reason: Reason,
  optimal: Optimal,
  pathLength: PathLength,
  modelConfidence: ModelConfidence,
  confidence: Confidence,
});

/** Answer of POST /solve/maze. */
export const MazeResponse = Type.Object({
  kind: Type.Literal('maze'),
  ruleChecked: Type.Literal(true, { description: 'A rule check ran: see valid.' }),
  valid: Type.Boolean({ description: MAZE_VALID }),
  reason: Reason,
  optimal: Optimal,
  pathLength: PathLength,
  confidence: Confidence,
  modelConfidence: ModelConfidence,
  text: Type.String({ description: 'The rows joined by newlines.' }),
  rows: Type.Array(Type.String()),
  steps: Steps,
  trace: Type.Optional(Type.Array(MazeStep, { description: 'With recordSteps: the answer after each supervision step.' })),
  elapsedMs: ElapsedMs,
});

const ArcAttempt = Type.Object({
  grid: Type.Array(Type.Array(Type.Integer()), { description: 'The predicted output grid.' }),
  votes: Type.Integer({ description: 'Augmented versions that predicted this grid.' }),
  confidence: Type.Number({
    description: "Mean sigmoid(q_halt) of those predictions: the model's estimate alone (ARC has no rule check).",
  }),
});

/** Answer of POST /solve/arc. */
export const ArcResponse = Type.Object({
  kind: Type.Literal('arc'),
  taskId: Type.String(),
  attempts: Type.Array(ArcAttempt, { description: 'The top two grids by (votes, mean confidence): attempt_1 and attempt_2.' }),
  ruleChecked: Type.Literal(false, { description: 'ARC has no rule check: only the model vouches for an answer (see confidence).' }),
  confidence: Type.Number({
    description: `Mean sigmoid(q_halt) of the first attempt's voters, with no rule check behind it. ${Q_HALT_MEANING}`,
  }),
  versions: Type.Integer({ description: 'Augmented versions run (the voters).' }),
  steps: Steps,
  trace: Type.Optional(
    Type.Array(Type.Object({ attempt: ArcAttempt }), { description: 'With recordSteps: the top attempt after each supervision step.' }),
  ),
  elapsedMs: ElapsedMs,
});

const ArcGridJson = Type.Array(Type.Array(Type.Integer()));
const ArcPairJson = Type.Object({ input: ArcGridJson, output: ArcGridJson });

/** Answer of GET /examples. */
export const ExamplesResponse = Type.Object({
  source: Type.String({
    description: "Where the examples come from (the model's test split, or generated like its training puzzles), or why there are none.",
  }),
  items: Type.Array(
    Type.Union([
      Type.String({ description: 'Sudoku: 81 characters; maze: rows joined by newlines.' }),
      Type.Object(
        { taskId: Type.String(), task: Type.Object({ train: Type.Array(ArcPairJson), test: Type.Array(ArcPairJson) }) },
        { description: 'ARC: a task the model knows.' },
      ),
    ]),
  ),
});

const CardSchema = Type.Object(
  {
    trainedOn: Type.String({ description: 'What the model was trained on.' }),
    sudokuBlanks: Type.Optional(Type.Object({ min: Type.Integer(), max: Type.Integer() })),
    maze: Type.Optional(Type.Object({ side: Type.Integer(), minPathLength: Type.Integer() })),
    training: Type.Optional(
      Type.Object({
        seconds: Type.Number(),
        steps: Type.Integer(),
        forwardDtype: Type.String(),
        loadAverage: Type.Optional(Type.Number()),
      }),
    ),
    inference: Type.Optional(Type.Object({ haltMaxSteps: Type.Integer(), earlyHalt: Type.Boolean() })),
    scores: Type.Optional(
      Type.Array(
        Type.Object({
          blanks: Type.Optional(Type.Integer()),
          count: Type.Integer(),
          exactAccuracy: Type.Number(),
          meanSteps: Type.Number(),
        }),
        { description: 'Held-out exact accuracy by difficulty.' },
      ),
    ),
  },
  { description: "The checkpoint's model card: what it was trained on and how it scores on held-out puzzles." },
);

/** Answer of GET /health. */
export const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('closing')]),
  kind: Type.Union([Type.Literal('sudoku'), Type.Literal('maze'), Type.Literal('arc')]),
  model: Type.Optional(
    Type.Object({
      arch: Type.String(),
      seqLen: Type.Integer(),
      vocabSize: Type.Integer(),
      hiddenSize: Type.Integer(),
      hCycles: Type.Integer(),
      lCycles: Type.Integer(),
      lLayers: Type.Integer(),
      haltMaxSteps: Type.Integer({ description: 'N_sup: the most supervision steps a solve runs.' }),
    }),
  ),
  earlyHalt: Type.Optional(Type.Boolean({ description: 'Solves stop at the first q_halt > 0.' })),
  card: Type.Optional(CardSchema),
  inFlight: Type.Integer({ description: 'Solves running now.' }),
  limits: Type.Object({
    maxConcurrent: Type.Integer(),
    requestTimeoutMs: Type.Integer(),
    bodyLimit: Type.Integer({ description: 'Largest body in bytes.' }),
    maxGrid: Type.Integer({ description: 'Largest grid side.' }),
  }),
  batching: Type.Optional(
    Type.Object({
      runs: Type.Integer({ description: 'Native runs so far.' }),
      rows: Type.Integer({ description: 'Puzzles (rows) run so far.' }),
      largestBatch: Type.Integer(),
    }),
  ),
  uptimeSeconds: Type.Number(),
});

/** The GET /health answer's type. */
export type Health = Static<typeof HealthResponse>;
