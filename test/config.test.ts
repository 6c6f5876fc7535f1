// Model configs as the official code defines them: per-architecture defaults (the config classes
// and config/arch/*.yaml), all_config.yaml read and written by one parser (the official files of
// the parity fixtures, a round trip, bad files), and the native core taking every key it is given.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import YAML from 'yaml';
import {
  ARCHITECTURES,
  IGNORE_LABEL,
  OFFICIAL_KEYS,
  TRM,
  readAllConfig,
  resolveConfig,
  stablemaxCrossEntropy,
  toOfficial,
  writeAllConfig,
} from '../lib';
import { EVAL_METRIC_KEYS } from '../lib/eval/metrics';
import { parseArchSection } from '../lib/all-config';
import { native } from '../lib/native';
import { resolveTrainConfig } from '../lib/train-config';
import { nativeTrainOptions } from '../lib/trainer';
import { PARITY_DIR } from './helpers/parity';
import { TINY, expectCode, tinyBatch } from './helpers/tiny';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const SIZES = { seqLen: 12, vocabSize: 7, numPuzzleIdentifiers: 5 };
const configError = (f: () => unknown, mentions: RegExp) =>
  expect(f).toThrow(expect.objectContaining({ code: 'ERR_TRM_CONFIG', message: expect.stringMatching(mentions) }));

describe('architecture defaults (the official config classes and config/arch/*.yaml)', () => {
  it('HRM: hrm.yaml sizes, learns the continue target, prefix ceil(ndim / hidden)', () => {
    const c = resolveConfig({ arch: 'hrm', ...SIZES });
    expect(c).toMatchObject({
      hCycles: 2,
      lCycles: 2,
      hLayers: 4,
      lLayers: 4,
      hiddenSize: 512,
      numHeads: 8,
      puzzleEmbNdim: 512,
      noACTContinue: false,
      puzzleEmbLen: 0,
    });
    // hrm.py has neither key: whatever a config says, HRM behaves the one way it can.
    expect(resolveConfig({ arch: 'hrm', ...SIZES, noACTContinue: true, puzzleEmbLen: 16 })).toMatchObject({
      noACTContinue: false,
      puzzleEmbLen: 0,
    });
  });

  it('an HRM built from a plain config halts on q_halt > q_continue and trains the continue Q-value', async () => {
    const m = TRM.create({ ...TINY, arch: 'hrm', hLayers: 1, lLayers: 1 }, {}, { seed: 1 });
    try {
      m.train();
      const out = await m.step(m.initialCarry(4), tinyBatch(TINY, 4));
      expect(out.targetQContinue?.shape).toEqual([4]);
      expect(out.metrics.q_continue_loss).toBeGreaterThan(0);
    } finally {
      m.dispose();
    }
  });

  it('TRM variants: trm.yaml; transformers_baseline: transformers_baseline.yaml', () => {
    for (const arch of ['trm', 'trm_singlez', 'trm_hier6'] as const) {
      expect(resolveConfig({ arch, ...SIZES })).toMatchObject({
        hCycles: 3,
        lCycles: 6,
        hLayers: 0,
        lLayers: 2,
        puzzleEmbLen: 16,
        noACTContinue: true,
        puzzleEmbNdim: 512,
      });
    }
    expect(resolveConfig({ arch: 'transformers_baseline', ...SIZES })).toMatchObject({
      hCycles: 1,
      hLayers: 8,
      numHeads: 12,
      hiddenSize: 512,
      puzzleEmbNdim: 512,
      actEnabled: true,
      actInference: false,
    });
  });

  it('puzzleEmbNdim follows hiddenSize unless given (puzzle_emb_ndim: ${.hidden_size})', () => {
    expect(resolveConfig({ ...SIZES, hiddenSize: 64 }).puzzleEmbNdim).toBe(64);
    expect(resolveConfig({ ...SIZES, hiddenSize: 64, puzzleEmbNdim: 0 }).puzzleEmbNdim).toBe(0);
  });

  it('the native core has no defaults: every key must come from lib/config.ts', () => {
    const full = toOfficial(resolveConfig({ ...TINY }));
    const NativeModel = native().NativeModel as unknown as new (c: unknown, o: unknown) => { dispose(): void };
    new NativeModel(full, { seed: 0, device: 'cpu' }).dispose();
    for (const key of ['hidden_size', 'no_ACT_continue', 'forward_dtype', 'act_enabled']) {
      expect(() => new NativeModel({ ...full, [key]: undefined }, { seed: 0, device: 'cpu' })).toThrow(
        new RegExp(`config.${key} is missing`),
      );
    }
  });

  it('heads need not fill hiddenSize: head_dim = hidden // heads, as layers.Attention', () => {
    const m = TRM.create(TINY, { numHeads: 5 });
    try {
      const shape = (n: string) => m.stateDict().find((e) => e.name === n)!.shape;
      expect(shape('L_level.layers.0.self_attn.qkv_proj.weight')).toEqual([90, 32]);
      expect(shape('L_level.layers.0.self_attn.o_proj.weight')).toEqual([32, 30]);
    } finally {
      m.dispose();
    }
  });
});

