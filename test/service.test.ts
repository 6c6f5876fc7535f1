/**
 * The HTTP solver service, driven over HTTP on 127.0.0.1 (listen on port 0, then fetch): answers
 * and their shapes, 4xx for bad bodies with a code (and the server keeps serving), the body-size
 * limit, the concurrency cap (429), the per-request timeout (504 and an aborted solve), /health,
 * /openapi.json, graceful close, and the same plumbing over a real (tiny, untrained) Solver: its
 * rule check and confidence, the model card (defaults, /health) and the page's /examples.
 * A fake solver whose solves wait on a gate makes the timing-dependent cases deterministic.
 */
import * as fs from 'fs';
import * as net from 'net';
import Ajv from 'ajv';
import * as os from 'os';
import * as path from 'path';
import type { FastifyInstance } from 'fastify';
import { ErrorCodes, TrmError } from '../lib/errors';
import { TRM } from '../lib/model';
import { Solver, type SolveOptions, type SolverInputs, type SolverKind, type SolverResults } from '../lib/solver';
import { createServer, examplesFromDataset, ServiceErrorCodes, type ServerOptions, type ServiceSolver } from '../lib/service/server';
import type { ModelCard } from '../lib/card';
import { readModelCard } from '../lib/checkpoint';
import { buildSudokuFromPuzzles } from '../lib/data/sudoku';
import { generateSudoku } from '../lib/data/sudoku-generator';
import { solveSudoku } from '../lib/data/sudoku-solver';

const PUZZLE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const SOLVED = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
const MAZE = ['#####', '#S  #', '# # #', '#  G#', '#####'];

/** A solver double: answers fixed results; while `gate` is closed its solves wait (abortably). */
class FakeSolver implements ServiceSolver {
  calls = 0;
  aborts = 0;
  disposed = false;
  readonly events: string[] = [];
  #gate: Promise<void> = Promise.resolve();
  #open: () => void = () => undefined;
  /** Makes `solve` throw this for the next call. */
  failWith: unknown = undefined;

  constructor(readonly kind: SolverKind) {}

