#!/usr/bin/env node
'use strict';
// A quick end-to-end check of a built addon (CI runs it on the node-gyp build): load the official
// tiny-att checkpoint from test/fixtures/parity, run one eval step, compare with the official logits.
const path = require('path');
const { TRM, readNpy, buildInfo } = require('../dist/cjs/index.js');

async function main() {
  const dir = path.resolve(__dirname, '..', 'test', 'fixtures', 'parity', 'tiny-att');
  console.log('smoke: addon', process.env.TRM_NATIVE_ADDON || '(default build)', JSON.stringify(buildInfo()));
  const model = await TRM.load(path.join(dir, 'step_0'));
  const batch = { inputs: readNpy(path.join(dir, 'inputs.npy')), puzzleIdentifiers: readNpy(path.join(dir, 'puzzle_identifiers.npy')) };
  const out = await model.run(batch, { steps: 1 });
  const expected = readNpy(path.join(dir, 'expected', 'logits_0.npy')).data;
  let worst = 0;
  expected.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - out.logits.data[i]))));
  model.dispose();
  if (!(worst < 1e-4)) throw new Error(`smoke: logits differ from the official ones by ${worst}`);
  console.log(`smoke: ok (max |logit difference| vs official = ${worst.toExponential(2)})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
