/**
 * Checkpoint files and the model they hold: which architecture an official `step_N` checkpoint
 * (its sibling `all_config.yaml`, SPEC.md §7.3) or one of our safetensors files (config in the
 * header metadata) describes, and writing a model in either layout. `TRM.load` and `TRM#save`
 * are built on these.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readAllConfig, writeAllConfig } from './all-config';
import { OFFICIAL_KEYS, toOfficial, type ForwardDtype, type ModelConfig } from './config';
import { CARD_METADATA_KEY, cardError, checkCard, type ModelCard } from './card';
import { ErrorCodes, TrmError, check } from './errors';
import { native, type NativeModel } from './native';

/** Where the architecture of a checkpoint comes from (options of `TRM.load`). */
export interface CheckpointConfigOptions {
  /** Path of all_config.yaml (default: beside the checkpoint). */
  config?: string;
  /** Dataset folder whose train/dataset.json gives seqLen, vocabSize, numPuzzleIdentifiers (default: the config's data_paths[0]). */
  dataDir?: string;
  /** Forward dtype (default float32 on CPU, the checkpoint's own on CUDA; SPEC §11.2). */
  forwardDtype?: ForwardDtype;
  /** Any other config override, e.g. seqLen for an attention model whose dataset is not at hand. */
  overrides?: Partial<ModelConfig>;
  /** The device the model will run on: an official checkpoint runs in float32 on the CPU unless `forwardDtype` says otherwise. */
  device?: string;
}

/**
 * Top-level all_config.yaml key where we record the dataset sizes of a model we export, so it
 * reloads without its dataset. The official PretrainConfig ignores unknown top-level keys.
 */
export const DATASET_SIZES_KEY = 'trm_native_dataset';

/** The metadata key of our safetensors files that holds the official-keys model config as JSON. */
export const CONFIG_METADATA_KEY = 'trm_config';

async function isZip(file: string): Promise<boolean> {
  const fd = await fs.promises.open(file, 'r').catch((e: Error) => {
    throw new TrmError(ErrorCodes.IO, `cannot open checkpoint ${file}: ${e.message}`);
  });
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fd.read(buf, 0, 4, 0);
    return bytesRead === 4 && buf.readUInt32LE(0) === 0x04034b50;
  } finally {
    await fd.close();
  }
}

/** The official keys of a partial config (`arch` as its short name, `loss_type` flat). */
function toOfficialPartial(model: Partial<ModelConfig>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(model)) out[OFFICIAL_KEYS[k as keyof ModelConfig]] = v;
  return out;
}

/** Finds `<data>/train/dataset.json` for the config's data_paths[0], trying the checkpoint folder, then the cwd. */
function findDatasetJson(cfg: Record<string, unknown>, ckptDir: string, dataDir?: string): string | undefined {
  // TRM writes data_paths (a list); HRM writes data_path (a string).
  const paths = Array.isArray(cfg.data_paths) ? (cfg.data_paths as unknown[]) : typeof cfg.data_path === 'string' ? [cfg.data_path] : [];
  const dirs = dataDir ? [dataDir] : paths.length > 0 && typeof paths[0] === 'string' ? [path.resolve(ckptDir, paths[0]), path.resolve(paths[0])] : [];
  return dirs.map((d) => path.join(d, 'train', 'dataset.json')).find((f) => fs.existsSync(f));
}