const OFFICIAL_FILES = fs
  .readdirSync(PARITY_DIR)
  .filter((d) => fs.existsSync(path.join(PARITY_DIR, d, 'all_config.yaml')))
  .sort();

describe.each(OFFICIAL_FILES)('all_config.yaml written by the official trainer: %s', (name) => {
  const file = path.join(PARITY_DIR, name, 'all_config.yaml');
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'));

  it('gives the class of arch.name, the loss of arch.loss.loss_type and every key of the file', () => {
    const { model, train } = readAllConfig(file);
    const className = doc.arch.name as string;
    expect(ARCHITECTURES[model.arch!].className).toBe(className);
    expect(model.lossType).toBe(doc.arch.loss.loss_type);
    for (const key of ARCHITECTURES[model.arch!].keys) {
      const official = doc.arch[OFFICIAL_KEYS[key]];
      const want = official ?? ARCHITECTURES[model.arch!].classDefaults[key];
      expect({ key, value: model[key] }).toEqual({ key, value: want });
    }
    expect(train).toMatchObject({
      globalBatchSize: doc.global_batch_size,
      lr: doc.lr,
      puzzleEmbLr: doc.puzzle_emb_lr,
      dataPaths: doc.data_paths,
    });
  });

  it('round-trips: what we write reads back to the same config, with the same arch section', () => {
    const { model, train } = readAllConfig(file);
    const cfg = resolveConfig({ ...model, ...SIZES });
    const out = path.join(tmp, `${name}.yaml`);
    writeAllConfig(out, resolveTrainConfig(train), cfg);
    const back = readAllConfig(out);
    expect(resolveConfig({ ...back.model, ...SIZES })).toEqual(cfg);
    const written = YAML.parse(fs.readFileSync(out, 'utf8'));
    // Every key of the official file, same value; the rest are the class's defaults spelled out.
    for (const [k, v] of Object.entries(doc.arch)) expect({ k, v: written.arch[k] }).toEqual({ k, v });
    for (const k of ['lr', 'beta1', 'beta2', 'weight_decay', 'global_batch_size', 'puzzle_emb_lr', 'lr_warmup_steps'])
      expect({ k, v: written[k] }).toEqual({ k, v: doc[k] });
  });
});

