import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeAPI, NodeDef } from 'node-red';
import type { SharedBus } from '../lib/bus/shared-bus';
import { BusPolicySource, FilePolicySource, PolicyCache, UrlPolicySource, checkPolicyUrl, policyTopic, publishPolicyToBus } from '../lib/policy/policy-source';
import type { PolicySource } from '../lib/policy/policy-source';
import { SitePolicy, splitPublicKeys } from '../lib/policy/site-policy';
import { DEFAULT_MAX_BUNDLE_BYTES } from '../lib/policy/trust';
import { closeWithin } from '../lib/close-within';
import { parseRefresh, refreshMs, requestTimeoutMs } from '../lib/sources/refresh-interval';
import { findBus } from './support/bus-config';
import type { PolicyCredentials, TectonicPolicyNode } from './support/policy-config';
import { stateDir } from './support/user-dir';

interface TectonicPolicyDef extends NodeDef {
  source: string;
  file: string;
  fileType: string;
  url: string;
  urlType: string;
  bus: string;
  bundle: string;
  bundleType: string;
  refresh: string;
  site: string;
  siteType: string;
  publicKeyFile: string;
  publicKeyFileType: string;
  trustDemoKey: boolean | string;
  maxBytes: string;
  publishToBus: string;
}

/** The package's own policies/ folder: dist/nodes/../../policies. */
const POLICIES_DIR = join(__dirname, '..', '..', 'policies');
const BUNDLED_BUNDLE = join(POLICIES_DIR, 'central-default.signed.json');
const DEMO_PUBLIC_KEY = join(POLICIES_DIR, 'demo-policy.pub');
/**
 * The demo's hash key when the site set none, so the bundled bundle's hash
 * masks work in the example. It is public, so its hashes can be reversed by
 * guessing: one more reason the demo mode is never for production.
 */
const DEMO_HASH_KEY = 'tectonic-demo-hash-key-public-never-use-in-production';
const HASH_KEY_ENV = 'TECTONIC_POLICY_HASH_KEY';
const DEFAULT_REFRESH_S = { file: 10, url: 60 } as const;

