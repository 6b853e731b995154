// `npm run bench`: every bench/*.bench.ts in turn, one process each so one
// benchmark's garbage does not weigh on the next. Each prints its own figures.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Flags (e.g. --json, for the pipeline bench) are passed on to each bench; the other arguments filter the files.
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const flags = args.filter((a) => a.startsWith('--'));
const benches = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts') && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();
let failed = 0;
for (const file of benches) {
  // With --json, stdout is left to the benches' JSON.
  (flags.includes('--json') ? console.error : console.log)(`\n== ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join('bench', file), ...flags], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
