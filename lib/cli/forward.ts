/**
 * `trm forward`: K supervision steps from a fresh carry in eval mode, every step's outputs written
 * as .npy — the tool for checking parity with another implementation.
 */
import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic-write';
import { readNpy, writeNpy } from '../data/npy';
import { TRM } from '../model';
import { IGNORE_LABEL } from '../loss';
import { toInt32, type Tensor } from '../tensor';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

interface ForwardOptions {
  checkpoint: string;
  inputs: string;
  puzzleIdentifiers: string;
  labels?: string;
  steps: number;
  dtype: 'fp32' | 'bf16';
  out: string;
  config?: string;
  dataDir?: string;
  ignoreLabelId: number;
  device: string;
}

export function forwardCommand(): Command {
  return new Command('forward')
    .description('run K supervision steps from a fresh carry (eval mode) and write logits_k / q_halt_k / q_continue_k .npy files')
    .requiredOption('--checkpoint <path>', 'official step_N (with all_config.yaml beside it) or trm-native safetensors')
    .requiredOption('--inputs <x.npy>', 'token ids [B, seq_len], any integer dtype')
    .requiredOption('--puzzle-identifiers <ids.npy>', 'puzzle ids [B]')
    .option('--labels <y.npy>', 'labels [B, seq_len]; adds loss.json')
    .option('--steps <K>', 'supervision steps', positiveInt, 16)
    .option('--dtype <fp32|bf16>', 'forward dtype', 'fp32')
    .requiredOption('--out <dir>', 'output folder')
    .option('--config <file>', 'all_config.yaml (default: beside the checkpoint)')
    .option('--data-dir <dir>', 'dataset folder for seq_len / vocab / ids when the config does not locate it')
    .option('--ignore-label-id <n>', 'label value meaning "not supervised" (datasets use 0); it becomes -100', Number, 0)
    .option('--device <device>', 'cpu or cuda[:N]', 'cpu')
    .action(async (o: ForwardOptions) => {
      if (o.dtype !== 'fp32' && o.dtype !== 'bf16') throw new InvalidArgumentError(`--dtype must be fp32 or bf16, got ${o.dtype}`);
      const model = await TRM.load(o.checkpoint, {
        config: o.config,
        dataDir: o.dataDir,
        device: o.device as 'cpu',
        forwardDtype: o.dtype === 'bf16' ? 'bfloat16' : 'float32',
      });
      try {
        const inputs = toInt32(readNpy(o.inputs), 'inputs');
        const ids = toInt32(readNpy(o.puzzleIdentifiers), 'puzzle identifiers');
        let labels: Tensor<'int32'> | undefined;
        if (o.labels) {
          labels = toInt32(readNpy(o.labels), 'labels');
          labels.data = labels.data.map((v) => (v === o.ignoreLabelId ? IGNORE_LABEL : v));
        }
        const outs = (await model.run({ inputs, puzzleIdentifiers: ids, labels }, { steps: o.steps, trace: true })).trace ?? [];
        fs.mkdirSync(o.out, { recursive: true });
        outs.forEach((s, k) => {
          const logits = s.logits!;
          writeNpy(path.join(o.out, `logits_${k}.npy`), { dtype: 'float32', shape: logits.shape, data: logits.data });
          writeNpy(path.join(o.out, `q_halt_${k}.npy`), { dtype: 'float32', shape: s.qHalt.shape, data: s.qHalt.data });
          writeNpy(path.join(o.out, `q_continue_${k}.npy`), { dtype: 'float32', shape: s.qContinue.shape, data: s.qContinue.data });
        });
        if (labels) {
          const report = { steps: o.steps, loss: outs.map((s) => s.loss), metrics: outs.map((s) => s.metrics) };
          writeFileAtomic(path.join(o.out, 'loss.json'), JSON.stringify(report, null, 2) + '\n');
        }
        console.log(`wrote ${outs.length} steps to ${o.out}`);
      } finally {
        model.dispose();
      }
    });
}
