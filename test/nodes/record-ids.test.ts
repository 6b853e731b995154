// Issue "The same record, the same id", inside Node-RED on a real aedes
// broker: a local record delivered twice on its topic through bus-subscribe
// (records) gets the same envelope id from cdm-map both times, bus-publish
// sends both, and the centre's bus-subscribe drops the second copy; an equal
// reading after the centre's window passes. A spec's id.from gives the same
// id for the same key, another for another site, and rejects a record
// without its key.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import type { MqttClient } from 'mqtt';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../lib/bus/embedded-broker';
import { encodeMessage } from '../../lib/envelope/cloudevents';
import { isInputId } from '../../lib/envelope/derived-id';
import { connectRaw, endRaw } from '../lib/bus/mqtt-helpers';
import { delay, freePort, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, helper, load, node, startServer, stopServer } from '../support/red-helper';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

async function stats(id: string): Promise<Record<string, number>> {
  const res = await helper.request().get(`/tectonic/stats/${id}`);
  should(res.status).equal(200, JSON.stringify(res.body));
  return res.body as Record<string, number>;
}

describe('the same record, the same id', () => {
  let port = 0;
  let broker: EmbeddedBroker | undefined;
  let publisher: MqttClient | undefined;
  let tag = 0;

  before(async () => {
    port = await freePort();
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port });
    publisher = await connectRaw(`mqtt://127.0.0.1:${port}`, { clientId: `record-ids-publisher-${process.pid}` });
    await startServer();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await stopServer();
    await endRaw(publisher);
    await broker?.close();
  });

  const publish = async (topic: string, payload: string | Buffer): Promise<void> => {
    await publisher?.publishAsync(topic, payload, { qos: 1 });
  };

  /** A site's pipeline and the centre's subscriber on one bus: records in, cdm-map, bus-publish; canonical out. */
  const pipeline = (dedupMaxAge: string): Msg[] => [
    { id: 'f1', type: 'tab' },
    { id: 'bus', type: 'tectonic-bus', mode: 'external', url: `mqtt://127.0.0.1:${port}`, protocolVersion: '4', clientId: `record-ids-${process.pid}-${++tag}`, session: 'clean' },
    { id: 'entry', type: 'bus-subscribe', z: 'f1', x: 100, y: 40, bus: 'bus', kind: 'records', topic: 'site/fra/sensors/#', qos: '1', maxBytes: '', maxInFlight: '0', wires: [['map']] },
    { id: 'map', type: 'cdm-map', z: 'f1', x: 200, y: 40, entity: 'reading', version: '1.0.0', site: 'site-a', siteType: 'str', source: '', rules: [{ to: 'celsius', from: 'c' }], wires: [['mapped', 'pub'], ['rejected']] },
    { id: 'mapped', type: 'helper', z: 'f1', x: 300, y: 40, wires: [] },
    { id: 'rejected', type: 'helper', z: 'f1', x: 300, y: 80, wires: [] },
    { id: 'pub', type: 'bus-publish', z: 'f1', x: 300, y: 120, bus: 'bus', qos: '1', wireMode: 'structured', mode: 'canonical', wires: [[], []] },
    { id: 'centre', type: 'bus-subscribe', z: 'f1', x: 100, y: 160, bus: 'bus', kind: 'canonical', entity: 'reading', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', maxInFlight: '0', dedupMaxAge, wires: [['central']] },
    { id: 'central', type: 'helper', z: 'f1', x: 300, y: 160, wires: [] },
  ];

  /** Probes until both subscriptions are in place: a local probe reaches cdm-map (and is rejected: no "c"), a canonical one the centre. */
  async function primed(rejected: Inbox, central: Inbox): Promise<void> {
    let serial = 0;
    await waitFor(
      async () => {
        const encoded = encodeMessage({ entity: 'reading', version: '1.0.0', site: 'site-probe', id: `probe-${process.pid}-${++serial}`, time: '2026-11-24T07:00:00Z', source: 'urn:tectonic:test' }, { probe: true }, 'structured');
        if (!encoded.ok) throw new Error('the probe does not encode');
        if (rejected.messages.length === 0) await publish('site/fra/sensors/probe', '{"probe":true}');
        if (central.messages.length === 0) await publish('cdm/reading/v1/site-probe', encoded.value.payload);
        await delay(100);
        return rejected.messages.length > 0 && central.messages.length > 0;
      },
      { timeoutMs: 10_000, message: 'the probes to arrive' },
    );
  }

  const readings = (central: Inbox): Msg[] => central.messages.filter((m) => (m.cdm as Msg).site === 'site-a');

  it('a local record delivered twice gets the same envelope id, and the centre drops the second copy', async () => {
    await load(pipeline(''));
    const mapped = new Inbox(node('mapped'));
    const central = new Inbox(node('central'));
    await primed(new Inbox(node('rejected')), central);

    const body = JSON.stringify({ c: 21.5, n: process.pid });
    await publish('site/fra/sensors/t1', body);
    await publish('site/fra/sensors/t1', body); // the broker redelivering an input the site had not acknowledged
    await publish('site/fra/sensors/t2', body); // the same payload on another topic: another reading
    const [first, second, other] = await mapped.count(3);
    const id = String((first?.cdm as Msg).id);
    should(isInputId(id)).be.true(id);
    should((second?.cdm as Msg).id).equal(id, 'the same input, the same id');
    should((other?.cdm as Msg).id).not.equal(id, 'another topic, another id');
    should(first?.tectonic).have.properties({ entry: 'records' });

    await central.next(() => readings(central).length >= 2, 10_000);
    await waitFor(async () => (await stats('centre')).duplicatesDropped === 1, { message: 'the centre to drop the copy' });
    await delay(300);
    should(readings(central).map((m) => [(m.cdm as Msg).id, m.payload])).eql([
      [id, { celsius: 21.5 }],
      [(other?.cdm as Msg).id, { celsius: 21.5 }],
    ]);
  });

  it('an equal reading after the centre\'s window (1 s here) arrives, with the same id', async () => {
    await load(pipeline('1'));
    const mapped = new Inbox(node('mapped'));
    const central = new Inbox(node('central'));
    await primed(new Inbox(node('rejected')), central);

    const body = JSON.stringify({ c: 19, n: process.pid });
    await publish('site/fra/sensors/t1', body);
    await central.next(() => readings(central).length >= 1, 10_000);
    await delay(1200);
    await publish('site/fra/sensors/t1', body);
    await central.next(() => readings(central).length >= 2, 10_000);
    const ids = (await mapped.count(2)).map((m) => (m.cdm as Msg).id);
    should(ids[1]).equal(ids[0]);
    should(readings(central).map((m) => (m.cdm as Msg).id)).eql(ids, 'both readings passed the centre');
    should((await stats('centre')).duplicatesDropped).equal(0);
  });

  it('a spec\'s id.from: the same key gives the same id, another site another; a record without its key is rejected', async () => {
    const map = (id: string, site: string, idFrom: string): Msg => ({ id, type: 'cdm-map', z: 'f1', x: 100, y: 100, entity: 'shipment', version: '1.0.0', site, siteType: 'str', source: '', idFrom, rules: [{ to: 'shipmentId', from: 'shp_no' }, { to: 'status', from: 'stat' }], wires: [['mapped'], ['rejected']] });
    await load([
      { id: 'f1', type: 'tab' },
      map('mapA', 'site-a', 'shp_no, dt'),
      map('mapB', 'site-b', 'shp_no, dt'),
      map('plain', 'site-a', ''),
      { id: 'mapped', type: 'helper', z: 'f1', x: 300, y: 80, wires: [] },
      { id: 'rejected', type: 'helper', z: 'f1', x: 300, y: 120, wires: [] },
    ]);
    const mapped = new Inbox(node('mapped'));
    const rejected = new Inbox(node('rejected'));
    const record = { shp_no: 'SHP-1', dt: '24/11/2026 08:30', stat: 'DLV' };
    node('mapA').receive({ payload: { ...record } });
    node('mapA').receive({ payload: { ...record, stat: 'TRN' } });
    node('mapB').receive({ payload: { ...record } });
    node('mapA').receive({ payload: { ...record, dt: '24/11/2026 09:00' } });
    node('plain').receive({ payload: { ...record } });
    const ids = (await mapped.count(5)).map((m) => String((m.cdm as Msg).id));
    should(ids[0]).match(UUID_V5);
    should(ids[1]).equal(ids[0], 'the same key at the same site');
    should(ids[2]).not.equal(ids[0], 'another site');
    should(ids[3]).not.equal(ids[0], 'another key');
    should(ids[4]).match(ULID, 'no id.from and no entry mark: a ULID as before');

    node('mapA').receive({ payload: { shp_no: 'SHP-2', stat: 'DLV' } });
    const refused = await rejected.next();
    should((refused.reject as { reasons: Msg[] }).reasons).eql([{ path: 'cdm.id', rule: 'missing', message: 'from "dt": the key field is missing, and the envelope id is made from it' }]);
  });
});
