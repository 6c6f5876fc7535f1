#!/usr/bin/env node
'use strict';
// Finds the LibTorch the addon builds against and describes it in build/libtorch.json.
// Order: LIBTORCH / Torch_DIR -> CMake package search -> the cmake prefix of an
// importable Python `torch` -> `pip install torch==2.13.0` into a project-local folder -> a
// clear error naming every place that was tried and how to fix it. Nothing is ever downloaded
// from anywhere but the configured Python package index.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const PINNED_TORCH = 'torch==2.13.0';
const LOCAL_PIP_DIR = path.join(ROOT, '.libtorch');
const OUT_FILE = path.join(ROOT, 'build', 'libtorch.json');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { ok: r.status === 0, out: (r.stdout || '').trim(), err: (r.stderr || '').trim() || String(r.error || '') };
}

/** Given any of: a LibTorch root, its share/cmake, or share/cmake/Torch, return the LibTorch root. */
function torchRootFrom(p) {
  let dir = path.resolve(p);
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, 'include', 'ATen', 'ATen.h')) && fs.existsSync(path.join(dir, 'lib'))) return dir;
    dir = path.dirname(dir);
  }
  return null;
}

function describe(root, source) {
  const lib = path.join(root, 'lib');
  const has = (name) => fs.existsSync(path.join(lib, name));
  if (!has('libtorch.so') && !has('libtorch.dylib') && !has('torch.lib')) return null;
  const cuda = has('libtorch_cuda.so') || has('torch_cuda.lib');
  let version = 'unknown';
  for (const vh of [
    path.join(root, 'include', 'torch', 'headeronly', 'version.h'),
    path.join(root, 'include', 'torch', 'csrc', 'api', 'include', 'torch', 'version.h'),
  ]) {
    if (!fs.existsSync(vh)) continue;
    const text = fs.readFileSync(vh, 'utf8');
    const part = (k) => (new RegExp(`define TORCH_VERSION_${k}\\s+(\\d+)`).exec(text) || [])[1];
    if (part('MAJOR')) {
      version = `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
      break;
    }
  }
  // The ABI flag must match the one LibTorch was built with.
  let abi = 1;
  const cfg = path.join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake');
  if (fs.existsSync(cfg)) {
    const m = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(fs.readFileSync(cfg, 'utf8'));
    if (m) abi = Number(m[1]);
  }
  return {
    source,
    root,
    cmakeDir: path.join(root, 'share', 'cmake', 'Torch'),
    includeDirs: [path.join(root, 'include'), path.join(root, 'include', 'torch', 'csrc', 'api', 'include')],
    libDir: lib,
    libraries: cuda ? ['torch', 'torch_cpu', 'c10', 'torch_cuda', 'c10_cuda'] : ['torch', 'torch_cpu', 'c10'],
    cuda,
    version,
    cxx11Abi: abi,
  };
}

function fromEnv(tried) {
  for (const key of ['LIBTORCH', 'Torch_DIR']) {
    const v = process.env[key];
    if (!v) continue;
    const root = torchRootFrom(v);
    const d = root && describe(root, `$${key}`);
    tried.push(`$${key}=${v}: ${d ? 'found' : 'no LibTorch (include/ATen/ATen.h and lib/libtorch.*) there'}`);
    if (d) return d;
    throw new Error(`$${key} is set to ${v}, but no LibTorch is there. Unset it or point it at a LibTorch root.`);
  }
  tried.push('$LIBTORCH / $Torch_DIR: not set');
  return null;
}

function fromCMake(tried) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-find-torch-'));
  try {
    fs.writeFileSync(
      path.join(dir, 'CMakeLists.txt'),
      'cmake_minimum_required(VERSION 3.18)\nproject(probe NONE)\nfind_package(Torch CONFIG QUIET)\nmessage(STATUS "TRM_TORCH_DIR=${Torch_DIR}")\n',
    );
    const r = run('cmake', ['-S', dir, '-B', path.join(dir, 'b')]);
    if (!r.ok && /ENOENT/.test(r.err)) {
      tried.push('CMake package search: cmake is not installed');
      return null;
    }
    const m = /TRM_TORCH_DIR=(\S*)/.exec(r.out);
    const found = m && m[1] && !m[1].endsWith('-NOTFOUND') ? m[1] : null;
    const root = found && torchRootFrom(found);
    const d = root && describe(root, 'CMake package search');
    tried.push(`CMake package search (find_package(Torch)): ${d ? `found ${root}` : 'not found'}`);
    return d;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function pythons() {
  const list = [process.env.PYTHON, 'python3', 'python'].filter(Boolean);
  return [...new Set(list)];
}

function fromPython(tried) {
  for (const py of pythons()) {
    const r = run(py, ['-c', 'import torch, torch.utils; print(torch.utils.cmake_prefix_path)']);
    if (!r.ok) {
      tried.push(`${py} -c "import torch": ${/ENOENT/.test(r.err) ? 'no such interpreter' : 'torch is not importable'}`);
      continue;
    }
    const root = torchRootFrom(r.out);
    const d = root && describe(root, `Python torch (${py})`);
    tried.push(`${py}: torch at ${r.out}: ${d ? 'found' : 'no LibTorch headers/libraries in that wheel'}`);
    if (d) return d;
  }
  return null;
}

function fromLocalPip(tried) {
  // The wheel is installed with --no-deps, so it is located on disk, not imported.
  const localRoot = torchRootFrom(path.join(LOCAL_PIP_DIR, 'torch'));
  const existing = localRoot && describe(localRoot, `pip --target ${LOCAL_PIP_DIR}`);
  if (existing) return existing;
  if (process.env.TRM_NO_PIP_INSTALL) {
    tried.push(`pip install ${PINNED_TORCH}: skipped because TRM_NO_PIP_INSTALL is set`);
    return null;
  }
  for (const py of pythons()) {
    process.stderr.write(`trm-native: installing ${PINNED_TORCH} into ${LOCAL_PIP_DIR} with ${py} -m pip ...\n`);
    const r = run(py, ['-m', 'pip', 'install', '--no-deps', '--target', LOCAL_PIP_DIR, PINNED_TORCH], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    tried.push(
      `${py} -m pip install --target ${LOCAL_PIP_DIR} ${PINNED_TORCH}: ${r.ok ? 'installed' : `failed (${r.err.split('\n').slice(-1)[0]})`}`,
    );
    if (r.ok) {
      const root = torchRootFrom(path.join(LOCAL_PIP_DIR, 'torch'));
      const d = root && describe(root, `pip --target ${LOCAL_PIP_DIR}`);
      if (d) return d;
    }
  }
  return null;
}

function findLibTorch() {
  const tried = [];
  const found = fromEnv(tried) || fromCMake(tried) || fromPython(tried) || fromLocalPip(tried);
  if (found) return found;
  const msg = [
    'trm-native: could not find LibTorch. Tried, in order:',
    ...tried.map((t) => `  - ${t}`),
    'How to fix (any one):',
    `  - pip install ${PINNED_TORCH}          (the CPU wheel carries LibTorch's headers and libraries)`,
    '  - export LIBTORCH=/path/to/libtorch     (an unpacked LibTorch distribution, CPU or CUDA)',
    '  - export Torch_DIR=/path/to/share/cmake/Torch',
  ].join('\n');
  const err = new Error(msg);
  err.code = 'ERR_TRM_LIBTORCH_NOT_FOUND';
  throw err;
}

function main() {
  const info = findLibTorch();
  fs.mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  fs.writeFileSync(OUT_FILE, JSON.stringify(info, null, 2) + '\n');
  const flag = process.argv[2];
  if (flag === '--include-dirs') process.stdout.write(info.includeDirs.join(' '));
  else if (flag === '--lib-dir') process.stdout.write(info.libDir);
  else if (flag === '--libs') process.stdout.write(info.libraries.map((l) => `-l${l}`).join(' '));
  else if (flag === '--defines') {
    // Same rule as CMakeLists.txt: Gloo's headers enable c10d's ProcessGroupGloo.
    const gloo = ['/usr/include', '/usr/local/include', path.join(info.root, 'include')].some((d) =>
      fs.existsSync(path.join(d, 'gloo', 'algorithm.h')),
    );
    // No TRM_WITH_CUDA: node-gyp does not compile the .cu kernels, so its build is the CPU build even
    // against a CUDA LibTorch (the CMake build is the CUDA one, docs/installing.md).
    process.stdout.write(`_GLIBCXX_USE_CXX11_ABI=${info.cxx11Abi}${gloo ? ' TRM_WITH_GLOO=1 USE_C10D_GLOO=1' : ''}`);
  } else process.stdout.write(JSON.stringify(info, null, 2) + '\n');
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}

module.exports = { findLibTorch };
