#!/usr/bin/env node
'use strict';
// Compiles lib/ to dist/cjs (CommonJS + .d.ts) and writes the thin ESM wrapper dist/esm/index.mjs
// (with its .d.mts), so `import { TRM } from 'trm-native'` and `require('trm-native')` both work.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.json')], { stdio: 'inherit', cwd: ROOT });
if (r.status !== 0) process.exit(r.status || 1);

const esm = path.join(ROOT, 'dist', 'esm');
fs.mkdirSync(esm, { recursive: true });
const cjsIndex = require(path.join(ROOT, 'dist', 'cjs', 'index.js'));
const names = Object.keys(cjsIndex).filter((n) => n !== 'default' && n !== '__esModule');
fs.writeFileSync(
  path.join(esm, 'index.mjs'),
  `import cjs from '../cjs/index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
);
fs.writeFileSync(path.join(esm, 'index.d.mts'), "export * from '../cjs/index.js';\n");
