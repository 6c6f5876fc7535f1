/**
 * JSON objects whose key order matters. JavaScript objects list integer-like keys ("13713586")
 * first, while Python's `json.load` keeps file order, and the ARC builder's output depends on
 * that order (docs/algorithm.md §5.7 step 1). This reads the top-level keys in file order.
 */
import { ErrorCodes, TrmError } from '../errors';

/** Parses JSON text, naming `where` in the error if it is not valid JSON. */
export function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TrmError(ErrorCodes.DATA_FORMAT, `${where}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Parses a JSON object and returns its top-level entries in file order (for a repeated key, the
 * last value at the first key's position, as Python's dict does).
 */
export function parseJsonObjectInOrder(text: string, where: string): Array<[string, unknown]> {
  const parsed = parseJsonText(text, where);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TrmError(
      ErrorCodes.DATA_FORMAT,
      `${where}: expected a JSON object at the top level, found ${Array.isArray(parsed) ? 'an array' : typeof parsed}`,
    );
  }
  const values = parsed as Record<string, unknown>;
  const seen = new Set<string>();
  const entries: Array<[string, unknown]> = [];
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push([key, values[key]]);
  }
  return entries;
}

/** The keys of the top-level object of (already validated) JSON text, in order of appearance. */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (depth === 1 && expectKey) {
        keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        expectKey = false;
      }
      i = j;
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      depth--;
    } else if (ch === 0x2c /* , */ && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}