describe('all_config.yaml parsing errors and class defaults', () => {
  const arch = {
    name: 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1',
    loss: { name: 'losses@ACTLossHead', loss_type: 'softmax_cross_entropy' },
    H_cycles: 2,
    L_cycles: 2,
    H_layers: 0,
    L_layers: 1,
    hidden_size: 32,
    expansion: 4,
    num_heads: 2,
    pos_encodings: 'rope',
    halt_max_steps: 4,
    halt_exploration_prob: 0.1,
  };

  it('fills what the class defaults (puzzle_emb_ndim 0, forward_dtype bfloat16) and ignores keys it does not declare', () => {
    const c = parseArchSection({ ...arch, causal: false, some_future_key: 3 });
    expect(c).toMatchObject({
      arch: 'trm',
      lossType: 'softmax_cross_entropy',
      puzzleEmbNdim: 0,
      forwardDtype: 'bfloat16',
      puzzleEmbLen: 16,
      noACTContinue: true,
    });
    expect(parseArchSection({ ...arch, name: 'hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1', H_layers: 1 }).arch).toBe('hrm');
  });

  it('names the key that is missing or wrong', () => {
    const { hidden_size: _, ...noHidden } = arch;
    configError(() => parseArchSection(noHidden), /arch\.hidden_size is missing/);
    configError(() => parseArchSection({ ...arch, name: 'recursive_reasoning.gpt@GPT' }), /arch\.name is "recursive_reasoning\.gpt@GPT"/);
    configError(() => parseArchSection({ ...arch, loss: { name: 'losses@ACTLossHead' } }), /loss_type is missing/);
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'arch: [1, 2\n');
    configError(() => readAllConfig(bad), /not valid YAML/);
  });

  it('TRM.load reads the architecture through the same parser', async () => {
    const dir = path.join(tmp, 'load-hier6');
    const m = TRM.create(TINY, { arch: 'trm_hier6', lCycles: 3, lossType: 'softmax_cross_entropy' }, { seed: 2 });
    try {
      await m.save(path.join(dir, 'step_1'), { format: 'official' });
      const back = await TRM.load(path.join(dir, 'step_1'), { forwardDtype: m.config.forwardDtype });
      try {
        expect(back.config).toEqual(m.config);
      } finally {
        back.dispose();
      }
    } finally {
      m.dispose();
    }
    await expectCode(TRM.load(path.join(dir, 'step_1'), { config: path.join(tmp, 'bad.yaml') }), 'ERR_TRM_CONFIG');
  });
});

describe('the transformers baseline halting switches (act_enabled, act_inference)', () => {
  const base = { ...TINY, arch: 'transformers_baseline' as const, hLayers: 1, haltMaxSteps: 4 };
  // q_halt = bias 1 > q_continue = bias -1 for every row: ACT halts at the first step where it applies.
  const haltingNow = (m: TRM) => {
    m.setTensor('q_head.weight', { dtype: 'float32', shape: [2, 32], data: new Float32Array(64) });
    m.setTensor('q_head.bias', { dtype: 'float32', shape: [2], data: Float32Array.from([1, -1]) });
  };

  it('evaluation runs haltMaxSteps unless actInference', async () => {
    for (const [actInference, steps] of [
      [false, 4],
      [true, 1],
    ] as const) {
      const m = TRM.create(base, { actInference }, { seed: 1 });
      try {
        haltingNow(m);
        const out = await m.run(tinyBatch(TINY, 2));
        expect({ actInference, steps: out.stepsRun }).toEqual({ actInference, steps });
      } finally {
        m.dispose();
      }
    }
  });

  it('training halts on q_halt > q_continue unless actEnabled is false, and never learns a continue target', async () => {
    for (const [actEnabled, halted] of [
      [true, true],
      [false, false],
    ] as const) {
      const m = TRM.create(base, { actEnabled, haltExplorationProb: 0 }, { seed: 1 });
      try {
        haltingNow(m);
        m.train();
        const out = await m.step(m.initialCarry(2), tinyBatch(TINY, 2));
        expect({ actEnabled, halted: out.allHalted, target: out.targetQContinue }).toEqual({ actEnabled, halted, target: undefined });
      } finally {
        m.dispose();
      }
    }
  });
});

describe('training config', () => {
  it('eval_interval defaults to 10000 (cfg_pretrain.yaml), or to epochs when 10000 does not divide them; null = epochs', () => {
    expect(resolveTrainConfig({ dataPaths: ['x'], epochs: 100000 }).evalInterval).toBe(10000);
    expect(resolveTrainConfig({ dataPaths: ['x'], epochs: 20 }).evalInterval).toBe(20);
    expect(resolveTrainConfig({ dataPaths: ['x'], epochs: 100000, evalInterval: null }).evalInterval).toBe(100000);
    const file = path.join(tmp, 'null-interval.yaml');
    fs.writeFileSync(file, 'data_paths: [d]\nepochs: 30000\neval_interval: null\n');
    expect(resolveTrainConfig(readAllConfig(file).train).evalInterval).toBe(30000);
  });
});

