#!/usr/bin/env node
import { createInterface, type Interface } from 'node:readline/promises';
import { runCli } from '../lib/cli/main';

let prompts: Interface | undefined;
/** Questions at a terminal only; piped input is read whole by the command. */
const ask = process.stdin.isTTY
  ? async (question: string): Promise<string | undefined> => {
      prompts ??= createInterface({ input: process.stdin, output: process.stderr });
      return prompts.question(question);
    }
  : undefined;

// Only process wiring lives here; commands are in lib/cli so tests can run
// them with an in-memory io. exitCode rather than exit() lets stdout drain
// when it is a pipe.
runCli(process.argv.slice(2), {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  ask,
}).then(
  (code) => {
    prompts?.close();
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tectonic: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 2;
  },
);
