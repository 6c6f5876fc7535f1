/**
 * `trm train`: the official training recipes from the command line, one process or many
 * (`--nproc-per-node N`, torchrun's environment contract), with a progress bar, a JSONL metrics
 * log, checkpoints, and stop-and-resume (Ctrl-C saves the state; `--resume` continues it).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import * as path from 'path';
import { OFFICIAL_KEYS, resolveConfig, type ModelConfig } from '../config';
import { readDatasetSizes } from '../dataset-sizes';
import { isArcDataset } from '../eval/arc';
import { ErrorCodes, TrmError } from '../errors';
import { launch } from '../launch';
import { TRM, type Device } from '../model';
import { PRESETS, preset } from '../presets';
import { setNumThreads } from '../runtime';
import { readAllConfig } from '../all-config';
import { PRETRAIN_DEFAULTS, RECIPES, type TrainConfig } from '../train-config';
import { Trainer, type TrainEvent } from '../trainer';
import { Progress } from './progress';

const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
};
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
};

/** `--set key=value` model overrides (camelCase keys or official arch.* keys). */
function parseSet(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^(?:arch\.)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`expected key=value, got ${value}`);
  return { ...previous, [m[1]]: m[2] };
}

function modelOverrides(sets: Record<string, string>): Partial<ModelConfig> {
  // Keys may be camelCase (lCycles) or the official names (L_cycles, as in all_config.yaml).
  const camelOf = new Map<string, string>(
    Object.entries(OFFICIAL_KEYS).flatMap(([camel, official]) => [
      [camel, camel],
      [official, camel],
    ]),
  );
  const out: Record<string, unknown> = {};
  for (const [k, raw] of Object.entries(sets)) {
    const key = camelOf.get(k);
    if (!key) throw new TrmError(ErrorCodes.CONFIG, `--set ${k}: not a model config key (known: ${Object.keys(OFFICIAL_KEYS).join(', ')})`);
    out[key] = raw === 'true' ? true : raw === 'false' ? false : Number.isNaN(Number(raw)) ? raw : Number(raw);
  }
  return out as Partial<ModelConfig>;
}

interface TrainCliOptions {
  data: string[];
  dataTest?: string[];
  arch?: string;
  recipe?: keyof typeof RECIPES;
  config?: string;
  set?: Record<string, string>;
  device: string;
  threads?: number;
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
  resume?: string;
  maxSteps?: number;
  maxSeconds?: number;
  logEvery: number;
  distributed?: boolean;
  evaluators?: string[];
  aggregatedVoting: boolean;
  [key: string]: unknown;
}

