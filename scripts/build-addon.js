#!/usr/bin/env node
'use strict';
// Builds the native addon with cmake-js (the default build) against the LibTorch that
// scripts/libtorch.js finds, then compiles the TypeScript layer. Runs as `npm install`'s install
// step and as `npm run build`. Skips the native compile when an up-to-date build exists unless
// --force is given. Jobs default to 2 (LibTorch headers need ~1.2 GB per compiler process).
// `--out DIR` builds into another folder (e.g. a second build against a CUDA LibTorch given by
// LIBTORCH=...); `--native-only` skips the TypeScript build.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibTorch } = require('./libtorch');

const ROOT = path.resolve(__dirname, '..');

function option(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

const OUT = path.resolve(ROOT, option('--out', 'build'));
const ADDON = path.join(OUT, 'Release', 'trm_native.node');

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
  return (
    built > newestSource(path.join(ROOT, 'native')) &&
    built > newestSource(path.join(ROOT, 'cmake')) &&
    built > fs.statSync(path.join(ROOT, 'CMakeLists.txt')).mtimeMs
  );
}

function main() {
  const force = process.argv.includes('--force');
  const torch = findLibTorch();
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'libtorch.json'), JSON.stringify(torch, null, 2) + '\n');
  console.log(`trm-native: LibTorch ${torch.version} (${torch.cuda ? 'CUDA' : 'CPU'}) from ${torch.source}: ${torch.root}`);
  if (!force && upToDate()) {
    console.log('trm-native: native addon is up to date');
  } else {
    const jobs = process.env.TRM_BUILD_JOBS || '2';
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    const args = [cmakeJs, 'compile', '--directory', ROOT, '--out', OUT, '--parallel', jobs, `--CDTorch_DIR=${torch.cmakeDir}`];
    console.log(`trm-native: compiling the addon with cmake-js (${jobs} jobs) ...`);
    const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: ROOT });
    if (r.status !== 0) {
      console.error('trm-native: the native build failed. See the compiler output above; docs/installing.md lists the usual causes.');
      process.exit(r.status || 1);
    }
  }
  if (process.argv.includes('--native-only')) return;
  const ts = spawnSync(process.execPath, [path.join(__dirname, 'build-ts.js')], { stdio: 'inherit', cwd: ROOT });
  if (ts.status !== 0) process.exit(ts.status || 1);
}

try {
  main();
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
