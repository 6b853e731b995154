// parsePolicySettings: a tectonic-policy's config, its first problem in the
// words the log and the gates show, and the trusted keys it reads.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { DEMO_HASH_KEY, type ParsedPolicySettings, type PolicyConfigFields, type PolicySettings, type PolicySettingsContext, parsePolicySettings } from '../../../lib/policy/policy-settings';
import { DEFAULT_MAX_BUNDLE_BYTES } from '../../../lib/policy/trust';

const KEY_A = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----';
const KEY_B = '-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----';
const DEMO = '-----BEGIN PUBLIC KEY-----\nDEMO\n-----END PUBLIC KEY-----';
const files: Record<string, string> = { '/keys/b.pem': KEY_B, '/pkg/demo.pub': DEMO };
const variables: Record<string, string> = { SITE_ID: 'site-a', BUNDLE: 'central', EMPTY: '' };

function context(over: Partial<PolicySettingsContext> = {}): PolicySettingsContext {
  return {
    env: (name) => variables[name],
    credentials: { publicKeys: KEY_A },
    hashKeyVariable: undefined,
    readKeyFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return text;
    },
    demoKeyFile: '/pkg/demo.pub',
    ...over,
  };
}

const base: PolicyConfigFields = { source: 'file', file: '/bundles/p.json', fileType: 'str', site: 'site-a', siteType: 'str' };
const settled = (over: Partial<PolicySettings>): ParsedPolicySettings => ({
  ok: true,
  value: { site: 'site-a', maxBundleBytes: DEFAULT_MAX_BUNDLE_BYTES, bundleId: '', trustedKeys: [KEY_A], trustsDemoKey: false, hashKey: undefined, source: { kind: 'file', path: '/bundles/p.json', intervalMs: 10_000 }, ...over },
});
const refused = (problem: string, trustsDemoKey = false): ParsedPolicySettings => ({ ok: false, problem, trustsDemoKey });

describe('parsePolicySettings', () => {
  const cases: Array<[string, PolicyConfigFields, Partial<PolicySettingsContext>, ParsedPolicySettings]> = [
    ['a file source with the defaults', base, {}, settled({})],
    ['no site fields: the SITE_ID variable', { source: 'file', file: '/bundles/p.json' }, {}, settled({})],
    ['the site from a variable that is not set', { ...base, site: 'NOPE', siteType: 'env' }, {}, refused('site id: environment variable NOPE is not set')],
    ['an empty site id', { ...base, site: '  ' }, {}, refused('site id: a site id is required (rules may be scoped to sites)')],
    ['refresh in seconds', { ...base, refresh: '2.5' }, {}, settled({ source: { kind: 'file', path: '/bundles/p.json', intervalMs: 2500 } })],
    ['refresh not a number', { ...base, refresh: 'soon' }, {}, refused('refresh must be a number of seconds, got "soon"')],
    ['a max bundle size', { ...base, maxBytes: ' 4096 ' }, {}, settled({ maxBundleBytes: 4096 })],
    ['a max bundle size that is not a whole number', { ...base, maxBytes: '1e6' }, {}, refused('max bundle size must be a whole number of bytes, got "1e6"')],
    ['a bundle id from a variable', { ...base, bundle: 'BUNDLE', bundleType: 'env' }, {}, settled({ bundleId: 'central' })],
    ['a bundle id variable that is empty', { ...base, bundle: 'EMPTY', bundleType: 'env' }, {}, refused('bundle id: environment variable EMPTY is not set')],
    ['a key file adds its keys to the credential', { ...base, publicKeyFile: '/keys/b.pem', publicKeyFileType: 'str' }, {}, settled({ trustedKeys: [KEY_A, KEY_B] })],
    ['a key file that cannot be read', { ...base, publicKeyFile: '/keys/none.pem', trustDemoKey: true }, {}, refused("cannot read a trusted public key: ENOENT: no such file or directory, open '/keys/none.pem'")],
    ['no credentials at all', base, { credentials: undefined }, settled({ trustedKeys: [] })],
    ['the demo key: trusted, and its public hash key', { ...base, trustDemoKey: 'true' }, {}, settled({ trustedKeys: [KEY_A, DEMO], trustsDemoKey: true, hashKey: DEMO_HASH_KEY })],
    ['the demo key with a later problem still says it was trusted', { ...base, source: 'ftp', trustDemoKey: true }, {}, refused('source must be bundled, file, url or bus, got "ftp"', true)],
    ['the hash key credential first', { ...base, trustDemoKey: true }, { credentials: { hashKey: 'secret' }, hashKeyVariable: 'site-wide' }, settled({ trustedKeys: [DEMO], trustsDemoKey: true, hashKey: 'secret' })],
    ['then the site-wide variable', base, { credentials: { hashKey: '' }, hashKeyVariable: 'site-wide' }, settled({ trustedKeys: [], hashKey: 'site-wide' })],
    ['no source: a file', { ...base, source: '' }, {}, settled({})],
    ['a file source without a path', { ...base, file: ' ' }, {}, refused('file: the path of a signed bundle is required')],
    ['the bundled demo bundle', { ...base, source: 'bundled' }, {}, settled({ source: { kind: 'bundled' } })],
    ['a URL, polled each minute by default', { ...base, source: 'url', url: 'https://central.example/policy.json', urlType: 'str' }, {}, settled({ source: { kind: 'url', url: 'https://central.example/policy.json', intervalMs: 60_000, timeoutMs: 30_000 } })],
    ['a URL with a fast refresh waits at least a second', { ...base, source: 'url', url: 'http://central.example/p', refresh: '0.1' }, {}, settled({ source: { kind: 'url', url: 'http://central.example/p', intervalMs: 100, timeoutMs: 1000 } })],
    ['a URL that is not http(s)', { ...base, source: 'url', url: 'ftp://central.example/p' }, {}, refused('a policy URL must be http or https, got ftp:')],
    ['the bus with a bundle id', { ...base, source: 'bus', bus: 'b1', bundle: 'central' }, {}, settled({ bundleId: 'central', source: { kind: 'bus', bus: 'b1', topic: 'tectonic/policy/central' } })],
    ['the bus without a bundle id', { ...base, source: 'bus', bus: 'b1' }, {}, refused('bundle id: required for source bus (it names the topic tectonic/policy/{bundle})')],
    ['the bus with a bundle id that is no topic level', { ...base, source: 'bus', bus: 'b1', bundle: 'a/b' }, {}, refused('a bundle id must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit, got "a/b"')],
    ['publishing to a bus', { ...base, publishToBus: 'b2' }, {}, settled({ publishToBus: 'b2' })],
  ];
  for (const [name, config, over, expected] of cases) it(name, () => assert.deepEqual(parsePolicySettings(config, context(over)), expected));
});
