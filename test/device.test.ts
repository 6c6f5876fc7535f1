// The build that is loaded and what it does where there is no GPU. CI runs this file against the CPU
// build and again, with TRM_EXPECT_CUDA_BUILD=1, against the build made with a CUDA LibTorch: CUDA and
// NCCL compiled in, and every CUDA path a TrmError (ERR_TRM_DEVICE) on a machine without a GPU.
import * as path from 'path';
import * as os from 'os';
import * as fs from 'fs';
import { TRM, Trainer, buildInfo } from '../lib';
import { TINY, expectCode } from './helpers/tiny';
import { writeSuccessorTask } from './helpers/synthetic';

const info = buildInfo();
const cudaBuild = process.env.TRM_EXPECT_CUDA_BUILD === '1';

test('the loaded build is the one expected: CUDA and NCCL compiled in exactly for a CUDA LibTorch', () => {
  expect({ cudaCompiled: info.cudaCompiled, nccl: info.nccl }).toEqual({ cudaCompiled: cudaBuild, nccl: cudaBuild && info.distributed });
});

describe('CUDA paths', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-device-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test(info.cudaAvailable ? 'run on the GPU' : 'fail with ERR_TRM_DEVICE, never a crash, where there is no GPU', async () => {
    if (info.cudaAvailable) {
      const m = TRM.create(TINY, {}, { device: 'cuda' });
      expect(m.config.forwardDtype).toBe('float32'); // TINY asks for float32
      m.dispose();
      return;
    }
    await expectCode(() => TRM.create(TINY, {}, { device: 'cuda' }), 'ERR_TRM_DEVICE');
    await expectCode(() => TRM.create(TINY, {}, { device: 'cuda:1' }), 'ERR_TRM_DEVICE');
    await expectCode(TRM.createAsync(TINY, {}, { device: 'cuda' }), 'ERR_TRM_DEVICE');
    const m = TRM.create(TINY);
    try {
      await expectCode(() => m.to('cuda'), 'ERR_TRM_DEVICE');
      const file = path.join(tmp, 'm.safetensors');
      await m.save(file);
      await expectCode(TRM.load(file, { device: 'cuda' }), 'ERR_TRM_DEVICE');
    } finally {
      m.dispose();
    }
  });

  test('NCCL needs the model on a GPU: ERR_TRM_DEVICE before any rendezvous', async () => {
    const data = writeSuccessorTask(path.join(tmp, 'data'), { train: 32, test: 8, seqLen: 12, vocab: 7, seed: 1 });
    const m = TRM.create({ ...TINY, numPuzzleIdentifiers: 1 });
    try {
      const trainer = new Trainer(m, {
        dataPaths: [data],
        globalBatchSize: 8,
        epochs: 1,
        evaluators: [],
        distributed: true,
        distBackend: 'nccl',
      });
      await expectCode(trainer.run(), 'ERR_TRM_DEVICE');
    } finally {
      m.dispose();
    }
  });
});