  closeGate(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  openGate(): void {
    this.#open();
    this.#gate = Promise.resolve();
  }

  async solve(input: SolverInputs[SolverKind], opts: SolveOptions = {}): Promise<SolverResults[SolverKind]> {
    this.calls++;
    if (this.failWith !== undefined) {
      const err = this.failWith;
      this.failWith = undefined;
      throw err;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.aborts++;
        reject(new TrmError(ErrorCodes.CANCELLED, 'the request was cancelled'));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      void this.#gate.then(() => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    this.events.push('solved');
    return this.#answer(input, Boolean(opts.recordSteps));
  }

  #answer(input: SolverInputs[SolverKind], record: boolean): SolverResults[SolverKind] {
    if (this.kind === 'sudoku') {
      const grid = Array.from({ length: 9 }, (_, r) => Array.from(SOLVED.slice(r * 9, r * 9 + 9), Number));
      const step = { text: SOLVED, grid, valid: true, confidence: 0.9, modelConfidence: 0.9 };
      return {
        kind: 'sudoku',
        ruleChecked: true,
        ...step,
        steps: 2,
        ...(record ? { trace: [{ ...step, confidence: 0.2, modelConfidence: 0.2 }, step] } : {}),
      };
    }
    if (this.kind === 'maze') {
      const rows = ['#####', '#So #', '#o# #', '#ooG#', '#####'];
      const step = { text: rows.join('\n'), rows, valid: true, optimal: true, pathLength: 4, confidence: 0.8, modelConfidence: 0.8 };
      return { kind: 'maze', ruleChecked: true, ...step, steps: 1, ...(record ? { trace: [step] } : {}) };
    }
    const attempt = {
      grid: [
        [1, 2],
        [3, 4],
      ],
      votes: 3,
      confidence: 0.7,
    };
    return {
      kind: 'arc',
      taskId: (input as SolverInputs['arc']).taskId,
      attempts: [attempt],
      confidence: 0.7,
      ruleChecked: false,
      versions: 4,
      steps: 2,
      ...(record ? { trace: [{ attempt }, { attempt }] } : {}),
    };
  }

  dispose(): void {
    this.disposed = true;
    this.events.push('disposed');
  }
}

interface Running {
  app: FastifyInstance;
  url: string;
}

const running: Running[] = [];

async function start(opts: ServerOptions): Promise<Running> {
  const app = createServer(opts);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const r = { app, url };
  running.push(r);
  return r;
}

afterEach(async () => {
  while (running.length > 0) await running.pop()!.app.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function post(url: string, body: unknown, init: { raw?: string; contentType?: string } = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json' },
    body: init.raw ?? JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
}

async function get(url: string): Promise<Answer> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function expectError(a: Answer, status: number, code: string, messagePart?: RegExp): void {
  expect({ status: a.status, code: a.body.error?.code }).toEqual({ status, code });
  expect(typeof a.body.error?.message).toBe('string');
  if (messagePart) expect(a.body.error?.message).toMatch(messagePart);
  expect(JSON.stringify(a.body)).not.toMatch(/\n\s+at /); // no stack traces
}

describe('POST /solve/sudoku', () => {
  test('answers 200 with the solution, its validity, confidence, steps and wall time', async () => {
    const solver = new FakeSolver('sudoku');
    const { url } = await start({ solver });
    const a = await post(`${url}/solve/sudoku`, { puzzle: PUZZLE });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ kind: 'sudoku', text: SOLVED, valid: true, confidence: 0.9, steps: 2 });
    expect(a.body.grid).toHaveLength(9);
    expect(typeof a.body.elapsedMs).toBe('number');
    expect(a.body.trace).toBeUndefined();
  });

  test('recordSteps returns the answer after every supervision step; a 9×9 array is accepted', async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku') });
    const grid = Array.from({ length: 9 }, (_, r) => Array.from(PUZZLE.slice(r * 9, r * 9 + 9), (ch) => (ch === '.' ? 0 : Number(ch))));
    const a = await post(`${url}/solve/sudoku`, { puzzle: grid, recordSteps: true });
    expect(a.status).toBe(200);
    const trace = a.body.trace as Array<{ text: string; grid: number[][]; confidence: number }>;
    expect(trace.map((s) => s.confidence)).toEqual([0.2, 0.9]);
    expect(trace[1].grid).toHaveLength(9);
  });

  test('bad bodies are 4xx with a code, never reach the solver, and the server keeps serving', async () => {
    const solver = new FakeSolver('sudoku');
    const { url } = await start({ solver });
    const u = `${url}/solve/sudoku`;
    const tenByTen = Array.from({ length: 10 }, () => Array(10).fill(0));
    expectError(await post(u, {}), 400, ErrorCodes.INVALID_ARGUMENT, /puzzle/);
    expectError(await post(u, { puzzle: 'x'.repeat(81) }), 400, ErrorCodes.INVALID_ARGUMENT);
    expectError(await post(u, { puzzle: PUZZLE.slice(1) }), 400, ErrorCodes.INVALID_ARGUMENT);
    expectError(await post(u, { puzzle: tenByTen }), 400, ErrorCodes.INVALID_ARGUMENT, /puzzle has 10 entries; expected at most 9/);
    expectError(await post(u, { puzzle: 42 }), 400, ErrorCodes.INVALID_ARGUMENT, /puzzle must be a string or an array/);
    expectError(await post(u, { puzzle: PUZZLE, recordSteps: 'yes' }), 400, ErrorCodes.INVALID_ARGUMENT, /recordSteps/);
    expectError(await post(u, { puzzle: PUZZLE, extra: 1 }), 400, ErrorCodes.INVALID_ARGUMENT, /unknown field "extra"/);
    expectError(await post(u, null, { raw: '{"puzzle": "53..' }), 400, ServiceErrorCodes.INVALID_JSON);
    expectError(await post(u, null, { raw: '' }), 400, ServiceErrorCodes.INVALID_JSON);
    expectError(await post(u, null, { raw: PUZZLE, contentType: 'text/plain' }), 415, ServiceErrorCodes.UNSUPPORTED_MEDIA_TYPE);
    expect(solver.calls).toBe(0);
    const ok = await post(u, { puzzle: PUZZLE });
    expect(ok.status).toBe(200);
    expect(solver.calls).toBe(1);
  });

  test('solver errors: a TrmError on bad input is 400 with its code; other failures are 500 without internals', async () => {
    const solver = new FakeSolver('sudoku');
    const { url } = await start({ solver });
    const u = `${url}/solve/sudoku`;
    solver.failWith = new TrmError(ErrorCodes.INVALID_ARGUMENT, 'sudoku: digit 5 is given twice in row 1');
    expectError(await post(u, { puzzle: PUZZLE }), 400, ErrorCodes.INVALID_ARGUMENT, /given twice/);
    solver.failWith = new TrmError(ErrorCodes.TORCH, 'c10 error at /secret/path/file.cpp:12');
    const torch = await post(u, { puzzle: PUZZLE });
    expectError(torch, 500, ErrorCodes.TORCH);
    expect(torch.body.error?.message).not.toMatch(/secret/);
    solver.failWith = new Error('boom at /secret/internal.js');
    const boom = await post(u, { puzzle: PUZZLE });
    expectError(boom, 500, ErrorCodes.INTERNAL);
    expect(boom.body.error?.message).not.toMatch(/boom|secret/);
    expect((await post(u, { puzzle: PUZZLE })).status).toBe(200);
  });

  test('a body over the limit is 413', async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku'), bodyLimit: 1024 });
    const a = await post(`${url}/solve/sudoku`, { puzzle: PUZZLE, pad: 'x'.repeat(2048) });
    expectError(a, 413, ServiceErrorCodes.BODY_TOO_LARGE);
    expect((await post(`${url}/solve/sudoku`, { puzzle: PUZZLE })).status).toBe(200);
  });

