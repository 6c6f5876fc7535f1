// Checkpoints: the official torch.save layout in both directions (checked with Python's torch),
// our safetensors format, the resize-to-mean rule (docs/algorithm.md §7.3), and every way a file can be wrong.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import YAML from 'yaml';
import { TRM, readNpy, toFloat32, type Tensor } from '../lib';
import { archSection } from '../lib/all-config';
import { TINY, expectCode, tinyBatch } from './helpers/tiny';
import { python } from './helpers/python';
import { native } from '../lib/native';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-ckpt-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function values(t: Tensor): number[] {
  return Array.from(toFloat32(t));
}

/** Writes all_config.yaml for TINY-like configs the way the official trainer lays it out. */
function writeConfig(dir: string, model: TRM): void {
  const cfg = model.config;
  fs.writeFileSync(
    path.join(dir, 'all_config.yaml'),
    YAML.stringify({
      arch: archSection(cfg),
      data_paths: ['data'],
      global_batch_size: 4,
    }),
  );
  fs.mkdirSync(path.join(dir, 'data', 'train'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'data', 'train', 'dataset.json'),
    JSON.stringify({
      seq_len: cfg.seqLen,
      vocab_size: cfg.vocabSize,
      num_puzzle_identifiers: cfg.numPuzzleIdentifiers,
      pad_id: 0,
      ignore_label_id: 0,
      blank_identifier_id: 0,
      total_groups: 1,
      mean_puzzle_examples: 1,
      total_puzzles: 1,
      sets: ['all'],
    }),
  );
}

describe('official layout', () => {
  it('exports step files that Python torch.load reads with the official key prefix and identical tensors', async () => {
    const m = TRM.create(TINY, { forwardDtype: 'bfloat16' }, { seed: 5 });
    try {
      const dir = path.join(tmp, 'export');
      fs.mkdirSync(dir);
      await m.save(path.join(dir, 'step_7'), { format: 'official' });
      const out = python(
        `import sys, json, torch
sd = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
print(json.dumps({'type': type(sd).__name__, 'keys': list(sd.keys()), 'dtypes': [str(v.dtype) for v in sd.values()],
  'sums': [float(v.double().sum()) for v in sd.values()]}))`,
        [path.join(dir, 'step_7')],
      );
      const r = JSON.parse(out);
      expect(r.type).toBe('OrderedDict');
      const sd = m.stateDict();
      expect(r.keys).toEqual(sd.map((e) => `_orig_mod.model.inner.${e.name}`));
      expect(r.dtypes[0]).toBe('torch.bfloat16');
      sd.forEach((e, i) => {
        const sum = values(m.getTensor(e.name)).reduce((a, b) => a + b, 0);
        expect(r.sums[i]).toBeCloseTo(sum, 3);
      });
      // And it loads back (all_config.yaml was written beside it).
      const back = await TRM.load(path.join(dir, 'step_7'), { forwardDtype: 'bfloat16' });
      try {
        for (const e of sd) expect(values(back.getTensor(e.name))).toEqual(values(m.getTensor(e.name)));
      } finally {
        back.dispose();
      }
    } finally {
      m.dispose();
    }
  });

  it('loads a torch.save OrderedDict written by Python (model. prefix, bf16 inits, resize-to-mean puzzle table)', async () => {
    const m = TRM.create(TINY);
    const dir = path.join(tmp, 'from-python');
    fs.mkdirSync(dir);
    writeConfig(dir, m);
    const spec = m.stateDict().map((e) => [e.name, e.shape]);
    m.dispose();
    python(
      `import sys, json, collections, torch, numpy as np
spec = json.loads(sys.argv[1]); out = sys.argv[2]
g = torch.Generator().manual_seed(0)
sd = collections.OrderedDict()
for name, shape in spec:
    if name == 'puzzle_emb.weights':
        shape = [9, shape[1]]   # another table size: must become its row mean
    t = torch.randn(*shape, generator=g)
    if name.endswith('_init'):
        t = t.to(torch.bfloat16)
    sd['model.inner.' + name] = t
    np.save(out + '/' + name + '.npy', t.float().numpy() if name != 'puzzle_emb.weights' else t.mean(0, keepdim=True).expand(5, -1).numpy())
torch.save(sd, out + '/step_100')`,
      [JSON.stringify(spec), dir],
    );
    const loaded = await TRM.load(path.join(dir, 'step_100'));
    try {
      for (const [name] of spec) {
        const expected = Array.from(readNpy(path.join(dir, `${name}.npy`)).data as Float32Array);
        const got = values(loaded.getTensor(name as string));
        expect(got.length).toBe(expected.length);
        got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-6));
      }
    } finally {
      loaded.dispose();
    }
  });

  it('rejects missing, unexpected and mis-shaped keys with ERR_TRM_CHECKPOINT_KEY', async () => {
    const m = TRM.create(TINY);
    const spec = m.stateDict().map((e) => [e.name, e.shape]);
    const cases: Record<string, string> = {
      missing: "del sd['model.inner.lm_head.weight']",
      unexpected: "sd['model.inner.extra.weight'] = torch.zeros(3)",
      shape: "sd['model.inner.lm_head.weight'] = torch.zeros(3, 3)",
    };
    try {
      for (const [name, edit] of Object.entries(cases)) {
        const dir = path.join(tmp, `bad-${name}`);
        fs.mkdirSync(dir);
        writeConfig(dir, m);
        python(
          `import sys, json, collections, torch
sd = collections.OrderedDict(('model.inner.' + n, torch.zeros(*s)) for n, s in json.loads(sys.argv[1]))
${edit}
torch.save(sd, sys.argv[2])`,
          [JSON.stringify(spec), path.join(dir, 'step_1')],
        );
        await expectCode(TRM.load(path.join(dir, 'step_1')), 'ERR_TRM_CHECKPOINT_KEY');
        await expectCode(m.loadState(path.join(dir, 'step_1')), 'ERR_TRM_CHECKPOINT_KEY');
      }
    } finally {
      m.dispose();
    }
  });
});

