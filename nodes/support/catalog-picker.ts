import { join } from 'node:path';
import type { NodeAPI } from 'node-red';
import { type CatalogListing, listCatalogOnce, listEntities } from '../../lib/catalog/catalog-listing';
import { type CatalogConfigFields, parseCatalogSettings } from '../../lib/catalog/catalog-settings';
import { FolderCatalogSource, UrlCatalogSource } from '../../lib/catalog/catalog-source';
import type { AdminRequest, AdminResponse } from './admin-http';
import { findCatalog } from './catalog-config';

/** The sample catalog shipped in the package: dist/nodes/support/../../../cdm. */
const BUNDLED_DIR = join(__dirname, '..', '..', '..', 'cdm');
/** A dialog waits for this; a URL that takes longer is a reason, not a hung request. */
const PICKER_TIMEOUT_MS = 10_000;

interface PickerRequest extends AdminRequest {
  headers?: Record<string, string | string[] | undefined>;
}

const served = new WeakSet<object>();

function refusal(path: string, rule: string, message: string): CatalogListing {
  return { ok: false, reasons: [{ path, rule, message }] };
}

/**
 * The entities and versions of a cdm-catalog config as drafted in the editor
 * (its fields, POSTed as JSON), so a dialog's picker works before the first
 * deploy. A bundled, folder or URL catalog is read once, here; a catalog on
 * the bus is only known once a deployed config has received it.
 */
export async function listDraftedCatalog(RED: NodeAPI, draft: CatalogConfigFields & { id?: unknown }): Promise<CatalogListing> {
  const settings = parseCatalogSettings(draft, (name) => RED.util.evaluateNodeProperty(name, 'env', null as never, {}) as string | undefined);
  if (!settings.ok) return refusal('', 'config', settings.problem);
  const source = settings.value.source;
  switch (source.kind) {
    case 'bundled':
      return listCatalogOnce(new FolderCatalogSource({ dir: BUNDLED_DIR, intervalMs: 0, origin: 'the bundled sample catalog' }), PICKER_TIMEOUT_MS);
    case 'folder':
      return listCatalogOnce(new FolderCatalogSource({ dir: source.dir, intervalMs: 0 }), PICKER_TIMEOUT_MS);
    case 'url':
      return listCatalogOnce(new UrlCatalogSource({ url: source.url, intervalMs: 0, timeoutMs: PICKER_TIMEOUT_MS }), PICKER_TIMEOUT_MS);
    case 'bus': {
      const found = typeof draft.id === 'string' ? findCatalog(RED, draft.id) : undefined;
      const snapshot = found !== undefined && 'catalog' in found ? found.catalog.snapshot : undefined;
      if (snapshot === undefined) return refusal('source', 'not-deployed', 'a catalog read from the bus is listed once the config is deployed and has received it');
      return { ok: true, origin: 'the bus', entities: listEntities(snapshot.catalog) };
    }
  }
}

/** POST /tectonic/catalogs/draft/entities: JSON only (a form post from another page cannot reach it). */
export function serveCatalogPicker(RED: NodeAPI): void {
  if (served.has(RED.httpAdmin)) return;
  served.add(RED.httpAdmin);
  // Write permission: the draft names a folder or URL that this server reads.
  RED.httpAdmin.post('/tectonic/catalogs/draft/entities', RED.auth.needsPermission('cdm-catalog.write'), (req: PickerRequest, res: AdminResponse) => {
    const type = req.headers?.['content-type'];
    if (typeof type !== 'string' || !/^application\/json\b/i.test(type)) {
      res.status(415).json({ message: 'send the drafted cdm-catalog fields as application/json' });
      return;
    }
    const body = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      res.status(400).json({ message: 'send the drafted cdm-catalog fields as a JSON object' });
      return;
    }
    const fields = body as Record<string, unknown>;
    const draft: CatalogConfigFields & { id?: unknown } = { id: fields.id };
    for (const key of ['source', 'folder', 'folderType', 'url', 'urlType', 'bus', 'refresh', 'policy'] as const) {
      const value = fields[key];
      if (value !== undefined && value !== null && typeof value !== 'string') {
        res.status(400).json({ message: `${key} must be text` });
        return;
      }
      if (typeof value === 'string') draft[key] = value;
    }
    listDraftedCatalog(RED, draft).then(
      (listing) => res.json(listing),
      (err: unknown) => res.json(refusal('', 'unreadable', err instanceof Error ? err.message : String(err))),
    );
  });
}
