// parseSubscribeSettings: the bus-subscribe editor fields (the site id
// already read from the environment) turned into filters and limits, the
// shared-subscription warning on the embedded broker, or the reason the node
// shows in red, worded as the node has always worded it.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type RawSubscribeConfig, type SubscribeSettings, DEFAULT_DEDUP_MAX_AGE_SECONDS, DEFAULT_DEDUP_WINDOW, parseSubscribeSettings } from '../../../lib/bus/subscribe-settings';
import { DEFAULT_DECODE_LIMITS } from '../../../lib/envelope/cloudevents';
import { DEFAULT_MAX_IN_FLIGHT } from '../../../lib/flow/in-flight';

interface Context {
  embedded: boolean;
  site: string;
}
const EXTERNAL: Context = { embedded: false, site: '' };
const EMBEDDED: Context = { embedded: true, site: '' };
const NO_SHARING = 'the embedded broker has no shared subscriptions; this node receives every message';

const DEFAULTS: SubscribeSettings = {
  kind: 'canonical',
  filters: ['cdm/+/+/+'],
  qos: 1,
  dedupWindow: DEFAULT_DEDUP_WINDOW,
  dedupMaxAgeMs: DEFAULT_DEDUP_MAX_AGE_SECONDS * 1000,
  limits: DEFAULT_DECODE_LIMITS,
  maxInFlight: DEFAULT_MAX_IN_FLIGHT,
};

describe('parseSubscribeSettings: accepted configs', () => {
  const cases: Array<[string, RawSubscribeConfig, Context, Partial<SubscribeSettings>, string[]]> = [
    ['an empty config: every canonical record', {}, EXTERNAL, {}, []],
    ['one entity, two majors, one site', { entity: 'shipment', versions: '1, v2', site: 'fra' }, { embedded: false, site: 'fra' }, { filters: ['cdm/shipment/v1/fra', 'cdm/shipment/v2/fra'] }, []],
    ['the site id from the environment', { site: 'SITE', siteType: 'env' }, { embedded: false, site: 'muc' }, { filters: ['cdm/+/+/muc'] }, []],
    ['a shared group on an external broker', { entity: 'shipment', group: 'workers' }, EXTERNAL, { filters: ['$share/workers/cdm/shipment/+/+'] }, []],
    ['a shared group on the embedded broker is dropped, with a warning', { entity: 'shipment', group: 'workers' }, EMBEDDED, { filters: ['cdm/shipment/+/+'] }, [NO_SHARING]],
    ['dead letters of one site', { kind: 'dead-letter', site: 'fra' }, { embedded: false, site: 'fra' }, { kind: 'dead-letter', filters: ['tectonic/dlq/fra/+'] }, []],
    ['dead letters of every site', { kind: 'dead-letter' }, EXTERNAL, { kind: 'dead-letter', filters: ['tectonic/dlq/+/+'] }, []],
    ['dead letters ignore a group', { kind: 'dead-letter', group: 'workers' }, EMBEDDED, { kind: 'dead-letter', filters: ['tectonic/dlq/+/+'] }, [NO_SHARING]],
    ['records on a topic filter', { kind: 'records', topic: ' site/fra/wms/# ' }, EXTERNAL, { kind: 'records', filters: ['site/fra/wms/#'] }, []],
    ['records in a shared group on an external broker', { kind: 'records', topic: '$share/g/site/+/wms' }, EXTERNAL, { kind: 'records', filters: ['$share/g/site/+/wms'] }, []],
    ['records in a shared group on the embedded broker: the plain filter, with a warning', { kind: 'records', topic: '$share/g/site/+/wms' }, EMBEDDED, { kind: 'records', filters: ['site/+/wms'] }, [NO_SHARING]],
    ['records ignore the site id and its variable', { kind: 'records', topic: 'a/b', siteType: 'env', site: 'UNSET' }, EXTERNAL, { kind: 'records', filters: ['a/b'] }, []],
    ['an unknown kind is canonical', { kind: 'other' }, EXTERNAL, {}, []],
    ['QoS 0', { qos: '0' }, EXTERNAL, { qos: 0 }, []],
    ['a duplicate window of 0 (off)', { dedupWindow: '0' }, EXTERNAL, { dedupWindow: 0 }, []],
    ['input ids remembered 300 s', { dedupMaxAge: ' 300 ' }, EXTERNAL, { dedupMaxAgeMs: 300_000 }, []],
    ['input ids not remembered (0)', { dedupMaxAge: '0' }, EXTERNAL, { dedupMaxAgeMs: 0 }, []],
    ['an empty time for input ids is the default', { dedupMaxAge: '' }, EXTERNAL, { dedupMaxAgeMs: 120_000 }, []],
    ['max bytes', { maxBytes: ' 4096 ' }, EXTERNAL, { limits: { ...DEFAULT_DECODE_LIMITS, maxBytes: 4096 } }, []],
    ['max in flight 0: no flow control', { maxInFlight: '0' }, EXTERNAL, { maxInFlight: 0 }, []],
    ['max in flight absent (a node saved before flow control)', { maxInFlight: undefined }, EXTERNAL, { maxInFlight: DEFAULT_MAX_IN_FLIGHT }, []],
  ];
  for (const [name, config, context, expected, warnings] of cases) {
    it(name, () => {
      const parsed = parseSubscribeSettings(config, context);
      assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.reasons));
      assert.deepEqual(parsed.value, { ...DEFAULTS, ...expected });
      assert.deepEqual(parsed.warnings, warnings);
    });
  }
});