const TRAIN_FLAGS: [keyof TrainConfig, string, 'num' | 'int' | 'bool' | 'str'][] = [
  ['globalBatchSize', 'global-batch-size', 'int'],
  ['epochs', 'epochs', 'int'],
  ['evalInterval', 'eval-interval', 'int'],
  ['checkpointEveryEval', 'checkpoint-every-eval', 'bool'],
  ['lr', 'lr', 'num'],
  ['lrMinRatio', 'lr-min-ratio', 'num'],
  ['lrWarmupSteps', 'lr-warmup-steps', 'int'],
  ['beta1', 'beta1', 'num'],
  ['beta2', 'beta2', 'num'],
  ['weightDecay', 'weight-decay', 'num'],
  ['puzzleEmbWeightDecay', 'puzzle-emb-weight-decay', 'num'],
  ['puzzleEmbLr', 'puzzle-emb-lr', 'num'],
  ['seed', 'seed', 'int'],
  ['minEvalInterval', 'min-eval-interval', 'int'],
  ['ema', 'ema', 'bool'],
  ['emaRate', 'ema-rate', 'num'],
  ['freezeWeights', 'freeze-weights', 'bool'],
  ['projectName', 'project-name', 'str'],
  ['runName', 'run-name', 'str'],
  ['checkpointPath', 'checkpoint-path', 'str'],
  ['loadCheckpoint', 'load-checkpoint', 'str'],
];

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train TRM/HRM (docs/algorithm.md §7): one process, or N per node with --nproc-per-node')
    .requiredOption('--data <dirs...>', 'dataset folders (train/ and test/ inside), the official data_paths')
    .option('--data-test <dirs...>', 'evaluation datasets (data_paths_test)')
    .option('--arch <preset>', `model preset: ${Object.keys(PRESETS).join(', ')}`)
    .option('--recipe <name>', `a README recipe (arch + training settings): ${Object.keys(RECIPES).join(', ')}`)
    .option('--config <all_config.yaml>', 'take the architecture and training keys from an official all_config.yaml')
    .option(
      '--evaluators <names...>',
      'evaluators run at every evaluation: arc@ARC, or none (default: arc@ARC for ARC datasets, none otherwise)',
    )
    .option(
      '--no-aggregated-voting',
      'ARC evaluator: vote over each evaluation alone (default: pool the votes of every evaluation, as the official trainer)',
    )
    .option('--set <key=value>', 'model config override, repeatable (e.g. --set lCycles=4 or --set arch.L_cycles=4)', parseSet)
    .option('--device <device>', 'cpu or cuda (each rank uses cuda:LOCAL_RANK)', 'cpu')
    .option('--threads <n>', 'LibTorch intra-op threads per process', int)
    .option('--nproc-per-node <n>', 'processes on this node', int, 1)
    .option('--nnodes <n>', 'nodes in the job', int, 1)
    .option('--node-rank <r>', "this node's index", int, 0)
    .option('--master-addr <addr>', 'address of rank 0', '127.0.0.1')
    .option('--master-port <port>', 'rendezvous port', int, 29500)
    .option('--resume <state>', 'continue a run from its training state (state.safetensors, or the checkpoint folder holding it)')
    .option('--max-steps <n>', 'stop after n steps (then evaluate and checkpoint)', int)
    .option('--max-seconds <s>', 'stop after s seconds (then evaluate and checkpoint)', num)
    .option('--log-every <n>', 'report every n steps', int, 1)
    .addOption(new Option('--distributed', 'internal: this process is one rank of a launched job').hideHelp());
  for (const [key, flag, kind] of TRAIN_FLAGS) {
    const dflt = PRETRAIN_DEFAULTS[key];
    const desc = `${key} (default ${Array.isArray(dflt) ? JSON.stringify(dflt) : dflt})`;
    if (kind === 'bool') cmd.option(`--${flag} [bool]`, desc, (v: string) => v !== 'false');
    else if (kind === 'str') cmd.option(`--${flag} <value>`, desc);
    else cmd.option(`--${flag} <value>`, desc, kind === 'num' ? num : int);
  }
  return cmd.action(async (o: TrainCliOptions, command: Command) => {
    if (o.nprocPerNode * o.nnodes > 1 && !o.distributed) {
      // Parent: start the ranks of this node, each running this same command as one rank.
      const args = process.argv
        .slice(1)
        .filter(
          (a, i, all) =>
            !['--nproc-per-node', '--nnodes', '--node-rank'].includes(a) &&
            !['--nproc-per-node', '--nnodes', '--node-rank'].includes(all[i - 1]),
        );
      await launch({
        nprocPerNode: o.nprocPerNode,
        nnodes: o.nnodes,
        nodeRank: o.nodeRank,
        masterAddr: o.masterAddr,
        masterPort: o.masterPort,
        args: [...process.execArgv, ...args, '--distributed'],
      });
      return;
    }
    await trainOneRank(o, command);
  });
}

