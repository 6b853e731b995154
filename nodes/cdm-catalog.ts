import { join } from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import { BusCatalogSource, FolderCatalogSource, UrlCatalogSource, checkCatalogUrl, publishCatalogToBus } from '../lib/catalog/catalog-source';
import type { CatalogSource } from '../lib/catalog/catalog-source';
import { CatalogStore } from '../lib/catalog/catalog-store';
import type { CatalogSnapshot } from '../lib/catalog/catalog-store';
import type { SharedBus } from '../lib/bus/shared-bus';
import { describeReasons } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { type AdminRequest, type AdminResponse, param } from './support/admin-http';
import { type CdmCatalogNode, findCatalog } from './support/catalog-config';

interface CdmCatalogDef extends NodeDef {
  source: string;
  folder: string;
  folderType: string;
  url: string;
  urlType: string;
  bus: string;
  refresh: string;
  publishToBus: string;
  policy: string;
}

/** The sample catalog shipped in the package: dist/nodes/../../cdm. */
const BUNDLED_DIR = join(__dirname, '..', '..', 'cdm');
const DEFAULT_REFRESH_S = { folder: 10, url: 60 } as const;
// Node-RED gives a node 15 s to close; a hung unsubscribe must not use it all.
const CLOSE_BOUND_MS = 5000;

export = function (RED: NodeAPI): void {
  function CdmCatalog(this: CdmCatalogNode, config: CdmCatalogDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => {
      this.problem = `cdm-catalog: ${problem}`;
      this.error(this.problem);
    };
    const typed = (value: string, type: string, field: string): string | undefined => {
      if (type !== 'env') return (value ?? '').trim();
      const resolved = String(RED.util.evaluateNodeProperty(value, 'env', this, {}) ?? '').trim();
      if (resolved === '') fail(`${field}: environment variable ${value} is not set`);
      return resolved === '' ? undefined : resolved;
    };

    const policy = config.policy === 'LENIENT' ? 'LENIENT' : 'STRICT';
    const kind = config.source || 'bundled';
    const refreshText = (config.refresh ?? '').trim();
    if (refreshText !== '' && !/^\d+(\.\d+)?$/.test(refreshText)) return fail(`refresh must be a number of seconds, got "${refreshText}"`);
    const refreshMs = (fallbackS: number): number => Math.max(100, Math.round((refreshText === '' ? fallbackS : Number(refreshText)) * 1000));

    let source: CatalogSource;
    switch (kind) {
      case 'bundled':
        // The package's own files never change while it runs: read once.
        source = new FolderCatalogSource({ dir: BUNDLED_DIR, intervalMs: 0, origin: 'the bundled sample catalog' });
        break;
      case 'folder': {
        const dir = typed(config.folder, config.folderType, 'folder');
        if (dir === undefined) return;
        if (dir === '') return fail('folder: a catalog folder is required');
        source = new FolderCatalogSource({ dir, intervalMs: refreshMs(DEFAULT_REFRESH_S.folder) });
        break;
      }
      case 'url': {
        const text = typed(config.url, config.urlType, 'url');
        if (text === undefined) return;
        const url = checkCatalogUrl(text);
        if (!url.ok) return fail(describeReasons(url.reasons));
        const intervalMs = refreshMs(DEFAULT_REFRESH_S.url);
        source = new UrlCatalogSource({ url: url.url.href, intervalMs, timeoutMs: Math.min(30_000, Math.max(1000, intervalMs)) });
        break;
      }
      case 'bus': {
        const found = findBus(RED, config.bus);
        if ('problem' in found) return fail(`source bus: ${found.problem}`);
        source = new BusCatalogSource(found.bus);
        break;
      }
      default:
        return fail(`source must be bundled, folder, url or bus, got "${kind}"`);
    }

    let publishBus: SharedBus | undefined;
    if (config.publishToBus) {
      const found = findBus(RED, config.publishToBus);
      // Publishing is for other sites; this instance can still validate with the catalog, so it only warns.
      if ('problem' in found) this.warn(`cdm-catalog: cannot publish the catalog to the bus: ${found.problem}`);
      else publishBus = found.bus;
    }

    const store = new CatalogStore({ policy });
    this.catalog = store;
    let closed = false;
    // One publication at a time, in order, so the newest bundle is the one left retained.
    let publishing: Promise<void> = Promise.resolve();
    const publish = (snapshot: CatalogSnapshot, bus: SharedBus): void => {
      publishing = publishing.then(async () => {
        if (closed) return;
        try {
          const { topics } = await publishCatalogToBus(bus, snapshot.catalog);
          this.log(`catalog ${snapshot.label} published to the bus: ${topics.length} retained messages`);
        } catch (err) {
          if (!closed) this.warn(`cdm-catalog: publishing catalog ${snapshot.label} to the bus failed: ${(err as Error).message}`);
        }
      });
    };

    source.start((event) => {
      if (closed) return;
      if (event.kind === 'unavailable') {
        this.warn(`cdm-catalog: ${source.origin}: ${describeReasons(event.reasons)}`);
        store.reportUnavailable(source.origin, event.reasons);
        return;
      }
      const previous = store.snapshot;
      const outcome = store.proposeFiles(event.files, source.origin, event.digest);
      if (!outcome.changed) return;
      if (outcome.ok) {
        const { snapshot } = outcome;
        const entities = [...snapshot.catalog.entities.values()].map((e) => `${e.name} ${e.versions.map((v) => v.version).join('/')}`).join(', ');
        this.log(`catalog ${snapshot.label} in force (${policy}) from ${source.origin}${previous ? `, replacing ${previous.label}` : ''}: ${entities}`);
        if (publishBus) publish(snapshot, publishBus);
        return;
      }
      const stays = previous ? `catalog ${previous.label} stays in force` : 'no catalog is in force';
      this.warn(`cdm-catalog: catalog from ${source.origin} refused, ${stays}:\n  ${outcome.reasons.map((r) => `${r.rule}${r.path ? ` at ${r.path}` : ''}: ${r.message}`).join('\n  ')}`);
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      store.close();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_BOUND_MS);
      });
      void Promise.race([Promise.all([source.close(), publishing]), bound]).then(() => {
        clearTimeout(timer);
        done();
      });
    });
  }

  // Explicit so `this` carries the node's own fields; no credentials.
  RED.nodes.registerType<CdmCatalogNode, CdmCatalogDef, unknown, Record<string, never>>('cdm-catalog', CdmCatalog);

  // Entity and version suggestions for edit dialogs (cdm-map's target), from a deployed cdm-catalog.
  RED.httpAdmin.get('/tectonic/catalogs/:id/entities', RED.auth.needsPermission('cdm-catalog.read'), (req: AdminRequest, res: AdminResponse) => {
    const found = findCatalog(RED, param(req, 'id'));
    const snapshot = 'catalog' in found ? found.catalog.snapshot : undefined;
    if (snapshot === undefined) {
      res.status(404).json({ message: 'problem' in found ? found.problem : 'the catalog has not loaded yet' });
      return;
    }
    res.json([...snapshot.catalog.entities.values()].map((e) => ({ name: e.name, versions: e.versions.map((v) => v.version) })));
  });
};
