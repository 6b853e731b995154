// W3C trace context across the bus: cdm-map starts or continues a
// traceparent, the envelope carries it (CloudEvents `traceparent`) through
// bus-publish and the embedded broker, and bus-subscribe sets msg.traceparent.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import { fraRecords, fraSpec } from '../fixtures/logistics';
import { waitFor } from '../support/node-red-process';
import { Inbox, type Msg, helper, load, node, startServer, stopServer } from '../support/red-helper';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

function mapNode(id: string, traceSampling: string): Msg {
  return { id, type: 'cdm-map', z: 'f1', entity: fraSpec.entity, version: fraSpec.version, site: 'fra', siteType: 'str', source: 'urn:tectonic:fra:wms', rules: fraSpec.rules, traceSampling, wires: [['publish'], []] };
}

describe('trace context across the bus', function () {
  this.timeout(20_000);
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('cdm-map starts a sampled traceparent for the sampled share (none for the rest) or continues one, and bus-subscribe at the other end sets msg.traceparent', async () => {
    await load([
      { id: 'f1', type: 'tab', label: 'site' },
      { id: 'bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: '0' },
      mapNode('sampled', '1'),
      mapNode('unsampled', '0'),
      mapNode('continuing', ''),
      { id: 'publish', type: 'bus-publish', z: 'f1', bus: 'bus', qos: '1', wireMode: 'structured', wires: [] },
      { id: 'centre', type: 'bus-subscribe', z: 'f1', bus: 'bus', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', wires: [['received']] },
      { id: 'received', type: 'helper', z: 'f1', wires: [] },
    ]);
    const received = new Inbox(node('received'));
    const record = (id: string): Msg => ({ ...structuredClone(fraRecords[0] as Msg), Sendung: id });
    // The subscription is in place once a record gets through.
    await waitFor(
      async () => {
        node('continuing').receive({ payload: record('PRIME') });
        await new Promise((resolve) => setTimeout(resolve, 100));
        return received.messages.length > 0;
      },
      { timeoutMs: 10_000, message: 'the subscriber to receive a record' },
    );

    const byShipment = (id: string): Promise<Msg> => received.next((m) => (m.payload as Msg).shipmentId === id, 5_000);
    node('sampled').receive({ payload: record('S-1') });
    node('unsampled').receive({ payload: record('U-1') });
    const fromHttp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    node('continuing').receive({ payload: record('H-1'), req: { headers: { traceparent: fromHttp } } });
    const fromMqtt = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    node('continuing').receive({ payload: record('M-1'), userProperties: { traceparent: fromMqtt } });
    node('continuing').receive({ payload: record('N-1') });

    const sampled = await byShipment('S-1');
    should(sampled.traceparent).match(TRACEPARENT);
    should(TRACEPARENT.exec(String(sampled.traceparent))?.[3]).equal('01');
    should((sampled.cdm as Msg).traceparent).equal(sampled.traceparent);
    // Outside the sampled share (a rate of 0): no trace is started, so the record carries none.
    const unsampled = await byShipment('U-1');
    should(unsampled.traceparent).be.undefined();
    should((unsampled.cdm as Msg).traceparent).be.undefined();
    should((await byShipment('H-1')).traceparent).equal(fromHttp);
    should((await byShipment('M-1')).traceparent).equal(fromMqtt);
    // Without a sampling rate a record that came without a trace starts none.
    const none = await byShipment('N-1');
    should(none.traceparent).be.undefined();
    should((none.cdm as Msg).traceparent).be.undefined();
  });

  it('a sampling rate that is not a share from 0 to 1 is refused at deploy with the reason', async () => {
    await load([{ id: 'f1', type: 'tab', label: 'site' }, { ...mapNode('bad', '1.5'), wires: [['out'], ['out']] }, { id: 'out', type: 'helper', z: 'f1', wires: [] }]);
    const statuses: Msg[] = [];
    node('bad').on('call:status', (call: { args: Msg[] }) => statuses.push(call.args[0] ?? {}));
    const errors: string[] = [];
    node('bad').on('call:error', (call: { args: unknown[] }) => errors.push(String(call.args[0])));
    node('bad').receive({ payload: {} });
    await waitFor(() => errors.length > 0, { timeoutMs: 5_000, message: 'the refusal' });
    should(errors.join(' ')).match(/trace sampling must be a share from 0 to 1/);
  });
});
