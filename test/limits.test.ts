// Limits and clean failure: a thread count, a config, a special file or a malformed argument ends in
// a TrmError that names it, never an abort, a hang or an unbounded allocation.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import YAML from 'yaml';
import { TRM, Trainer, buildInfo, maxThreads, setNumThreads, type ModelConfig, type Tensor } from '../lib';
import { readDataset } from '../lib/data/format';
import { writeSuccessorTask } from './helpers/synthetic';
import { readAllConfig } from '../lib/all-config';
import { editSafetensorsHeader } from './helpers/safetensors-edit';
import { TINY, expectCode, tinyBatch } from './helpers/tiny';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-limits-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const root = path.join(__dirname, '..');
const tsNode = require.resolve('ts-node/dist/bin.js');
const trm = path.join(root, 'bin', 'trm.js');

/** Runs the CLI from source; returns its exit status and stderr. */
function cli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [trm, ...args], {
    env: { ...process.env, TRM_CLI_FROM_SOURCE: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stderr: r.stderr };
}

/** A safetensors model file of TINY, saved once. */
let goodFile: string;
beforeAll(async () => {
  goodFile = path.join(tmp, 'good.safetensors');
  const m = TRM.create(TINY, {}, { seed: 1 });
  await m.save(goodFile);
  m.dispose();
});

describe('thread counts', () => {
  test('setNumThreads takes 1 to 4 × cores; more is a TrmError, not an abort at the next parallel operation', () => {
    expect(maxThreads()).toBe(4 * os.availableParallelism());
    for (const n of [100000, maxThreads() + 1, 0, -1, 1.5, NaN]) {
      expect(() => setNumThreads(n)).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_INVALID_ARGUMENT', message: expect.stringMatching(/from 1 to/) }),
      );
    }
    const before = buildInfo().numThreads;
    setNumThreads(maxThreads());
    expect(buildInfo().numThreads).toBe(maxThreads());
    setNumThreads(before);
  });

  test('trm serve --threads 100000 exits 1 with a one-line error', () => {
    const r = cli(['serve', '--checkpoint', goodFile, '--threads', '100000', '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error \[ERR_TRM_INVALID_ARGUMENT\]: setNumThreads: n must be an integer from 1 to \d+/),
    ]);
  });
});

