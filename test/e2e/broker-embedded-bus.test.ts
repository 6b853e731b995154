// The embedded broker of tectonic-bus, secured by a security file, inside
// Node-RED (node-red-node-test-helper): bus-publish -> broker -> bus-subscribe
// works for the bus's own user, whose default client id begins with its name;
// an anonymous client and a client with another user's id are refused; a
// non-loopback address without users refuses to start and the nodes say why.
import { after, afterEach, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../../lib/broker/password-hash';
import { attempt } from '../support/broker-mqtt';
import { freePort, tempDir, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, calls, helper, load, node, startServer, stopServer } from '../support/red-helper';

const record = { shipmentId: 'SHP-1', occurredAt: '2026-11-24T07:00:00.000Z', status: 'delivered', weightKg: 12.5 };
let serial = 0;
const envelope = (): Msg => ({ entity: 'shipment', version: '1.2.0', site: 'fra', id: `01JDSEC${String(++serial).padStart(6, '0')}`, time: '2026-11-24T07:00:01.250Z', source: 'urn:t:fra' });

function flow(bus: Msg): Msg[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'bus', type: 'tectonic-bus', z: '', ...bus },
    { id: 'pub', type: 'bus-publish', z: 'f1', bus: 'bus', qos: '1', wireMode: 'structured', wires: [[]] },
    { id: 'sub', type: 'bus-subscribe', z: 'f1', bus: 'bus', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', wires: [['received']] },
    { id: 'received', type: 'helper', z: 'f1', wires: [] },
  ];
}

describe('tectonic-bus embedded broker with a security file (issue 20)', function () {
  this.timeout(30_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let file: string;
  before(async () => {
    await startServer();
    dir = await tempDir('tectonic-busec-');
    file = join(dir.path, 'security.yaml');
    writeFileSync(
      file,
      `users:
  - { name: central, role: central, passwordHash: "${await hashPassword('central pw', { N: 1024, r: 8, p: 1 })}" }
  - { name: site-fra, role: site, site: fra, passwordHash: "${await hashPassword('fra pw', { N: 1024, r: 8, p: 1 })}" }
`,
    );
  });
  afterEach(() => helper.unload());
  after(async () => {
    await stopServer();
    await dir.remove();
  });

  it('records flow for the bus user; anonymous and a borrowed client id are refused; the default id begins with the user name', async () => {
    const port = await freePort();
    await load(flow({ mode: 'embedded', host: '127.0.0.1', port: String(port), persistence: 'memory', securityFile: file }), { bus: { user: 'central', password: 'central pw' } });
    const received = new Inbox(node('received'));
    await waitFor(
      async () => {
        node('pub').receive({ payload: record, cdm: envelope() });
        await new Promise((resolve) => setTimeout(resolve, 150));
        return received.messages.length > 0;
      },
      { timeoutMs: 15_000, message: 'a record through the secured embedded broker' },
    );
    const bus = helper.getNode('bus') as unknown as { bus: { settings: { clientId: string } } };
    assert.match(bus.bus.settings.clientId, /^central_[0-9a-f]{12}$/);
    const url = `mqtt://127.0.0.1:${port}`;
    const anonymous = await attempt(url, { clientId: 'nobody' });
    assert.equal(anonymous.kind === 'refused' && anonymous.returnCode, 5);
    const hijack = await attempt(url, { username: 'site-fra', password: 'fra pw', clientId: `${bus.bus.settings.clientId}-in`, clean: false });
    assert.equal(hijack.kind === 'refused' && hijack.returnCode, 2);
  });

  it('without a security file, a non-loopback address is refused at start and the nodes show why', async () => {
    await load(flow({ mode: 'embedded', host: '0.0.0.0', port: String(await freePort()), persistence: 'memory' }));
    const statuses = calls(node('pub'), 'status');
    await waitFor(
      () =>
        statuses.some((c) => {
          const status = c.args[0] as { fill?: string; text?: string };
          return status.fill === 'red' && /no user is configured/.test(status.text ?? '');
        }),
      { message: 'a red status saying the broker has no users' },
    );
  });
});
