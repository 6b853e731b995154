// coalesceWrites on a real loopback TCP connection: writes made in separate
// ticks of the turn in which data arrived stay corked until that turn's check
// phase, then leave together and in order.
import assert from 'node:assert/strict';
import { type AddressInfo, type Socket, createServer, connect } from 'node:net';
import { describe, it } from 'mocha';
import { coalesceWrites } from '../../../lib/bus/coalesce-writes';

describe('lib/bus/coalesce-writes', () => {
  it('writes answering one arrival are held until the turn ends, then arrive complete and in order', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      const peer = await accepted;
      await new Promise<void>((resolve) => client.once('connect', resolve));
      coalesceWrites(client);
      let received = '';
      peer.on('data', (chunk: Buffer) => (received += chunk.toString()));

      const corkedDuringTurn: number[] = [];
      const done = new Promise<void>((resolve) => {
        client.once('data', () => {
          // Each answer in its own tick, as MQTT.js writes its PUBACKs.
          for (let i = 0; i < 50; i++) process.nextTick(() => client.write(`${i};`));
          process.nextTick(() => corkedDuringTurn.push(client.writableCorked));
          setImmediate(() => setImmediate(() => {
            corkedDuringTurn.push(client.writableCorked);
            resolve();
          }));
        });
      });
      peer.write('ping');
      await done;
      assert.deepEqual(corkedDuringTurn, [1, 0], 'corked while the turn answers, uncorked after its check phase');
      const expected = Array.from({ length: 50 }, (_, i) => `${i};`).join('');
      const deadline = Date.now() + 5_000;
      while (received.length < expected.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(received, expected);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('the returned cork holds writes made outside an arrival (released PUBACKs) until the turn ends, once per turn', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      const peer = await accepted;
      await new Promise<void>((resolve) => client.once('connect', resolve));
      const corkForTurn = coalesceWrites(client);
      let received = '';
      peer.on('data', (chunk: Buffer) => (received += chunk.toString()));
      const seen: number[] = [];
      await new Promise<void>((resolve) => {
        setTimeout(() => {
          for (let i = 0; i < 20; i++) {
            process.nextTick(() => {
              corkForTurn();
              client.write(`${i};`);
            });
          }
          process.nextTick(() => seen.push(client.writableCorked));
          setImmediate(() => setImmediate(() => {
            seen.push(client.writableCorked);
            resolve();
          }));
        }, 1);
      });
      assert.deepEqual(seen, [1, 0], 'corked once however many writes, uncorked after the check phase');
      const expected = Array.from({ length: 20 }, (_, i) => `${i};`).join('');
      const deadline = Date.now() + 5_000;
      while (received.length < expected.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(received, expected);
    } finally {
      client.destroy();
      server.close();
    }
  });
});