  test("only the route of the solver's kind exists: the others are 404 naming the kind served; other methods are 405", async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku') });
    expectError(await post(`${url}/solve/maze`, { maze: MAZE }), 404, ServiceErrorCodes.NOT_FOUND, /sudoku puzzles only/);
    expectError(await post(`${url}/solve/arc`, { taskId: 'a', input: [[1]] }), 404, ServiceErrorCodes.NOT_FOUND, /POST \/solve\/sudoku/);
    expectError(await get(`${url}/nope`), 404, ServiceErrorCodes.NOT_FOUND);
    const wrongMethod = await get(`${url}/solve/sudoku`);
    expectError(wrongMethod, 405, ServiceErrorCodes.METHOD_NOT_ALLOWED, /\/solve\/sudoku does not take GET; use POST/);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });
});

describe('POST /solve/maze and /solve/arc', () => {
  test('a maze is answered; wrong characters, non-square and too-large mazes are 400', async () => {
    const solver = new FakeSolver('maze');
    const { url } = await start({ solver, maxGrid: 12 });
    const u = `${url}/solve/maze`;
    const ok = await post(u, { maze: MAZE.join('\n'), recordSteps: true });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ kind: 'maze', valid: true, optimal: true, pathLength: 4 });
    expect(ok.body.trace).toHaveLength(1);
    expect((await post(u, { maze: MAZE })).status).toBe(200);
    expectError(
      await post(u, { maze: MAZE.map((r) => r.replace(' ', 'x')) }),
      400,
      ErrorCodes.INVALID_ARGUMENT,
      /maze\[1\] is "#Sx #"; expected a row of "# SG" characters/,
    );
    expectError(await post(u, { maze: MAZE.slice(1) }), 400, ErrorCodes.INVALID_ARGUMENT, /square/);
    expectError(await post(u, { maze: MAZE.map((r) => r.replace('S', ' ')) }), 400, ErrorCodes.INVALID_ARGUMENT, /one 'S'/);
    const big = Array.from({ length: 13 }, (_, r) => (r === 1 ? `#S${' '.repeat(9)}G#` : '#'.repeat(13)));
    expectError(await post(u, { maze: big }), 400, ErrorCodes.INVALID_ARGUMENT, /maze has 13 entries; expected at most 12/);
    expect(solver.calls).toBe(2);
  });

  test('an ARC test input is answered; grids over maxGrid, bad colours and ragged rows are 400', async () => {
    const solver = new FakeSolver('arc');
    const { url } = await start({ solver, maxGrid: 30 });
    const u = `${url}/solve/arc`;
    const train = [
      {
        input: [
          [1, 0],
          [0, 1],
        ],
        output: [
          [2, 0],
          [0, 2],
        ],
      },
    ];
    const ok = await post(u, {
      taskId: '007bbfb7',
      input: [
        [1, 0],
        [0, 1],
      ],
      train,
      recordSteps: true,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      kind: 'arc',
      taskId: '007bbfb7',
      versions: 4,
      attempts: [
        {
          grid: [
            [1, 2],
            [3, 4],
          ],
          votes: 3,
        },
      ],
    });
    expect(ok.body.trace).toHaveLength(2);
    const big = Array.from({ length: 31 }, () => Array(31).fill(0));
    expectError(await post(u, { taskId: 't', input: big }), 400, ErrorCodes.INVALID_ARGUMENT, /input has 31 entries; expected at most 30/);
    expectError(await post(u, { taskId: 't', input: [[10]] }), 400, ErrorCodes.INVALID_ARGUMENT);
    expectError(await post(u, { taskId: 't', input: [[1, 2], [3]] }), 400, ErrorCodes.INVALID_ARGUMENT, /rectangular/);
    expectError(await post(u, { taskId: '', input: [[1]] }), 400, ErrorCodes.INVALID_ARGUMENT, /taskId/);
    expectError(await post(u, { input: [[1]] }), 400, ErrorCodes.INVALID_ARGUMENT, /taskId/);
    expect(solver.calls).toBe(1);
  });
});

