/**
 * The child process of the file-reader campaign (fuzz/run.ts): for each message it runs one reader
 * on one file and reports how it ended. Run as a separate process so a crash or a hang is observed
 * by the parent, not suffered.
 */
import * as path from 'path';
import { TRM } from '../lib/model';
import { Trainer } from '../lib/trainer';
import { readNpy } from '../lib/data/npy';
import { readDatasetMetadata } from '../lib/data/format';
import { readAllConfig } from '../lib/all-config';

/** The readers, by the target names fuzz/run.ts uses. */
const READERS: Record<string, (file: string) => Promise<unknown> | unknown> = {
  npy: (file) => readNpy(file),
  safetensors: async (file) => (await TRM.load(file)).dispose(),
  'official step_N': async (file) => (await TRM.load(file)).dispose(),
  'all_config.yaml': async (file) => {
    readAllConfig(file);
    (await TRM.load(file.replace(/all_config\.yaml$/, 'step_1'))).dispose();
  },
  'dataset.json': (file) => readDatasetMetadata(file.replace(/\/dataset\.json$/, '')),
  // The native loader, through a one-epoch run of a model the size of the seed dataset (fuzz/run.ts).
  'dataset (native loader)': async (file) => {
    const model = TRM.create({
      seqLen: 6,
      vocabSize: 5,
      numPuzzleIdentifiers: 1,
      hiddenSize: 16,
      numHeads: 2,
      hCycles: 1,
      lCycles: 1,
      lLayers: 1,
      puzzleEmbNdim: 0,
      haltMaxSteps: 2,
    });
    try {
      await new Trainer(model, {
        dataPaths: [path.dirname(path.dirname(file))],
        globalBatchSize: 2,
        epochs: 1,
        evaluators: [],
        evaluate: false,
      }).run();
    } finally {
      model.dispose();
    }
  },
};

/** A case's result as the parent counts it. */
export interface FileOutcome {
  id: number;
  outcome: 'accepted' | 'typed' | 'other';
  name?: string;
  code?: string;
  message?: string;
}

process.on('message', (m: { id: number; target: string; file: string }) => {
  void (async () => {
    let reply: FileOutcome;
    try {
      await READERS[m.target](m.file);
      reply = { id: m.id, outcome: 'accepted' };
    } catch (e) {
      const err = e as { name?: string; code?: string; message?: string };
      const typed = err?.name === 'TrmError' && typeof err.code === 'string' && err.code.startsWith('ERR_TRM_');
      reply = {
        id: m.id,
        outcome: typed ? 'typed' : 'other',
        name: err?.name,
        code: err?.code,
        message: String(err?.message ?? e).slice(0, 300),
      };
    }
    process.send!(reply);
  })();
});
process.send!({ ready: true });