describe('config limits: refused before anything is allocated', () => {
  test('cycles, layers and steps past the documented maxima are ERR_TRM_CONFIG naming the key', async () => {
    const cases: [Partial<ModelConfig>, RegExp][] = [
      [{ hCycles: 1e9 }, /H_cycles is 1000000000; the most this build accepts is 256/],
      [{ lCycles: 257 }, /L_cycles is 257/],
      [{ lLayers: 257 }, /L_layers is 257/],
      [{ haltMaxSteps: 1025 }, /halt_max_steps is 1025/],
      [{ seqLen: 65537 }, /seq_len is 65537/],
      [{ hiddenSize: 16400, numHeads: 2 }, /hidden_size is 16400/],
    ];
    for (const [over, message] of cases) {
      expect(() => TRM.create({ ...TINY, ...over })).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_CONFIG', message: expect.stringMatching(message) }),
      );
      await expect(TRM.createAsync({ ...TINY, ...over })).rejects.toMatchObject({ code: 'ERR_TRM_CONFIG' });
    }
  });

  test('a config over the value budget (2^31 values) is refused with the estimate, not an out-of-memory', () => {
    // 2 x vocab x hidden = 2^35 values for the token embedding and head alone.
    expect(() => TRM.create({ ...TINY, vocabSize: 1 << 20, hiddenSize: 16384, numHeads: 2, puzzleEmbNdim: 0 })).toThrow(
      expect.objectContaining({
        code: 'ERR_TRM_CONFIG',
        message: expect.stringMatching(/would need about \d+ M values, more than the 2147 M limit/),
      }),
    );
  });

  test('numbers a double cannot hold as an integer are refused in TypeScript, before the addon casts them', () => {
    expect(() => TRM.create({ ...TINY, lLayers: 1e300 })).toThrow(
      expect.objectContaining({ code: 'ERR_TRM_CONFIG', message: expect.stringMatching(/lLayers must be a non-negative integer/) }),
    );
  });

  test('an all_config.yaml asking for more layers than the checkpoint holds is refused before the model is built', async () => {
    const dir = path.join(tmp, 'official');
    fs.mkdirSync(dir);
    const m = TRM.create(TINY, {}, { seed: 2 });
    await m.save(path.join(dir, 'step_1'), { format: 'official' });
    m.dispose();
    const cfgFile = path.join(dir, 'all_config.yaml');
    const doc = YAML.parse(fs.readFileSync(cfgFile, 'utf8'));
    doc.arch.L_layers = 200;
    doc.arch.hidden_size = 64;
    fs.writeFileSync(cfgFile, YAML.stringify(doc));
    await expect(TRM.load(path.join(dir, 'step_1'))).rejects.toMatchObject({
      code: 'ERR_TRM_CHECKPOINT_KEY',
      message: expect.stringMatching(
        /all_config\.yaml does not match .*step_1: hidden_size is 64 but the checkpoint holds 32; L_layers is 200 but the checkpoint holds 2 \(nothing was allocated/,
      ),
    });
  });

  test('so is a safetensors trm_config that disagrees with its own tensors', async () => {
    const file = path.join(tmp, 'layers.safetensors');
    editSafetensorsHeader(
      goodFile,
      (h) => {
        const cfg = JSON.parse(h.__metadata__.trm_config);
        h.__metadata__.trm_config = JSON.stringify({ ...cfg, L_layers: 100 });
      },
      file,
    );
    await expect(TRM.load(file)).rejects.toMatchObject({
      code: 'ERR_TRM_CHECKPOINT_KEY',
      message: expect.stringMatching(/L_layers is 100 but the checkpoint holds 2/),
    });
    // strict: false loads what matches, so it is not refused (the limits still hold).
    const loose = await TRM.load(file, { strict: false });
    expect(loose.config.lLayers).toBe(100);
    loose.dispose();
  });
});