async function trainOneRank(o: TrainCliOptions, command: Command): Promise<void> {
  if (o.threads) setNumThreads(o.threads);
  const rank = Number(process.env.RANK ?? 0);
  const localRank = Number(process.env.LOCAL_RANK ?? 0);
  const device = (o.device === 'cuda' ? `cuda:${localRank}` : o.device) as Device;

  // Training config: recipe < all_config.yaml < flags.
  let train: Partial<TrainConfig> = {};
  let model: Partial<ModelConfig> = {};
  if (o.recipe) {
    const r = RECIPES[o.recipe];
    if (!r) throw new TrmError(ErrorCodes.CONFIG, `unknown recipe ${o.recipe}`);
    train = { ...r.train };
    model = preset(r.arch);
  }
  if (o.config) {
    const c = readAllConfig(o.config);
    train = { ...train, ...c.train };
    model = { ...model, ...c.model };
  }
  if (o.arch) model = { ...model, ...preset(o.arch) };
  for (const [key] of TRAIN_FLAGS) {
    if (command.getOptionValueSource(key) === 'cli') (train as Record<string, unknown>)[key] = o[key];
  }
  train.dataPaths = o.data;
  if (o.evaluators) train.evaluators = o.evaluators.filter((e) => e !== 'none');
  else if (train.evaluators === undefined) train.evaluators = isArcDataset(o.dataTest?.[0] ?? o.data[0]) ? ['arc@ARC'] : [];
  if (o.dataTest) train.dataPathsTest = o.dataTest;
  const sizes = readDatasetSizes(o.data);
  const world = Number(process.env.WORLD_SIZE ?? 1);
  // The device picks the forward dtype (forward-dtype.ts), not a config file's; --set forward_dtype=... can.
  delete model.forwardDtype;
  const cfg = resolveConfig(
    { ...model, ...sizes, ...modelOverrides(o.set ?? {}), batchSize: (train.globalBatchSize ?? PRETRAIN_DEFAULTS.globalBatchSize) / world },
    device,
  );
  if (!train.checkpointPath) train.checkpointPath = path.join('checkpoints', `${path.basename(o.data[0])}-${cfg.arch}`);

  const trm = TRM.create(cfg, {}, { seed: (train.seed ?? 0) + rank, device });
  const trainer = new Trainer(trm, {
    ...train,
    maxSteps: o.maxSteps,
    maxSeconds: o.maxSeconds,
    logEvery: o.logEvery,
    distributed: Boolean(o.distributed),
    aggregatedVoting: o.aggregatedVoting,
  });
  const statePath = trainer.statePath!;
  const progress = new Progress();
  let last: TrainEvent | undefined;
  if (rank === 0) {
    console.error(
      `trm train: ${cfg.arch} ${trm.numParameters().toLocaleString('en-US')} parameters, ${world} process(es), device ${o.device}, checkpoints in ${trainer.config.checkpointPath}`,
    );
    trainer.on('step', (e: TrainEvent) => {
      last = e;
      progress.update(e.step, e.totalSteps, e.elapsedSeconds, {
        loss: (e.metrics.lm_loss ?? 0).toFixed(4),
        exact: (e.metrics.exact_accuracy ?? 0).toFixed(3),
        lr: e.lr.toExponential(2),
        'samples/s': e.samplesPerSecond.toFixed(0),
      });
    });
    trainer.on('eval', (e: TrainEvent) =>
      progress.log(
        e.set?.startsWith('ARC')
          ? `${e.set} evaluator @${e.step}: ${Object.entries(e.metrics)
              .filter(([k]) => k.includes('pass@'))
              .map(([k, v]) => `${k} ${(100 * v).toFixed(2)}%`)
              .join('  ')}` + ` over ${e.metrics['ARC/predictions']} votes${e.path ? `; submission ${e.path}` : ''}`
          : `eval @${e.step} [${e.set}] exact_accuracy ${e.metrics.exact_accuracy.toFixed(4)}  accuracy ${e.metrics.accuracy.toFixed(4)}  lm_loss ${e.metrics.lm_loss.toFixed(4)}  (${e.metrics.count} examples)`,
      ),
    );
    trainer.on('checkpoint', (e: TrainEvent) => progress.log(`checkpoint ${e.path}`));
  }
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    trainer.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await trainer.run({ resumeFrom: o.resume });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.finish();
  }
  await trainer.saveState(statePath);
  if (rank === 0) {
    if (interrupted)
      console.error(
        `stopped at step ${last?.step ?? '?'}; state saved to ${statePath}\nresume with: trm train ${process.argv
          .slice(3)
          .filter((a) => a !== '--distributed')
          .join(' ')} --resume ${statePath}`,
      );
    else console.error(`done; training state in ${statePath}`);
  }
  trm.dispose();
}
