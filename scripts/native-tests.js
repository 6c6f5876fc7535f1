#!/usr/bin/env node
'use strict';
// Builds the C++ tests of native/core (test/native/CMakeLists.txt, doctest) against the LibTorch the
// addon uses, into build/native-tests, and runs them with CTest. Incremental: a second run only
// rebuilds what changed.
//   node scripts/native-tests.js [ctest arguments...]     e.g. -R loader
//   node scripts/native-tests.js --bench                  the benchmarks instead: bench/optim.cc (writes
//       bench/results/optim.json), bench/fused.cc (bench/results/fused.json) and batches of an ARC-sized memory-mapped set through the loader
//   node scripts/native-tests.js --configure-only         only configure build/native-tests (for other benches)
// Env: TRM_BUILD_JOBS (default 2), PYTHON (default python3; needs numpy and torch for the fixtures
// and the Adam-atan2 reference).
const path = require('path');
const { spawnSync } = require('child_process');
const { findLibTorch } = require('./libtorch');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(ROOT, 'build', 'native-tests');
const JOBS = process.env.TRM_BUILD_JOBS || '2';

function step(cmd, args) {
  console.log(`native-tests: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) process.exit(r.status || 1);
}

const torch = findLibTorch();
const py = spawnSync(process.env.PYTHON || 'python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
if (py.status !== 0) {
  console.error('native-tests: no Python interpreter (set PYTHON)');
  process.exit(1);
}
const ninja = spawnSync('ninja', ['--version']).status === 0 ? ['-G', 'Ninja'] : [];
step('cmake', [
  '-S',
  path.join(ROOT, 'test', 'native'),
  '-B',
  BUILD,
  ...ninja,
  `-DTorch_DIR=${torch.cmakeDir}`,
  `-DPython3_EXECUTABLE=${py.stdout.trim()}`,
]);
if (process.argv[2] === '--configure-only') {
  // nothing more
} else if (process.argv[2] === '--bench') {
  step('cmake', ['--build', BUILD, '--parallel', JOBS, '--target', 'bench_optim', 'bench_fused', 'loader_test']);
  step(path.join(BUILD, 'bench_optim'), ['--json', path.join(ROOT, 'bench', 'results', 'optim.json')]);
  step(path.join(BUILD, 'bench_fused'), ['--json', path.join(ROOT, 'bench', 'results', 'fused.json')]);
  const fixtures = path.join(BUILD, 'loader-bench');
  step(py.stdout.trim(), [path.join(ROOT, 'test', 'native', 'loader_fixtures.py'), fixtures, '--bench']);
  step(path.join(BUILD, 'loader_test'), ['--fixtures', fixtures, '--bench', path.join(fixtures, 'bench')]);
} else {
  step('cmake', ['--build', BUILD, '--parallel', JOBS]);
  step('ctest', ['--test-dir', BUILD, '--output-on-failure', ...process.argv.slice(2)]);
}
