/**
 * Checkpoint files and the model they hold: which architecture an official `step_N` checkpoint
 * (its sibling `all_config.yaml`, docs/algorithm.md §7.3) or one of our safetensors files (config in the
 * header metadata) describes, and writing a model in either layout. `TRM.load` and `TRM#save`
 * are built on these.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readAllConfig, writeAllConfig } from './all-config';
import { OFFICIAL_KEYS, fromOfficial, resolveConfig, toOfficial, type ForwardDtype, type ModelConfig } from './config';
import { CARD_METADATA_KEY, cardError, checkCard, type ModelCard } from './card';
import { ErrorCodes, TrmError, check, type ErrorCode } from './errors';
import { native, type NativeModel } from './native';
import { openRegularFile, readRegularFile } from './regular-file';

/** Where the architecture of a checkpoint comes from (options of `TRM.load`). */
export interface CheckpointConfigOptions {
  /** Path of all_config.yaml (default: beside the checkpoint). */
  config?: string;
  /** Dataset folder whose train/dataset.json gives seqLen, vocabSize, numPuzzleIdentifiers (default: the config's data_paths[0]). */
  dataDir?: string;
  /** Forward dtype (default: by device, forward-dtype.ts: bfloat16 on CUDA and on CPUs with native bf16, else float32). */
  forwardDtype?: ForwardDtype;
  /** Any other config override, e.g. seqLen for an attention model whose dataset is not at hand. */
  overrides?: Partial<ModelConfig>;
  /** The device the model will run on; it picks the forward dtype unless `forwardDtype` does. */
  device?: string;
  /** Check the config against the sizes the checkpoint's tensors fix (default true; `TRM.load`'s `strict`). */
  strict?: boolean;
}

/**
 * Top-level all_config.yaml key where we record the dataset sizes of a model we export, so it
 * reloads without its dataset. The official PretrainConfig ignores unknown top-level keys.
 */
export const DATASET_SIZES_KEY = 'trm_native_dataset';

/** The metadata key of our safetensors files that holds the official-keys model config as JSON. */
export const CONFIG_METADATA_KEY = 'trm_config';

function isZip(file: string): boolean {
  const fd = openRegularFile(file);
  try {
    const buf = Buffer.alloc(4);
    const bytesRead = fs.readSync(fd, buf, 0, 4, 0);
    return bytesRead === 4 && buf.readUInt32LE(0) === 0x04034b50;
  } finally {
    fs.closeSync(fd);
  }
}

/** Parses JSON read from `where`, as TrmError(`code`) naming it when it is not a JSON object. */
function jsonObject(text: string, where: string, code: ErrorCode): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TrmError(code, `${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new TrmError(code, `${where} must be a JSON object, found ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

/** The canonical state-dict name, as the native loader strips the wrapper prefixes (checkpoint.cc). */
function canonicalName(name: string): string {
  return name
    .replace(/^_orig_mod\./, '')
    .replace(/^model\./, '')
    .replace(/^inner\./, '');
}

/**
 * Checks the sizes a checkpoint's tensors fix (hidden size, vocabulary, blocks per level) against the
 * config before the model is allocated, so a config file cannot make the loader allocate far more
 * than the checkpoint holds. The full name-and-shape match follows when the tensors are copied.
 */
function checkConfigAgainstTensors(
  cfg: ModelConfig,
  tensors: readonly { name: string; shape: number[] }[],
  file: string,
  source: string,
): void {
  const names = tensors.map((t) => ({ name: canonicalName(t.name), shape: t.shape }));
  const blocks = (level: 'H' | 'L'): number => {
    const ids = new Set(
      names.map((t) => new RegExp(`^${level}_level\\.layers\\.(\\d+)\\.`).exec(t.name)?.[1]).filter((i) => i !== undefined),
    );
    return ids.size;
  };
  const embed = names.find((t) => t.name === 'embed_tokens.embedding_weight')?.shape;
  const found: [keyof ModelConfig, number | undefined][] = [
    ['hiddenSize', embed?.[1]],
    ['vocabSize', embed?.[0]],
    ['lLayers', cfg.arch === 'transformers_baseline' ? undefined : blocks('L')],
    ['hLayers', cfg.arch === 'hrm' || cfg.arch === 'transformers_baseline' ? blocks('H') : undefined],
  ];
  const wrong = found
    .filter(([key, n]) => n !== undefined && cfg[key] !== n)
    .map(([key, n]) => `${OFFICIAL_KEYS[key]} is ${cfg[key]} but the checkpoint holds ${n}`);
  if (wrong.length > 0) {
    throw new TrmError(
      ErrorCodes.CHECKPOINT_KEY,
      `${source} does not match ${file}: ${wrong.join('; ')} (nothing was allocated; fix the config or pass the checkpoint it belongs to)`,
    );
  }
}

/** What readCheckpointIndex answers: every tensor's name, dtype and shape, and the metadata. */
type CheckpointIndex = Awaited<ReturnType<ReturnType<typeof native>['readCheckpointIndex']>>;

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
  const dirs = dataDir
    ? [dataDir]
    : paths.length > 0 && typeof paths[0] === 'string'
      ? [path.resolve(ckptDir, paths[0]), path.resolve(paths[0])]
      : [];
  return dirs.map((d) => path.join(d, 'train', 'dataset.json')).find((f) => fs.existsSync(f));
}

