// `trm train` end to end: flags, model overrides, checkpoints, the saved state and --resume.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import YAML from 'yaml';
import { writeSuccessorTask } from './helpers/synthetic';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-cli-train-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const trm = path.resolve(__dirname, '..', 'bin', 'trm.js');
const run = (args: string[]) =>
  execFileSync(process.execPath, [trm, 'train', ...args], {
    env: { ...process.env, TRM_CLI_FROM_SOURCE: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe('trm train', () => {
  it('trains with official-key overrides, writes checkpoints and a state, and resumes from it', () => {
    const data = writeSuccessorTask(path.join(tmp, 'data'), { train: 64, test: 8, seqLen: 8, vocab: 6, seed: 3 });
    const ckpt = path.join(tmp, 'ckpt');
    const common = [
      '--data',
      data,
      '--set',
      'hidden_size=32',
      '--set',
      'num_heads=2',
      '--set',
      'H_cycles=1',
      '--set',
      'lCycles=1',
      '--set',
      'puzzle_emb_ndim=0',
      '--set',
      'halt_max_steps=2',
      '--global-batch-size',
      '16',
      '--epochs',
      '4',
      '--eval-interval',
      '2',
      '--lr',
      '1e-3',
      '--lr-warmup-steps',
      '2',
      '--checkpoint-path',
      ckpt,
    ];
    run([...common, '--max-steps', '5']);
    expect(fs.existsSync(path.join(ckpt, 'step_5'))).toBe(true);
    expect(fs.existsSync(path.join(ckpt, 'state.safetensors'))).toBe(true);
    const config = fs.readFileSync(path.join(ckpt, 'all_config.yaml'), 'utf8');
    expect(config).toMatch(/hidden_size: 32/);
    expect(config).toMatch(/global_batch_size: 16/);
    run([...common, '--resume', path.join(ckpt, 'state.safetensors')]);
    const log = fs
      .readFileSync(path.join(ckpt, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const steps = log.filter((e) => e.kind === 'step').map((e) => e.step);
    expect(steps.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(steps.slice(5)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]); // continued, not restarted
    expect(fs.existsSync(path.join(ckpt, 'step_16'))).toBe(true);
  }, 120000);

  it('--config takes the model class, the loss and every key from an official all_config.yaml; eval_interval defaults to 10000', () => {
    const data = path.join(tmp, 'data');
    const config = path.join(tmp, 'hrm_all_config.yaml');
    fs.writeFileSync(
      config,
      [
        'arch:',
        '  H_cycles: 1',
        '  H_layers: 1',
        '  L_cycles: 1',
        '  L_layers: 1',
        '  expansion: 2',
        '  forward_dtype: bfloat16',
        '  halt_exploration_prob: 0.1',
        '  halt_max_steps: 2',
        '  hidden_size: 32',
        '  loss:',
        '    loss_type: softmax_cross_entropy',
        '    name: losses@ACTLossHead',
        '  name: recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1',
        '  num_heads: 2',
        '  pos_encodings: learned',
        '  puzzle_emb_ndim: 0',
        'data_paths:',
        '- elsewhere',
        'epochs: 20000',
        'global_batch_size: 16',
        'lr: 0.001',
        'lr_warmup_steps: 2',
        '',
      ].join('\n'),
    );
    const ckpt = path.join(tmp, 'ckpt-config');
    run(['--config', config, '--data', data, '--max-steps', '2', '--checkpoint-path', ckpt]);
    const written = YAML.parse(fs.readFileSync(path.join(ckpt, 'all_config.yaml'), 'utf8'));
    expect(written.arch).toMatchObject({
      name: 'recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1',
      loss: { loss_type: 'softmax_cross_entropy' },
      H_layers: 1,
      L_layers: 1,
      hidden_size: 32,
      pos_encodings: 'learned',
      expansion: 2,
    });
    expect(written.arch.no_ACT_continue).toBeUndefined(); // hrm.py has no such key
    expect(written).toMatchObject({ epochs: 20000, eval_interval: 10000, global_batch_size: 16, lr: 0.001, data_paths: [data] });
    // The model trained is an HRM: its steps report the continue-target loss.
    const log = fs
      .readFileSync(path.join(ckpt, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.filter((e) => e.kind === 'step').every((e) => e.metrics.q_continue_loss > 0)).toBe(true);
  }, 120000);

  it('rejects unknown model keys with ERR_TRM_CONFIG', () => {
    expect(() => run(['--data', path.join(tmp, 'data'), '--set', 'bogus=1'])).toThrow(/ERR_TRM_CONFIG/);
  }, 60000);
});