describe('special files: refused at once, never read', () => {
  test('FIFOs, /dev/zero and directories are ERR_TRM_IO naming what the path is, in every reader', () => {
    const dir = path.join(tmp, 'special');
    fs.mkdirSync(dir);
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    const r = spawnSync(process.execPath, [tsNode, '-T', path.join(__dirname, 'helpers', 'special-files.ts'), dir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect({ signal: r.signal, status: r.status }).toEqual({ signal: null, status: 0 }); // a hang is killed by the timeout: SIGTERM
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, { name: string; code?: string; message: string }>;
    const kinds: Record<string, RegExp> = { FIFO: /a FIFO/, zero: /a character device/, etc: /a directory/ };
    expect(Object.keys(out)).toHaveLength(10);
    for (const [name, e] of Object.entries(out)) {
      expect({ name, err: e.name, code: e.code }).toEqual({ name, err: 'TrmError', code: 'ERR_TRM_IO' });
      const kind = name.includes('FIFO') ? kinds.FIFO : name.includes('zero') ? kinds.zero : kinds.etc;
      expect(e.message).toMatch(kind);
      expect(e.message).toMatch(/expected a regular file/);
    }
  }, 90_000);
});

describe('errors that used to escape as other classes', () => {
  test('a safetensors trm_config that is not JSON, or is null, is ERR_TRM_CHECKPOINT_FORMAT naming the metadata', async () => {
    const notJson = path.join(tmp, 'notjson.safetensors');
    editSafetensorsHeader(goodFile, (h) => (h.__metadata__.trm_config = '{"arch": "trm",'), notJson);
    await expect(TRM.load(notJson)).rejects.toMatchObject({
      name: 'TrmError',
      code: 'ERR_TRM_CHECKPOINT_FORMAT',
      message: expect.stringMatching(/trm_config' metadata of .*notjson\.safetensors is not valid JSON/),
    });
    const isNull = path.join(tmp, 'null.safetensors');
    editSafetensorsHeader(goodFile, (h) => (h.__metadata__.trm_config = 'null'), isNull);
    await expect(TRM.load(isNull)).rejects.toMatchObject({
      name: 'TrmError',
      code: 'ERR_TRM_CHECKPOINT_FORMAT',
      message: expect.stringMatching(/must be a JSON object, found null/),
    });
    const badValue = path.join(tmp, 'badvalue.safetensors');
    editSafetensorsHeader(
      goodFile,
      (h) => (h.__metadata__.trm_config = JSON.stringify({ ...JSON.parse(h.__metadata__.trm_config), hidden_size: 'big' })),
      badValue,
    );
    await expect(TRM.load(badValue)).rejects.toMatchObject({
      name: 'TrmError',
      code: 'ERR_TRM_CONFIG',
      message: expect.stringMatching(/^the 'trm_config' metadata of .*: config\.hiddenSize must be/),
    });
  });

  test('the CLI prints a TrmError as one line, without a stack trace', () => {
    const notJson = path.join(tmp, 'notjson-cli.safetensors');
    editSafetensorsHeader(goodFile, (h) => (h.__metadata__.trm_config = 'not json'), notJson);
    const r = cli(['inspect', notJson]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error \[ERR_TRM_CHECKPOINT_FORMAT\]: .* is not valid JSON/)]);
  });

  test('YAML syntax errors and alias bombs in all_config.yaml are ERR_TRM_CONFIG', () => {
    const bad = path.join(tmp, 'syntax.yaml');
    fs.writeFileSync(bad, 'arch: {name: [unclosed\n');
    expect(() => readAllConfig(bad)).toThrow(expect.objectContaining({ name: 'TrmError', code: 'ERR_TRM_CONFIG' }));
    const bomb = path.join(tmp, 'bomb.yaml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    fs.writeFileSync(bomb, levels.join('\n') + '\n');
    expect(() => readAllConfig(bomb)).toThrow(
      expect.objectContaining({ name: 'TrmError', code: 'ERR_TRM_CONFIG', message: expect.stringMatching(/not valid YAML/) }),
    );
  });

  test('run(batch, null) and step(carry, batch, null) are ERR_TRM_INVALID_ARGUMENT', async () => {
    const m = TRM.create(TINY, {}, { seed: 3 });
    try {
      const b = tinyBatch(TINY, 2);
      await expectCode(m.run(b, null as never), 'ERR_TRM_INVALID_ARGUMENT');
      await expectCode(m.run(b, [] as never), 'ERR_TRM_INVALID_ARGUMENT');
      await expectCode(m.step(m.initialCarry(2), b, null as never), 'ERR_TRM_INVALID_ARGUMENT');
      await expectCode(m.step({} as never, b), 'ERR_TRM_INVALID_ARGUMENT');
    } finally {
      m.dispose();
    }
  });

  test('tensor data in a SharedArrayBuffer is read like any other', async () => {
    const m = TRM.create(TINY, {}, { seed: 4 });
    try {
      const shared = new Float32Array(new SharedArrayBuffer(32 * 4)).map((_, i) => i / 8);
      m.setTensor('H_init', { dtype: 'float32', shape: [32], data: shared } as Tensor);
      expect(Array.from(m.getTensor('H_init').data as Float32Array)).toEqual(Array.from(shared));
      const b = tinyBatch(TINY, 2);
      const inputs = new Int32Array(new SharedArrayBuffer(b.inputs.data.byteLength));
      inputs.set(b.inputs.data as Int32Array);
      const shared1 = await m.run({ ...b, inputs: { dtype: 'int32', shape: b.inputs.shape, data: inputs } });
      const plain = await m.run(b);
      expect(Array.from(shared1.preds.data)).toEqual(Array.from(plain.preds.data));
    } finally {
      m.dispose();
    }
  });
});

describe('bad numbers and data are refused, not absorbed', () => {
  test('backward(NaN) and backward(Infinity) are ERR_TRM_INVALID_ARGUMENT and leave the gradients untouched', async () => {
    const m = TRM.create(TINY, {}, { seed: 5 }).train();
    try {
      await m.step(m.initialCarry(2), tinyBatch(TINY, 2));
      for (const scale of [NaN, Infinity, -Infinity]) await expectCode(m.backward(scale), 'ERR_TRM_INVALID_ARGUMENT');
      await m.backward(1);
      for (const [name, g] of Object.entries(m.gradients())) {
        expect({ name, finite: Array.from(g.data as Float32Array).every(Number.isFinite) }).toEqual({ name, finite: true });
      }
    } finally {
      m.dispose();
    }
  });

  test('a checkpoint holding NaN or infinity is refused naming the tensor, unless allowNonFinite', async () => {
    const m = TRM.create(TINY, {}, { seed: 6 });
    const w = m.getTensor('lm_head.weight');
    const data = Float32Array.from(w.data as Float32Array);
    data[3] = NaN;
    data[7] = Infinity;
    m.setTensor('lm_head.weight', { ...w, data });
    const file = path.join(tmp, 'nan.safetensors');
    await m.save(file);
    m.dispose();
    await expect(TRM.load(file)).rejects.toMatchObject({
      code: 'ERR_TRM_CHECKPOINT_FORMAT',
      message: expect.stringMatching(/NaN or infinite values[\s\S]*lm_head\.weight \(2 of 224 values\)[\s\S]*allowNonFinite/),
    });
    const loaded = await TRM.load(file, { allowNonFinite: true });
    expect(Number.isNaN((loaded.getTensor('lm_head.weight').data as Float32Array)[3])).toBe(true);
    loaded.dispose();
  });

  test('a safetensors tensor whose dtype was changed from F32 to I32 (same bytes) is ERR_TRM_DTYPE', async () => {
    const file = path.join(tmp, 'i32.safetensors');
    editSafetensorsHeader(goodFile, (h) => (h['lm_head.weight'].dtype = 'I32'), file);
    await expect(TRM.load(file)).rejects.toMatchObject({
      code: 'ERR_TRM_DTYPE',
      message: expect.stringMatching(/lm_head\.weight: checkpoint Int, model Float/),
    });
  });

  test('a dataset.json total_groups that disagrees with the arrays is refused when the dataset is opened', async () => {
    const dir = writeSuccessorTask(path.join(tmp, 'counts'), { train: 16, test: 4, seqLen: 6, vocab: 5, seed: 2 });
    const meta = path.join(dir, 'train', 'dataset.json');
    const good = JSON.parse(fs.readFileSync(meta, 'utf8'));
    const model = {
      seqLen: 6,
      vocabSize: 5,
      numPuzzleIdentifiers: 1,
      hiddenSize: 16,
      numHeads: 2,
      hCycles: 1,
      lCycles: 1,
      lLayers: 1,
      puzzleEmbNdim: 0,
      haltMaxSteps: 2,
    };
    for (const [key, value, message] of [
      ['total_groups', good.total_groups + 1, /'total_groups' is 17 but the group_indices of its sets hold 16 groups/],
      ['total_groups', 1, /'total_groups' is 1 but the group_indices of its sets hold 16 groups/],
    ] as const) {
      fs.writeFileSync(meta, JSON.stringify({ ...good, [key]: value }));
      const m = TRM.create(model, {}, { seed: 1 });
      const trainer = new Trainer(m, { dataPaths: [dir], globalBatchSize: 4, epochs: 1, evaluators: [], evaluate: false });
      await expect(trainer.run()).rejects.toMatchObject({ code: 'ERR_TRM_DATA_FORMAT', message: expect.stringMatching(message) });
      expect(() => readDataset(dir, 'train')).toThrow(
        expect.objectContaining({ code: 'ERR_TRM_DATA_FORMAT', message: expect.stringMatching(key) }),
      );
      m.dispose();
    }
    fs.writeFileSync(meta, JSON.stringify(good));
  });
});
