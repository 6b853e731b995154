// The broker's limits and listeners (docs/security.md, "Limits"), each over
// real sockets against startEmbeddedBroker: connections in total and per
// second, the CONNECT timeout, retained bytes per user, the WebSocket
// listener, and a TLS certificate renewed on disk without a restart.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, copyFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { hashPassword, parsePasswordHash } from '../../lib/broker/password-hash';
import type { AccessConfig } from '../../lib/broker/broker-config';
import { startEmbeddedBroker } from '../../lib/bus/embedded-broker';
import { attempt, closesWithin, connected, pause, subscribeGranted } from '../support/broker-mqtt';
import { tempDir, waitFor } from '../support/node-red-process';
import { createTestCa } from '../support/test-ca';

/** Resolves with how long the server took to close a socket that sends nothing, or -1 if it stayed open for `ms`. */
function closedAfter(port: number, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(-1);
    }, ms);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

describe('broker limits and listeners (issue 20)', function () {
  this.timeout(30_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let access: AccessConfig;
  const clients: MqttClient[] = [];
  before(async () => {
    dir = await tempDir('tectonic-limits-');
    const parsed = parsePasswordHash(await hashPassword('fra', { N: 1024, r: 8, p: 1 }));
    assert.ok(parsed.ok);
    access = { users: [{ name: 'site-fra', role: 'site', sites: ['fra'], passwordHash: parsed.value }], acl: [] };
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await dir.remove();
  });
  const fra = (id: string) => ({ username: 'site-fra', password: 'fra', clientId: `site-fra_${id}` });

  it('maxConnections: the connection over the limit is closed on accept', async () => {
    const lines: string[] = [];
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, limits: { maxConnections: 3 }, log: (l) => lines.push(l) });
    try {
      const held = await Promise.all([1, 2, 3].map((i) => connected(`mqtt://127.0.0.1:${broker.port}`, { clientId: `c${i}` })));
      clients.push(...held);
      assert.notEqual(await closedAfter(broker.port, 2000), -1, 'the fourth is closed');
      await held[0]?.endAsync();
      await waitFor(async () => (await attempt(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'c4' })).kind === 'connected', { timeoutMs: 5000 });
    } finally {
      await broker.close();
    }
    assert.ok(lines.some((l) => /refused connection from 127\.0\.0\.1:\d+: 3 connections open \(limits\.maxConnections\)/.test(l)), lines.join('\n'));
  });

  it('connectionsPerSecond: a burst beyond the rate is closed, and a second later connections are admitted again', async () => {
    const lines: string[] = [];
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, limits: { connectionsPerSecond: 5 }, log: (l) => lines.push(l) });
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => closedAfter(broker.port, 500)));
      assert.ok(results.filter((r) => r !== -1).length >= 4, `closed: ${JSON.stringify(results)}`);
      assert.ok(lines.some((l) => /more than 5 new connections a second/.test(l)));
      await pause(1100);
      assert.equal((await attempt(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'late' })).kind, 'connected');
    } finally {
      await broker.close();
    }
  });

  it('connectTimeoutMs: a socket that sends no CONNECT is closed in time', async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, limits: { connectTimeoutMs: 500 } });
    try {
      const ms = await closedAfter(broker.port, 5000);
      assert.ok(ms >= 400 && ms < 3000, `closed after ${ms} ms`);
    } finally {
      await broker.close();
    }
  });

  it('maxRetainedBytesPerUser: a retained message over the quota is refused, replacing its own is not', async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, access, limits: { maxRetainedBytesPerUser: 1000 } });
    try {
      const url = `mqtt://127.0.0.1:${broker.port}`;
      const c = await connected(url, fra('q'));
      clients.push(c);
      await c.publishAsync('tectonic/registry/orders/fra/i1', Buffer.alloc(600), { qos: 1, retain: true });
      await c.publishAsync('tectonic/registry/orders/fra/i1', Buffer.alloc(900), { qos: 1, retain: true });
      c.publish('tectonic/registry/orders/fra/i2', Buffer.alloc(200), { qos: 1, retain: true });
      assert.equal(await closesWithin(c, 3000), true, 'over the quota: refused');
      const d = await connected(url, fra('q2'));
      clients.push(d);
      await d.publishAsync('tectonic/registry/orders/fra/i1', '', { qos: 1, retain: true });
      await d.publishAsync('tectonic/registry/orders/fra/i2', Buffer.alloc(200), { qos: 1, retain: true });
      assert.equal(d.connected, true, 'the cleared bytes are free again');
    } finally {
      await broker.close();
    }
  });

  it('a WebSocket listener carries MQTT with the same users and rights', async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, access, listeners: [{ host: '127.0.0.1', port: 0, websocket: { path: '/mqtt' } }] });
    try {
      assert.equal(broker.listeners[0]?.kind, 'ws');
      const url = `ws://127.0.0.1:${broker.port}/mqtt`;
      const anonymous = await attempt(url, { clientId: 'x' });
      assert.equal(anonymous.kind === 'refused' && anonymous.returnCode, 5);
      const c = await connected(url, fra('ws'));
      clients.push(c);
      assert.deepEqual(await subscribeGranted(c, ['cdm/+/+/fra', 'cdm/+/+/muc']), [1, 128]);
      const got: string[] = [];
      c.on('message', (_t, p) => got.push(p.toString()));
      await c.publishAsync('cdm/shipment/v1/fra', 'over ws', { qos: 1 });
      await waitFor(() => got.length > 0, { timeoutMs: 3000 });
      assert.deepEqual(got, ['over ws']);
    } finally {
      await broker.close();
    }
  });

  it('a renewed TLS certificate is used for new connections without a restart', async () => {
    const first = createTestCa(dir.path, 'first');
    const second = createTestCa(dir.path, 'second');
    const cert = join(dir.path, 'live.pem');
    const key = join(dir.path, 'live.key');
    copyFileSync(first.server.cert, cert);
    copyFileSync(first.server.key, key);
    const lines: string[] = [];
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, access, listeners: [{ host: '127.0.0.1', port: 0, tls: { cert, key, clientCerts: 'none' } }], log: (l) => lines.push(l) });
    try {
      const url = `mqtts://127.0.0.1:${broker.port}`;
      const before = await connected(url, { ...fra('t1'), ca: readFileSync(first.ca) });
      clients.push(before);
      // A renewal as certificate tools do it: new files renamed over the old ones.
      copyFileSync(second.server.key, `${key}.new`);
      copyFileSync(second.server.cert, `${cert}.new`);
      renameSync(`${key}.new`, key);
      renameSync(`${cert}.new`, cert);
      await waitFor(async () => (await attempt(url, { ...fra('t2'), ca: readFileSync(second.ca) })).kind === 'connected', { timeoutMs: 10_000, message: 'the renewed certificate in use' });
      assert.equal((await attempt(url, { ...fra('t3'), ca: readFileSync(first.ca) })).kind, 'closed', 'the old CA no longer verifies the server');
      assert.equal(before.connected, true, 'an open connection keeps its session');
      assert.ok(lines.some((l) => /TLS certificate files on 127\.0\.0\.1:0 reloaded/.test(l)));
    } finally {
      await broker.close();
    }
  });
});
