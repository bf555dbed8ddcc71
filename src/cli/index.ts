#!/usr/bin/env node
/**
 * The `auth-kit` bin. A thin shell over the public API: see `main.ts` for the dispatch and
 * `commands/` for each command.
 * @packageDocumentation
 */
import { runCli } from './main.js';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});

// Exit once stdout and stderr are flushed (pipes are asynchronous on some platforms), without
// waiting for work that no longer matters, such as hashes queued before a failure.
let pending = 2;
const done = () => {
  if (--pending === 0) process.exit(code);
};
process.stdout.write('', done);
process.stderr.write('', done);
