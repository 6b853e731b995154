// Preloaded (`node --require`) into the tectonic runtime by the pipeline
// bench: SIGURG starts V8's sampling CPU profiler in the process (the
// inspector's in-process session: no port is opened), the next SIGURG stops
// it and writes the profile to $TECTONIC_BENCH_PROFILE_FILE. The profiler
// then runs only during the one phase the bench profiles, so the rounds it
// compares with Node-RED itself are not slowed by it. SIGURG because its
// default is to be ignored and Node-RED takes SIGUSR2 as "stop" (nodemon's
// restart).
//
// The preload is CommonJS written out by the bench into its scratch folder,
// so the runtime loads it with `--require` and no TypeScript loader.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PRELOAD = `'use strict';
const inspector = require('node:inspector');
const { writeFileSync, renameSync } = require('node:fs');

const file = process.env.TECTONIC_BENCH_PROFILE_FILE;
const intervalUs = Number(process.env.TECTONIC_BENCH_PROFILE_INTERVAL_US || 250);
// TECTONIC_BENCH_PROFILE_KIND=heap: a sampling heap profile of the phase's allocations instead.
const heap = process.env.TECTONIC_BENCH_PROFILE_KIND === 'heap';
let session;

if (file) {
  process.on('SIGURG', () => {
    if (session === undefined) {
      session = new inspector.Session();
      session.connect();
      if (heap) {
        // Every allocation sampled, also of objects collected since: what makes the collector run.
        session.post('HeapProfiler.enable');
        session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        return;
      }
      session.post('Profiler.enable');
      session.post('Profiler.setSamplingInterval', { interval: intervalUs });
      session.post('Profiler.start');
      return;
    }
    const s = session;
    session = undefined;
    s.post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop', (err, result) => {
      // Written aside and renamed, so the bench never reads half a file.
      if (!err) {
        writeFileSync(\`\${file}.part\`, JSON.stringify(result.profile));
        renameSync(\`\${file}.part\`, file);
      }
      s.disconnect();
    });
  });
}
`;

/** Writes the preload into `dir`; returns its path, for `node --require`. */
export async function writeProfilePreload(dir: string): Promise<string> {
  const file = join(dir, 'profile-on-signal.cjs');
  await writeFile(file, PRELOAD);
  return file;
}