describe('parseSubscribeSettings: refused configs', () => {
  const cases: Array<[string, RawSubscribeConfig, Context, Array<[string, string]>, string[]]> = [
    ['records without a topic', { kind: 'records', topic: '  ' }, EXTERNAL, [['topic', 'is empty: give a topic filter such as site/fra/wms/#']], []],
    ['records with a bad wildcard', { kind: 'records', topic: 'a/b#' }, EXTERNAL, [['topic', '"a/b#": "#" must be the whole last level, as in "site/fra/#"']], []],
    ['an unset site variable', { site: 'TECTONIC_SITE', siteType: 'env' }, EXTERNAL, [['', 'environment variable TECTONIC_SITE is not set']], []],
    ['a version list in words', { versions: 'latest' }, EXTERNAL, [['versions', '"latest" is not a major version (write e.g. "1, 2")']], []],
    ['a site id that is no topic level', { site: 'a/b' }, { embedded: false, site: 'a/b' }, [['site', '"a/b" is not a site id (letters, digits, ".", "_", "-")']], []],
    ['a dead-letter site id that is no topic level', { kind: 'dead-letter', site: 'a+b' }, { embedded: false, site: 'a+b' }, [['site', '"a+b" is not a site id (letters, digits, ".", "_", "-")']], []],
    ['a duplicate window in words', { dedupWindow: ' many ' }, EXTERNAL, [['', 'the duplicate window must be a whole number of messages, got "many"']], []],
    ['a time for input ids in minutes', { dedupMaxAge: '2m' }, EXTERNAL, [['', 'the time input ids are remembered must be a whole number of seconds, got "2m"']], []],
    ['negative max bytes', { maxBytes: '-1' }, EXTERNAL, [['', 'max bytes must be a whole number, got "-1"']], []],
    ['fractional max in flight', { maxInFlight: '2.5' }, EXTERNAL, [['', 'max in flight must be a whole number of records (0: no limit), got "2.5"']], []],
    ['a warning said before a later refusal stays said', { group: 'g', dedupWindow: 'x' }, EMBEDDED, [['', 'the duplicate window must be a whole number of messages, got "x"']], [NO_SHARING]],
  ];
  for (const [name, config, context, expected, warnings] of cases) {
    it(name, () => {
      const parsed = parseSubscribeSettings(config, context);
      assert.equal(parsed.ok, false);
      assert.deepEqual(parsed.ok ? [] : parsed.reasons.map((r) => [r.path, r.message]), expected);
      assert.deepEqual(parsed.warnings, warnings);
    });
  }
});
