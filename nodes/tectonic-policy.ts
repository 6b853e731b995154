import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { SharedBus } from '../lib/bus/shared-bus';
import { closeWithin } from '../lib/close-within';
import { BusPolicySource, FilePolicySource, PolicyCache, type PolicySource, UrlPolicySource, policyTopic, publishPolicyToBus } from '../lib/policy/policy-source';
import { type PolicyConfigFields, type PolicySourceSettings, parsePolicySettings } from '../lib/policy/policy-settings';
import { SitePolicy } from '../lib/policy/site-policy';
import { findBus } from './support/bus-config';
import { translator } from './support/i18n';
import { nodeCounters } from './support/stats';
import type { PolicyCredentials, TectonicPolicyNode } from './support/policy-config';
import { stateDir } from './support/user-dir';

type TectonicPolicyDef = NodeDef & PolicyConfigFields;

/** The package's own policies/ folder: dist/nodes/../../policies. */
const POLICIES_DIR = join(__dirname, '..', '..', 'policies');
const BUNDLED_BUNDLE = join(POLICIES_DIR, 'central-default.signed.json');
const DEMO_PUBLIC_KEY = join(POLICIES_DIR, 'demo-policy.pub');
const HASH_KEY_ENV = 'TECTONIC_POLICY_HASH_KEY';

export = function (RED: NodeAPI): void {
  const t = translator(RED);

  /** The source the settings name; reading from the bus makes the node one of the bus's users. */
  function openSource(node: Node, source: PolicySourceSettings, maxBytes: number): PolicySource | { problem: string } {
    switch (source.kind) {
      case 'bundled':
        // The package's own file never changes while it runs: read once.
        return new FilePolicySource({ path: BUNDLED_BUNDLE, intervalMs: 0, maxBytes, origin: t('tectonic-policy.origin.bundled') });
      case 'file':
        return new FilePolicySource({ path: source.path, intervalMs: source.intervalMs, maxBytes });
      case 'url':
        return new UrlPolicySource({ url: source.url, intervalMs: source.intervalMs, maxBytes, timeoutMs: source.timeoutMs });
      case 'bus': {
        const found = findBus(RED, source.bus, node);
        return 'problem' in found ? { problem: t('tectonic-policy.errors.sourceBus', { problem: found.problem }) } : new BusPolicySource(found.bus, source.topic, { maxBytes });
      }
    }
  }

  function TectonicPolicy(this: TectonicPolicyNode, config: TectonicPolicyDef): void {
    RED.nodes.createNode(this, config);
    // Every configuration problem leaves `policy` unset: the gates then reject everything with this reason.
    const fail = (problem: string): void => {
      this.problem = t('tectonic-policy.errors.problem', { problem });
      this.error(this.problem);
    };
    const parsed = parsePolicySettings(config, {
      env: (value) => String(RED.util.evaluateNodeProperty(value, 'env', this, {}) ?? ''),
      credentials: this.credentials,
      hashKeyVariable: process.env[HASH_KEY_ENV],
      readKeyFile: (path) => readFileSync(path, 'utf8'),
      demoKeyFile: DEMO_PUBLIC_KEY,
    });
    if (parsed.ok ? parsed.value.trustsDemoKey : parsed.trustsDemoKey) this.warn(t('tectonic-policy.warnings.demoKey'));
    if (!parsed.ok) return fail(parsed.problem);
    const settings = parsed.value;
    const source = openSource(this, settings.source, settings.maxBundleBytes);
    if ('problem' in source) return fail(source.problem);

    let publishBus: SharedBus | undefined;
    if (settings.publishToBus !== undefined) {
      const found = findBus(RED, settings.publishToBus, this);
      // Publishing is for other sites; this instance still enforces the bundle, so it only warns.
      if ('problem' in found) this.warn(t('tectonic-policy.warnings.cannotPublish', { problem: found.problem }));
      else publishBus = found.bus;
    }

    let cacheDir: string;
    try {
      cacheDir = stateDir(RED, this, 'policy-cache');
    } catch (err) {
      // Without its cache a restart would forget the highest version, and a rollback would pass: refuse to run instead.
      return fail(t('tectonic-policy.errors.cacheFolder', { error: (err as Error).message }));
    }
    const policy = new SitePolicy({
      source,
      trustedKeys: settings.trustedKeys,
      site: settings.site,
      maxBundleBytes: settings.maxBundleBytes,
      // `<userDir>/tectonic/policy-cache/<config id>.json`: beside the flows, so it survives a restart and a reinstall of the pack.
      cache: new PolicyCache(join(cacheDir, `${this.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`)),
      ...(settings.hashKey !== undefined ? { hashKey: settings.hashKey } : {}),
      ...(settings.bundleId !== '' ? { bundleId: settings.bundleId } : {}),
      ...(settings.trustsDemoKey ? { notice: t('tectonic-policy.status.demoKey') } : {}),
      ...(publishBus
        ? {
            publish: (bytes: Buffer, bundle: { id: string }) => {
              const topic = policyTopic(bundle.id);
              return topic.ok ? publishPolicyToBus(publishBus, topic.topic, bytes) : Promise.reject(new Error(topic.reason.message));
            },
          }
        : {}),
      log: { info: (m) => this.log(m), warn: (m) => this.warn(t('tectonic-policy.errors.problem', { problem: m })) },
    });
    this.policy = policy;
    // Bundles put in force and changes to failing closed, for the stats and metrics endpoints.
    let inForce = '';
    const counters = nodeCounters(RED, this, '', { levels: () => ({ inForce: policy.status.state === 'in-force' ? 1 : 0 }) });
    const stopCounting = policy.onChange((status) => {
      const now = status.state === 'in-force' ? `${status.id}@${status.version}` : '';
      if (now !== inForce) counters.count(now === '' ? 'failedClosed' : 'bundlesInForce');
      inForce = now;
    });
    void policy.start().catch((err: unknown) => this.error(t('tectonic-policy.errors.problem', { problem: (err as Error).message })));

    this.on('close', (_removed: boolean, done: () => void) => {
      stopCounting();
      void closeWithin(policy.close()).then(done);
    });
  }

  RED.nodes.registerType<TectonicPolicyNode, TectonicPolicyDef, unknown, PolicyCredentials>('tectonic-policy', TectonicPolicy, {
    credentials: { publicKeys: { type: 'text' }, hashKey: { type: 'password' } },
  });
};