/** The architecture of an official run, in official keys, from all_config.yaml + dataset.json or the tensors' shapes. */
function officialArch(file: string, opts: CheckpointConfigOptions, index: CheckpointIndex): Record<string, unknown> {
  const ckptDir = path.dirname(path.resolve(file));
  const configFile = opts.config ?? path.join(ckptDir, 'all_config.yaml');
  if (!fs.existsSync(configFile)) {
    throw new TrmError(
      ErrorCodes.IO,
      `cannot read ${configFile}: the file does not exist (official checkpoints need the all_config.yaml written beside them, or pass { config })`,
    );
  }
  const { doc: cfg, model } = readAllConfig(configFile);
  if (cfg.arch === undefined) throw new TrmError(ErrorCodes.CONFIG, `${configFile} has no arch: section, so the model is unknown`);
  const out: Record<string, unknown> = toOfficialPartial(model);
  if (typeof cfg.global_batch_size === 'number') out.batch_size = cfg.global_batch_size;

  const datasetJson = findDatasetJson(cfg, ckptDir, opts.dataDir);
  const ownSizes = cfg[DATASET_SIZES_KEY] as Record<string, unknown> | undefined;
  if (datasetJson || ownSizes) {
    const meta = datasetJson ? jsonObject(readRegularFile(datasetJson, 'utf8'), datasetJson, ErrorCodes.DATA_FORMAT) : ownSizes!;
    for (const k of ['seq_len', 'vocab_size', 'num_puzzle_identifiers']) out[k] = meta[k];
  } else {
    // Without the dataset, sizes come from the tensors (docs/algorithm.md §7.4 shapes).
    const shape = (suffix: string) => index.tensors.find((t) => t.name.endsWith(suffix))?.shape;
    out.vocab_size = shape('embed_tokens.embedding_weight')?.[0];
    out.num_puzzle_identifiers = shape('puzzle_emb.weights')?.[0] ?? 1;
    const keys = {
      arch: String(out.arch),
      puzzle_emb_ndim: Number(out.puzzle_emb_ndim),
      puzzle_emb_len: Number(out.puzzle_emb_len ?? 0),
      hidden_size: Number(out.hidden_size),
    };
    const total = shape('embed_pos.embedding_weight')?.[0] ?? shape('layers.0.mlp_t.down_proj.weight')?.[0];
    // Keys that are not integers are left for resolveConfig to name.
    const valid =
      [keys.puzzle_emb_ndim, keys.puzzle_emb_len, keys.hidden_size].every((n) => Number.isInteger(n) && n >= 0) && keys.hidden_size > 0;
    if (total !== undefined) {
      if (valid) out.seq_len = total - native().prefixLength(keys);
    } else if (opts.overrides?.seqLen === undefined) {
      throw new TrmError(
        ErrorCodes.CONFIG,
        `cannot tell seq_len for ${file}: no dataset.json found for data_paths ${JSON.stringify(cfg.data_paths)} (relative to ${ckptDir} or the current folder); pass { dataDir } or { overrides: { seqLen } }`,
      );
    }
  }
  return out;
}

/**
 * The model config of an official `step_N` checkpoint (architecture from the sibling
 * all_config.yaml, sizes from the dataset or the tensors) or of a safetensors file written by
 * `TRM#save`, with `opts.overrides` and the forward dtype of `opts.device`, checked (unless `strict`
 * is false) against the sizes the checkpoint's tensors fix, before anything is allocated.
 */
export async function readCheckpointConfig(file: string, opts: CheckpointConfigOptions = {}): Promise<ModelConfig> {
  let official: Record<string, unknown>;
  let source: string;
  const zip = isZip(file);
  const index = await native().readCheckpointIndex(file);
  if (zip) {
    official = officialArch(file, opts, index);
    source = opts.config ?? path.join(path.dirname(path.resolve(file)), 'all_config.yaml');
  } else {
    const json = index.metadata[CONFIG_METADATA_KEY];
    if (json === undefined)
      throw new TrmError(
        ErrorCodes.CHECKPOINT_FORMAT,
        `${file} has no '${CONFIG_METADATA_KEY}' metadata; it was not written by trm-native (pass an official step_N checkpoint or a file from TRM#save)`,
      );
    source = `the '${CONFIG_METADATA_KEY}' metadata of ${file}`;
    official = jsonObject(json, source, ErrorCodes.CHECKPOINT_FORMAT);
  }
  // The device picks the dtype unless the caller does (forward-dtype.ts), not the one recorded.
  official.forward_dtype = opts.forwardDtype;
  let config: ModelConfig;
  try {
    config = resolveConfig({ ...fromOfficial(official), ...(opts.overrides ?? {}) }, opts.device);
  } catch (e) {
    if (e instanceof TrmError) throw new TrmError(e.code, `${source}: ${e.message}`);
    throw e;
  }
  if (opts.strict ?? true) checkConfigAgainstTensors(config, index.tensors, file, source);
  return config;
}

/** The model card of a safetensors checkpoint written with one; undefined for official checkpoints and files without. */
export async function readModelCard(file: string): Promise<ModelCard | undefined> {
  if (isZip(file)) return undefined;
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
  check(!(official && opts.card), "a model card is stored in safetensors metadata only; save without { format: 'official' } to keep it");
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