describe('limits', () => {
  test('beyond maxConcurrent running solves the answer is 429 with Retry-After; the held ones finish', async () => {
    const solver = new FakeSolver('sudoku');
    const { url } = await start({ solver, maxConcurrent: 2 });
    solver.closeGate();
    const held = [post(`${url}/solve/sudoku`, { puzzle: PUZZLE }), post(`${url}/solve/sudoku`, { puzzle: PUZZLE })];
    await until(() => solver.calls === 2, 'two solves to start');
    expect((await get(`${url}/health`)).body.inFlight).toBe(2);
    const busy = await post(`${url}/solve/sudoku`, { puzzle: PUZZLE });
    expectError(busy, 429, ServiceErrorCodes.BUSY);
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
    solver.openGate();
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200]);
    expect((await post(`${url}/solve/sudoku`, { puzzle: PUZZLE })).status).toBe(200);
    expect((await get(`${url}/health`)).body.inFlight).toBe(0);
  });

  test('a solve over requestTimeoutMs is answered 504 and aborted, freeing its slot', async () => {
    const solver = new FakeSolver('sudoku');
    const { url } = await start({ solver, requestTimeoutMs: 150, maxConcurrent: 1 });
    solver.closeGate();
    const t0 = Date.now();
    expectError(await post(`${url}/solve/sudoku`, { puzzle: PUZZLE }), 504, ServiceErrorCodes.TIMEOUT, /150 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
    await until(() => solver.aborts === 1, 'the solve to be aborted');
    solver.openGate();
    expect((await post(`${url}/solve/sudoku`, { puzzle: PUZZLE })).status).toBe(200);
  });

  test('invalid server options are rejected with ERR_TRM_INVALID_ARGUMENT', () => {
    expect(() => createServer({ solver: new FakeSolver('sudoku'), maxConcurrent: 0 })).toThrow(/maxConcurrent/);
    expect(() => createServer({ solver: { kind: 'chess' } as unknown as ServiceSolver })).toThrow(/solve|kind/);
  });
});