describe('HRM checkpoints (docs/algorithm.md §9.1)', () => {
  it('loads with the architecture from an HRM all_config.yaml (data_path, no no_ACT_continue, 1 prefix token)', async () => {
    const hrm = { ...TINY, arch: 'hrm' as const, hLayers: 1, lLayers: 1, puzzleEmbLen: 0, noACTContinue: false };
    const m = TRM.create(hrm, {}, { seed: 2 });
    const dir = path.join(tmp, 'hrm');
    fs.mkdirSync(path.join(dir, 'data', 'train'), { recursive: true });
    try {
      await m.save(path.join(dir, 'step_3'), { format: 'official' });
      // Replace our all_config.yaml by one shaped like sapientinc/HRM's.
      fs.writeFileSync(
        path.join(dir, 'all_config.yaml'),
        YAML.stringify({
          arch: {
            name: 'hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1',
            loss: { name: 'losses@ACTLossHead', loss_type: 'stablemax_cross_entropy' },
            H_cycles: 2,
            L_cycles: 2,
            H_layers: 1,
            L_layers: 1,
            hidden_size: 32,
            expansion: 4,
            num_heads: 2,
            pos_encodings: 'rope',
            halt_max_steps: 16,
            halt_exploration_prob: 0.1,
            puzzle_emb_ndim: 32,
            forward_dtype: 'bfloat16',
          },
          data_path: 'data',
          global_batch_size: 4,
        }),
      );
      fs.writeFileSync(
        path.join(dir, 'data', 'train', 'dataset.json'),
        JSON.stringify({ seq_len: 12, vocab_size: 7, num_puzzle_identifiers: 5 }),
      );
      const back = await TRM.load(path.join(dir, 'step_3'), { forwardDtype: 'float32' });
      try {
        expect(back.config.arch).toBe('hrm');
        expect(back.config.noACTContinue).toBe(false);
        expect(back.config.forwardDtype).toBe('float32');
        expect(back.stateDict().map((e) => e.name)).toEqual(m.stateDict().map((e) => e.name));
        expect(back.stateDict().some((e) => e.name === 'H_level.layers.0.self_attn.qkv_proj.weight')).toBe(true);
        const batch = tinyBatch(TINY, 2);
        const a = await m.run(batch);
        const b = await back.run(batch);
        expect(values(b.logits!)).toEqual(values(a.logits!));
      } finally {
        back.dispose();
      }
    } finally {
      m.dispose();
    }
  });
});

describe('safetensors + config (our format)', () => {
  it('round-trips the model: same tensors, same config, same outputs', async () => {
    const m = TRM.create(TINY, { posEncodings: 'learned' }, { seed: 9 });
    const file = path.join(tmp, 'model.safetensors');
    try {
      await m.save(file);
      // The device picks the dtype of a loaded model (forward-dtype.ts; bf16 on some CPUs): ask for the saved one.
      const back = await TRM.load(file, { forwardDtype: m.config.forwardDtype });
      try {
        expect(back.config).toEqual(m.config);
        const batch = tinyBatch(TINY, 2);
        const a = await m.run(batch);
        const b = await back.run(batch);
        expect(values(b.logits!)).toEqual(values(a.logits!));
        expect(b.loss).toBe(a.loss);
      } finally {
        back.dispose();
      }
    } finally {
      m.dispose();
    }
  });
});

