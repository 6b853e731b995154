import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const PACKAGE_NAME = '@tectonic/node-red-hybrid';

/**
 * The pack's version for `tectonic --version`, read from its package.json.
 * Found by walking up from this file because it runs both compiled
 * (dist/lib/cli) and from source under tsx (lib/cli), at different depths.
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from, depth = 0; depth < 6; dir = dirname(dir), depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no package.json at this level: keep walking up
    }
    if (dirname(dir) === dir) break;
  }
  return 'unknown';
}
