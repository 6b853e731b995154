import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { flowsFingerprint } from '../../../lib/fleet/fingerprint';

/** A small site agent as a template ships it. */
function template(): Array<Record<string, unknown>> {
  return [
    { id: 't1', type: 'tab', label: 'Site agent' },
    { id: 'bus', type: 'tectonic-bus', mode: 'external', url: '${BUS_URL}', siteId: '${SITE_ID}' },
    { id: 'cat', type: 'cdm-catalog', source: 'bus', bus: 'bus', policy: 'STRICT' },
    { id: 'in', type: 'bus-subscribe', z: 't1', x: 100, y: 80, name: 'WMS export', bus: 'bus', kind: 'records', topic: 'site/${SITE_ID}/wms/#', wires: [['map']] },
    { id: 'map', type: 'cdm-map', z: 't1', x: 300, y: 80, entity: 'shipment', version: '1.1.0', rules: [{ to: 'shipmentId', from: 'shp_no' }], idFrom: 'shp_no', wires: [['val'], ['dlq']] },
    { id: 'val', type: 'cdm-validate', z: 't1', x: 500, y: 80, catalog: 'cat', wires: [['pub'], ['dlq']] },
    { id: 'pub', type: 'bus-publish', z: 't1', x: 700, y: 80, bus: 'bus', qos: '1', wires: [[]] },
    { id: 'dlq', type: 'bus-publish', z: 't1', x: 700, y: 160, bus: 'bus', qos: '1', mode: 'dead-letter', wires: [[]] },
    { id: 'note', type: 'comment', z: 't1', name: 'call Jo before changing this' },
  ];
}

function renamed(flows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  const ids = new Map(flows.map((n, i) => [n.id as string, `n${(i * 7919) % 1000}`]));
  const swap = (v: unknown): unknown => (typeof v === 'string' && ids.has(v) ? ids.get(v) : Array.isArray(v) ? v.map(swap) : v);
  return flows.map((n) => Object.fromEntries(Object.entries(n).map(([k, v]) => [k, swap(v)])));
}

function edit(change: (flows: Array<Record<string, unknown>>) => void): Array<Record<string, unknown>> {
  const flows = template();
  change(flows);
  return flows;
}

const byId = (flows: Array<Record<string, unknown>>, id: string): Record<string, unknown> => flows.find((n) => n.id === id) as Record<string, unknown>;

describe('fleet: the flows fingerprint', () => {
  const base = flowsFingerprint(template());

  it('is sha256 hex', () => assert.match(base, /^[0-9a-f]{64}$/));

  const same: Array<[string, Array<Record<string, unknown>>]> = [
    ['other ids, wired the same', renamed(template())],
    ['the nodes in another order', [...template()].reverse()],
    ['moved on the canvas, renamed, a comment edited', edit((f) => {
      Object.assign(byId(f, 'in'), { x: 999, y: 5, name: 'ERP feed' });
      Object.assign(byId(f, 'note'), { name: 'anything' });
    })],
    ['another site mapping spec (rules and key)', edit((f) => Object.assign(byId(f, 'map'), { rules: [{ to: 'shipmentId', from: 'Sendung' }], idFrom: 'Sendung' }))],
    ['settings keys written in another order', edit((f) => f.splice(5, 1, { wires: [['pub'], ['dlq']], catalog: 'cat', type: 'cdm-validate', id: 'val' }))],
  ];
  for (const [what, flows] of same) it(`stays the same: ${what}`, () => assert.equal(flowsFingerprint(flows), base));

  const changed: Array<[string, Array<Record<string, unknown>>]> = [
    ['a setting changed (QoS)', edit((f) => Object.assign(byId(f, 'pub'), { qos: '0' }))],
    ['an environment reference replaced by a value', edit((f) => Object.assign(byId(f, 'bus'), { siteId: 'fra' }))],
    ['the validator bypassed (map wired straight to publish)', edit((f) => Object.assign(byId(f, 'map'), { wires: [['pub'], ['dlq']] }))],
    ['the reject outputs swapped', edit((f) => Object.assign(byId(f, 'val'), { wires: [['dlq'], ['pub']] }))],
    ['a node added', edit((f) => f.push({ id: 'dbg', type: 'debug', z: 't1', wires: [] }))],
    ['a node removed', template().filter((n) => n.id !== 'dlq')],
    ['the validator on another catalog config', edit((f) => f.push({ id: 'cat2', type: 'cdm-catalog', source: 'bundled', policy: 'STRICT' }) && Object.assign(byId(f, 'val'), { catalog: 'cat2' }))],
    ['the target version changed', edit((f) => Object.assign(byId(f, 'map'), { version: '1.0.0' }))],
  ];
  for (const [what, flows] of changed) it(`changes: ${what}`, () => assert.notEqual(flowsFingerprint(flows), base));

  it('takes anything without a crash: not nodes, no ids, wires to nowhere', () => {
    assert.match(flowsFingerprint([null, 1, 'x', { type: 'x' }, { id: 'a', type: 'b', wires: [['nowhere'], 'junk'] }]), /^[0-9a-f]{64}$/);
    assert.equal(flowsFingerprint([]), flowsFingerprint([{ id: 't', type: 'tab' }]));
  });
});