/** A raw TCP connection to `url`, with the time it was closed (or undefined while open) and what it received. */
function connect(url: string): Promise<{ socket: net.Socket; received: () => string; closed: Promise<number> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    const closed = new Promise<number>((res) => socket.on('close', () => res(Date.now())));
    socket.once('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

describe('HTTP edges: deadlines, the connection cap, methods, the schema', () => {
  test('a client that stalls in its headers is closed after about headersTimeoutMs (not a minute later)', async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku'), requestTimeoutMs: 400 });
    const c = await connect(url);
    const t0 = Date.now();
    c.socket.write('POST /solve/sudoku HTTP/1.1\r\nHost: x\r\n');
    const closedAt = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 4000))]);
    expect(closedAt - t0).toBeLessThan(2500);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 [\s\S]*\r\n\r\n\{"error":\{"code":"ERR_TRM_TIMEOUT"/);
  });

  test('a request the HTTP parser or the router refuses is answered 400 with the usual error body', async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku') });
    const c = await connect(url);
    c.socket.write('NOT HTTP AT ALL\r\n\r\n');
    await c.closed;
    expect(c.received()).toMatch(
      /^HTTP\/1\.1 400 [\s\S]*\r\n\r\n\{"error":\{"code":"ERR_TRM_BAD_REQUEST","message":"the request is not well-formed HTTP\/1\.1"\}\}$/,
    );
    // A URL fastify cannot decode is refused before routing: the same body.
    expectError(await get(`${url}/%`), 400, ServiceErrorCodes.BAD_REQUEST, /not a valid url/);
  });

  test('a client that stalls in its body is closed after about requestTimeoutMs', async () => {
    const solver = new FakeSolver('sudoku');
    const { url } = await start({ solver, requestTimeoutMs: 400, headersTimeoutMs: 200 });
    const c = await connect(url);
    const t0 = Date.now();
    c.socket.write('POST /solve/sudoku HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"puzzle":');
    const closedAt = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 4000))]);
    expect(closedAt - t0).toBeLessThan(2500);
    expect(solver.calls).toBe(0);
  });

  test('an idle keep-alive connection is closed after idleTimeoutMs', async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku'), idleTimeoutMs: 200 });
    const c = await connect(url);
    c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await until(() => c.received().includes('"status":"ok"'), 'the health answer');
    const t0 = Date.now();
    const closedAt = await Promise.race([c.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), 4000))]);
    expect(closedAt - t0).toBeLessThan(2000);
  });

  test('beyond maxConnections open connections a new one is closed at once; the open ones are served', async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku'), maxConnections: 2 });
    const a = await connect(url);
    const b = await connect(url);
    const extra = await connect(url);
    await extra.closed;
    expect(extra.received()).toBe('');
    a.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => a.received().includes('"status":"ok"'), 'an answer on an admitted connection');
    a.socket.destroy();
    b.socket.destroy();
    await Promise.all([a.closed, b.closed]);
    // The server counts the closed ones out asynchronously: a new client is served again.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await get(`${url}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(200);
  });

  test('a known route with another method is 405 with Allow', async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku') });
    const res = await fetch(`${url}/health`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(ServiceErrorCodes.METHOD_NOT_ALLOWED);
    const put = await fetch(`${url}/solve/sudoku`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
    expect({ status: put.status, allow: put.headers.get('allow') }).toEqual({ status: 405, allow: 'POST' });
  });

  test('the OpenAPI body schemas agree with the server on every Sudoku and maze body (a schema fuzzer sees no surprise)', async () => {
    const { url: sudokuUrl } = await start({ solver: new FakeSolver('sudoku') });
    const { url: mazeUrl } = await start({ solver: new FakeSolver('maze') });
    const schemaOf = async (base: string, kind: string) => {
      const doc = (await get(`${base}/openapi.json`)).body as {
        paths: Record<string, { post: { requestBody: { content: Record<string, { schema: object }> } } }>;
      };
      return new Ajv({ strict: false }).compile(doc.paths[`/solve/${kind}`].post.requestBody.content['application/json'].schema);
    };
    const grid = Array.from({ length: 9 }, (_, r) => Array.from(PUZZLE.slice(r * 9, r * 9 + 9), (ch) => (ch === '.' ? 0 : Number(ch))));
    const sudokus: unknown[] = [
      PUZZLE,
      PUZZLE.replace(/(.{9})/g, '$1\n'),
      ` ${PUZZLE} `,
      PUZZLE.replace(/\./g, '0'),
      PUZZLE.slice(1),
      `${PUZZLE}1`,
      `x${PUZZLE.slice(1)}`,
      PUZZLE.replace('5', 'a'),
      '',
      grid,
      grid.slice(1),
      [...grid, grid[0]],
      grid.map((r, i) => (i === 3 ? [...r, 0] : r)),
      grid.map((r, i) => (i === 0 ? r.map(() => 10) : r)),
      grid.map((r, i) => (i === 0 ? r.map(() => -1) : r)),
      grid.map((r) => r.map(() => 1.5)),
      42,
      null,
    ];
    // Squareness, and one S and one G over the rows of the array form, are stated in the
    // descriptions only (JSON Schema cannot count across array items): not fuzzed here.
    const mazes: unknown[] = [
      MAZE,
      MAZE.join('\n'),
      MAZE.join('\r\n'),
      MAZE.join(''),
      MAZE.map((r) => r.replace(' ', 'x')),
      MAZE.join('\n').replace('S', ' '),
      MAZE.join('\n').replace('G', 'S'),
      MAZE.join('\n').replace('#S', 'SS'),
      MAZE.join('\n').replace('G', 'o'),
      MAZE.join('\n').replace('S', 'G'),
      MAZE.join('\n').replace(' ', '\t'),
      [],
      '',
    ];
    for (const [base, kind, field, bodies] of [
      [sudokuUrl, 'sudoku', 'puzzle', sudokus],
      [mazeUrl, 'maze', 'maze', mazes],
    ] as const) {
      const validate = await schemaOf(base, kind);
      for (const value of bodies) {
        const body = { [field]: value };
        const status = (await post(`${base}/solve/${kind}`, body)).status;
        expect({ body, schema: validate(body), server: status === 200 }).toEqual({ body, schema: status === 200, server: status === 200 });
      }
    }
  });
});

