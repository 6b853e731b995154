// Issue 7 inside Node-RED: bus-publish's durable outbox while the broker is
// away and across a redeploy, its bound, bus-subscribe's persistent session
// and de-duplication, and dead letters there and back. The broker runs in the
// test process (the pack's embedded aedes) so it can outlive the flows.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../lib/bus/embedded-broker';
import { freePort, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, calls, helper, load, node, startServer, stopServer } from '../support/red-helper';

let serial = 0;
function envelope(site = 'site-a'): Msg {
  serial += 1;
  return { entity: 'shipment', version: '1.1.0', site, id: `run-${process.pid}-${String(serial).padStart(6, '0')}`, time: '2026-11-24T07:00:00Z', source: 'urn:tectonic:test' };
}
const record = { shipmentId: 'SHP-1', occurredAt: '2026-11-24T07:00:00.000Z', status: 'delivered', weightKg: 1, siteId: 'hub-fra' };

interface FlowOptions {
  port: number;
  /** Distinct per test: the outbox lives in a folder named after the node id. */
  tag: string;
  publish?: Msg;
  subscribe?: Msg;
}

function flow({ port, tag, publish = {}, subscribe = {} }: FlowOptions): Msg[] {
  return [
    { id: 'f1', type: 'tab', label: 'delivery' },
    { id: 'bus', type: 'tectonic-bus', mode: 'external', url: `mqtt://127.0.0.1:${port}`, protocolVersion: '4', clientId: `delivery-${tag}`, session: 'persistent' },
    { id: `pub-${tag}`, type: 'bus-publish', z: 'f1', x: 100, y: 100, bus: 'bus', qos: '1', wireMode: 'structured', ...publish, wires: [['published'], ['rejected']] },
    { id: 'published', type: 'helper', z: 'f1', x: 300, y: 80, wires: [] },
    { id: 'rejected', type: 'helper', z: 'f1', x: 300, y: 120, wires: [] },
    { id: 'sub', type: 'bus-subscribe', z: 'f1', x: 100, y: 200, bus: 'bus', entity: '', versions: '', site: '', siteType: 'str', group: '', qos: '1', dedupWindow: '1000', ...subscribe, wires: [['received']] },
    { id: 'received', type: 'helper', z: 'f1', x: 300, y: 200, wires: [] },
  ];
}

async function stats(id: string): Promise<Record<string, number>> {
  const res = await helper.request().get(`/tectonic/stats/${id}`);
  should(res.status).equal(200, JSON.stringify(res.body));
  return res.body as Record<string, number>;
}

