import { parseRefresh, refreshMs, requestTimeoutMs } from '../sources/refresh-interval';
import { type EnvLookup, typedField } from '../sources/typed-field';
import { checkPolicyUrl, policyTopic } from './policy-source';
import { splitPublicKeys } from './site-policy';
import { DEFAULT_MAX_BUNDLE_BYTES } from './trust';

/** The fields of a tectonic-policy config node, as the editor saves them. */
export interface PolicyConfigFields {
  source?: string;
  file?: string;
  fileType?: string;
  url?: string;
  urlType?: string;
  bus?: string;
  bundle?: string;
  bundleType?: string;
  refresh?: string;
  site?: string;
  siteType?: string;
  publicKeyFile?: string;
  publicKeyFileType?: string;
  trustDemoKey?: boolean | string;
  maxBytes?: string;
  publishToBus?: string;
}

export type PolicySourceSettings =
  | { kind: 'bundled' }
  | { kind: 'file'; path: string; intervalMs: number }
  | { kind: 'url'; url: string; intervalMs: number; timeoutMs: number }
  /** `bus`: the id of the tectonic-bus config to read the retained bundle on `topic` from. */
  | { kind: 'bus'; bus: string | undefined; topic: string };

export interface PolicySettings {
  site: string;
  maxBundleBytes: number;
  /** '' when the config names none (any bundle id is accepted, except from the bus). */
  bundleId: string;
  /** PEM public keys: the credential's, the key file's, and the demo key when asked for by name. */
  trustedKeys: string[];
  trustsDemoKey: boolean;
  hashKey: string | undefined;
  source: PolicySourceSettings;
  /** The tectonic-bus config a central instance publishes each bundle to. */
  publishToBus?: string;
}

/** What the settings need from outside the config: the environment, the credentials and the key files. */
export interface PolicySettingsContext {
  env: EnvLookup;
  credentials: { publicKeys?: string; hashKey?: string } | undefined;
  /** TECTONIC_POLICY_HASH_KEY: the hash key of every policy on the site when the credential is empty. */
  hashKeyVariable: string | undefined;
  /** Reads a PEM file; throws when it cannot. */
  readKeyFile(path: string): string;
  /** The demo public key shipped in the package. */
  demoKeyFile: string;
}

/**
 * `trustsDemoKey` on a refusal: the demo key was already trusted when a
 * later setting failed, and the adapter still warns of it, as it did when it
 * checked the settings one by one.
 */
export type ParsedPolicySettings = { ok: true; value: PolicySettings } | { ok: false; problem: string; trustsDemoKey: boolean };

/** Default poll intervals in seconds: a file is cheap to read, a URL costs the central server. */
export const DEFAULT_POLICY_REFRESH_S = { file: 10, url: 60 } as const;

/**
 * The demo's hash key when the site set none, so the bundled bundle's hash
 * masks work in the example. It is public, so its hashes can be reversed by
 * guessing: one more reason the demo mode is never for production.
 */
export const DEMO_HASH_KEY = 'tectonic-demo-hash-key-public-never-use-in-production';

/** A tectonic-policy's settings, or the first problem with them in the words its log and the gates show. */
export function parsePolicySettings(config: PolicyConfigFields, context: PolicySettingsContext): ParsedPolicySettings {
  let trustsDemoKey = false;
  const refuse = (problem: string): ParsedPolicySettings => ({ ok: false, problem, trustsDemoKey });
  const typed = (value: string | undefined, type: string | undefined, field: string): { ok: true; text: string } | { ok: false; problem: string } =>
    typedField(value, type, field, context.env);

  const site = typed(config.site ?? 'SITE_ID', config.siteType ?? 'env', 'site id');
  if (!site.ok) return refuse(site.problem);
  if (site.text === '') return refuse('site id: a site id is required (rules may be scoped to sites)');
  const refresh = parseRefresh(config.refresh);
  if (!refresh.ok) return refuse(refresh.problem);
  const maxText = (config.maxBytes ?? '').trim();
  if (maxText !== '' && !/^[1-9]\d*$/.test(maxText)) return refuse(`max bundle size must be a whole number of bytes, got "${maxText}"`);
  const maxBundleBytes = maxText === '' ? DEFAULT_MAX_BUNDLE_BYTES : Number(maxText);
  const bundleId = typed(config.bundle, config.bundleType, 'bundle id');
  if (!bundleId.ok) return refuse(bundleId.problem);

  const demo = config.trustDemoKey === true || config.trustDemoKey === 'true';
  const trustedKeys = splitPublicKeys(context.credentials?.publicKeys ?? '');
  const keyFile = typed(config.publicKeyFile, config.publicKeyFileType, 'public key file');
  if (!keyFile.ok) return refuse(keyFile.problem);
  try {
    if (keyFile.text !== '') trustedKeys.push(...splitPublicKeys(context.readKeyFile(keyFile.text)));
    if (demo) trustedKeys.push(...splitPublicKeys(context.readKeyFile(context.demoKeyFile)));
  } catch (err) {
    return refuse(`cannot read a trusted public key: ${(err as Error).message}`);
  }
  trustsDemoKey = demo;
  const hashKey = context.credentials?.hashKey || context.hashKeyVariable || (demo ? DEMO_HASH_KEY : undefined);

  const settled = (source: PolicySourceSettings): ParsedPolicySettings => ({
    ok: true,
    value: { site: site.text, maxBundleBytes, bundleId: bundleId.text, trustedKeys, trustsDemoKey, hashKey, source, ...(config.publishToBus ? { publishToBus: config.publishToBus } : {}) },
  });
  const kind = config.source || 'file';
  switch (kind) {
    case 'bundled':
      return settled({ kind: 'bundled' });
    case 'file': {
      const path = typed(config.file, config.fileType, 'file');
      if (!path.ok) return refuse(path.problem);
      if (path.text === '') return refuse('file: the path of a signed bundle is required');
      return settled({ kind: 'file', path: path.text, intervalMs: refreshMs(refresh.seconds, DEFAULT_POLICY_REFRESH_S.file) });
    }
    case 'url': {
      const text = typed(config.url, config.urlType, 'url');
      if (!text.ok) return refuse(text.problem);
      const url = checkPolicyUrl(text.text);
      if (!url.ok) return refuse(url.reason.message);
      const intervalMs = refreshMs(refresh.seconds, DEFAULT_POLICY_REFRESH_S.url);
      return settled({ kind: 'url', url: url.url.href, intervalMs, timeoutMs: requestTimeoutMs(intervalMs) });
    }
    case 'bus': {
      if (bundleId.text === '') return refuse('bundle id: required for source bus (it names the topic tectonic/policy/{bundle})');
      const topic = policyTopic(bundleId.text);
      if (!topic.ok) return refuse(topic.reason.message);
      return settled({ kind: 'bus', bus: config.bus, topic: topic.topic });
    }
    default:
      return refuse(`source must be bundled, file, url or bus, got "${kind}"`);
  }
}
