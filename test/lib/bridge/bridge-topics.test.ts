import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { downFilters, hubSitesPayload, hubSitesTopic, routeOf, upFilters } from '../../../lib/bridge/bridge-topics';
import { topicMatches } from '../../../lib/envelope/topics';

const SITES = new Set(['fra', 'muc']);

describe('bridge: which topics cross, which way', () => {
  const cases: Array<[string, 'up' | 'down', string, ReturnType<typeof routeOf>]> = [
    ['a record of a served site goes up, not retained', 'up', 'cdm/shipment/v1/fra', { kind: 'record', retain: false, site: 'fra' }],
    ["another hub's site stays", 'up', 'cdm/shipment/v1/ber', undefined],
    ['a record topic with an extra level stays', 'up', 'cdm/shipment/v1/fra/x', undefined],
    ['a site state goes up, retained', 'up', 'tectonic/health/fra/state', { kind: 'health', retain: true, site: 'fra' }],
    ['a heartbeat goes up, retained', 'up', 'tectonic/health/muc/heartbeat', { kind: 'health', retain: true, site: 'muc' }],
    ['a registry entry goes up, retained', 'up', 'tectonic/registry/erp/fra/i-1', { kind: 'registry', retain: true, site: 'fra' }],
    ['a dead letter goes up, not retained', 'up', 'tectonic/dlq/muc/cdm-validate', { kind: 'dead-letter', retain: false, site: 'muc' }],
    ['the catalog does not go up', 'up', 'tectonic/cdm/shipment/1.0.0', undefined],
    ['alerts do not go up', 'up', 'tectonic/alerts/fra', undefined],
    ['the catalog comes down, retained', 'down', 'tectonic/cdm/shipment/1.0.0', { kind: 'catalog', retain: true }],
    ['the policy comes down, retained', 'down', 'tectonic/policy/central-default', { kind: 'policy', retain: true }],
    ['a template fingerprint comes down, retained', 'down', 'tectonic/templates/site-agent/1.0.0', { kind: 'template', retain: true }],
    ["an alert for a served site comes down", 'down', 'tectonic/alerts/fra', { kind: 'alert', retain: false, site: 'fra' }],
    ["an alert for another hub's site stays", 'down', 'tectonic/alerts/ber', undefined],
    ['records do not come down', 'down', 'cdm/shipment/v1/fra', undefined],
    ['health does not come down', 'down', 'tectonic/health/fra/state', undefined],
  ];
  for (const [name, direction, topic, expected] of cases) {
    it(name, () => assert.deepEqual(routeOf(direction, topic, SITES), expected));
  }

  it('the subscriptions name only the served sites', () => {
    assert.deepEqual(upFilters(['fra']), ['cdm/+/+/fra', 'tectonic/health/fra/#', 'tectonic/registry/+/fra/#', 'tectonic/dlq/fra/#']);
    assert.deepEqual(downFilters(['fra', 'muc']), ['tectonic/cdm/#', 'tectonic/policy/#', 'tectonic/templates/#', 'tectonic/alerts/fra/#', 'tectonic/alerts/muc/#']);
  });

  it('no loop: nothing published in one direction matches a subscription of the other', () => {
    const upTopics = ['cdm/shipment/v1/fra', 'tectonic/health/fra/state', 'tectonic/health/fra/heartbeat', 'tectonic/registry/erp/fra/i-1', 'tectonic/dlq/fra/cdm-map'];
    const downTopics = ['tectonic/cdm/shipment/1.0.0', 'tectonic/policy/central-default', 'tectonic/templates/site-agent/1.0.0', 'tectonic/alerts/fra'];
    for (const topic of upTopics) for (const filter of downFilters(['fra', 'muc'])) assert.equal(topicMatches(filter, topic), false, `${filter} matches ${topic}`);
    for (const topic of downTopics) for (const filter of upFilters(['fra', 'muc'])) assert.equal(topicMatches(filter, topic), false, `${filter} matches ${topic}`);
    // And each direction's filters take what its routes accept.
    for (const topic of upTopics) assert.ok(upFilters(['fra']).some((filter) => topicMatches(filter, topic)), topic);
    for (const topic of downTopics) assert.ok(downFilters(['fra']).some((filter) => topicMatches(filter, topic)), topic);
  });

  it("the hub's sites list: retained on the hub's own health level", () => {
    assert.equal(hubSitesTopic('hub-north'), 'tectonic/health/hub-north/sites');
    assert.deepEqual(JSON.parse(hubSitesPayload('hub-north', ['fra', 'muc'])), { hub: 'hub-north', sites: ['fra', 'muc'] });
  });
});
