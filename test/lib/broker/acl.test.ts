// The topic rights of each role (docs/security.md, "Topics and rights") as a
// table: principal, action, topic or filter, allowed.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { Acl, type AclRule, type Principal } from '../../../lib/broker/acl';

const fra: Principal = { name: 'site-fra', role: 'site', sites: ['fra'] };
const hub: Principal = { name: 'hub-eu', role: 'hub', sites: ['fra', 'muc'] };
const central: Principal = { name: 'central', role: 'central', sites: [] };
const anonymous: Principal = { name: '', role: 'anonymous', sites: [] };

type Case = [Principal, 'publish' | 'subscribe' | 'receive', string, boolean];

const roleCases: Case[] = [
  [fra, 'publish', 'cdm/shipment/v1/fra', true],
  [fra, 'publish', 'cdm/shipment/v1/muc', false],
  [fra, 'publish', 'cdm/shipment/fra', false],
  [fra, 'publish', 'tectonic/health/fra/state', true],
  [fra, 'publish', 'tectonic/health/fra/heartbeat', true],
  [fra, 'publish', 'tectonic/health/muc/state', false],
  [fra, 'publish', 'tectonic/registry/orders/fra/i1', true],
  [fra, 'publish', 'tectonic/registry/orders/muc/i1', false],
  [fra, 'publish', 'tectonic/dlq/fra/validate', true],
  [fra, 'publish', 'tectonic/dlq/muc/validate', false],
  [fra, 'publish', 'tectonic/cdm/_catalog', false],
  [fra, 'publish', 'tectonic/cdm/shipment/1.2.0', false],
  [fra, 'publish', 'tectonic/policy/central-default', false],
  [fra, 'publish', 'tectonic/templates/site-agent/1.0.0', false],
  [fra, 'publish', 'tectonic/alerts/fra', false],
  [fra, 'publish', '$SYS/x', false],
  [fra, 'subscribe', 'tectonic/cdm/#', true],
  [fra, 'subscribe', 'tectonic/policy/+', true],
  [fra, 'subscribe', 'tectonic/registry/#', true],
  [fra, 'subscribe', 'tectonic/templates/#', true],
  [fra, 'subscribe', 'tectonic/health/+/state', true],
  [fra, 'subscribe', 'tectonic/health/+/heartbeat', false],
  [fra, 'subscribe', 'tectonic/health/#', false],
  [fra, 'subscribe', 'tectonic/health/fra/#', true],
  [fra, 'subscribe', 'cdm/+/+/fra', true],
  [fra, 'subscribe', 'cdm/shipment/v1/fra', true],
  [fra, 'subscribe', 'cdm/+/+/muc', false],
  [fra, 'subscribe', 'cdm/#', false],
  [fra, 'subscribe', '#', false],
  [fra, 'subscribe', '$share/g/cdm/+/+/fra', true],
  [fra, 'subscribe', '$share/g/cdm/+/+/+', false],
  [fra, 'subscribe', 'tectonic/dlq/fra/#', true],
  [fra, 'subscribe', 'tectonic/dlq/+/#', false],
  [fra, 'subscribe', 'tectonic/alerts/fra', true],
  [fra, 'subscribe', 'tectonic/alerts/muc', false],
  [fra, 'receive', 'tectonic/health/muc/state', true],
  [fra, 'receive', 'tectonic/health/muc/heartbeat', false],
  [fra, 'receive', 'cdm/shipment/v1/muc', false],
  [hub, 'publish', 'cdm/shipment/v1/fra', true],
  [hub, 'publish', 'cdm/shipment/v1/muc', true],
  [hub, 'publish', 'cdm/shipment/v1/ber', false],
  [hub, 'subscribe', 'cdm/+/+/muc', true],
  [hub, 'subscribe', 'cdm/+/+/+', false],
  [hub, 'publish', 'tectonic/policy/x', false],
  [central, 'publish', 'tectonic/cdm/_catalog', true],
  [central, 'publish', 'tectonic/policy/central-default', true],
  [central, 'publish', 'tectonic/alerts/fra', true],
  [central, 'publish', '$SYS/x', false],
  [central, 'subscribe', '#', true],
  [central, 'subscribe', '$SYS/#', true],
  [anonymous, 'publish', 'cdm/shipment/v1/fra', true],
];

function decide(acl: Acl, [principal, action, topic]: Case): boolean {
  if (action === 'publish') return acl.publish(principal, topic).allow;
  if (action === 'subscribe') return acl.subscribe(principal, topic).allow;
  return acl.receive(principal, topic).allow;
}

describe('lib/broker/acl', () => {
  describe('rights by role, deny by default', () => {
    const acl = new Acl([]);
    for (const c of roleCases) {
      it(`${c[0].name || 'anonymous'} ${c[1]} ${c[2]}: ${c[3] ? 'allowed' : 'refused'}`, () => assert.equal(decide(acl, c), c[3]));
    }
  });

  describe('extra rules', () => {
    const rules: AclRule[] = [
      { role: '*', action: 'subscribe', pattern: 'public/#', allow: true },
      { user: 'site-fra', action: 'publish', pattern: 'tectonic/dlq/fra/#', allow: false },
      { role: 'hub', action: 'both', pattern: 'cdm/+/+/muc', allow: false },
      { role: 'central', action: 'publish', pattern: 'tectonic/policy/frozen', allow: false },
    ];
    const acl = new Acl(rules);
    const cases: Case[] = [
      [fra, 'subscribe', 'public/news', true],
      [anonymous, 'subscribe', 'public/#', true],
      [fra, 'publish', 'public/news', false],
      [fra, 'publish', 'tectonic/dlq/fra/validate', false],
      [fra, 'publish', 'cdm/shipment/v1/fra', true],
      [hub, 'publish', 'cdm/shipment/v1/muc', false],
      [hub, 'subscribe', 'cdm/+/+/muc', false],
      [hub, 'subscribe', 'cdm/+/+/fra', true],
      [central, 'publish', 'tectonic/policy/frozen', false],
      [central, 'publish', 'tectonic/policy/other', true],
    ];
    for (const c of cases) {
      it(`${c[0].name || 'anonymous'} ${c[1]} ${c[2]}: ${c[3] ? 'allowed' : 'refused'}`, () => assert.equal(decide(acl, c), c[3]));
    }
    it('a deny rule refuses a subscription that could match one denied topic', () => {
      assert.equal(new Acl([{ role: 'central', action: 'subscribe', pattern: 'cdm/+/+/muc', allow: false }]).subscribe(central, 'cdm/#').allow, false);
    });
  });
});