describe('nothing lost, inside Node-RED', () => {
  let port = 0;
  let broker: EmbeddedBroker | undefined;
  const startBroker = async (): Promise<void> => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port });
  };
  const stopBroker = async (): Promise<void> => {
    await broker?.close();
    broker = undefined;
  };

  before(async () => {
    port = await freePort();
    await startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await stopBroker();
  });
  after(stopServer);

  it('with the broker away, messages wait in the outbox and go out in order once it is back', async () => {
    await load(flow({ port, tag: 'away' }));
    const published = new Inbox(node('published'));
    const sent = Array.from({ length: 30 }, () => envelope());
    for (const cdm of sent) node('pub-away').receive({ payload: record, cdm });
    await waitFor(async () => (await stats('pub-away')).outboxDepth === 30, { message: 'all 30 waiting in the outbox' });
    should(published.messages.length).equal(0, 'nothing counts as published before the broker acknowledged it');

    await startBroker();
    const out = await published.count(30, 15_000);
    should(out.map((m) => (m.cdm as Msg).id)).eql(sent.map((c) => c.id), 'published in the order accepted');
    await waitFor(async () => (await stats('pub-away')).outboxDepth === 0, { message: 'the outbox to drain' });
  });

  it('what was waiting survives a redeploy, and the subscriber drops the duplicates', async () => {
    await load(flow({ port, tag: 'redeploy' }));
    const sent = Array.from({ length: 10 }, () => envelope());
    for (const cdm of sent) node('pub-redeploy').receive({ payload: record, cdm });
    await waitFor(async () => (await stats('pub-redeploy')).outboxDepth === 10, { message: 'all 10 waiting' });
    await helper.unload();

    await startBroker();
    await load(flow({ port, tag: 'redeploy' }));
    const received = new Inbox(node('received'));
    // The recovered messages go out on the first connection. The subscriber's SUBSCRIBE
    // precedes them on that connection, so once the outbox has drained it is in place;
    // then the same envelopes are published twice more, as a producer retrying would.
    await waitFor(async () => (await stats('pub-redeploy')).outboxDepth === 0, { timeoutMs: 15_000, message: 'the recovered outbox to drain' });
    for (const cdm of sent) node('pub-redeploy').receive({ payload: record, cdm });
    for (const cdm of sent) node('pub-redeploy').receive({ payload: record, cdm });
    await received.count(10, 15_000);
    await waitFor(async () => ((await stats('sub')).duplicatesDropped ?? 0) >= 10, { timeoutMs: 10_000, message: 'the duplicates to be counted' });
    should(received.messages.length).equal(10, 'each id passed on once');
  });

  it('a persistent session keeps what was published while the subscriber was away', async () => {
    await startBroker();
    await load(flow({ port, tag: 'session' }));
    const first = new Inbox(node('received'));
    const warmup = envelope();
    node('pub-session').receive({ payload: record, cdm: warmup });
    await first.next((m) => (m.cdm as Msg).id === warmup.id, 10_000);
    await helper.unload();

    // The subscriber is gone; a publisher with another client id sends meanwhile.
    await load(flow({ port, tag: 'session-publisher', subscribe: { entity: 'nothing-here' } }));
    const missed = Array.from({ length: 5 }, () => envelope());
    const done = new Inbox(node('published'));
    for (const cdm of missed) node('pub-session-publisher').receive({ payload: record, cdm });
    await done.count(5, 10_000);
    await helper.unload();

    await load(flow({ port, tag: 'session' }));
    const back = new Inbox(node('received'));
    await back.count(5, 10_000);
    should(back.messages.map((m) => (m.cdm as Msg).id)).eql(missed.map((c) => c.id));
  });

  it('a full outbox rejects with the reason and a red status; drop-oldest makes room', async () => {
    await load(flow({ port, tag: 'full', publish: { outboxMaxCount: '5' } }));
    const rejected = new Inbox(node('rejected'));
    const statuses = calls(node('pub-full'), 'status');
    for (let i = 0; i < 8; i++) node('pub-full').receive({ payload: record, cdm: envelope() });
    const refused = await rejected.count(3, 10_000);
    for (const msg of refused) {
      const reject = msg.reject as { stage: string; reasons: Array<{ rule: string; message: string }> };
      should(reject.stage).equal('bus-publish');
      should(reject.reasons[0]?.rule).equal('outbox-full');
    }
    await waitFor(() => statuses.some((c) => (c.args[0] as { fill?: string; text?: string }).fill === 'red' && /outbox full/.test((c.args[0] as { text?: string }).text ?? '')), { message: 'a red "outbox full" status' });
    should((await stats('pub-full')).outboxDepth).equal(5);
    await helper.unload();

    await load(flow({ port, tag: 'drop', publish: { outboxMaxCount: '5', whenFull: 'drop-oldest' } }));
    const dropped = new Inbox(node('rejected'));
    const sent = Array.from({ length: 8 }, () => envelope());
    // Only entries already on disk can be dropped: let the first five land, then push three more.
    for (const cdm of sent.slice(0, 5)) node('pub-drop').receive({ payload: record, cdm });
    await waitFor(async () => (await stats('pub-drop')).outboxDepth === 5, { message: 'five on disk' });
    for (const cdm of sent.slice(5)) node('pub-drop').receive({ payload: record, cdm });
    const evicted = await dropped.count(3, 10_000);
    should(evicted.map((m) => (m.cdm as Msg).id)).eql(sent.slice(0, 3).map((c) => c.id), 'the oldest three make room');
    await startBroker();
    const published = new Inbox(node('published'));
    const out = await published.count(5, 15_000);
    should(out.map((m) => (m.cdm as Msg).id)).eql(sent.slice(3).map((c) => c.id));
  });

  it('dead letters go to tectonic/dlq/{site}/{stage} and come back for replay', async () => {
    await startBroker();
    await load(flow({ port, tag: 'dlq', publish: { mode: 'dead-letter', site: 'site-a', siteType: 'str' }, subscribe: { kind: 'dead-letter' } }));
    const received = new Inbox(node('received'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const reject = { stage: 'cdm-map', reasons: [{ path: 'status', rule: 'lookup', message: 'from "stat": unknown code "XYZ"' }] };
    const local = { shp_no: 'A-1', stat: 'XYZ' };
    await waitFor(
      async () => {
        node('pub-dlq').receive({ payload: local, reject });
        await new Promise((resolve) => setTimeout(resolve, 200));
        return received.messages.length > 0;
      },
      { timeoutMs: 10_000, message: 'a dead letter back' },
    );
    const back = received.messages[0] as Msg;
    should(back).be.ok();
    should(back.topic).equal('tectonic/dlq/site-a/cdm-map');
    should(back.payload).eql(local);
    should((back.reject as { stage: string }).stage).equal('cdm-map');
    should((back.reject as { reasons: unknown }).reasons).eql(reject.reasons);
  });
});
