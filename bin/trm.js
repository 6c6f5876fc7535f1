#!/usr/bin/env node
'use strict';
// The `trm` command. Runs the compiled CLI from dist/, or the TypeScript sources through ts-node
// in a checkout that has not been built yet (or when TRM_CLI_FROM_SOURCE is set, as the tests do).
const fs = require('fs');
const path = require('path');

const compiled = path.join(__dirname, '..', 'dist', 'cjs', 'cli', 'index.js');
if (fs.existsSync(compiled) && !process.env.TRM_CLI_FROM_SOURCE) {
  require(compiled).main(process.argv);
} else {
  require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') });
  require(path.join(__dirname, '..', 'lib', 'cli', 'index.ts')).main(process.argv);
}
