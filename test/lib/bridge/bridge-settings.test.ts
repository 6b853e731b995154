import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { parseBridgeSettings } from '../../../lib/bridge/bridge-settings';

describe('bridge: settings', () => {
  it('a comma separated list, trimmed, each site once, in order', () => {
    const parsed = parseBridgeSettings({ hubId: ' hub-1 ', sites: 'fra, muc ,fra,,' });
    assert.ok(parsed.ok);
    assert.equal(parsed.value.hubId, 'hub-1');
    assert.deepEqual(parsed.value.sites, ['fra', 'muc']);
    assert.equal(parsed.value.outboxMaxCount, 100_000);
  });

  const refusals: Array<[string, Parameters<typeof parseBridgeSettings>[0], string, string]> = [
    ['a wildcard is not a site (it would take in other hubs\' sites)', { hubId: 'hub', sites: 'fra,+' }, 'sites.1', 'pattern'],
    ['a multi-level wildcard is not a site', { hubId: 'hub', sites: '#' }, 'sites.0', 'pattern'],
    ['a site with a slash is two topic levels', { hubId: 'hub', sites: 'fra/x' }, 'sites.0', 'pattern'],
    ['an unset environment variable says so', { hubId: 'hub', sites: '${HUB_SITES}' }, 'sites.0', 'env'],
    ['no site at all', { hubId: 'hub', sites: ' , ' }, 'sites', 'required'],
    ['no hub id', { hubId: '', sites: 'fra' }, 'hubId', 'required'],
    ['a hub id that is not a topic level', { hubId: 'hub/1', sites: 'fra' }, 'hubId', 'pattern'],
    ['the hub among its own sites', { hubId: 'hub', sites: 'fra,hub' }, 'sites.1', 'hub'],
    ['a global bus announcing another id', { hubId: 'hub', sites: 'fra', globalSiteId: 'central' }, 'globalBus', 'hub'],
    ['an outbox bound that is not a whole number', { hubId: 'hub', sites: 'fra', outboxMaxCount: '1.5' }, 'outboxMaxCount', 'range'],
  ];
  for (const [name, input, path, rule] of refusals) {
    it(`refuses ${name}`, () => {
      const parsed = parseBridgeSettings(input);
      assert.equal(parsed.ok, false);
      if (parsed.ok) return;
      assert.ok(parsed.reasons.some((r) => r.path === path && r.rule === rule), JSON.stringify(parsed.reasons));
    });
  }

  it('every problem at once', () => {
    const parsed = parseBridgeSettings({ hubId: '', sites: '+,#' });
    assert.equal(parsed.ok ? 0 : parsed.reasons.length, 3);
  });
});
