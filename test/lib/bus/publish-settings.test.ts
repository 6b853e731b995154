// parsePublishSettings: the bus-publish editor fields (the site id already
// read from the environment) turned into settings, a warning, or the reason
// the node shows in red, worded as the node has always worded it.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { DEFAULT_OUTBOX_MAX_BYTES, DEFAULT_OUTBOX_MAX_COUNT, type PublishSettings, type RawPublishConfig, parsePublishSettings } from '../../../lib/bus/publish-settings';

const DEFAULTS: PublishSettings = {
  qos: 1,
  wireMode: 'structured',
  mode: 'canonical',
  site: '',
  outboxMaxCount: DEFAULT_OUTBOX_MAX_COUNT,
  outboxMaxBytes: DEFAULT_OUTBOX_MAX_BYTES,
  whenFull: 'reject',
};

interface Context {
  protocolVersion: 4 | 5;
  site: string;
}
const MQTT4: Context = { protocolVersion: 4, site: '' };

describe('parsePublishSettings: accepted configs', () => {
  const cases: Array<[string, RawPublishConfig, Context, Partial<PublishSettings>, string[]]> = [
    ['an empty config takes every default', {}, MQTT4, {}, []],
    ['empty strings take the defaults too', { qos: '', wireMode: '', mode: '', outboxMaxCount: ' ', outboxMaxBytes: '', whenFull: '' }, MQTT4, {}, []],
    ['QoS 0', { qos: '0' }, MQTT4, { qos: 0 }, []],
    ['QoS 2', { qos: '2' }, MQTT4, { qos: 2 }, []],
    ['an unknown QoS is 1', { qos: '3' }, MQTT4, { qos: 1 }, []],
    ['binary on MQTT 5', { wireMode: 'binary' }, { protocolVersion: 5, site: '' }, { wireMode: 'binary' }, []],
    [
      'binary on MQTT 3.1.1 falls back to structured, with a warning',
      { wireMode: 'binary' },
      MQTT4,
      { wireMode: 'structured' },
      ['binary mode needs an MQTT 5 connection; publishing in structured mode'],
    ],
    ['an unknown wire mode is structured', { wireMode: 'compact' }, { protocolVersion: 5, site: '' }, { wireMode: 'structured' }, []],
    ['outbox limits, padded', { outboxMaxCount: ' 10 ', outboxMaxBytes: '2048' }, MQTT4, { outboxMaxCount: 10, outboxMaxBytes: 2048 }, []],
    ['drop-oldest when full', { whenFull: 'drop-oldest' }, MQTT4, { whenFull: 'drop-oldest' }, []],
    ['an unknown when-full policy rejects', { whenFull: 'block' }, MQTT4, { whenFull: 'reject' }, []],
    ['dead-letter mode with a site id', { mode: 'dead-letter', site: 'site-a' }, { protocolVersion: 4, site: 'site-a' }, { mode: 'dead-letter', site: 'site-a' }, []],
    ['dead-letter mode with the site id from the environment', { mode: 'dead-letter', site: 'SITE', siteType: 'env' }, { protocolVersion: 4, site: 'fra' }, { mode: 'dead-letter', site: 'fra' }, []],
    ['canonical mode needs no site id', { mode: 'canonical', siteType: 'env', site: 'UNSET' }, MQTT4, { mode: 'canonical', site: '' }, []],
  ];
  for (const [name, config, context, expected, warnings] of cases) {
    it(name, () => {
      const parsed = parsePublishSettings(config, context);
      assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.reasons));
      assert.deepEqual(parsed.value, { ...DEFAULTS, ...expected });
      assert.deepEqual(parsed.warnings, warnings);
    });
  }
});

describe('parsePublishSettings: refused configs', () => {
  const limits = 'the outbox limits must be whole numbers greater than 0';
  const cases: Array<[string, RawPublishConfig, Context, string]> = [
    ['dead-letter mode without a site id', { mode: 'dead-letter', site: '' }, MQTT4, 'dead-letter mode needs the site id'],
    ['dead-letter mode with an unset variable', { mode: 'dead-letter', site: 'TECTONIC_SITE', siteType: 'env' }, MQTT4, 'environment variable TECTONIC_SITE (the site id) is not set'],
    ['a count of 0', { outboxMaxCount: '0' }, MQTT4, limits],
    ['a negative count', { outboxMaxCount: '-5' }, MQTT4, limits],
    ['a fractional byte limit', { outboxMaxBytes: '1.5' }, MQTT4, limits],
    ['a byte limit in words', { outboxMaxBytes: 'lots' }, MQTT4, limits],
    ['the site is checked before the limits', { mode: 'dead-letter', outboxMaxCount: 'x' }, MQTT4, 'dead-letter mode needs the site id'],
  ];
  for (const [name, config, context, expected] of cases) {
    it(name, () => {
      const parsed = parsePublishSettings(config, context);
      assert.equal(parsed.ok, false);
      assert.deepEqual(
        parsed.ok ? [] : parsed.reasons.map((r) => [r.path, r.message]),
        [['', expected]],
      );
    });
  }

  it('a refusal comes before the binary-mode warning, as the node has always checked', () => {
    assert.deepEqual(parsePublishSettings({ wireMode: 'binary', outboxMaxCount: '0' }, MQTT4).warnings, []);
  });
});
