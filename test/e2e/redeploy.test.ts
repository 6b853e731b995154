// An embedded broker must give its port back on every redeploy: 20 full
// deployments of a flow with an embedded tectonic-bus, a bus-publish and a
// bus-subscribe must leave one listening socket on the broker port, owned by
// the Node-RED process, and the bus's two client connections (the shared one
// and the inbound lane of the flow-controlled bus-subscribe; both ends of each
// in that process); deleting the flow must free the port and close them.
// The sockets are read from the kernel (`ss`), not from the nodes.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { connect, type MqttClient } from 'mqtt';
import { freePort, startNodeRed, waitFor, type FlowNode, type NodeRedProcess } from '../support/node-red-process';

const REDEPLOYS = 20;
const SITE = 'site-redeploy';

/** A TCP socket as `ss -tanpe` shows it. */
interface TcpSocket {
  state: string;
  localPort: number;
  peerPort: number;
  pids: number[];
  inode: string;
  line: string;
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** Every TCP socket with `port` at either end, from the kernel's table. */
function tcpSockets(port: number): Promise<TcpSocket[]> {
  return new Promise((resolve, reject) => {
    execFile('ss', ['-Htanpe', `( sport = :${port} or dport = :${port} )`], (err, stdout) => {
      if (err) {
        reject(new Error(`ss (iproute2) is needed to read the socket table: ${err.message}`));
        return;
      }
      const sockets = stdout.split('\n').filter((line) => line.trim() !== '').map((line) => {
        const fields = line.trim().split(/\s+/);
        return {
          state: fields[0] ?? '',
          localPort: portOf(fields[3] ?? ''),
          peerPort: portOf(fields[4] ?? ''),
          pids: [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])),
          inode: /ino:(\d+)/.exec(line)?.[1] ?? '',
          line,
        };
      });
      resolve(sockets);
    });
  });
}

/**
 * The bus's connections: the one its nodes share, and the inbound lane its
 * bus-subscribe (flow control on by default) reads records over.
 */
const BUS_CONNECTIONS = 2;

