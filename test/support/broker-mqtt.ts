// MQTT.js probes for the broker security tests: one connection attempt that
// reports its outcome (connected, the CONNACK return code of a refusal, or a
// connection closed before any CONNACK) instead of throwing, and bounded
// waits for what a client receives.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export type Attempt = { kind: 'connected'; client: MqttClient } | { kind: 'refused'; returnCode: number; message: string } | { kind: 'closed'; message: string };

/** `onClient` sees the client before it connects, to listen for messages a resumed session gets at once. */
export function attempt(url: string, options: IClientOptions = {}, onClient?: (client: MqttClient) => void): Promise<Attempt> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...options });
    onClient?.(client);
    let settled = false;
    const settle = (outcome: Attempt): void => {
      if (settled) return;
      settled = true;
      if (outcome.kind !== 'connected') client.end(true);
      resolve(outcome);
    };
    client.once('connect', () => settle({ kind: 'connected', client }));
    client.once('error', (err: Error & { code?: number }) =>
      settle(typeof err.code === 'number' ? { kind: 'refused', returnCode: err.code, message: err.message } : { kind: 'closed', message: err.message }),
    );
    client.once('close', () => settle({ kind: 'closed', message: 'connection closed before CONNACK' }));
  });
}

export async function connected(url: string, options: IClientOptions = {}, onClient?: (client: MqttClient) => void): Promise<MqttClient> {
  const outcome = await attempt(url, options, onClient);
  if (outcome.kind !== 'connected') throw new Error(`expected to connect as ${options.username ?? 'anonymous'} (${options.clientId ?? ''}), got ${JSON.stringify(outcome)}`);
  return outcome.client;
}

/** The granted QoS of each filter, 128 for a refused one [MQTT-3.9.3]. */
export function subscribeGranted(client: MqttClient, filters: string[], qos: 0 | 1 = 1): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos }, (err, granted) => {
      // MQTT.js reports a 128 as an error that carries the SUBACK.
      const packet = (err as unknown as { packet?: { granted?: number[] } } | null)?.packet;
      if (packet?.granted) return resolve(packet.granted);
      if (err) return reject(err);
      resolve((granted ?? []).map((g) => g.qos));
    });
  });
}

/** Resolves true if the client's connection closes within `ms`. */
export function closesWithin(client: MqttClient, ms: number): Promise<boolean> {
  if (!client.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
