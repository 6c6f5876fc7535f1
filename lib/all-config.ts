/**
 * all_config.yaml, the file the official trainer writes beside its checkpoints
 * (`yaml.dump(PretrainConfig.model_dump())`, pretrain.py): the one reader and writer of its `arch:`
 * section, used by `TRM.load`, `trm train --config` and the Trainer alike.
 *
 * The section names the model class (`name: recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1`)
 * and the loss (`loss: {name: losses@ACTLossHead, loss_type: ...}`); every other key goes to that
 * class's pydantic config, which ignores keys it does not declare and fills its own defaults.
 */
import YAML from 'yaml';
import { writeFileAtomic } from './atomic-write';
import { readRegularFile } from './regular-file';
import { ARCHITECTURES, OFFICIAL_KEYS, type ArchName, type ModelConfig } from './config';
import { ErrorCodes, TrmError } from './errors';
import { trainFromOfficial, trainToOfficial, type TrainConfig } from './train-config';

// Module basenames of the official repositories: TinyRecursiveModels (recursive_reasoning.<arch>)
// and sapientinc/HRM (hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1).
const ARCH_OF_MODULE: Readonly<Record<string, ArchName>> = {
  trm: 'trm',
  trm_singlez: 'trm_singlez',
  trm_hier6: 'trm_hier6',
  hrm: 'hrm',
  hrm_act_v1: 'hrm',
  transformers_baseline: 'transformers_baseline',
};

/** The architecture of an `arch.name` such as `recursive_reasoning.trm_hier6@TinyRecursiveReasoningModel_ACTV1`. */
export function archOfClassName(name: unknown, where = 'arch.name'): ArchName {
  const m = typeof name === 'string' ? /^(?:[\w.]*\.)?(\w+)@(\w+)$/.exec(name) : null;
  const arch = m ? ARCH_OF_MODULE[m[1]] : undefined;
  if (!arch) {
    const known = Object.values(ARCHITECTURES)
      .map((a) => a.className)
      .join(', ');
    throw new TrmError(ErrorCodes.CONFIG, `${where} is ${JSON.stringify(name)}; expected one of the official model classes: ${known}`);
  }
  return arch;
}

/**
 * The model config of an all_config.yaml `arch:` section: the class from `name`, the loss from
 * `loss.loss_type`, every key that class declares (its pydantic default where absent; keys it does
 * not declare are ignored, as pydantic does). A key the class requires but the file lacks is an error.
 */
export function parseArchSection(section: unknown, where = 'arch'): Partial<ModelConfig> {
  if (!section || typeof section !== 'object' || Array.isArray(section)) {
    throw new TrmError(
      ErrorCodes.CONFIG,
      `${where} must be a mapping with the model's name, loss and keys, got ${JSON.stringify(section)}`,
    );
  }
  const s = section as Record<string, unknown>;
  const arch = archOfClassName(s.name, `${where}.name`);
  const info = ARCHITECTURES[arch];
  const lossType = (s.loss as Record<string, unknown> | undefined)?.loss_type;
  if (lossType === undefined)
    throw new TrmError(
      ErrorCodes.CONFIG,
      `${where}.loss.loss_type is missing (ACTLossHead needs it: stablemax_cross_entropy or softmax_cross_entropy)`,
    );
  const out: Record<string, unknown> = { arch, lossType };
  for (const key of info.keys) {
    const v = s[OFFICIAL_KEYS[key]];
    if (v !== undefined && v !== null) out[key] = v;
    else if (key in info.classDefaults) out[key] = info.classDefaults[key];
    else
      throw new TrmError(
        ErrorCodes.CONFIG,
        `${where}.${OFFICIAL_KEYS[key]} is missing; the official ${info.className.split('@')[1]} config requires it`,
      );
  }
  return out as Partial<ModelConfig>;
}

/** The `arch:` section the official trainer would write for `cfg` (the class's own keys only). */
export function archSection(cfg: ModelConfig): Record<string, unknown> {
  const info = ARCHITECTURES[cfg.arch];
  const out: Record<string, unknown> = { name: info.className, loss: { name: 'losses@ACTLossHead', loss_type: cfg.lossType } };
  for (const key of info.keys) out[OFFICIAL_KEYS[key]] = cfg[key];
  return out;
}

function readYamlMapping(file: string): Record<string, unknown> {
  const text = readRegularFile(file, 'utf8');
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new TrmError(ErrorCodes.CONFIG, `${file} is not valid YAML: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new TrmError(ErrorCodes.CONFIG, `${file} is not a YAML mapping`);
  return doc as Record<string, unknown>;
}

/** An all_config.yaml as read: the whole document, its training keys and its model config. */
export interface AllConfig {
  doc: Record<string, unknown>;
  train: Partial<TrainConfig>;
  /** The `arch:` section's config; {} when the file has none. */
  model: Partial<ModelConfig>;
}

/** Reads an official all_config.yaml (or one we wrote) into a training config and a model config. */
export function readAllConfig(file: string): AllConfig {
  const doc = readYamlMapping(file);
  return { doc, train: trainFromOfficial(doc), model: doc.arch === undefined ? {} : parseArchSection(doc.arch, `${file}: arch`) };
}

/** Sorts mapping keys recursively, as `yaml.dump` does by default. */
function sortedKeys(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return Array.isArray(v) ? v.map(sortedKeys) : v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortedKeys((v as Record<string, unknown>)[k])]),
  );
}

/** all_config.yaml text: the arch section, the training keys and any `extra` top-level keys, sorted as yaml.dump sorts them. */
export function allConfigYaml(model: ModelConfig, train?: TrainConfig, extra: Record<string, unknown> = {}): string {
  return YAML.stringify(sortedKeys({ arch: archSection(model), ...(train ? trainToOfficial(train) : {}), ...extra }));
}

/** Writes all_config.yaml as the official trainer does. */
export function writeAllConfig(
  file: string,
  train: TrainConfig | undefined,
  model: ModelConfig,
  extra: Record<string, unknown> = {},
): void {
  writeFileAtomic(file, allConfigYaml(model, train, extra));
}
