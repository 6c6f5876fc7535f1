/**
 * The model card: what a model was trained on, how it scores on held-out puzzles and the
 * inference settings that score was measured with. `TRM#save(file, { card })` stores it as JSON in
 * the safetensors metadata; `Solver.load` reads it (its inference settings become the solver's
 * defaults) and `trm serve` shows it on the page and draws the page's examples from it.
 */
import { ErrorCodes, TrmError } from './errors';

/** The metadata key of our safetensors files that holds the {@link ModelCard} as JSON. */
export const CARD_METADATA_KEY = 'trm_card';

/** One held-out difficulty level and the model's score on it. */
export interface CardScore {
  /** Sudoku: blank cells per puzzle. */
  blanks?: number;
  /** Held-out puzzles scored. */
  count: number;
  /** Share solved exactly (every cell right), 0..1. */
  exactAccuracy: number;
  /** Mean supervision steps run (less than the most with early halting). */
  meanSteps: number;
}

/** Inference settings: the most supervision steps and whether rows stop early. */
export interface CardInference {
  /** Most supervision steps per puzzle (the model's haltMaxSteps at inference; may exceed training's). */
  haltMaxSteps: number;
  /** Stop each puzzle early: a Sudoku or maze once its answer passes the rule check, ARC at its first q_halt > 0. */
  earlyHalt: boolean;
}

/** What a model was trained on and how it scores (all fields but `trainedOn` optional). */
export interface ModelCard {
  /** One sentence a person reads, e.g. "9×9 Sudokus with 10 to 45 blanks (generated, unique solutions)". */
  trainedOn: string;
  /** Sudoku: the fewest and most blanks of the training puzzles (examples are generated in this range). */
  sudokuBlanks?: { min: number; max: number };
  /** Maze: the side and the shortest-path threshold of the training mazes (examples are generated alike). */
  maze?: { side: number; minPathLength: number };
  /** Training: wall seconds, optimizer steps, forward dtype, and the machine's load when it ran. */
  training?: { seconds: number; steps: number; forwardDtype: string; loadAverage?: number };
  /** The settings the scores were measured with; {@link Solver.load} takes them as its defaults. */
  inference?: CardInference;
  /** Held-out exact accuracy by difficulty (puzzles never seen in training). */
  scores?: CardScore[];
}

export function cardError(file: string, what: string): TrmError {
  return new TrmError(ErrorCodes.CHECKPOINT_FORMAT, `${file}: the '${CARD_METADATA_KEY}' metadata ${what}`);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Checks a card's fields (a card read from a file, or one about to be written); throws naming the bad field. */
export function checkCard(card: unknown, file = 'model card'): ModelCard {
  if (card === null || typeof card !== 'object' || Array.isArray(card))
    throw cardError(file, `must be a JSON object, got ${JSON.stringify(card)}`);
  const c = card as Record<string, unknown>;
  if (typeof c.trainedOn !== 'string' || c.trainedOn.length === 0)
    throw cardError(file, `needs trainedOn, a non-empty string; got ${JSON.stringify(c.trainedOn)}`);
  const b = c.sudokuBlanks as Record<string, unknown> | undefined;
  if (
    b !== undefined &&
    !(
      b &&
      Number.isInteger(b.min) &&
      Number.isInteger(b.max) &&
      (b.min as number) >= 1 &&
      (b.min as number) <= (b.max as number) &&
      (b.max as number) <= 64
    )
  ) {
    throw cardError(file, `sudokuBlanks must be { min, max } with integers 1 ≤ min ≤ max ≤ 64; got ${JSON.stringify(b)}`);
  }
  const m = c.maze as Record<string, unknown> | undefined;
  if (
    m !== undefined &&
    !(m && Number.isInteger(m.side) && (m.side as number) >= 4 && Number.isInteger(m.minPathLength) && (m.minPathLength as number) >= 0)
  ) {
    throw cardError(file, `maze must be { side: integer ≥ 4, minPathLength: integer ≥ 0 }; got ${JSON.stringify(m)}`);
  }
  const inf = c.inference as Record<string, unknown> | undefined;
  if (
    inf !== undefined &&
    !(inf && Number.isInteger(inf.haltMaxSteps) && (inf.haltMaxSteps as number) >= 1 && typeof inf.earlyHalt === 'boolean')
  ) {
    throw cardError(file, `inference must be { haltMaxSteps: integer ≥ 1, earlyHalt: boolean }; got ${JSON.stringify(inf)}`);
  }
  if (c.scores !== undefined) {
    if (!Array.isArray(c.scores)) throw cardError(file, `scores must be a list; got ${JSON.stringify(c.scores)}`);
    c.scores.forEach((s: Record<string, unknown>, i) => {
      if (!(
        s &&
        Number.isInteger(s.count) &&
        isNum(s.exactAccuracy) &&
        s.exactAccuracy >= 0 &&
        s.exactAccuracy <= 1 &&
        isNum(s.meanSteps)
      )) {
        throw cardError(file, `scores[${i}] must be { count, exactAccuracy in 0..1, meanSteps, blanks? }; got ${JSON.stringify(s)}`);
      }
    });
  }
  return c as unknown as ModelCard;
}