/** The architecture of an official run, in official keys, from all_config.yaml + dataset.json or the tensors' shapes. */
async function officialArch(file: string, opts: CheckpointConfigOptions): Promise<Record<string, unknown>> {
  const ckptDir = path.dirname(path.resolve(file));
  const configFile = opts.config ?? path.join(ckptDir, 'all_config.yaml');
  if (!fs.existsSync(configFile)) {
    throw new TrmError(ErrorCodes.IO, `cannot read ${configFile}: the file does not exist (official checkpoints need the all_config.yaml written beside them, or pass { config })`);
  }
  const { doc: cfg, model } = readAllConfig(configFile);
  if (cfg.arch === undefined) throw new TrmError(ErrorCodes.CONFIG, `${configFile} has no arch: section, so the model is unknown`);
  const out: Record<string, unknown> = toOfficialPartial(model);
  if (typeof cfg.global_batch_size === 'number') out.batch_size = cfg.global_batch_size;

  const datasetJson = findDatasetJson(cfg, ckptDir, opts.dataDir);
  const ownSizes = cfg[DATASET_SIZES_KEY] as Record<string, unknown> | undefined;
  if (datasetJson || ownSizes) {
    const meta = datasetJson ? (JSON.parse(fs.readFileSync(datasetJson, 'utf8')) as Record<string, unknown>) : ownSizes!;
    for (const k of ['seq_len', 'vocab_size', 'num_puzzle_identifiers']) out[k] = meta[k];
  } else {
    // Without the dataset, sizes come from the tensors (SPEC §7.4 shapes).
    const index = await native().readCheckpointIndex(file);
    const shape = (suffix: string) => index.tensors.find((t) => t.name.endsWith(suffix))?.shape;
    out.vocab_size = shape('embed_tokens.embedding_weight')?.[0];
    out.num_puzzle_identifiers = shape('puzzle_emb.weights')?.[0] ?? 1;
    const hidden = Number(out.hidden_size), ndim = Number(out.puzzle_emb_ndim);
    const prefix = ndim === 0 ? 0 : !out.puzzle_emb_len ? Math.ceil(ndim / hidden) : Number(out.puzzle_emb_len);
    const total = shape('embed_pos.embedding_weight')?.[0] ?? shape('layers.0.mlp_t.down_proj.weight')?.[0];
    if (total !== undefined) out.seq_len = total - prefix;
    else if (opts.overrides?.seqLen === undefined) {
      throw new TrmError(ErrorCodes.CONFIG, `cannot tell seq_len for ${file}: no dataset.json found for data_paths ${JSON.stringify(cfg.data_paths)} (relative to ${ckptDir} or the current folder); pass { dataDir } or { overrides: { seqLen } }`);
    }
  }
  return out;
}

/**
 * The model config (official keys) of an official `step_N` checkpoint (architecture from the
 * sibling all_config.yaml, sizes from the dataset or the tensors) or of a safetensors file written
 * by `TRM#save`.
 */
export async function readCheckpointConfig(file: string, opts: CheckpointConfigOptions = {}): Promise<Record<string, unknown>> {
  const device = opts.device ?? 'cpu';
  if (await isZip(file)) {
    const official = await officialArch(file, opts);
    if (device === 'cpu' || opts.forwardDtype) official.forward_dtype = opts.forwardDtype ?? 'float32';
    return official;
  }
  const { metadata } = await native().readCheckpointIndex(file);
  const json = metadata[CONFIG_METADATA_KEY];
  if (!json) throw new TrmError(ErrorCodes.CHECKPOINT_FORMAT, `${file} has no '${CONFIG_METADATA_KEY}' metadata; it was not written by trm-native (pass an official step_N checkpoint or a file from TRM#save)`);
  const official = JSON.parse(json) as Record<string, unknown>;
  if (opts.forwardDtype) official.forward_dtype = opts.forwardDtype;
  return official;
}

/** The model card of a safetensors checkpoint written with one; undefined for official checkpoints and files without. */
export async function readModelCard(file: string): Promise<ModelCard | undefined> {
  if (await isZip(file)) return undefined;
  const json = (await native().readCheckpointIndex(file)).metadata[CARD_METADATA_KEY];
  if (json === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw cardError(file, `is not JSON (${(e as Error).message})`);
  }
  return checkCard(parsed, file);
}

/** Options of `TRM#save`. */
export interface SaveOptions {
  /** 'safetensors' (ours, default) or 'official' (a torch.save `step_N` file + all_config.yaml beside it). */
  format?: 'safetensors' | 'official';
  /** What the model was trained on and how it scores, stored with it (safetensors only; see lib/card.ts). */
  card?: ModelCard;
}

/** Writes a model: safetensors + config (default), or the official layout the Python code loads. */
export async function writeCheckpoint(model: NativeModel, cfg: ModelConfig, file: string, opts: SaveOptions = {}): Promise<void> {
  const official = (opts.format ?? 'safetensors') === 'official';
  check(!(official && opts.card), 'a model card is stored in safetensors metadata only; save without { format: \'official\' } to keep it');
  const card: Record<string, string> = opts.card === undefined ? {} : { [CARD_METADATA_KEY]: JSON.stringify(checkCard(opts.card)) };
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  if (official) {
    await model.saveOfficial(file);
    const yamlPath = path.join(path.dirname(path.resolve(file)), 'all_config.yaml');
    const sizes = { seq_len: cfg.seqLen, vocab_size: cfg.vocabSize, num_puzzle_identifiers: cfg.numPuzzleIdentifiers };
    writeAllConfig(yamlPath, undefined, cfg, { [DATASET_SIZES_KEY]: sizes });
  } else {
    await model.saveSafetensors(file, { [CONFIG_METADATA_KEY]: JSON.stringify(toOfficial(cfg)), format: 'trm-native', ...card });
  }
}
