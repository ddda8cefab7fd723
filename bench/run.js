#!/usr/bin/env node
'use strict';
// Runs every benchmark in bench/ in turn (npm run bench). Each prints its
// own table with ratios against its peers, measured in the same run.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

for (const file of ['link-get.js']) {
  console.log(`\n## ${file}\n`);
  execFileSync(process.execPath, [path.join(__dirname, file)], { stdio: 'inherit' });
}
