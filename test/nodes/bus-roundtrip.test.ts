// bus-publish -> real broker -> bus-subscribe, inside Node-RED: the embedded
// aedes and Debian's mosquitto, MQTT 3.1.1 and 5, structured and binary mode.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import mqtt from 'mqtt';
import { type Mosquitto, startMosquitto } from '../support/mosquitto';
import { waitFor } from '../support/node-red-process';
import { Inbox, type Msg, calls, helper, load, logged, node, startServer, stopServer } from '../support/red-helper';

const record = { shipmentId: 'SHP-1', occurredAt: '2026-11-24T07:00:00.000Z', status: 'delivered', weightKg: 12.5, carrier: { name: 'Nordfracht' }, tags: ['fragile', 'ü€'] };
let serial = 0;
function envelope(site = 'site-a'): Msg {
  serial += 1;
  return {
    entity: 'shipment',
    version: '1.2.0',
    site,
    id: `01JDTEST${String(serial).padStart(6, '0')}`,
    time: '2026-11-24T07:00:01.250Z',
    source: 'urn:tectonic:site-a:erp',
    correlationId: `corr-${serial}`,
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    validated: 'shipment@1.2.0',
  };
}

function flow(bus: Msg, wireMode = 'structured'): Msg[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'bus', type: 'tectonic-bus', z: '', ...bus },
    { id: 'pub', type: 'bus-publish', z: 'f1', x: 100, y: 100, bus: 'bus', qos: '1', wireMode, wires: [['published']] },
    { id: 'published', type: 'helper', z: 'f1', x: 300, y: 100, wires: [] },
    { id: 'sub', type: 'bus-subscribe', z: 'f1', x: 100, y: 200, bus: 'bus', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', wires: [['received']] },
    { id: 'received', type: 'helper', z: 'f1', x: 300, y: 200, wires: [] },
    { id: 'catch', type: 'catch', z: 'f1', x: 100, y: 300, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1', x: 300, y: 300, wires: [] },
  ];
}

function started(broker: Mosquitto | undefined): Mosquitto {
  if (broker === undefined) throw new Error('mosquitto did not start (see the before hook)');
  return broker;
}

/** Publishes probes until the subscriber gets one: its subscription is then in place at the broker. */
async function primed(received: Inbox): Promise<void> {
  await waitFor(
    async () => {
      node('pub').receive({ payload: { probe: true }, cdm: envelope() });
      await new Promise((resolve) => setTimeout(resolve, 100));
      return received.messages.length > 0;
    },
    { timeoutMs: 10_000, message: 'the subscriber to receive a probe' },
  );
  received.messages.length = 0;
}

async function roundTrip(bus: Msg, wireMode: string, credentials: Msg = {}): Promise<{ sent: Msg; got: Msg; published: Msg }> {
  await load(flow(bus, wireMode), credentials);
  const received = new Inbox(node('received'));
  const published = new Inbox(node('published'));
  await primed(received);
  published.messages.length = 0;
  const sent = { payload: structuredClone(record), cdm: envelope() };
  node('pub').receive(structuredClone(sent));
  const got = await received.next((m) => (m.cdm as Msg).id === sent.cdm.id);
  const confirmation = await published.next((m) => (m.cdm as Msg).id === sent.cdm.id);
  return { sent, got, published: confirmation };
}

function assertFaithful(result: { sent: Msg; got: Msg; published: Msg }): void {
  should(result.got.payload).eql(result.sent.payload);
  should(result.got.cdm).eql(result.sent.cdm);
  should(result.got.topic).equal('cdm/shipment/v1/site-a');
  should(result.published.topic).equal('cdm/shipment/v1/site-a');
}

