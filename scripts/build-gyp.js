#!/usr/bin/env node
'use strict';
// Builds the addon with node-gyp from binding.gyp in a separate folder (build-gyp/), so it never
// overwrites the cmake-js build, and prints the path of the resulting trm_native.node. Node's
// headers come from the local Node installation (never downloaded).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'build-gyp');

function nodeDir() {
  // The installation prefix of the running node (e.g. /usr for /usr/bin/node) holds include/node.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  throw new Error(`node-gyp needs Node's headers; none under ${prefix}/include/node. Set npm_config_nodedir.`);
}

fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(OUT, { recursive: true });
for (const f of ['binding.gyp', 'package.json', 'native', 'scripts']) fs.cpSync(path.join(ROOT, f), path.join(OUT, f), { recursive: true });
fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(OUT, 'node_modules'));
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const jobs = process.env.TRM_BUILD_JOBS || '2';
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodeDir()}`, '-j', jobs], {
  cwd: OUT,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (r.status !== 0) {
  console.error('trm-native: the node-gyp build failed (see above)');
  process.exit(r.status || 1);
}
const addon = path.join(OUT, 'build', 'Release', 'trm_native.node');
console.log(addon);