export = function (RED: NodeAPI): void {
  function TectonicPolicy(this: TectonicPolicyNode, config: TectonicPolicyDef): void {
    RED.nodes.createNode(this, config);
    // Every configuration problem leaves `policy` unset: the gates then reject everything with this reason.
    const fail = (problem: string): void => {
      this.problem = `tectonic-policy: ${problem}`;
      this.error(this.problem);
    };
    const typed = (value: string | undefined, type: string | undefined, field: string): string | undefined => {
      if (type !== 'env') return (value ?? '').trim();
      const resolved = String(RED.util.evaluateNodeProperty(value ?? '', 'env', this, {}) ?? '').trim();
      if (resolved === '') fail(`${field}: environment variable ${value ?? ''} is not set`);
      return resolved === '' ? undefined : resolved;
    };

    const site = typed(config.site ?? 'SITE_ID', config.siteType ?? 'env', 'site id');
    if (site === undefined) return;
    if (site === '') return fail('site id: a site id is required (rules may be scoped to sites)');
    const refresh = parseRefresh(config.refresh);
    if (!refresh.ok) return fail(refresh.problem);
    const maxText = (config.maxBytes ?? '').trim();
    if (maxText !== '' && !/^[1-9]\d*$/.test(maxText)) return fail(`max bundle size must be a whole number of bytes, got "${maxText}"`);
    const maxBundleBytes = maxText === '' ? DEFAULT_MAX_BUNDLE_BYTES : Number(maxText);
    const bundleId = typed(config.bundle, config.bundleType, 'bundle id');
    if (bundleId === undefined) return;

    // Trusted keys: the credential, a key file, and the demo key only when asked for by name.
    const demo = config.trustDemoKey === true || config.trustDemoKey === 'true';
    const trustedKeys = splitPublicKeys(this.credentials?.publicKeys ?? '');
    const keyFile = typed(config.publicKeyFile, config.publicKeyFileType, 'public key file');
    if (keyFile === undefined) return;
    try {
      if (keyFile !== '') trustedKeys.push(...splitPublicKeys(readFileSync(keyFile, 'utf8')));
      if (demo) trustedKeys.push(...splitPublicKeys(readFileSync(DEMO_PUBLIC_KEY, 'utf8')));
    } catch (err) {
      return fail(`cannot read a trusted public key: ${(err as Error).message}`);
    }
    if (demo) this.warn('tectonic-policy: trusting the DEMO policy key shipped in the package. Anyone can sign bundles with it: never use it in production.');
    let hashKey = this.credentials?.hashKey || process.env[HASH_KEY_ENV] || undefined;
    if (hashKey === undefined && demo) hashKey = DEMO_HASH_KEY;

    let source: PolicySource;
    switch (config.source || 'file') {
      case 'bundled':
        // The package's own file never changes while it runs: read once.
        source = new FilePolicySource({ path: BUNDLED_BUNDLE, intervalMs: 0, maxBytes: maxBundleBytes, origin: 'the bundled demo bundle' });
        break;
      case 'file': {
        const path = typed(config.file, config.fileType, 'file');
        if (path === undefined) return;
        if (path === '') return fail('file: the path of a signed bundle is required');
        source = new FilePolicySource({ path, intervalMs: refreshMs(refresh.seconds, DEFAULT_REFRESH_S.file), maxBytes: maxBundleBytes });
        break;
      }
      case 'url': {
        const text = typed(config.url, config.urlType, 'url');
        if (text === undefined) return;
        const url = checkPolicyUrl(text);
        if (!url.ok) return fail(url.reason.message);
        const intervalMs = refreshMs(refresh.seconds, DEFAULT_REFRESH_S.url);
        source = new UrlPolicySource({ url: url.url.href, intervalMs, maxBytes: maxBundleBytes, timeoutMs: requestTimeoutMs(intervalMs) });
        break;
      }
      case 'bus': {
        if (bundleId === '') return fail('bundle id: required for source bus (it names the topic tectonic/policy/{bundle})');
        const topic = policyTopic(bundleId);
        if (!topic.ok) return fail(topic.reason.message);
        const found = findBus(RED, config.bus, this);
        if ('problem' in found) return fail(`source bus: ${found.problem}`);
        source = new BusPolicySource(found.bus, topic.topic, { maxBytes: maxBundleBytes });
        break;
      }
      default:
        return fail(`source must be bundled, file, url or bus, got "${config.source}"`);
    }

    let publishBus: SharedBus | undefined;
    if (config.publishToBus) {
      const found = findBus(RED, config.publishToBus, this);
      // Publishing is for other sites; this instance still enforces the bundle, so it only warns.
      if ('problem' in found) this.warn(`tectonic-policy: cannot publish the bundle to the bus: ${found.problem}`);
      else publishBus = found.bus;
    }

    let cacheDir: string;
    try {
      cacheDir = stateDir(RED, this, 'policy-cache');
    } catch (err) {
      // Without its cache a restart would forget the highest version, and a rollback would pass: refuse to run instead.
      return fail(`cannot create the policy cache folder: ${(err as Error).message}`);
    }
    const policy = new SitePolicy({
      source,
      trustedKeys,
      site,
      maxBundleBytes,
      // `<userDir>/tectonic/policy-cache/<config id>.json`: beside the flows, so it survives a restart and a reinstall of the pack.
      cache: new PolicyCache(join(cacheDir, `${this.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`)),
      ...(hashKey !== undefined ? { hashKey } : {}),
      ...(bundleId !== '' ? { bundleId } : {}),
      ...(demo ? { notice: 'demo key' } : {}),
      ...(publishBus
        ? {
            publish: (bytes: Buffer, bundle: { id: string }) => {
              const topic = policyTopic(bundle.id);
              return topic.ok ? publishPolicyToBus(publishBus, topic.topic, bytes) : Promise.reject(new Error(topic.reason.message));
            },
          }
        : {}),
      log: { info: (m) => this.log(m), warn: (m) => this.warn(`tectonic-policy: ${m}`) },
    });
    this.policy = policy;
    void policy.start().catch((err: unknown) => this.error(`tectonic-policy: ${(err as Error).message}`));

    this.on('close', (_removed: boolean, done: () => void) => {
      void closeWithin(policy.close()).then(done);
    });
  }

  RED.nodes.registerType<TectonicPolicyNode, TectonicPolicyDef, unknown, PolicyCredentials>('tectonic-policy', TectonicPolicy, {
    credentials: { publicKeys: { type: 'text' }, hashKey: { type: 'password' } },
  });
};
