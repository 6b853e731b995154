import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let version: string | undefined;

/** The pack's own version, from its package.json: the first one up from here that is the pack's (dist/nodes/support or nodes/support). */
export function packVersion(): string {
  if (version !== undefined) return version;
  version = 'unknown';
  for (let dir = __dirname, up = 0; up < 5; dir = dirname(dir), up += 1) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === '@tectonic/node-red-hybrid' && typeof pkg.version === 'string') {
        version = pkg.version;
        break;
      }
    } catch {
      // not here: one folder up
    }
  }
  return version;
}

/**
 * Node-RED's version: RED.version() returns a string at runtime, whatever
 * @types/node-red says (a Promise); node-red-node-test-helper's RED has no
 * version at all, so it is read from Node-RED's package as a fallback.
 */
export function nodeRedVersion(RED: object): string {
  const version = (RED as { version?: unknown }).version;
  const v: unknown = typeof version === 'function' ? (version as () => unknown)() : undefined;
  if (typeof v === 'string') return v;
  try {
    const pkg = JSON.parse(readFileSync(require.resolve('node-red/package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