describe('GET /health and /openapi.json', () => {
  test('/health reports the kind, the model, the limits and the load', async () => {
    const solver = Object.assign(new FakeSolver('maze'), {
      earlyHalt: true,
      stats: { runs: 3, rows: 7, largestBatch: 4 },
      config: TRM.create('sudoku-mlp', { hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1 }).config,
    });
    const { url } = await start({ solver, maxConcurrent: 5, requestTimeoutMs: 1234, bodyLimit: 4096, maxGrid: 20 });
    const h = await get(`${url}/health`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: 'ok',
      kind: 'maze',
      inFlight: 0,
      earlyHalt: true,
      limits: { maxConcurrent: 5, requestTimeoutMs: 1234, bodyLimit: 4096, maxGrid: 20 },
      model: { seqLen: 81, vocabSize: 11, hiddenSize: 32, haltMaxSteps: 16 },
      batching: { runs: 3, rows: 7, largestBatch: 4 },
    });
  });

  test('/openapi.json documents the solve route with its schemas, and /health', async () => {
    const { url } = await start({ solver: new FakeSolver('arc') });
    const doc = (await get(`${url}/openapi.json`)).body as {
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(['/examples', '/health', '/solve/arc']);
    const op = doc.paths['/solve/arc'].post as {
      requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
      responses: Record<string, unknown>;
    };
    expect(Object.keys(op.requestBody.content['application/json'].schema.properties).sort()).toEqual([
      'input',
      'recordSteps',
      'taskId',
      'train',
    ]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '4XX', '5XX']));
  });

  test('the page is served at / with its script and style', async () => {
    const { url } = await start({ solver: new FakeSolver('sudoku') });
    for (const [p, type] of [
      ['/', 'text/html'],
      ['/app.js', 'text/javascript'],
      ['/style.css', 'text/css'],
    ]) {
      const res = await fetch(url + p);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect((await res.text()).length).toBeGreaterThan(100);
    }
  });
});

describe('graceful close', () => {
  test('close() stops accepting, answers the solve in flight, then disposes the solver', async () => {
    const solver = new FakeSolver('sudoku');
    const app = createServer({ solver });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    solver.closeGate();
    const inFlight = post(`${url}/solve/sudoku`, { puzzle: PUZZLE });
    await until(() => solver.calls === 1, 'the solve to start');
    let closed = false;
    const closing = app.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    expect(solver.disposed).toBe(false);
    await expect(fetch(`${url}/health`)).rejects.toThrow(); // no longer accepting connections
    solver.openGate();
    const a = await inFlight;
    expect(a.status).toBe(200);
    await closing;
    expect(solver.events).toEqual(['solved', 'disposed']);
  });
});