/** The broker's sockets once they are as one running bus needs them: one listener and its connections, both ends in Node-RED. */
async function settledBusSockets(port: number, pid: number): Promise<{ listener: TcpSocket; servers: TcpSocket[]; clients: TcpSocket[] }> {
  let last: TcpSocket[] = [];
  const settled = await waitFor(async () => {
    // TIME-WAIT belongs to the kernel, not to a process: what a clean close leaves.
    last = (await tcpSockets(port)).filter((s) => s.state !== 'TIME-WAIT');
    const listeners = last.filter((s) => s.state === 'LISTEN');
    const servers = last.filter((s) => s.state === 'ESTAB' && s.localPort === port);
    const clients = last.filter((s) => s.state === 'ESTAB' && s.peerPort === port);
    if (listeners.length !== 1 || servers.length !== BUS_CONNECTIONS || clients.length !== BUS_CONNECTIONS || last.length !== 1 + 2 * BUS_CONNECTIONS) return false;
    // ss finds a socket's process by reading /proc while the runtime opens
    // and closes descriptors; a socket it shows with no process at all is
    // read again (seen once in seven runs on Node.js 22) rather than judged.
    if ([...listeners, ...servers, ...clients].some((socket) => socket.pids.length === 0)) return false;
    return { listener: listeners[0]!, servers, clients };
  }, { timeoutMs: 15_000, intervalMs: 100, message: `one listener and ${BUS_CONNECTIONS} connections on the broker port` }).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; sockets:\n${last.map((s) => s.line).join('\n')}`);
  });
  for (const socket of [settled.listener, ...settled.servers, ...settled.clients]) {
    assert.deepEqual(socket.pids, [pid], `socket not owned by Node-RED (pid ${pid}) alone: ${socket.line}`);
  }
  assert.deepEqual(settled.servers.map((s) => s.peerPort).sort(), settled.clients.map((c) => c.localPort).sort(), 'the broker\'s connections are not the bus clients\'');
  return settled;
}

function flow(iteration: number): FlowNode[] {
  const z = 'redeploy-tab';
  return [
    { id: z, type: 'tab', label: `redeploy ${iteration}`, disabled: false, info: '' },
    {
      id: 'redeploy-bus', type: 'tectonic-bus', name: `bus ${iteration}`, mode: 'embedded', host: '127.0.0.1',
      port: '${TECTONIC_BUS_PORT}', url: '', protocolVersion: '4', clientId: '', keepalive: '30', tls: '',
    },
    { id: 'redeploy-inject', type: 'inject', z, name: 'publish one', props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', payload: '', payloadType: 'date', x: 120, y: 80, wires: [['redeploy-publish']] },
    { id: 'redeploy-publish', type: 'bus-publish', z, name: `publish ${iteration}`, bus: 'redeploy-bus', qos: '1', wireMode: 'structured', x: 320, y: 80, wires: [['redeploy-acked']] },
    {
      id: 'redeploy-acked', type: 'function', z, name: 'record acknowledged', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [],
      func: "const acked = global.get('acked') || [];\nacked.push(msg.cdm.id);\nglobal.set('acked', acked);\nreturn null;",
      x: 530, y: 80, wires: [[]],
    },
    { id: 'redeploy-subscribe', type: 'bus-subscribe', z, name: `subscribe ${iteration}`, bus: 'redeploy-bus', entity: '', versions: '', site: '', siteType: 'str', group: '', qos: '1', maxBytes: '1048576', x: 130, y: 160, wires: [['redeploy-received']] },
    {
      id: 'redeploy-received', type: 'function', z, name: 'record received', outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [],
      func: "const received = global.get('received') || {};\nreceived[msg.cdm.id] = { topic: msg.topic, payload: msg.payload, cdm: msg.cdm };\nglobal.set('received', received);\nreturn null;",
      x: 340, y: 160, wires: [[]],
    },
  ];
}

interface Received { topic: string; payload: Record<string, unknown>; cdm: Record<string, unknown> }

/** A global context value through the admin API (GET /context/global/:key). */
async function globalValue<T>(nodeRed: NodeRedProcess, key: string): Promise<T | undefined> {
  const res = await nodeRed.api(`/context/global/${key}`);
  if (!res.ok) return undefined;
  const body = (await res.json()) as { msg?: unknown; format?: string } | Record<string, { msg?: unknown }>;
  // One store answers { msg, format }; several answer { store: { msg, format } }.
  const entry = 'msg' in body ? body : Object.values(body)[0];
  const raw = (entry as { msg?: unknown } | undefined)?.msg;
  if (raw === undefined) return undefined;
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as T;
}

function shipment(id: string): { payload: Record<string, unknown>; cdm: Record<string, unknown> } {
  const time = new Date().toISOString();
  return {
    payload: { shipmentId: `SHP-${id}`, occurredAt: time, status: 'in_transit', weightKg: 12.5, siteId: SITE, carrier: { name: 'Rhenus' } },
    cdm: { entity: 'shipment', version: '1.0.0', site: SITE, id, time, source: `urn:tectonic:${SITE}:e2e` },
  };
}

/** Presses the inject button (POST /inject/:id) with this record and envelope. */
async function inject(nodeRed: NodeRedProcess, id: string): Promise<ReturnType<typeof shipment>> {
  const sent = shipment(id);
  const { payload, cdm } = sent;
  const res = await nodeRed.api('/inject/redeploy-inject', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ __user_inject_props__: [{ p: 'payload', v: JSON.stringify(payload), vt: 'json' }, { p: 'cdm', v: JSON.stringify(cdm), vt: 'json' }] }),
  });
  assert.equal(res.status, 200, 'POST /inject refused');
  return sent;
}

async function roundTrip(nodeRed: NodeRedProcess, id: string): Promise<{ sent: ReturnType<typeof shipment>; received: Received }> {
  const sent = await inject(nodeRed, id);
  await waitFor(async () => (await globalValue<string[]>(nodeRed, 'acked'))?.includes(id), { timeoutMs: 10_000, message: `bus-publish acknowledging ${id}` });
  const received = await waitFor(async () => (await globalValue<Record<string, Received>>(nodeRed, 'received'))?.[id], { timeoutMs: 10_000, message: `bus-subscribe receiving ${id}` });
  return { sent, received };
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('20 full redeploys of a flow with an embedded broker', function (this: Mocha.Suite) {
  this.timeout(300_000);
  let nodeRed: NodeRedProcess | undefined;
  let busPort = 0;
  let mqttClient: MqttClient | undefined;

  before(async () => {
    busPort = await freePort();
    nodeRed = await startNodeRed({ flows: flow(0), env: { TECTONIC_BUS_PORT: String(busPort) } });
  });

  after(async () => {
    await mqttClient?.endAsync(true).catch(() => undefined);
    await nodeRed?.stop();
  });

  it('the first deployment runs one broker with the bus\'s two client connections', async () => {
    const nr = nodeRed!;
    await settledBusSockets(busPort, nr.pid);
    const { received } = await roundTrip(nr, 'initial');
    assert.equal(received.topic, `cdm/shipment/v1/${SITE}`);
  });

  it('every redeploy restarts the broker and leaves one listener and the bus\'s connections', async () => {
    const nr = nodeRed!;
    let previous = await settledBusSockets(busPort, nr.pid);
    const openFiles = (): number => readdirSync(`/proc/${nr.pid}/fd`).length;
    let filesAfterFirst = 0;
    for (let i = 1; i <= REDEPLOYS; i += 1) {
      const startsBefore = nr.logs().match(/Started flows/g)?.length ?? 0;
      await nr.deploy(flow(i));
      assert.equal(nr.logs().match(/Started flows/g)?.length ?? 0, startsBefore + 1, `deployment ${i} did not restart the flows`);
      const now = await settledBusSockets(busPort, nr.pid);
      // A full deployment closes and recreates every node: a new listening
      // socket and a new client connection prove the bus really restarted.
      assert.notEqual(now.listener.inode, previous.listener.inode, `deployment ${i} kept the old listening socket`);
      const old = new Set(previous.clients.map((c) => c.localPort));
      assert.ok(now.clients.every((c) => !old.has(c.localPort)), `deployment ${i} kept an old client connection`);
      previous = now;
      if (i === 1) filesAfterFirst = openFiles();
    }
    // Whatever else a redeploy opens (files, pipes, sockets elsewhere) must be
    // closed again: the process holds no more descriptors after 20 than after 1.
    const filesAfterLast = openFiles();
    assert.ok(filesAfterLast <= filesAfterFirst + 2, `open file descriptors grew from ${filesAfterFirst} to ${filesAfterLast} over ${REDEPLOYS - 1} redeploys`);
    const names = (await nr.getFlows()).filter((node) => node.type === 'tectonic-bus').map((node) => node.name);
    assert.deepEqual(names, [`bus ${REDEPLOYS}`]);
    const log = nr.logs();
    assert.ok(!/EADDRINUSE/.test(log), `a broker found its port in use:\n${log}`);
    assert.ok(!log.includes('[error]'), `errors in the log:\n${log}`);
  });

  it('after the last redeploy a message still goes round, and is on the wire as published', async () => {
    const nr = nodeRed!;
    const client = connect(`mqtt://127.0.0.1:${busPort}`, { clientId: 'redeploy-e2e-observer', protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
    mqttClient = client;
    const wire: Array<{ topic: string; body: string }> = [];
    client.on('message', (topic, body) => wire.push({ topic, body: body.toString('utf8') }));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync('cdm/#', { qos: 1 });

    const id = `after-${REDEPLOYS}-redeploys`;
    const { sent, received } = await roundTrip(nr, id);
    assert.equal(received.topic, `cdm/shipment/v1/${SITE}`);
    assert.deepEqual(received.payload, sent.payload);
    for (const attribute of ['entity', 'version', 'site', 'id', 'source', 'time']) {
      assert.equal(received.cdm[attribute], sent.cdm[attribute], `envelope attribute ${attribute} did not survive`);
    }

    const onWire = await waitFor(() => wire.find((m) => m.topic === `cdm/shipment/v1/${SITE}` && m.body.includes(id)), { timeoutMs: 10_000, message: 'the message on the wire' });
    // Structured mode: one CloudEvents JSON envelope with the record as data.
    const event = JSON.parse(onWire.body) as { id?: string; data?: Record<string, unknown> };
    assert.equal(event.id, id);
    assert.equal(event.data?.shipmentId, `SHP-${id}`);

    await client.endAsync();
    mqttClient = undefined;
    await settledBusSockets(busPort, nr.pid);
  });

  it('deleting the flow frees the port and closes the connection', async () => {
    const nr = nodeRed!;
    await nr.deploy([]);
    let left: TcpSocket[] = [];
    await waitFor(async () => {
      left = (await tcpSockets(busPort)).filter((s) => s.state !== 'TIME-WAIT');
      return left.length === 0;
    }, { timeoutMs: 10_000, message: 'no socket left on the broker port' }).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}:\n${left.map((s) => s.line).join('\n')}`);
    });
    assert.equal(await canBind(busPort), true, `port ${busPort} is still taken after the flow was deleted`);
  });
});
