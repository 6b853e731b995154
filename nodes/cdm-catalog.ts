import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { type CatalogConfigFields, type CatalogSourceSettings, parseCatalogSettings } from '../lib/catalog/catalog-settings';
import { BusCatalogSource, FolderCatalogSource, UrlCatalogSource, publishCatalogToBus } from '../lib/catalog/catalog-source';
import type { CatalogSource } from '../lib/catalog/catalog-source';
import { SiteCatalog, type SiteCatalogOptions } from '../lib/catalog/site-catalog';
import { closeWithin } from '../lib/close-within';
import { findBus } from './support/bus-config';
import { type AdminRequest, type AdminResponse, param } from './support/admin-http';
import { type CdmCatalogNode, findCatalog } from './support/catalog-config';
import { serveCatalogPicker } from './support/catalog-picker';
import { translator } from './support/i18n';
import { nodeCounters } from './support/stats';

type CdmCatalogDef = NodeDef & CatalogConfigFields;
interface CatalogCredentials {
  publicKeys?: string;
  signingKey?: string;
}

/** The sample catalog shipped in the package: dist/nodes/../../cdm. */
const BUNDLED_DIR = join(__dirname, '..', '..', 'cdm');

export = function (RED: NodeAPI): void {
  const t = translator(RED);
  /** The source the settings name; reading from the bus makes the node one of the bus's users. */
  function openSource(node: Node, source: CatalogSourceSettings, trustedKeys: string[]): CatalogSource | { problem: string } {
    switch (source.kind) {
      case 'bundled':
        // The package's own files never change while it runs: read once.
        return new FolderCatalogSource({ dir: BUNDLED_DIR, intervalMs: 0, origin: t('cdm-catalog.origin.bundled') });
      case 'folder':
        return new FolderCatalogSource({ dir: source.dir, intervalMs: source.intervalMs });
      case 'url':
        return new UrlCatalogSource({ url: source.url, intervalMs: source.intervalMs, timeoutMs: source.timeoutMs, trustedKeys });
      case 'bus': {
        const found = findBus(RED, source.bus, node);
        return 'problem' in found ? { problem: t('cdm-catalog.errors.sourceBus', { problem: found.problem }) } : new BusCatalogSource(found.bus, { trustedKeys });
      }
    }
  }

  function CdmCatalog(this: CdmCatalogNode & { credentials?: CatalogCredentials }, config: CdmCatalogDef): void {
    RED.nodes.createNode(this, config);
    const fail = (problem: string): void => {
      this.problem = t('cdm-catalog.errors.problem', { problem });
      this.error(this.problem);
    };
    const env = (value: string): string => String(RED.util.evaluateNodeProperty(value, 'env', this, {}) ?? '');
    const settings = parseCatalogSettings(config, env, { credentials: this.credentials, readKeyFile: (path) => readFileSync(path, 'utf8') });
    if (!settings.ok) return fail(settings.problem);
    const source = openSource(this, settings.value.source, settings.value.trustedKeys);
    if ('problem' in source) return fail(source.problem);

    let publish: SiteCatalogOptions['publish'];
    if (settings.value.publishToBus !== undefined) {
      const found = findBus(RED, settings.value.publishToBus, this);
      // Publishing is for other sites; this instance can still validate with the catalog, so it only warns.
      if ('problem' in found) this.warn(t('cdm-catalog.warnings.cannotPublish', { problem: found.problem }));
      else {
        const { signingKey } = settings.value;
        // The centre's clock in ms as the sequence: it only increases across restarts, with no state to keep.
        publish = (catalog) => publishCatalogToBus(found.bus, catalog, signingKey ? { privateKey: signingKey, sequence: Date.now() } : undefined);
      }
    }

    const catalog = new SiteCatalog({
      source,
      policy: settings.value.policy,
      ...(publish ? { publish } : {}),
      log: { info: (m) => this.log(m), warn: (m) => this.warn(t('cdm-catalog.errors.problem', { problem: m })) },
    });
    this.catalog = catalog;
    // Catalogs put in force and versions refused, for the stats and metrics endpoints.
    let inForce: unknown;
    let issue: unknown;
    const counters = nodeCounters(RED, this, '', { levels: () => ({ ready: catalog.snapshot === undefined ? 0 : 1 }) });
    const stopCounting = catalog.onState((state) => {
      if (state.kind === 'ready' && state.snapshot !== inForce) counters.count('loaded');
      if (state.issue !== undefined && state.issue !== issue) counters.count(state.issue.kind);
      inForce = state.kind === 'ready' ? state.snapshot : undefined;
      issue = state.issue;
    });
    catalog.start();
    this.on('close', (_removed: boolean, done: () => void) => {
      stopCounting();
      void closeWithin(catalog.close()).then(done);
    });
  }

  RED.nodes.registerType<CdmCatalogNode, CdmCatalogDef, unknown, CatalogCredentials>('cdm-catalog', CdmCatalog, {
    credentials: { publicKeys: { type: 'text' }, signingKey: { type: 'password' } },
  });

  serveCatalogPicker(RED);

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
