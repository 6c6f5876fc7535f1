// Run in a child process by limits.test.ts: every reader given a FIFO, /dev/zero or a directory.
// Before the readers checked the file type, some of these blocked forever or read without end, so
// the parent runs this with a time limit and observes a hang instead of suffering it.
// Prints one JSON line: { case: { name, code, message } }.
import * as fs from 'fs';
import * as path from 'path';
import { TRM, readNpy } from '../../lib';
import { readNpyHeader } from '../../lib/data/npy';
import { readAllConfig } from '../../lib/all-config';
import { readDatasetMetadata } from '../../lib/data/format';
import { TINY } from './tiny';

async function main(): Promise<void> {
  const [dir] = process.argv.slice(2);
  const fifo = path.join(dir, 'fifo');
  const split = path.join(dir, 'split');
  fs.mkdirSync(split, { recursive: true });
  fs.symlinkSync(fifo, path.join(split, 'dataset.json'));
  const model = TRM.create(TINY);
  const cases: Record<string, () => unknown> = {
    'readNpy(FIFO)': () => readNpy(fifo),
    'readNpy(/dev/zero)': () => readNpy('/dev/zero'),
    'readNpyHeader(FIFO)': () => readNpyHeader(fifo),
    'readAllConfig(FIFO)': () => readAllConfig(fifo),
    'readDatasetMetadata(FIFO dataset.json)': () => readDatasetMetadata(split),
    'TRM.load(FIFO)': () => TRM.load(fifo),
    'TRM.load(/dev/zero)': () => TRM.load('/dev/zero'),
    'TRM.load(/etc)': () => TRM.load('/etc'),
    'loadState(FIFO)': () => model.loadState(fifo),
    'loadState(/dev/zero)': () => model.loadState('/dev/zero'),
  };
  const out: Record<string, { name: string; code?: string; message: string }> = {};
  for (const [name, run] of Object.entries(cases)) {
    try {
      await run();
      out[name] = { name: 'none', message: 'no error' };
    } catch (e) {
      const err = e as { name: string; code?: string; message: string };
      out[name] = { name: err.name, code: err.code, message: err.message };
    }
  }
  model.dispose();
  console.log(JSON.stringify(out));
}

void main();
