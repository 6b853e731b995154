// SharedBus: what one tectonic-bus config owns. Its first user opens it: in
// embedded mode it leases a broker and connects to it; the last user to leave,
// or close, releases both, and a broker that cannot start leaves the bus
// 'failed' with the reason rather than throwing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'mocha';
import type { MqttClient } from 'mqtt';
import { type BusSettings, resolveBusSettings } from '../../../lib/bus/bus-settings';
import { SharedBus, type SharedBusState } from '../../../lib/bus/shared-bus';
import { waitFor } from '../../support/node-red-process';
import { LOOPBACK, connectRaw, endRaw, occupy, portIsFree, release, tectonicError } from './mqtt-helpers';

describe('lib/bus/shared-bus', () => {
  const WAIT = { timeoutMs: 5000 };
  const buses: SharedBus[] = [];
  const raws: MqttClient[] = [];

  function settings(raw: Record<string, string>): BusSettings {
    const checked = resolveBusSettings({ host: LOOPBACK, port: '0', ...raw });
    assert.ok(checked.ok, checked.ok ? '' : JSON.stringify(checked.reasons));
    return checked.value;
  }

  function shared(raw: Record<string, string> = {}): { bus: SharedBus; states: SharedBusState[] } {
    const bus = new SharedBus({ settings: settings(raw) });
    buses.push(bus);
    bus.register('user-1');
    const states: SharedBusState[] = [];
    bus.onState((state) => states.push(state));
    return { bus, states };
  }

  after(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await Promise.all(raws.map((r) => endRaw(r)));
  });

  describe('SharedBus in embedded mode', () => {
    it('starts, then connects to its own broker on the port it was given', async () => {
      const { bus, states } = shared();
      assert.deepEqual(states[0], { kind: 'starting' });
      await waitFor(() => bus.state.kind === 'connected', { ...WAIT, message: 'connected' });
      const kinds = states.map((s) => s.kind);
      assert.equal(kinds.at(-1), 'connected');
      assert.ok(kinds.every((k) => k === 'starting' || k === 'connecting' || k === 'connected'), kinds.join(', '));
      assert.ok(bus.settings.port > 0, 'port 0 is replaced by the one the broker took');
      assert.equal(bus.settings.url, `mqtt://127.0.0.1:${bus.settings.port}`);
      assert.equal(bus.protocolVersion, 4);
      assert.equal(await portIsFree(bus.settings.port), false);
    });

    it('does not change the settings object it was given', async () => {
      const given = settings({});
      const bus = new SharedBus({ settings: given });
      buses.push(bus);
      bus.register('user-1');
      await waitFor(() => bus.state.kind === 'connected', { ...WAIT, message: 'connected' });
      assert.equal(given.port, 0);
      assert.equal(given.url, '');
    });

    it('publishes and subscribes through the shared connection, waiting for start-up', async () => {
      const { bus } = shared();
      const got: string[] = [];
      // Called before the broker is up: both wait for start-up.
      const stop = await bus.subscribe('shared/+', 1, (topic, payload) => got.push(`${topic}=${payload.toString('utf8')}`));
      await bus.publish('shared/a', Buffer.from('Größe'), { qos: 1 });
      await waitFor(() => got.length === 1, { ...WAIT, message: 'the message' });
      assert.deepEqual(got, ['shared/a=Größe']);

      const errors: string[] = [];
      const stopErrors = await bus.onError((err) => errors.push(err.message));
      const stopThrowing = await bus.subscribe('shared/+', 1, () => {
        throw new Error('flow broke');
      });
      await bus.publish('shared/b', Buffer.from('x'), { qos: 1 });
      await waitFor(() => errors.length === 1 && got.length === 2, { ...WAIT, message: 'the error and the message' });
      assert.deepEqual(errors, ['flow broke']);
      stopErrors();
      await stopThrowing();
      await stop();
    });

    it('close() releases the broker: the port is free and raw clients are dropped', async () => {
      const { bus, states } = shared();
      await waitFor(() => bus.state.kind === 'connected', { ...WAIT, message: 'connected' });
      const port = bus.settings.port;
      const other = await connectRaw(`mqtt://${LOOPBACK}:${port}`);
      raws.push(other);
      await bus.close();
      assert.deepEqual(bus.state, { kind: 'closed' });
      assert.deepEqual(states.at(-1), { kind: 'closed' });
      assert.equal(await portIsFree(port), true, 'the port is free after close()');
      await waitFor(() => !other.connected, { ...WAIT, message: 'the raw client to be dropped' });
      await assert.rejects(bus.publish('t', Buffer.from('x'), { qos: 1 }), tectonicError('BUS_CLOSED'));
      assert.equal(bus.close(), bus.close(), 'close() is idempotent');
    });

    it('a port in use ends in state failed with the reason, and close() still resolves', async () => {
      const holder = await occupy(0);
      try {
        const port = String((holder.address() as { port: number }).port);
        const { bus, states } = shared({ port });
        const failed = await waitFor(() => (bus.state.kind === 'failed' ? bus.state : undefined), { ...WAIT, message: 'failed' });
        assert.match(failed.error, new RegExp(`^embedded broker cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
        assert.deepEqual(states.map((s) => s.kind), ['starting', 'failed']);
        await assert.rejects(bus.publish('t', Buffer.from('x'), { qos: 1 }), tectonicError('BROKER_START_FAILED'));
        await assert.rejects(bus.subscribe('t', 1, () => undefined), tectonicError('BROKER_START_FAILED'));
        await bus.close();
        assert.deepEqual(bus.state, { kind: 'closed' });
      } finally {
        await release(holder);
      }
    });

    it('close() right after construction, before start-up finished, still frees everything', async () => {
      const { bus } = shared();
      await bus.close();
      assert.deepEqual(bus.state, { kind: 'closed' });
      assert.ok(bus.settings.port > 0);
      assert.equal(await portIsFree(bus.settings.port), true);
    });
  });

  describe('SharedBus users, as core mqtt-broker keeps them', () => {
    it('no connection before the first user, one from the first, closed after the last, opened again by a new one', async () => {
      const bus = new SharedBus({ settings: settings({}) });
      buses.push(bus);
      const states: SharedBusState[] = [];
      bus.onState((state) => states.push(state));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(bus.settings.port, 0, 'no broker was started');
      assert.deepEqual(states, [{ kind: 'starting' }]);

      bus.register('a');
      bus.register('b');
      bus.register('b');
      assert.equal(bus.userCount, 2, 'a user registered twice counts once');
      await waitFor(() => bus.state.kind === 'connected', { ...WAIT, message: 'connected on the first user' });
      const port = bus.settings.port;
      assert.equal(await portIsFree(port), false);

      await bus.deregister('a');
      assert.equal(bus.state.kind, 'connected', 'one user is left');
      assert.equal(await portIsFree(port), false);
      await bus.deregister('nobody');
      await bus.deregister('b');
      assert.equal(bus.userCount, 0);
      assert.deepEqual(bus.state, { kind: 'closed' });
      assert.equal(await portIsFree(port), true, 'the last user to leave frees the port');

      bus.register('c');
      await waitFor(() => bus.state.kind === 'connected', { ...WAIT, message: 'connected again on a new user' });
      const kinds = states.map((s) => s.kind);
      assert.deepEqual(kinds.slice(kinds.lastIndexOf('closed')), ['closed', 'starting', 'connecting', 'connected']);
      await bus.close();
      assert.equal(await portIsFree(bus.settings.port), true);
      bus.register('d');
      assert.equal(bus.userCount, 0, 'a closed bus takes no users');
      assert.deepEqual(bus.state, { kind: 'closed' });
    });

    it('a publish or subscribe before the first user waits for it; close() rejects what still waits', async () => {
      const bus = new SharedBus({ settings: settings({}) });
      buses.push(bus);
      const got: string[] = [];
      const subscribed = bus.subscribe('early/+', 1, (topic) => got.push(topic));
      const published = subscribed.then(() => bus.publish('early/a', Buffer.from('x'), { qos: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(bus.settings.port, 0, 'waiting, not connecting');
      bus.register('late');
      await published;
      await waitFor(() => got.length === 1, { ...WAIT, message: 'the early message' });
      await (await subscribed)();
      await bus.close();

      const unused = new SharedBus({ settings: settings({}) });
      const waiting = unused.publish('t', Buffer.from('x'), { qos: 1 });
      await unused.close();
      await assert.rejects(waiting, tectonicError('BUS_CLOSED'));
    });

    it('a new user after the last one left waits for the broker to free its port, then takes it again', async () => {
      const holder = await occupy(0);
      const port = String((holder.address() as { port: number }).port);
      await release(holder);
      const bus = new SharedBus({ settings: settings({ port }) });
      buses.push(bus);
      bus.register('a');
      await waitFor(() => bus.state.kind === 'connected', { ...WAIT, message: 'connected' });
      const leaving = bus.deregister('a');
      bus.register('b');
      await leaving;
      await waitFor(() => bus.state.kind === 'connected', { ...WAIT, message: 'connected again' });
      assert.equal(bus.settings.port, Number(port));
      await bus.close();
      assert.equal(await portIsFree(Number(port)), true);
    });
  });

  describe('SharedBus in external mode', () => {
    it('connects to a broker another SharedBus runs, with MQTT 3.1.1 as asked', async () => {
      const { bus: embedded } = shared();
      await waitFor(() => embedded.state.kind === 'connected', { ...WAIT, message: 'the embedded bus' });
      const { bus: external } = shared({ mode: 'external', url: embedded.settings.url, protocolVersion: '4' });
      await waitFor(() => external.state.kind === 'connected', { ...WAIT, message: 'the external bus' });
      assert.equal(external.protocolVersion, 4);
      const got: string[] = [];
      await embedded.subscribe('ext/+', 1, (_topic, payload) => got.push(payload.toString('utf8')));
      await external.publish('ext/a', Buffer.from('over the wire'), { qos: 1 });
      await waitFor(() => got.length === 1, { ...WAIT, message: 'the message' });
      await external.close();
      assert.equal(await portIsFree(embedded.settings.port), false, 'closing an external bus leaves the broker alone');
    });
  });
});
