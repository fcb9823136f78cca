#!/usr/bin/env node
// The `ja4` command: runs the compiled CLI (npm run build produces dist/).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`ja4: internal error: ${err?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
