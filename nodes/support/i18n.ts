import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';

/** Parameters for a message: `__name__` in the text is replaced by `params.name`, as Node-RED's i18next does. */
export type MessageParams = Record<string, string | number>;
export type Translate = (key: string, params?: MessageParams) => string;

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

function lookup(catalog: Record<string, unknown>, key: string): string | undefined {
  let at: unknown = catalog;
  for (const part of key.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return typeof at === 'string' ? at : undefined;
}

function interpolate(text: string, params: MessageParams | undefined): string {
  if (params === undefined) return text;
  return text.replace(/__([A-Za-z0-9_]+?)__/g, (whole, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
}

/**
 * Runtime status and log text through `RED._`, with the node set's en-US
 * catalog as the fallback. Node-RED answers a key it has no text for with the
 * key itself, and node-red-node-test-helper's RED does so for every key; a
 * technician must never read `bus-publish.status.full` under a node, so the
 * English text from the same catalog the editor reads stands in.
 *
 * `key` is `<node>.<path>` in that node's own catalog, or
 * `<other node>:<node>.<path>` for a text shared from another node's catalog
 * (the bus states live in tectonic-bus.json).
 */
export function translator(RED: Pick<NodeAPI, '_'>): Translate {
  return (key, params) => {
    const colon = key.indexOf(':');
    const file = colon < 0 ? key.slice(0, key.indexOf('.')) : key.slice(0, colon);
    const path = colon < 0 ? key : key.slice(colon + 1);
    const runtimeKey = colon < 0 ? key : `@tectonic/node-red-hybrid/${file}:${path}`;
    const text = RED._(runtimeKey, params);
    if (typeof text === 'string' && text !== runtimeKey && text !== path) return text;
    const english = lookup(englishCatalog(file), path);
    return english === undefined ? key : interpolate(english, params);
  };
}