describe('bus-publish to bus-subscribe', () => {
  let mosquitto: Mosquitto | undefined;
  before(async () => {
    await startServer();
    mosquitto = await startMosquitto();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await mosquitto?.stop();
    await stopServer();
  });

  it('over the embedded aedes, structured mode, keeps payload and every envelope attribute', async () => {
    assertFaithful(await roundTrip({ mode: 'embedded', host: '127.0.0.1', port: '0' }, 'structured'));
  });

  it('over the embedded aedes, binary mode falls back to structured with a warning (aedes is MQTT 3.1.1)', async () => {
    const flowNodes = flow({ mode: 'embedded', host: '127.0.0.1', port: '0' }, 'binary');
    await load(flowNodes);
    const received = new Inbox(node('received'));
    await primed(received);
    const sent = { payload: record, cdm: envelope() };
    node('pub').receive(structuredClone(sent));
    const got = await received.next((m) => (m.cdm as Msg).id === sent.cdm.id);
    should(got.payload).eql(record);
    should(logged('bus-publish', 30).some((m) => m.includes('binary mode needs an MQTT 5 connection'))).be.true('the fallback is announced');
  });

  for (const protocolVersion of ['4', '5']) {
    it(`over mosquitto, MQTT ${protocolVersion === '4' ? '3.1.1' : '5'}, structured mode`, async () => {
      assertFaithful(await roundTrip({ mode: 'external', url: started(mosquitto).url, protocolVersion }, 'structured'));
    });
  }

  it('over mosquitto on WebSockets (ws://), MQTT 3.1.1', async () => {
    assertFaithful(await roundTrip({ mode: 'external', url: started(mosquitto).wsUrl, protocolVersion: '4' }, 'structured'));
  });

  it('over mosquitto, MQTT 5, binary mode: attributes travel as user properties and the payload is the bare record', async () => {
    const watcher = await mqtt.connectAsync(started(mosquitto).url, { protocolVersion: 5, clientId: 'watcher-binary' });
    const wire: Array<{ payload: Buffer; properties: unknown }> = [];
    watcher.on('message', (_topic, payload, packet) => wire.push({ payload, properties: packet.properties }));
    await watcher.subscribeAsync('cdm/#', { qos: 1 });
    try {
      const result = await roundTrip({ mode: 'external', url: started(mosquitto).url, protocolVersion: '5' }, 'binary');
      assertFaithful(result);
      const sentCdm = result.sent.cdm as Msg;
      const seen = await waitFor(() => wire.find((w) => JSON.stringify(w.properties).includes(String(sentCdm.id))), { message: 'the watcher to see the binary message' });
      should(JSON.parse(seen.payload.toString())).eql(record);
      const props = seen.properties as { contentType?: string; userProperties?: Record<string, string> };
      should(props.contentType).equal('application/json');
      should(props.userProperties?.specversion).equal('1.0');
      should(props.userProperties?.cdmentity).equal('shipment');
      should(props.userProperties?.traceparent).equal(sentCdm.traceparent);
    } finally {
      await watcher.endAsync();
    }
  });

  it('binary and structured publishers interoperate: one subscriber reads both', async () => {
    await load(flow({ mode: 'external', url: started(mosquitto).url, protocolVersion: '5' }, 'binary'));
    const received = new Inbox(node('received'));
    await primed(received);
    const raw = await mqtt.connectAsync(started(mosquitto).url, { protocolVersion: 4, clientId: 'structured-sender' });
    try {
      const cdm = envelope('site-b');
      const event = { specversion: '1.0', type: 'tectonic.cdm.shipment.v1', id: cdm.id, source: cdm.source, time: cdm.time, cdmentity: 'shipment', cdmversion: '1.2.0', cdmsite: 'site-b', data: record };
      await raw.publishAsync('cdm/shipment/v1/site-b', JSON.stringify(event), { qos: 1 });
      const got = await received.next((m) => (m.cdm as Msg).id === cdm.id);
      should(got.payload).eql(record);
      should((got.cdm as Msg).site).equal('site-b');
    } finally {
      await raw.endAsync();
    }
  });
});

describe('credentials', () => {
  let secured: Mosquitto | undefined;
  before(async () => {
    await startServer();
    secured = await startMosquitto({ users: { 'site-a': 's3cret pass' } });
  });
  afterEach(() => helper.unload());
  after(async () => {
    await secured?.stop();
    await stopServer();
  });

  it('the username and password from Node-RED credentials let the site in', async () => {
    assertFaithful(await roundTrip({ mode: 'external', url: started(secured).url, protocolVersion: '4' }, 'structured', { bus: { user: 'site-a', password: 's3cret pass' } }));
  });

  it('a wrong password shows the refusal on the nodes, and nothing crashes', async () => {
    await load(flow({ mode: 'external', url: started(secured).url, protocolVersion: '5' }), { bus: { user: 'site-a', password: 'wrong' } });
    const statuses = calls(node('pub'), 'status');
    await waitFor(
      () => statuses.some((c) => {
        const status = c.args[0] as { fill?: string; text?: string };
        return status.fill === 'red' && /not authori[sz]ed|bad user name or password/i.test(status.text ?? '');
      }),
      { message: 'a red status naming the refusal' },
    );
  });
});

