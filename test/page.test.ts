/**
 * The web page end to end in a real browser: Debian's chromium, driven headless by
 * playwright-core (no browser download), against the service over a real Solver. The page is
 * loaded, a Sudoku is entered (pasted, then one digit typed with the keyboard), Solve is
 * clicked, the per-step replay runs to the end, and the answer grid shows 81 digits and a
 * confidence. A screenshot is saved in the OS temp dir and checked to be a PNG whose answer
 * area is rendered (not blank, and different from before solving).
 *
 * The tiny model is untrained; its output head is set so every cell's argmax is a digit
 * (rows for PAD and blank are zero, and two digit rows are opposite, so one of them is ≥ 0).
 * The maze editor (mouse and keyboard) is driven against a fake maze solver.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { TRM } from '../lib/model';
import { Solver, type MazeSolution, type SolveOptions } from '../lib/solver';
import { createServer, type ServiceSolver } from '../lib/service/server';

const CHROMIUM = '/usr/bin/chromium';
const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const STEPS = 3;

/** Width and height from a PNG's IHDR chunk; throws unless the bytes are a PNG. */
function pngSize(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(signature) || png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** What the tiny model's card says it was trained on. */
const CARD = {
  trainedOn: '9×9 Sudokus with 30 to 40 blanks (a test card)',
  sudokuBlanks: { min: 30, max: 40 },
  scores: [{ blanks: 30, count: 10, exactAccuracy: 0.5, meanSteps: 3 }],
};

/** A tiny sudoku model whose every predicted cell is a digit, saved with {@link CARD}. */
async function digitModel(file: string): Promise<void> {
  const model = TRM.create(
    'sudoku-mlp',
    { hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1, haltMaxSteps: STEPS },
    { seed: 3 },
  );
  const head = model.getTensor('lm_head.weight');
  const [vocab, hidden] = head.shape;
  const w = Float32Array.from(head.data as Float32Array);
  w.fill(0, 0, 2 * hidden); // PAD and blank never win
  for (let j = 0; j < hidden; j++) w[3 * hidden + j] = -w[2 * hidden + j]; // digits 1 and 2: max(u·h, −u·h) ≥ 0
  model.setTensor('lm_head.weight', { dtype: 'float32', shape: [vocab, hidden], data: w });
  await model.save(file, { card: CARD });
  model.dispose();
}

/** A maze solver double: its answer's path fills every open cell; it remembers the mazes it got. */
class PathSolver implements ServiceSolver {
  readonly kind = 'maze' as const;
  received: string[] = [];
  async solve(input: unknown, opts: SolveOptions = {}): Promise<MazeSolution> {
    this.received.push(String(input));
    const rows = String(input)
      .split('\n')
      .map((r) => r.replace(/ /g, 'o'));
    const half = rows.map((r, i) => (i < rows.length / 2 ? r : r.replace(/o/g, ' ')));
    const pathLength = rows.join('').split('o').length - 1;
    const step = (rs: string[], valid: boolean, modelConfidence: number) => ({
      text: rs.join('\n'),
      rows: rs,
      valid,
      optimal: false,
      pathLength,
      modelConfidence,
      confidence: valid ? modelConfidence : 0,
      ...(valid ? {} : { reason: "the 'o' cells do not connect S to G" }),
    });
    const trace = opts.recordSteps ? [step(half, false, 0.3), step(rows, true, 0.6)] : undefined;
    return { kind: 'maze', ruleChecked: true, ...step(rows, true, 0.6), steps: 2, trace };
  }
  dispose(): void {}
}

describe('the solver page in headless chromium', () => {
  let dir: string;
  let app: FastifyInstance;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/setup.sh does it)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-page-'));
    const file = path.join(dir, 'digits.safetensors');
    await digitModel(file);
    app = createServer({ solver: await Solver.load(file) });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('enter a Sudoku, solve it, watch every supervision step, and see 81 digits with a confidence', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');

    // Only the panel of the kind this server solves is shown.
    expect(await page.isVisible('#panel-sudoku')).toBe(true);
    expect(await page.isVisible('#panel-maze')).toBe(false);
    expect(await page.isVisible('#panel-arc')).toBe(false);

    // The page says what the model was trained on, and its first example is like that: 30 to 40 blanks.
    expect(await page.textContent('#trained-on')).toBe(`Trained on ${CARD.trainedOn}. Held-out exact accuracy: 30 blanks 50%.`);
    expect(await page.textContent('#sudoku-examples-source')).toMatch(/^Examples: generated like the training puzzles: 30 to 40 blanks\.$/);
    const blanks = async (): Promise<number> =>
      (await page.getByLabel('Or paste a puzzle').inputValue()).split('').filter((c) => c === '.').length;
    const first = await page.getByLabel('Or paste a puzzle').inputValue();
    expect(await blanks()).toBe(30);
    await page.getByRole('button', { name: 'Example' }).click();
    expect(await page.getByLabel('Or paste a puzzle').inputValue()).not.toBe(first);
    expect(await blanks()).toBeGreaterThanOrEqual(30);
    expect(await blanks()).toBeLessThanOrEqual(40);
    const answer = page.locator('#answer');
    const before = await answer.screenshot();

    // Paste the puzzle, then type the third cell's digit with the keyboard (arrow keys move).
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Or paste a puzzle').fill(PUZZLE);
    await page.getByRole('button', { name: 'Load', exact: true }).click();
    await page.getByLabel('Row 1, column 1', { exact: true }).click();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('4');
    expect(await page.getByLabel('Row 1, column 3', { exact: true }).inputValue()).toBe('4');

    // Record the step label as the replay advances (browser code as a string: no DOM types here).
    await page.evaluate(`(() => {
      window.seenSteps = [];
      const label = document.getElementById('step-label');
      new MutationObserver(() => window.seenSteps.push(label.textContent)).observe(label, { childList: true, characterData: true, subtree: true });
    })()`);
    const request = page.waitForRequest((r) => r.url().endsWith('/solve/sudoku'));
    await page.getByRole('button', { name: 'Solve' }).click();
    const sent = JSON.parse((await request).postData() ?? '{}') as { puzzle: string; recordSteps: boolean };
    expect(sent).toEqual({ puzzle: `${PUZZLE.slice(0, 2)}4${PUZZLE.slice(3)}`, recordSteps: true });
    await page.waitForSelector('#result[data-state="done"]', { timeout: 15_000 });

    // Rule check first: the digits break Sudoku rules, so the confidence is 0 and the model's own
    // estimate is shown beside it.
    expect(await page.textContent('#verdict')).toMatch(/^Rule check failed: /);
    expect(await page.textContent('#confidence-value')).toBe('0.0%');
    expect(await page.textContent('#model-confidence')).toMatch(
      /^The model itself estimated \d{1,3}(\.\d)?% \(sigmoid\(q_halt\)\), but the answer breaks a rule\.$/,
    );

    const seen = (await page.evaluate('window.seenSteps')) as string[];
    for (let k = 1; k <= STEPS; k++) expect(seen).toContain(`step ${k} of ${STEPS}`);
    const cells = await page.locator('#answer .cell').allTextContents();
    expect(cells).toHaveLength(81);
    for (const c of cells) expect(c).toMatch(/^[1-9]$/);
    expect(await page.locator('#timeline li').count()).toBe(STEPS);
    expect(await page.textContent('#verdict')).toMatch(new RegExp(`${STEPS} supervision steps`));
    expect(errors).toEqual([]);

    // The screenshot: a PNG of the whole page, whose answer area is rendered and has changed.
    await page.waitForTimeout(700); // let the last cell flashes fade
    const shot = path.join(os.tmpdir(), 'trm-page-sudoku.png');
    await page.screenshot({ path: shot, fullPage: true });
    const size = pngSize(fs.readFileSync(shot));
    expect(size.width).toBe(1200);
    expect(size.height).toBeGreaterThanOrEqual(900);
    const box = await answer.boundingBox();
    expect(box && box.width > 200 && box.height > 200).toBe(true);
    const after = await answer.screenshot();
    expect(pngSize(after).width).toBeGreaterThan(200);
    expect(after.equals(before)).toBe(false);
    await page.close();
  });

  test("a bad puzzle shows the server's error and the page keeps working", async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.getByLabel('Or paste a puzzle').fill(`55${PUZZLE.slice(2)}`);
    await page.getByRole('button', { name: 'Load', exact: true }).click();
    await page.getByRole('button', { name: 'Solve' }).click();
    await page.waitForSelector('#result[data-state="error"]');
    expect(await page.textContent('#input-error')).toMatch(/given twice.*ERR_TRM_INVALID_ARGUMENT/);
    await page.getByRole('button', { name: 'Example' }).click();
    await page.getByRole('button', { name: 'Solve' }).click();
    await page.waitForSelector('#result[data-state="done"]', { timeout: 15_000 });
    await page.close();
  });

  test('draw a maze with the mouse and the keyboard, solve it, and see the path', async () => {
    const solver = new PathSolver();
    const app = createServer({ solver });
    const maze = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const page = await browser.newPage();
      await page.goto(maze);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.isVisible('#panel-sudoku')).toBe(false);
      // No card, no dataset: no examples, and the page says so instead of offering a puzzle.
      expect(await page.isVisible('#maze-example')).toBe(false);
      expect(await page.textContent('#maze-examples-source')).toMatch(/^No examples: the checkpoint has no model card/);
      expect(await page.textContent('#trained-on')).toBe('This checkpoint does not say what the model was trained on.');
      await page.getByLabel('Side').fill('6');
      await page.getByRole('button', { name: 'New empty maze' }).click();
      const cell = (r: number, c: number) => page.locator('#maze-input .cell').nth(r * 6 + c);
      await page.getByLabel('Start', { exact: true }).check();
      await cell(1, 2).click(); // moves S from (1, 1)
      await page.getByLabel('Wall', { exact: true }).check();
      await cell(2, 2).click();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press(' '); // a wall at (3, 2)
      expect(await cell(3, 2).getAttribute('aria-label')).toBe('Row 4, column 3: wall');
      await page.getByRole('button', { name: 'Solve' }).click();
      await page.waitForSelector('#result[data-state="done"]', { timeout: 15_000 });
      expect(solver.received).toEqual(['######\n# S  #\n# #  #\n# #  #\n#   G#\n######']);
      expect(await page.locator('#answer .cell.path').count()).toBe(12); // every open cell, as the fake answers
      expect(await page.textContent('#verdict')).toMatch(/Rule check passed: a path from S to G \(12 cells\)/);
      expect(await page.textContent('#confidence-value')).toBe('60%');
    } finally {
      await app.close();
    }
  });
});
