/**
 * `trm eval`: the official evaluation of a checkpoint on a dataset's test split (docs/algorithm.md §6.1):
 * a table of per-set metrics and `eval.json`; for ARC datasets also the voting evaluator of §6.2
 * (pass@K and the Kaggle `submission.json`).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../atomic-write';
import { ErrorCodes, TrmError } from '../errors';
import { ArcEvaluator, isArcDataset } from '../eval/arc';
import { writeArcSubmission } from '../eval/arc-result';
import { evaluateExact } from '../eval/exact';
import { EVAL_METRIC_KEYS, reduceSetMetrics, type SetMetrics } from '../eval/metrics';
import { launch } from '../launch';
import { ProcessGroup } from '../process-group';
import { TRM, type Device } from '../model';
import { Progress } from './progress';

interface EvalOptions {
  checkpoint: string;
  data: string;
  batchSize?: number;
  out?: string;
  arc?: boolean;
  sets?: string[];
  device: string;
  config?: string;
  json?: boolean;
  excludePaddingLoss?: boolean;
  nprocPerNode: number;
  masterPort: number;
  distributed?: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** True when `dir` holds the files of an ARC dataset. */
/** The per-set metrics as an aligned text table. */
export function formatMetricsTable(metrics: Record<string, SetMetrics>): string {
  const cols = ['count', ...EVAL_METRIC_KEYS] as const;
  const header = ['set', ...cols];
  const rows = Object.entries(metrics).map(([set, m]) => [set, ...cols.map((k) => (k === 'count' ? String(m.count) : m[k].toFixed(4)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** The `trm eval` command. */
export function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate a checkpoint on the test split of a dataset (exact accuracy per set; pass@K and submission.json for ARC)')
    .requiredOption('--checkpoint <path>', 'official step_N (with all_config.yaml beside it) or trm-native safetensors')
    .requiredOption('--data <dir>', 'dataset folder (with test/dataset.json)')
    .option('--batch-size <N>', "rows per batch (default: the checkpoint's global_batch_size, else 64)", positiveInt)
    .option('--out <dir>', 'where eval.json (and submission.json) go (default: eval_<checkpoint name> beside the checkpoint)')
    .option('--arc', 'run the ARC evaluator (default: when the dataset has identifiers.json and test_puzzles.json)')
    .option('--sets <names...>', 'only these sets (default: all of test/dataset.json)')
    .option('--device <device>', 'cpu or cuda[:N]', 'cpu')
    .option('--config <file>', 'all_config.yaml of an official checkpoint (default: beside it)')
    .option('--exclude-padding-loss', 'leave the padding rows of the last batch out of q_halt_loss (the official code includes them)')
    .option('--json', 'print the report as JSON instead of tables')
    .option(
      '--nproc-per-node <n>',
      'evaluate with n processes on this node (c10d/Gloo; each takes its slice of every batch)',
      positiveInt,
      1,
    )
    .option('--master-port <port>', 'rendezvous port for --nproc-per-node', positiveInt, 29510)
    .addOption(new Option('--distributed', 'internal: this process is one rank of a launched job').hideHelp())
    .action(async (o: EvalOptions) => {
      if (o.nprocPerNode > 1 && !o.distributed) {
        const args = process.argv.slice(1).filter((a, i, all) => a !== '--nproc-per-node' && all[i - 1] !== '--nproc-per-node');
        await launch({ nprocPerNode: o.nprocPerNode, masterPort: o.masterPort, args: [...process.execArgv, ...args, '--distributed'] });
        return;
      }
      const group = o.distributed ? await ProcessGroup.join() : undefined;
      const rank = group?.rank ?? 0;
      const arc = o.arc || isArcDataset(o.data);
      if (o.arc && !isArcDataset(o.data)) {
        throw new TrmError(
          ErrorCodes.IO,
          `--arc needs ${o.data}/identifiers.json and ${o.data}/test_puzzles.json (an ARC dataset built by trm build-data arc)`,
        );
      }
      const out =
        o.out ?? path.join(path.dirname(path.resolve(o.checkpoint)), `eval_${path.basename(o.checkpoint).replace(/\.[^.]*$/, '')}`);
      const model = await TRM.load(o.checkpoint, { dataDir: o.data, config: o.config, device: o.device as Device });
      try {
        const batchSize = o.batchSize ?? (model.config.batchSize > 1 ? model.config.batchSize : 64);
        const evaluator = arc ? ArcEvaluator.fromDataset(o.data) : undefined;
        const progress = new Progress();
        const t0 = Date.now();
        const local = await evaluateExact(model, o.data, {
          rank,
          worldSize: group?.worldSize ?? 1,
          globalBatchSize: batchSize,
          setNames: o.sets,
          excludePaddingLoss: o.excludePaddingLoss,
          evaluators: evaluator ? [evaluator] : [],
          onProgress: (p) =>
            progress.update(p.batches, p.totalBatches, (Date.now() - t0) / 1000, { set: p.set, examples: `${p.done}/${p.total}` }),
        });
        progress.finish();
        // Across ranks: sum the metric totals, gather the ARC votes to rank 0 (docs/algorithm.md §6.1, §6.2).
        const result = group ? { ...local, metrics: reduceSetMetrics(await group.allGatherJson(local.sums)) } : local;
        if (group && evaluator) {
          const snaps = await group.allGatherJson(evaluator.snapshot());
          if (rank === 0) {
            evaluator.reset();
            for (const snap of snaps) evaluator.merge(snap);
          }
        }
        group?.close();
        if (rank !== 0) return;
        const seconds = (Date.now() - t0) / 1000;
        fs.mkdirSync(out, { recursive: true });
        const report: Record<string, unknown> = { checkpoint: o.checkpoint, data: o.data, batchSize, seconds, metrics: result.metrics };
        let arcLines: string[] = [];
        if (evaluator) {
          const r = evaluator.result();
          report.arc = r.metrics;
          report.submission = writeArcSubmission(out, r.submission);
          report.warnings = r.warnings;
          arcLines = [
            Object.entries(r.metrics)
              .map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`)
              .join('  '),
            ...(r.warnings.length > 0 ? [`${r.warnings.length} warning(s), e.g. ${r.warnings[0]}`] : []),
            `wrote ${report.submission as string}`,
          ];
        }
        const file = path.join(out, 'eval.json');
        writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
        if (o.json) {
          process.stdout.write(JSON.stringify(report, null, 2) + '\n');
          return;
        }
        console.log(formatMetricsTable(result.metrics));
        for (const l of arcLines) console.log(l);
        console.log(`${result.batches} batches of ${batchSize} in ${seconds.toFixed(1)} s; wrote ${file}`);
      } finally {
        model.dispose();
      }
    });
}
