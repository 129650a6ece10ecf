#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm run build`, run by `npm install`).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`imagekit: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
