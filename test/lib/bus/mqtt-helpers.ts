// Small helpers for the bus tests: raw MQTT.js clients that never reconnect
// on their own, and probes of whether a loopback port is free.
import net from 'node:net';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { TectonicError, type TectonicErrorCode } from '../../../lib/errors';

export const LOOPBACK = '127.0.0.1';

/** A raw client for probing a broker: one connection attempt, no reconnects. */
export function connectRaw(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, protocolVersion: 4, ...options });
}

/** Ends a raw client by force; safe on one already gone. */
export async function endRaw(client: MqttClient | undefined): Promise<void> {
  if (client !== undefined) await client.endAsync(true);
}

export interface Received {
  topic: string;
  payload: string;
  packet: IPublishPacket;
}

/**
 * connectRaw with an inbox attached before the CONNACK: a persistent
 * session's queued messages follow the CONNACK at once, often in the same
 * read, and MQTT.js emits them before an `await connectRaw(...)` resumes.
 * A client that cannot connect is ended before the rejection.
 */
export async function connectWithInbox(url: string, options: IClientOptions = {}): Promise<{ client: MqttClient; received: Received[]; sessionPresent: boolean }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000, protocolVersion: 4, ...options });
  const received = inbox(client);
  let failed: (err: Error) => void = () => undefined;
  try {
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      failed = reject;
      client.once('connect', resolve);
      client.once('error', failed);
    });
    return { client, received, sessionPresent: connack.sessionPresent };
  } catch (err) {
    await endRaw(client);
    throw err;
  } finally {
    client.removeListener('error', failed);
  }
}

/** Collects what `client` receives, in order. */
export function inbox(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString('utf8'), packet }));
  return received;
}

/** Holds `port` on loopback with a plain TCP server (rejects if it is taken). */
export function occupy(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function release(server: net.Server | undefined): Promise<void> {
  return new Promise((resolve) => (server === undefined || !server.listening ? resolve() : server.close(() => resolve())));
}

/** True if a TCP server can bind `port` on loopback right now. */
export async function portIsFree(port: number): Promise<boolean> {
  try {
    await release(await occupy(port));
    return true;
  } catch {
    return false;
  }
}

/** An assert.rejects validator for a TectonicError with `code` and a message matching `message`. */
export function tectonicError(code: TectonicErrorCode, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    if (!(err instanceof TectonicError)) throw new Error(`expected a TectonicError, got ${String(err)}`);
    if (err.code !== code) throw new Error(`expected code ${code}, got ${err.code}: ${err.message}`);
    if (message !== undefined && !message.test(err.message)) throw new Error(`message "${err.message}" does not match ${String(message)}`);
    return true;
  };
}
