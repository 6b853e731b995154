import { describeReasons } from '../reasons';
import { parseRefresh, refreshMs, requestTimeoutMs } from '../sources/refresh-interval';
import { type EnvLookup, typedField } from '../sources/typed-field';
import { checkCatalogUrl } from './catalog-source';
import type { CompatibilityPolicy } from './types';

/** The fields of a cdm-catalog config node, as the editor saves them. */
export interface CatalogConfigFields {
  source?: string;
  folder?: string;
  folderType?: string;
  url?: string;
  urlType?: string;
  bus?: string;
  refresh?: string;
  publishToBus?: string;
  policy?: string;
}

export type CatalogSourceSettings =
  | { kind: 'bundled' }
  | { kind: 'folder'; dir: string; intervalMs: number }
  | { kind: 'url'; url: string; intervalMs: number; timeoutMs: number }
  /** `bus`: the id of the tectonic-bus config to read from. */
  | { kind: 'bus'; bus: string | undefined };

export interface CatalogSettings {
  policy: CompatibilityPolicy;
  source: CatalogSourceSettings;
  /** The tectonic-bus config a central instance publishes the catalog to. */
  publishToBus?: string;
}

/** Default poll intervals in seconds: a folder is cheap to read, a URL costs the central server. */
export const DEFAULT_CATALOG_REFRESH_S = { folder: 10, url: 60 } as const;

/** A cdm-catalog's settings, or the first problem with them in the words its log and users show. */
export function parseCatalogSettings(config: CatalogConfigFields, env: EnvLookup): { ok: true; value: CatalogSettings } | { ok: false; problem: string } {
  const policy: CompatibilityPolicy = config.policy === 'LENIENT' ? 'LENIENT' : 'STRICT';
  const refresh = parseRefresh(config.refresh);
  if (!refresh.ok) return refresh;
  const publish = config.publishToBus ? { publishToBus: config.publishToBus } : {};
  const kind = config.source || 'bundled';
  const settled = (source: CatalogSourceSettings): { ok: true; value: CatalogSettings } => ({ ok: true, value: { policy, source, ...publish } });
  switch (kind) {
    case 'bundled':
      return settled({ kind });
    case 'folder': {
      const dir = typedField(config.folder, config.folderType, 'folder', env);
      if (!dir.ok) return dir;
      if (dir.text === '') return { ok: false, problem: 'folder: a catalog folder is required' };
      return settled({ kind, dir: dir.text, intervalMs: refreshMs(refresh.seconds, DEFAULT_CATALOG_REFRESH_S.folder) });
    }
    case 'url': {
      const text = typedField(config.url, config.urlType, 'url', env);
      if (!text.ok) return text;
      const url = checkCatalogUrl(text.text);
      if (!url.ok) return { ok: false, problem: describeReasons(url.reasons) };
      const intervalMs = refreshMs(refresh.seconds, DEFAULT_CATALOG_REFRESH_S.url);
      return settled({ kind, url: url.url.href, intervalMs, timeoutMs: requestTimeoutMs(intervalMs) });
    }
    case 'bus':
      return settled({ kind, bus: config.bus });
    default:
      return { ok: false, problem: `source must be bundled, folder, url or bus, got "${kind}"` };
  }
}
