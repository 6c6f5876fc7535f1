/** `trm inspect <checkpoint|preset>`: the config, parameter count and every state-dict entry. */
import { Command } from 'commander';
import * as fs from 'fs';
import { forwardDtypeChoice } from '../forward-dtype';
import { TRM } from '../model';
import { PRESETS } from '../presets';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('print the config, numParameters and every state-dict entry of a checkpoint or preset')
    .argument('<target>', `a checkpoint (official step_N or trm-native safetensors) or a preset: ${Object.keys(PRESETS).join(', ')}`)
    .option('--json', 'print JSON')
    .option('--config <file>', 'all_config.yaml of an official checkpoint (default: beside it)')
    .option('--data-dir <dir>', 'dataset folder whose train/dataset.json gives the data-dependent sizes')
    .action(async (target: string, opts: { json?: boolean; config?: string; dataDir?: string }) => {
      const model =
        !fs.existsSync(target) && target in PRESETS
          ? TRM.create(target as keyof typeof PRESETS)
          : await TRM.load(target, { config: opts.config, dataDir: opts.dataDir });
      try {
        // On the CPU (where inspect loads) the forward dtype is the device default unless a config set it.
        const dflt = forwardDtypeChoice('cpu');
        const forwardDtype = {
          dtype: model.config.forwardDtype,
          reason: model.config.forwardDtype === dflt.dtype ? dflt.reason : 'set by the config',
        };
        const report = { config: model.config, forwardDtype, numParameters: model.numParameters(), stateDict: model.stateDict() };
        if (opts.json) {
          process.stdout.write(JSON.stringify(report, null, 2) + '\n');
          return;
        }
        console.log(`${target}: ${report.config.arch}, ${report.numParameters.toLocaleString('en-US')} parameters`);
        for (const [k, v] of Object.entries(report.config))
          console.log(`  ${k.padEnd(22)} ${v}${k === 'forwardDtype' ? ` (${forwardDtype.reason})` : ''}`);
        console.log('state dict:');
        for (const e of report.stateDict) {
          console.log(`  ${e.name.padEnd(52)} ${`[${e.shape.join(', ')}]`.padEnd(16)} ${e.dtype}${e.trainable ? '' : ' (buffer)'}`);
        }
      } finally {
        model.dispose();
      }
    });
}
