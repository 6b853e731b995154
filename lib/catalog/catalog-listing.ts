import type { Reason } from '../reasons';
import { loadCatalogFromFiles } from './catalog-loader';
import type { Catalog } from './catalog-model';
import type { CatalogSource } from './catalog-source';

/** One entity as an edit dialog's picker lists it: its name and versions, oldest first. */
export interface EntityListing {
  name: string;
  title?: string;
  versions: string[];
}

export type CatalogListing = { ok: true; origin: string; entities: EntityListing[] } | { ok: false; reasons: Reason[] };

export function listEntities(catalog: Catalog): EntityListing[] {
  return [...catalog.entities.values()]
    .map((e) => ({ name: e.name, ...(e.title !== undefined ? { title: e.title } : {}), versions: e.versions.map((v) => v.version) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Reads a catalog source once (the edit dialog's picker, before any deploy):
 * the first thing the source reports, files or unavailable, within
 * `timeoutMs`, and the source closed whatever happened.
 */
export async function listCatalogOnce(source: CatalogSource, timeoutMs: number): Promise<CatalogListing> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const first = await new Promise<CatalogListing>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reasons: [{ path: source.origin, rule: 'timeout', message: `${source.origin}: no catalog within ${timeoutMs} ms` }] }), timeoutMs);
      source.start((event) => {
        if (event.kind === 'unavailable' || event.kind === 'refused') {
          resolve({ ok: false, reasons: event.reasons });
          return;
        }
        const loaded = loadCatalogFromFiles(event.files);
        resolve(loaded.ok ? { ok: true, origin: source.origin, entities: listEntities(loaded.catalog) } : { ok: false, reasons: loaded.reasons });
      });
    });
    return first;
  } finally {
    clearTimeout(timer);
    await source.close();
  }
}