describe('one source for each default and rule (lib/ holds the defaults, native/core the rules)', () => {
  const invalid = (f: () => unknown, mentions: RegExp) =>
    expect(f).toThrow(expect.objectContaining({ code: 'ERR_TRM_INVALID_ARGUMENT', message: expect.stringMatching(mentions) }));

  it('the native trainer, evaluation and optimizers have no defaults: a missing key is a TrmError naming it', () => {
    const m = TRM.create(TINY);
    try {
      const h = m.nativeHandle();
      const { NativeTrainer, NativeEvaluation, NativeAdamAtan2, NativeSignSGD } = native();
      const full = nativeTrainOptions(resolveTrainConfig({ dataPaths: [tmp] }), {}, { evalOutputs: false });
      new NativeTrainer(h, full, () => undefined);
      for (const key of [
        'global_batch_size',
        'epochs',
        'eval_interval',
        'checkpoint_every_eval',
        'lr_warmup_steps',
        'beta2',
        'ema_rate',
        'seed',
        'log_every',
        'max_steps',
        'evaluate',
        'data_paths_test',
        'eval_save_outputs',
      ]) {
        const rest: Record<string, unknown> = { ...full };
        delete rest[key];
        invalid(() => new NativeTrainer(h, rest, () => undefined), new RegExp(`options\\.${key} is missing`));
      }
      invalid(() => new NativeTrainer(h, { ...full, epochs: 2.5 }, () => undefined), /options\.epochs must be an integer/);
      invalid(() => new NativeTrainer(h, { ...full, seed: -1 }, () => undefined), /options\.seed must be an integer in \[0, /);
      invalid(() => new NativeTrainer(h, { ...full, ema: 1 }, () => undefined), /options\.ema must be a boolean/);
      invalid(() => new NativeTrainer(h, { ...full, data_paths: [tmp, 3] }, () => undefined), /options\.data_paths\[1\] must be a string/);

      const evalOpts = {
        data_paths: [tmp],
        global_batch_size: 4,
        rank: 0,
        world_size: 1,
        sets: [],
        exclude_padding_loss: false,
        outputs: false,
      };
      new NativeEvaluation(h, evalOpts, () => undefined);
      const { sets: _, ...noSets } = evalOpts;
      invalid(() => new NativeEvaluation(h, noSets as typeof evalOpts, () => undefined), /options\.sets is missing/);
      invalid(() => new NativeEvaluation(h, { ...evalOpts, rank: 2 ** 40 }, () => undefined), /options\.rank must be an integer in/);

      invalid(() => new NativeAdamAtan2(h, { lr: 1e-3, beta1: 0.9, weightDecay: 0 } as never), /options\.beta2 is missing/);
      invalid(() => new NativeSignSGD(h, {} as never), /options\.weightDecay is missing/);
    } finally {
      m.dispose();
    }
  });

  it('every argument reader of the addon is strict: a missing option or a wrong type is a TrmError naming it', async () => {
    const m = TRM.create(TINY);
    try {
      const h = m.nativeHandle();
      const { NativeModel, tokenLoss, setNumThreads, matmulGflops } = native();
      const full = toOfficial(m.config);
      invalid(() => new NativeModel(full, {} as never), /model options\.seed is missing/);
      invalid(() => new NativeModel(full, { seed: -1, device: 'cpu' }), /model options\.seed must be ≥ 0/);
      invalid(() => new NativeModel(full, { seed: 0 } as never), /model options\.device is missing/);
      const t = tinyBatch(TINY, 2);
      const batch = { inputs: t.inputs, puzzleIdentifiers: t.puzzleIdentifiers } as never;
      const run = { steps: 1, earlyHalt: false, haltCheck: '', trace: false, logits: true } as const;
      await h.run(batch, run);
      for (const key of Object.keys(run)) {
        const rest: Record<string, unknown> = { ...run };
        delete rest[key];
        invalid(() => h.run(batch, rest as never), new RegExp(`run options\\.${key} is missing`));
      }
      invalid(() => h.run(batch, { ...run, steps: -1 }), /run options\.steps must be in \[0, 2\^20\]/);
      invalid(() => h.run(batch, { ...run, trace: 1 } as never), /run options\.trace must be a boolean/);
      invalid(() => h.step(h.initialCarry(2), batch, {} as never), /step options\.logits is missing/);
      invalid(
        () => h.loadCheckpoint('x.safetensors', { strict: true, resizePuzzleToMean: true } as never),
        /load options\.allowNonFinite is missing/,
      );
      // Readers that used to coerce (ToBoolean) or default now refuse.
      invalid(() => h.setTraining('yes' as never), /on must be a boolean/);
      invalid(() => h.backward(undefined as never), /scale is missing/);
      const logits = { dtype: 'float32', shape: [1, 3], data: new Float32Array(3) } as const;
      const labels = { dtype: 'int32', shape: [1], data: new Int32Array(1) } as const;
      invalid(() => (tokenLoss as (...a: unknown[]) => unknown)(logits, labels), /softmax is missing/);
      invalid(() => setNumThreads(1.5), /positive integer/);
      invalid(() => (matmulGflops as (...a: unknown[]) => unknown)(), /n is missing/);
    } finally {
      m.dispose();
    }
  });

  it('step metrics come from the core in one order: count, then the keys evaluation reduces', async () => {
    const m = TRM.create(TINY, {}, { seed: 1 });
    try {
      const out = await m.step(m.initialCarry(4), tinyBatch(TINY, 4));
      expect(Object.keys(out.metrics)).toEqual(['count', ...EVAL_METRIC_KEYS]);
    } finally {
      m.dispose();
    }
  });

  it(`labels equal to IGNORE_LABEL (${IGNORE_LABEL}) are what the core leaves unsupervised; other negatives are refused`, async () => {
    const logits = { dtype: 'float32' as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 3, 2, 1]) };
    const loss = stablemaxCrossEntropy(logits, { dtype: 'int32', shape: [2], data: Int32Array.from([IGNORE_LABEL, 0]) });
    expect(Number(loss.data[0]) === 0).toBe(true); // -0 from the negation is fine
    expect(Number(loss.data[1])).toBeGreaterThan(0);
    const m = TRM.create(TINY, {}, { seed: 1 });
    try {
      const b = tinyBatch(TINY, 2);
      (b.labels!.data as Int32Array).fill(IGNORE_LABEL);
      expect((await m.step(m.initialCarry(2), b)).metrics.count).toBe(0);
      (b.labels!.data as Int32Array)[0] = IGNORE_LABEL + 1;
      await expectCode(m.step(m.initialCarry(2), b), 'ERR_TRM_TOKEN_RANGE');
    } finally {
      m.dispose();
    }
  });

  it('the prefix length rule is the core one: ceil(ndim / hidden) when puzzle_emb_len is 0 and always for HRM and the baseline', () => {
    const p = (arch: string, ndim: number, len: number, hidden: number) =>
      native().prefixLength({ arch, puzzle_emb_ndim: ndim, puzzle_emb_len: len, hidden_size: hidden });
    expect(p('trm', 512, 16, 512)).toBe(16);
    expect(p('trm', 513, 0, 512)).toBe(2);
    expect(p('trm', 0, 16, 512)).toBe(0);
    expect(p('hrm', 512, 16, 384)).toBe(2);
    expect(p('transformers_baseline', 100, 7, 64)).toBe(2);
    configError(() => p('trm', 64, 0, 0), /hidden_size must be >= 1/);
    // The model's own state agrees: learned position rows = prefix + seq_len.
    for (const [arch, extra] of [
      ['trm', { puzzleEmbLen: 0, puzzleEmbNdim: 40 }],
      ['hrm', { hLayers: 1, lLayers: 1, puzzleEmbNdim: 40 }],
    ] as const) {
      const cfg = resolveConfig({ ...TINY, arch, posEncodings: 'learned', ...extra });
      const m = TRM.create(cfg);
      try {
        const rows = m.stateDict().find((e) => e.name === 'embed_pos.embedding_weight')!.shape[0];
        expect(rows).toBe(cfg.seqLen + p(arch, cfg.puzzleEmbNdim, cfg.puzzleEmbLen, cfg.hiddenSize));
      } finally {
        m.dispose();
      }
    }
  });
});
