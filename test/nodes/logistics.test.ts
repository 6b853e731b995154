// Issue 4's logistics scenario end to end inside Node-RED: two sites, each
// with its own cdm-map spec, feed one cdm-validate on the bundled catalog.
// The same real-world events must come out as byte-identical canonical
// records that pass validation; what a site cannot map leaves on its reject
// output with reasons.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import { chicagoRecords, chicagoSpec, expectedCanonical, fraRecords, fraSpec } from '../fixtures/logistics';
import { Inbox, type Msg, helper, load, node, startServer, stopServer } from '../support/red-helper';
import { waitFor } from '../support/node-red-process';

function mapNode(id: string, site: string, spec: { entity: string; version: string; rules: unknown[] }, y: number): Msg {
  return { id, type: 'cdm-map', z: 'f1', x: 150, y, catalog: 'catalog', entity: spec.entity, version: spec.version, site, siteType: 'str', source: `urn:tectonic:${site}:wms`, rules: spec.rules, wires: [['validate'], ['unmapped']] };
}

const flow: Msg[] = [
  { id: 'f1', type: 'tab', label: 'logistics' },
  { id: 'catalog', type: 'cdm-catalog', name: 'bundled', source: 'bundled', folder: '', folderType: 'str', url: '', urlType: 'str', bus: '', refresh: '', publishToBus: '', policy: 'STRICT' },
  mapNode('map-fra', 'site-fra', fraSpec, 80),
  mapNode('map-chi', 'site-chi', chicagoSpec, 160),
  { id: 'validate', type: 'cdm-validate', z: 'f1', x: 350, y: 120, catalog: 'catalog', entity: '', entityType: 'str', version: '', versionType: 'str', castTo: '', castToType: 'str', wires: [['valid'], ['invalid']] },
  { id: 'valid', type: 'helper', z: 'f1', x: 550, y: 80, wires: [] },
  { id: 'invalid', type: 'helper', z: 'f1', x: 550, y: 160, wires: [] },
  { id: 'unmapped', type: 'helper', z: 'f1', x: 350, y: 240, wires: [] },
];

describe('logistics: two sites, different formats, the same canonical records', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('every event maps to byte-identical JSON from both sites, and passes cdm-validate', async () => {
    await load(flow);
    const valid = new Inbox(node('valid'));
    const invalid = new Inbox(node('invalid'));
    const unmapped = new Inbox(node('unmapped'));
    // The bundled catalog loads asynchronously; until then cdm-validate rejects, so wait for it.
    await waitFor(
      async () => {
        node('map-fra').receive({ payload: fraRecords[0] });
        await new Promise((resolve) => setTimeout(resolve, 100));
        return valid.messages.length > 0;
      },
      { timeoutMs: 10_000, message: 'the catalog to load' },
    );
    valid.messages.length = 0;
    invalid.messages.length = 0;

    fraRecords.forEach((record) => node('map-fra').receive({ payload: structuredClone(record) }));
    chicagoRecords.forEach((record) => node('map-chi').receive({ payload: structuredClone(record) }));
    await valid.count(fraRecords.length + chicagoRecords.length, 10_000);
    should(invalid.messages.length).equal(0, JSON.stringify(invalid.messages.map((m) => m.reject)));
    should(unmapped.messages.length).equal(0, JSON.stringify(unmapped.messages.map((m) => m.reject)));

    const bySite = (site: string): string[] => valid.messages.filter((m) => (m.cdm as Msg).site === site).map((m) => JSON.stringify(m.payload));
    should(bySite('site-fra')).eql(expectedCanonical);
    should(bySite('site-chi')).eql(expectedCanonical);
    for (const msg of valid.messages) should((msg.cdm as Msg).validated).equal('shipment@1.1.0');
  });

  it('a record each site cannot map is rejected with reasons, not passed on half-right', async () => {
    await load(flow);
    const valid = new Inbox(node('valid'));
    const unmapped = new Inbox(node('unmapped'));
    node('map-fra').receive({ payload: { Sendung: 'SHP-9', Zeitpunkt: '29.03.2026 02:30', Status: 'XX', Gewicht: '', Standort: 'FRA1' } });
    node('map-chi').receive({ payload: { ref: 'ORD-1', event: { time: '2/30/2026 1:00 AM', code: 99, location: 'Paris' }, weight_lb: '1,5' } });
    const rejected = await unmapped.count(2);
    const paths = rejected.map((m) => (m.reject as { reasons: Array<{ path: string }> }).reasons.map((r) => r.path).sort().join(','));
    should(paths.sort()).eql(['occurredAt,shipmentId,siteId,status,weightKg', 'occurredAt,status,weightKg']);
    should(valid.messages.length).equal(0);
  });
});
