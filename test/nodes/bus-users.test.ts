// tectonic-bus opens its embedded broker and connection for its users only,
// as core's mqtt-broker does: a bus no node uses holds no port; the first
// user (a bus-subscribe, a cdm-catalog reading from or publishing to the bus)
// opens it, and removing the last one closes it.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import { freePort, waitFor } from '../support/node-red-process';
import { type Msg, helper, load, startServer, stopServer } from '../support/red-helper';
import { portIsFree } from '../lib/bus/mqtt-helpers';

describe('tectonic-bus: users open it, the last one closes it', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  const tab: Msg = { id: 'f1', type: 'tab', label: 'test' };
  const bus = (port: number): Msg => ({ id: 'bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port) });
  const subscriber: Msg = { id: 'sub', type: 'bus-subscribe', z: 'f1', bus: 'bus', entity: 'shipment', versions: '1', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '', wires: [] };

  it('a bus no node uses starts no broker', async () => {
    const port = await freePort();
    await load([tab, bus(port)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    should(await portIsFree(port)).be.true('no broker listens');
    should((helper.getNode('bus') as unknown as { bus: { userCount: number } }).bus.userCount).equal(0);
  });

  const users: Array<[string, Msg]> = [
    ['a bus-subscribe', subscriber],
    ['a cdm-catalog reading from the bus', { id: 'cat', type: 'cdm-catalog', z: '', source: 'bus', bus: 'bus', policy: 'STRICT' }],
    ['a cdm-catalog publishing to the bus', { id: 'cat', type: 'cdm-catalog', z: '', source: 'bundled', publishToBus: 'bus', policy: 'STRICT' }],
  ];
  for (const [what, user] of users) {
    it(`${what} opens it`, async () => {
      const port = await freePort();
      await load([tab, bus(port), user]);
      await waitFor(async () => !(await portIsFree(port)), { timeoutMs: 5000, message: 'the broker to listen' });
      should((helper.getNode('bus') as unknown as { bus: { userCount: number } }).bus.userCount).equal(1);
    });
  }

  it('closing the last user frees the port while the bus config stays', async () => {
    const port = await freePort();
    await load([tab, bus(port), subscriber]);
    await waitFor(async () => !(await portIsFree(port)), { timeoutMs: 5000, message: 'the broker to listen' });
    const sub = helper.getNode('sub') as unknown as { close(removed: boolean): Promise<void> };
    await sub.close(true);
    should(await portIsFree(port)).be.true('the last user took the broker with it');
    should((helper.getNode('bus') as unknown as { bus: { userCount: number; state: { kind: string } } }).bus.state.kind).equal('closed');
  });
});
