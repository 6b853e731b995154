import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';

/**
 * Parameters for a message: `__name__` in the text is replaced by `params.name`, as Node-RED's i18next does.
 * i18next reads some option names from the same object (`count`, `context`, `lng`, `ns`, `defaultValue`,
 * `replace`, ...): a parameter must not use one, or it changes the lookup instead of filling a blank.
 */
export type MessageParams = Record<string, string | number>;
export type Translate = (key: string, params?: MessageParams) => string;

/** Node-RED registers each node set's catalog as `<module>/<set>` (@node-red/registry loadNodeLocales). */
export const CATALOG_NAMESPACE_PREFIX = '@tectonic/node-red-hybrid/';

const catalogs = new Map<string, Record<string, unknown>>();

/** The en-US catalog of one node set, read once from the locales folder the build puts beside the compiled nodes. */
function englishCatalog(file: string): Record<string, unknown> {
  let catalog = catalogs.get(file);
  if (catalog === undefined) {
    try {
      catalog = JSON.parse(readFileSync(join(__dirname, '..', 'locales', 'en-US', `${file}.json`), 'utf8')) as Record<string, unknown>;
    } catch {
      catalog = {};
    }
    catalogs.set(file, catalog);
  }
  return catalog;
}

function lookup(catalog: Record<string, unknown>, path: string): string | undefined {
  let at: unknown = catalog;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return typeof at === 'string' ? at : undefined;
}

/** `text` cut at its `__name__` blanks: even entries are literal text, odd ones the names of the blanks. */
function blanks(text: string): string[] {
  return text.split(/__([A-Za-z0-9_]+?)__/);
}

/** Fills the blanks (one with no parameter stays as written); a loop over the cut text, not a regex per call. */
function interpolate(parts: readonly string[], params: MessageParams | undefined): string {
  let text = parts[0] ?? '';
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i] ?? '';
    text += params !== undefined && Object.hasOwn(params, name) ? String(params[name]) : `__${name}__`;
    text += parts[i + 1] ?? '';
  }
  return text;
}

/** A key taken apart once: status texts are asked for on every update, with the same few keys. */
interface ParsedKey {
  /** What RED._ is asked for. */
  readonly runtimeKey: string;
  /** The key inside its catalog, which Node-RED's i18next returns when it has no text. */
  readonly path: string;
  /** The en-US text cut at its blanks; undefined when the catalog has none. */
  readonly english: readonly string[] | undefined;
}

const parsedKeys = new Map<string, ParsedKey>();

function parseKey(key: string): ParsedKey {
  let parsed = parsedKeys.get(key);
  if (parsed === undefined) {
    const colon = key.indexOf(':');
    const file = colon < 0 ? key.slice(0, key.indexOf('.')) : key.slice(0, colon);
    const path = colon < 0 ? key : key.slice(colon + 1);
    const english = lookup(englishCatalog(file), path);
    parsed = {
      // A key of the node's own set goes as it is: the RED a node set receives prefixes its own namespace.
      runtimeKey: colon < 0 ? key : `${CATALOG_NAMESPACE_PREFIX}${file}:${path}`,
      path,
      english: english === undefined ? undefined : blanks(english),
    };
    parsedKeys.set(key, parsed);
  }
  return parsed;
}

/**
 * Runtime status and log text through `RED._`, with the node set's en-US
 * catalog as the fallback. Node-RED answers a key it has no text for with the
 * key itself, and node-red-node-test-helper's RED does so for every key; a
 * technician must never read `bus-publish.status.full` under a node, so the
 * English text from the same catalog the editor reads stands in.
 *
 * `key` is `<node>.<path>` in the catalog of the node set whose RED this is,
 * or `<file>:<node>.<path>` for a text from another set's catalog (the bus
 * states live in tectonic-bus.json; nodes/support uses this form throughout,
 * since it runs with whichever node's RED).
 */
export function translator(RED: Pick<NodeAPI, '_'>): Translate {
  return (key, params) => {
    const parsed = parseKey(key);
    const text = RED._(parsed.runtimeKey, params);
    if (typeof text === 'string' && text !== parsed.runtimeKey && text !== parsed.path) return text;
    return parsed.english === undefined ? key : interpolate(parsed.english, params);
  };
}
