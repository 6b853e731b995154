// Runs the test files under test/ with mocha (.mocharc.json: TypeScript
// through tsx, should loaded first, the closing "N passed, N failed" line).
// Arguments that are not flags select the files whose path contains one of
// them; flags (--grep, --bail, ...) go to mocha as they are. Files run one at
// a time in one process: the machines have two cores and many tests start
// brokers and Node-RED processes.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flags = [];
const parts = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (!arg.startsWith('-')) parts.push(arg);
  else {
    flags.push(arg);
    // the flags that take a value as the next argument
    if (['--grep', '-g', '--fgrep', '-f', '--timeout', '-t', '--reporter', '-R'].includes(arg) && i + 1 < args.length) flags.push(args[++i]);
  }
}

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

let files = collect(join(root, 'test'));
if (parts.length > 0) files = files.filter((f) => parts.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(2);
}
const mocha = join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
const result = spawnSync(process.execPath, [mocha, ...flags, ...files], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