describe('with a real Solver (tiny untrained model)', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-service-'));
    file = path.join(dir, 'tiny-sudoku.safetensors');
    const model = TRM.create('sudoku-mlp', { hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1, haltMaxSteps: 3 });
    await model.save(file);
    model.dispose();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('concurrent requests are all answered with per-step traces; bad puzzles are 400; close disposes it', async () => {
    const solver = await Solver.load(file, { maxWaitMs: 5 });
    const app = createServer({ solver });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => post(`${url}/solve/sudoku`, { puzzle: PUZZLE, recordSteps: true })),
      );
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.body).toMatchObject({ kind: 'sudoku', steps: 3 });
        expect(a.body.text).toMatch(/^[1-9.]{81}$/);
        // An untrained model's answer breaks a rule: the check says so, and the confidence is 0
        // whatever the model's own estimate.
        expect(a.body).toMatchObject({ ruleChecked: true, valid: false, confidence: 0 });
        expect(typeof a.body.reason).toBe('string');
        expect(a.body.modelConfidence).toBeGreaterThan(0);
        expect(a.body.modelConfidence).toBeLessThan(1);
        expect(a.body.trace).toHaveLength(3);
      }
      expect(solver.stats.largestBatch).toBeGreaterThan(1);
      const twice = `55${PUZZLE.slice(2)}`;
      expectError(await post(`${url}/solve/sudoku`, { puzzle: twice }), 400, ErrorCodes.INVALID_ARGUMENT, /twice/);
      const h = await get(`${url}/health`);
      expect(h.body).toMatchObject({ kind: 'sudoku', model: { arch: 'trm', haltMaxSteps: 3 }, earlyHalt: false });
      expect(h.body.card).toBeUndefined();
      const ex = await get(`${url}/examples`);
      expect(ex.body).toEqual({ source: expect.stringMatching(/^none: the checkpoint has no model card/), items: [] });
    } finally {
      await app.close();
    }
    await expect(solver.solve(PUZZLE)).rejects.toMatchObject({ code: ErrorCodes.DISPOSED });
  });

  test("a model card: its inference settings are the solver's defaults, /health shows it, /examples are generated at its difficulty", async () => {
    const card: ModelCard = {
      trainedOn: '9×9 Sudokus with 20 to 30 blanks',
      sudokuBlanks: { min: 20, max: 30 },
      inference: { haltMaxSteps: 5, earlyHalt: true },
      scores: [{ blanks: 30, count: 10, exactAccuracy: 0.5, meanSteps: 4.5 }],
    };
    const carded = path.join(dir, 'carded.safetensors');
    const model = TRM.create('sudoku-mlp', { hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1, haltMaxSteps: 3 });
    await model.save(carded, { card });
    model.dispose();
    expect(await readModelCard(carded)).toEqual(card);
    expect(await readModelCard(file)).toBeUndefined();

    const solver = await Solver.load(carded);
    expect(solver.card).toEqual(card);
    expect(solver.config.haltMaxSteps).toBe(5); // the card's, over the checkpoint's 3
    expect(solver.earlyHalt).toBe(true);
    const own = await Solver.load(carded, { haltMaxSteps: 2, earlyHalt: false });
    expect([own.config.haltMaxSteps, own.earlyHalt]).toEqual([2, false]); // explicit options win
    own.dispose();

    const { url } = await start({ solver });
    const h = await get(`${url}/health`);
    expect(h.body).toMatchObject({ earlyHalt: true, model: { haltMaxSteps: 5 }, card });
    const ex = await get(`${url}/examples`);
    expect(ex.body.source).toMatch(/generated like the training puzzles: 20 to 30 blanks/);
    const items = ex.body.items as string[];
    expect(items.length).toBeGreaterThan(1);
    const blanks = items.map((p) => [...p].filter((c) => c === '.').length);
    expect(Math.min(...blanks)).toBe(20);
    expect(Math.max(...blanks)).toBe(30);
    for (const p of items)
      expect(
        solveSudoku(
          Uint8Array.from(p, (c) => (c === '.' ? 0 : Number(c))),
          { limit: 2 },
        ).solutions,
      ).toBe(1);
    const api = await get(`${url}/openapi.json`);
    expect(JSON.stringify(api.body)).toMatch(/trained on 9×9 Sudokus with 20 to 30 blanks/);
    expect(JSON.stringify(api.body)).toMatch(/q_halt is the logit of the model's halting head/);
  });

  test("examples from a dataset's test split", async () => {
    const data = path.join(dir, 'data');
    const test = await generateSudoku({ count: 3, seed: 1, blanks: 25 });
    await buildSudokuFromPuzzles({ outputDir: data, train: test, test, numAug: 0 });
    const ex = examplesFromDataset('sudoku', data);
    expect(ex).toEqual({ source: `the test split of ${data}`, items: test.map((p) => p.question) });
  });

  test('a card that is not one is refused when saving, naming the field', async () => {
    const model = TRM.create('sudoku-mlp', { hiddenSize: 32, numHeads: 2, hCycles: 1, lCycles: 1, lLayers: 1 });
    try {
      await expect(
        model.save(path.join(dir, 'bad.safetensors'), { card: { trainedOn: 'x', sudokuBlanks: { min: 40, max: 30 } } }),
      ).rejects.toMatchObject({
        code: ErrorCodes.CHECKPOINT_FORMAT,
        message: expect.stringMatching(/sudokuBlanks must be/),
      });
      await expect(model.save(path.join(dir, 'bad'), { format: 'official', card: { trainedOn: 'x' } })).rejects.toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
      });
    } finally {
      model.dispose();
    }
  });
});