describe('broken files', () => {
  it('reports truncated, garbage and missing files with codes, never crashing', async () => {
    const m = TRM.create(TINY);
    try {
      const good = path.join(tmp, 'good.safetensors');
      await m.save(good);
      const bytes = fs.readFileSync(good);
      for (const cut of [0, 7, 8, 100, bytes.length - 1]) {
        const f = path.join(tmp, `cut-${cut}.safetensors`);
        fs.writeFileSync(f, bytes.subarray(0, cut));
        await expectCode(m.loadState(f), 'ERR_TRM_CHECKPOINT_FORMAT');
      }
      const step = path.join(tmp, 'official-cut');
      fs.mkdirSync(step);
      await m.save(path.join(step, 'step_1'), { format: 'official' });
      const zip = fs.readFileSync(path.join(step, 'step_1'));
      for (const cut of [4, 100, Math.floor(zip.length / 2), zip.length - 10]) {
        fs.writeFileSync(path.join(step, 'step_1'), zip.subarray(0, cut));
        await expectCode(m.loadState(path.join(step, 'step_1')), 'ERR_TRM_CHECKPOINT_FORMAT');
      }
      await expectCode(m.loadState(path.join(tmp, 'does-not-exist')), 'ERR_TRM_IO');
      await expectCode(TRM.load(path.join(tmp, 'does-not-exist')), 'ERR_TRM_IO');
    } finally {
      m.dispose();
    }
  });
});

describe('safetensors headers (untrusted JSON, read with nlohmann/json)', () => {
  /** A safetensors file from a header text and a data buffer. */
  const file = (name: string, header: string | Buffer, data = Buffer.alloc(4)): string => {
    const h = Buffer.isBuffer(header) ? header : Buffer.from(header, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    const f = path.join(tmp, `${name}.safetensors`);
    fs.writeFileSync(f, Buffer.concat([len, h, data]));
    return f;
  };
  const refused = async (f: string, message: RegExp) =>
    expect(native().readCheckpointIndex(f)).rejects.toMatchObject({
      code: 'ERR_TRM_CHECKPOINT_FORMAT',
      message: expect.stringMatching(message),
    });
  const t = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';

  it('reads a well-formed header and refuses each kind of malformed one with a message saying what is wrong', async () => {
    expect((await native().readCheckpointIndex(file('ok', `{"a":${t}}`))).tensors).toEqual([{ name: 'a', dtype: 'float32', shape: [1] }]);
    await refused(file('dup', `{"a":${t},"a":${t}}`), /key 'a' appears twice in one object/);
    await refused(file('dup-meta', `{"__metadata__":{"k":"1","k":"2"},"a":${t}}`), /key 'k' appears twice/);
    await refused(file('deep', `{"a":${t},"x":${'['.repeat(200)}${']'.repeat(200)}}`), /nesting deeper than 64 levels/);
    await refused(file('trailing', `{"a":${t}} x`), /header is not valid JSON: .*\(byte \d+\)/);
    await refused(file('nan', `{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}}`), /header is not valid JSON/);
    // {"a<0xff>": ...}: a key that is not UTF-8.
    await refused(
      file('utf8', Buffer.concat([Buffer.from([0x7b, 0x22, 0x61, 0xff, 0x22, 0x3a]), Buffer.from(`${t}}`)])),
      /header is not valid JSON/,
    );
    await refused(
      file('fraction', `{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}`),
      /shape holds '1\.0', expected non-negative integers/,
    );
    await refused(
      file('huge', `{"a":{"dtype":"F32","shape":[1e30],"data_offsets":[0,4]}}`),
      /shape holds .*expected non-negative integers/,
    );
    await refused(
      file('negative', `{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`),
      /data_offsets must be \[begin, end\] with non-negative integers/,
    );
    await refused(file('meta-number', `{"__metadata__":{"k":1},"a":${t}}`), /'__metadata__' value of 'k' is a number, expected a string/);
    await refused(file('lacks', `{"a":{"dtype":"F32","shape":[1]}}`), /tensor 'a' lacks dtype, shape or data_offsets/);
  });

  it('writes metadata with quotes, backslashes, control characters and non-ASCII text that read back unchanged', async () => {
    const m = TRM.create(TINY);
    try {
      const f = path.join(tmp, 'meta.safetensors');
      const metadata = { 'k"\\': 'line\n"quoted" \\ \u0001 é ✓', plain: 'x' };
      await m.nativeHandle().saveSafetensors(f, metadata);
      expect((await native().readCheckpointIndex(f)).metadata).toEqual(metadata);
    } finally {
      m.dispose();
    }
  });
});
