#!/usr/bin/env node
'use strict';
// Prints the addon's C++ sources for binding.gyp, the same set CMakeLists.txt globs
// (native/core/**/*.cc and native/addon/*.cc, without the CUDA-only folder). The copies of the
// fused CPU kernels build in their own targets with their own flags (binding.gyp).
const fs = require('fs');
const path = require('path');

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'cuda' ? [] : walk(p);
    return p.endsWith('.cc') && !/fused_cpu_(base|avx2|avx512)\.cc$/.test(p) ? [p] : [];
  });
}

process.stdout.write(walk('native').sort().join(' '));
