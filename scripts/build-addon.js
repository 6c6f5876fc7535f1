#!/usr/bin/env node
'use strict';
// Builds the native addon with cmake-js (the default build) against the LibTorch that
// scripts/libtorch.js finds, then compiles the TypeScript layer. Runs as `npm install`'s install
// step and as `npm run build`. Skips the native compile when an up-to-date build exists unless
// --force is given. Jobs default to 2 (LibTorch headers need ~1.2 GB per compiler process).
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibTorch } = require('./libtorch');

const ROOT = path.resolve(__dirname, '..');
const ADDON = path.join(ROOT, 'build', 'Release', 'trm_native.node');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function upToDate() {
  if (!fs.existsSync(ADDON)) return false;
  const built = fs.statSync(ADDON).mtimeMs;
  return built > newestSource(path.join(ROOT, 'native')) && built > fs.statSync(path.join(ROOT, 'CMakeLists.txt')).mtimeMs;
}

function main() {
  const force = process.argv.includes('--force');
  const torch = findLibTorch();
  fs.mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'build', 'libtorch.json'), JSON.stringify(torch, null, 2) + '\n');
  console.log(`trm-native: LibTorch ${torch.version} (${torch.cuda ? 'CUDA' : 'CPU'}) from ${torch.source}: ${torch.root}`);
  if (!force && upToDate()) {
    console.log('trm-native: native addon is up to date');
  } else {
    const jobs = process.env.TRM_BUILD_JOBS || '2';
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    const args = [cmakeJs, 'compile', '--directory', ROOT, '--out', path.join(ROOT, 'build'), '--parallel', jobs,
      `--CDTorch_DIR=${torch.cmakeDir}`];
    if (torch.cuda) args.push('--CDCAFFE2_USE_CUDNN=ON');
    console.log(`trm-native: compiling the addon with cmake-js (${jobs} jobs) ...`);
    const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: ROOT });
    if (r.status !== 0) {
      console.error('trm-native: the native build failed. See the compiler output above; docs/installing.md lists the usual causes.');
      process.exit(r.status || 1);
    }
  }
  const ts = spawnSync(process.execPath, [path.join(__dirname, 'build-ts.js')], { stdio: 'inherit', cwd: ROOT });
  if (ts.status !== 0) process.exit(ts.status || 1);
}

try {
  main();
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
