import { describeReasons } from '../reasons';
import { parseRefresh, refreshMs, requestTimeoutMs } from '../sources/refresh-interval';
import { type EnvLookup, typedField } from '../sources/typed-field';
import { checkCatalogUrl } from './catalog-source';
import { splitPublicKeys } from '../policy/site-policy';
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
  /** A file of trusted public keys (PEM), for a site that reads its catalog from a URL or the bus. */
  publicKeyFile?: string;
  publicKeyFileType?: string;
}

/** The node's credentials and the one runtime call the settings need; tectonic-policy's shape. */
export interface CatalogTrustContext {
  credentials?: { publicKeys?: string; signingKey?: string } | undefined;
  readKeyFile(path: string): string;
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
  /** PEM public keys; when any is given, a URL or bus source takes only catalogs signed by one of them (issue 20). */
  trustedKeys: string[];
  /** PEM private key a central instance signs what it publishes with (a format 2 bundle). */
  signingKey?: string;
  /** The tectonic-bus config a central instance publishes the catalog to. */
  publishToBus?: string;
}

/** Default poll intervals in seconds: a folder is cheap to read, a URL costs the central server. */
export const DEFAULT_CATALOG_REFRESH_S = { folder: 10, url: 60 } as const;

/** A cdm-catalog's settings, or the first problem with them in the words its log and users show. */
export function parseCatalogSettings(
  config: CatalogConfigFields,
  env: EnvLookup,
  trust: CatalogTrustContext = { readKeyFile: () => '' },
): { ok: true; value: CatalogSettings } | { ok: false; problem: string } {
  const policy: CompatibilityPolicy = config.policy === 'LENIENT' ? 'LENIENT' : 'STRICT';
  const refresh = parseRefresh(config.refresh);
  if (!refresh.ok) return refresh;
  const trustedKeys = splitPublicKeys(trust.credentials?.publicKeys ?? '');
  const keyFile = typedField(config.publicKeyFile, config.publicKeyFileType, 'public key file', env);
  if (!keyFile.ok) return keyFile;
  try {
    if (keyFile.text !== '') trustedKeys.push(...splitPublicKeys(trust.readKeyFile(keyFile.text)));
  } catch (err) {
    return { ok: false, problem: `cannot read a trusted public key: ${(err as Error).message}` };
  }
  const signingKey = trust.credentials?.signingKey?.trim();
  const publish = { ...(config.publishToBus ? { publishToBus: config.publishToBus } : {}), ...(signingKey ? { signingKey } : {}) };
  const kind = config.source || 'bundled';
  const settled = (source: CatalogSourceSettings): { ok: true; value: CatalogSettings } => ({ ok: true, value: { policy, source, trustedKeys, ...publish } });
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
