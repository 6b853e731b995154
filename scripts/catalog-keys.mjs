// The runtime asks for its texts by key (t('bus-publish.status.sent') in
// nodes/**/*.ts); a key with a typo would show as the key under a node, so the
// build checks each one against the en-US catalogs and fails instead.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

/** Option names i18next reads from the parameters object: a `__count__` blank would change the lookup, not be filled. */
const I18NEXT_OPTIONS = ['count', 'context', 'lng', 'lngs', 'ns', 'defaultValue', 'replace', 'ordinal', 'returnObjects', 'joinArrays', 'postProcess', 'interpolation', 'keySeparator', 'nsSeparator'];

function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function lookup(catalog, path) {
  let at = catalog;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, part)) return undefined;
    at = at[part];
  }
  return at;
}

/**
 * Problems with the catalog keys the runtime code under `<root>/nodes` uses:
 * a key missing from `nodes/locales/en-US/<set>.json` or naming an object; a
 * key built at run time (it cannot be checked); a key of the form
 * `<node>.<path>` outside `nodes/<node>.ts`, where the RED in use would look
 * it up in another node set's namespace; a blank named after an i18next option.
 */
export function catalogKeyProblems(root) {
  const nodesDir = join(root, 'nodes');
  const localeDir = join(nodesDir, 'locales', 'en-US');
  const catalogs = new Map();
  const catalog = (set) => {
    if (!catalogs.has(set)) {
      let parsed;
      try {
        parsed = JSON.parse(readFileSync(join(localeDir, `${set}.json`), 'utf8'));
      } catch {
        parsed = undefined;
      }
      catalogs.set(set, parsed);
    }
    return catalogs.get(set);
  };
  const problems = [];
  for (const file of tsFiles(nodesDir)) {
    const where = relative(root, file);
    const source = readFileSync(file, 'utf8');
    const ownSet = relative(nodesDir, file).includes('/') ? undefined : basename(file, '.ts');
    const keys = [];
    for (const m of source.matchAll(/\bt\(\s*([`'"])([^`'"]*)\1/g)) {
      if (m[1] === '`') problems.push(`${where}: t(\`${m[2]}\`) builds its key at run time; use a literal key`);
      else keys.push(m[2]);
    }
    // Keys of another set's catalog, also where they are handed to t() later (findConfig's problem keys).
    for (const m of source.matchAll(/'([a-z][a-z-]*):([a-z][a-z-]*(?:\.[A-Za-z0-9_-]+)+)'/g)) keys.push(`${m[1]}:${m[2]}`);
    for (const key of new Set(keys)) {
      const colon = key.indexOf(':');
      const set = colon < 0 ? key.slice(0, key.indexOf('.')) : key.slice(0, colon);
      const path = colon < 0 ? key : key.slice(colon + 1);
      if (colon < 0 && set !== ownSet) {
        problems.push(`${where}: '${key}' must be written '${set}:${key}' here, outside nodes/${set}.ts`);
        continue;
      }
      const texts = catalog(set);
      if (texts === undefined) {
        problems.push(`${where}: '${key}' names nodes/locales/en-US/${set}.json, which is missing or not JSON`);
        continue;
      }
      const text = lookup(texts, path);
      if (typeof text !== 'string') {
        problems.push(`${where}: '${key}' is ${text === undefined ? 'not in' : 'not a text in'} nodes/locales/en-US/${set}.json`);
        continue;
      }
      for (const blank of text.matchAll(/__([A-Za-z0-9_]+?)__/g)) {
        if (I18NEXT_OPTIONS.includes(blank[1])) problems.push(`${where}: '${key}' has the blank __${blank[1]}__, an i18next option name`);
      }
    }
  }
  return problems;
}
