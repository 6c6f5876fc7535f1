/**
 * Solve one Sudoku with a trained checkpoint (official step_N or trm-native safetensors).
 *
 *     npx ts-node examples/solve-sudoku.ts <checkpoint> [81-character puzzle]
 */
import { Solver } from '../lib';

async function main(checkpoint: string, puzzle: string): Promise<void> {
  using solver = await Solver.load(checkpoint, { kind: 'sudoku' });
  const { text, valid, confidence, steps } = await solver.solve(puzzle);
  console.log(`${text}\nvalid: ${valid}  confidence: ${(confidence * 100).toFixed(1)}%  steps: ${steps}`);
}

const [checkpoint, puzzle = '..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..'] = process.argv.slice(2);
if (!checkpoint) {
  console.error('usage: ts-node examples/solve-sudoku.ts <checkpoint> [81-character puzzle]');
  process.exit(2);
}
main(checkpoint, puzzle).catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