describe('bad input never crashes the runtime', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  const badEnvelopes: Array<[string, unknown, string]> = [
    ['no msg.cdm at all', undefined, 'cdm'],
    ['a version that is not semantic', { ...envelope(), version: 'one' }, 'cdm.version'],
    ['a site that would add a topic level', { ...envelope(), site: 'a/b' }, 'cdm.site'],
    ['a time that is not RFC 3339', { ...envelope(), time: '24/11/2026' }, 'cdm.time'],
    ['an id of the wrong type', { ...envelope(), id: 42 }, 'cdm.id'],
  ];
  for (const [what, cdm, path] of badEnvelopes) {
    it(`bus-publish: ${what} is an error a catch node sees, naming ${path}`, async () => {
      await load(flow({ mode: 'embedded', host: '127.0.0.1', port: '0' }));
      const caught = new Inbox(node('caught'));
      node('pub').receive({ payload: record, cdm });
      const msg = await caught.next();
      const error = msg.error as { message: string; source: { id: string } };
      should(error.source.id).equal('pub');
      should(error.message).match(/msg\.cdm is not a usable envelope/);
      const reject = msg.reject as { stage: string; reasons: Array<{ path: string }> };
      should(reject.stage).equal('bus-publish');
      should(reject.reasons.some((r) => r.path === path)).be.true(JSON.stringify(reject.reasons));
    });
  }

  it('bus-publish: a payload that cannot be JSON is an error, not a crash', async () => {
    await load(flow({ mode: 'embedded', host: '127.0.0.1', port: '0' }));
    const caught = new Inbox(node('caught'));
    const circular: Msg = { a: 1 };
    circular.self = circular;
    node('pub').receive({ payload: circular, cdm: envelope() });
    const msg = await caught.next();
    should((msg.error as { message: string }).message).match(/cannot be written as JSON/);
  });

  const deep = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
  const event = (over: Msg): string => JSON.stringify({ specversion: '1.0', id: 'x1', source: 'urn:s', time: '2026-11-24T07:00:00Z', cdmentity: 'shipment', cdmversion: '1.0.0', cdmsite: 'site-a', data: { ok: true }, ...over });
  const malformed: Array<[string, string, string | Buffer, RegExp]> = [
    ['not JSON', 'cdm/shipment/v1/site-a', 'hello', /not valid JSON/],
    ['a JSON array', 'cdm/shipment/v1/site-a', '[1,2]', /CloudEvents JSON object/],
    ['a __proto__ key', 'cdm/shipment/v1/site-a', '{"specversion":"1.0","__proto__":{"polluted":true}}', /__proto__/],
    ['no specversion', 'cdm/shipment/v1/site-a', JSON.stringify({ id: 'x' }), /specversion/],
    ['an envelope with no id', 'cdm/shipment/v1/site-a', event({ id: undefined }), /event\.id: is missing/],
    ['a topic that disagrees with the envelope', 'cdm/shipment/v1/site-b', event({}), /topic says "site-b"/],
    ['data nested 10,000 deep', 'cdm/shipment/v1/site-a', `{"specversion":"1.0","id":"x","source":"s","time":"2026-11-24T07:00:00Z","cdmentity":"shipment","cdmversion":"1.0.0","cdmsite":"site-a","data":${deep(10_000)}}`, /nested deeper/],
    ['more bytes than the limit', 'cdm/shipment/v1/site-a', Buffer.alloc(1024 * 1024 + 10, 0x20), /more than the limit/],
  ];
  it('bus-subscribe: each malformed message is an error naming its topic, and good ones still flow', async () => {
    await load(flow({ mode: 'embedded', host: '127.0.0.1', port: '0' }));
    const received = new Inbox(node('received'));
    const caught = new Inbox(node('caught'));
    await primed(received);
    const bus = (helper.getNode('bus') as unknown as { bus: { settings: { url: string } } }).bus;
    const raw = await mqtt.connectAsync(bus.settings.url, { clientId: 'hostile' });
    try {
      for (const [what, topic, payload, pattern] of malformed) {
        caught.messages.length = 0;
        await raw.publishAsync(topic, payload, { qos: 1 });
        const msg = await caught.next();
        const error = msg.error as { message: string; source: { id: string } };
        should(error.source.id).equal('sub', what);
        should(error.message.includes(`malformed message on ${topic}`)).be.true(`${what}: ${error.message}`);
        should(error.message).match(pattern, what);
        should(msg.topic).equal(topic, what);
        should(Array.isArray((msg.reject as { reasons: unknown[] }).reasons)).be.true(what);
      }
      should(received.messages.length).equal(0, 'no malformed message was passed on');
      should(({} as Msg).polluted).equal(undefined, 'Object.prototype untouched');
      const good = { payload: record, cdm: envelope() };
      node('pub').receive(structuredClone(good));
      const got = await received.next((m) => (m.cdm as Msg).id === good.cdm.id);
      should(got.payload).eql(record);
    } finally {
      await raw.endAsync();
    }
  });

  it('a bus config that cannot start shows why on the nodes that use it', async () => {
    await load(flow({ mode: 'external', url: '', protocolVersion: '4' }));
    const caught = new Inbox(node('caught'));
    node('pub').receive({ payload: record, cdm: envelope() });
    const msg = await caught.next();
    should((msg.error as { message: string }).message).match(/url: is required in external mode/);
  });

  it('an unset environment variable is named', async () => {
    delete process.env.TECTONIC_TEST_UNSET_PORT;
    await load(flow({ mode: 'embedded', host: '127.0.0.1', port: '${TECTONIC_TEST_UNSET_PORT}' }));
    const caught = new Inbox(node('caught'));
    node('pub').receive({ payload: record, cdm: envelope() });
    const msg = await caught.next();
    should((msg.error as { message: string }).message).match(/environment variable TECTONIC_TEST_UNSET_PORT is not set/);
  });

  it('nodes show the connection state: green once connected', async () => {
    await load(flow({ mode: 'embedded', host: '127.0.0.1', port: '0' }));
    const statuses = calls(node('sub'), 'status');
    await waitFor(() => statuses.some((c) => (c.args[0] as { fill?: string }).fill === 'green'), { message: 'a green status' });
    // An embedded broker without a security file admits anyone on this machine: the status says so.
    const green = statuses.map((c) => c.args[0] as { fill?: string; text?: string }).find((s) => s.fill === 'green');
    should(green?.text).match(/open, loopback only/);
  });
});
