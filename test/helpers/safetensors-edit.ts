// Rewrites the JSON header of a safetensors file (metadata, dtypes), keeping the data bytes, so
// tests can make files that differ from a good one in exactly one field.
import * as fs from 'fs';

/** The header of `file` passed through `edit`, written to `out` (default: in place). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into any field of the parsed JSON
export function editSafetensorsHeader(file: string, edit: (header: Record<string, any>) => void, out = file): void {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  edit(header);
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  fs.writeFileSync(out, Buffer.concat([len, Buffer.from(text), bytes.subarray(8 + n)]));
}
