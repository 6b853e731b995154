import { randomBytes } from 'node:crypto';
import { isLoopback } from '../policy/transport-check';

/** One node of a flows.json. */
export type FlowNode = { id: string; type: string; z?: string; name?: string; wires?: string[][] } & Record<string, unknown>;

/** Where certify feeds the fixtures. */
export type FlowEntry = { kind: 'link'; id: string; name: string } | { kind: 'bus'; topic: string; nodeId: string };

export interface PreparedFlow {
  flows: FlowNode[];
  /** Nodes of types this runtime does not have, each replaced by a pass-through. */
  standIns: Array<{ id: string; type: string; name: string }>;
  entry?: FlowEntry;
  /** The path the harness's HTTP endpoint listens on (link entries). */
  feedPath: string;
  /** Site ids the flow's buses announce, as written (may be `${VAR}`). */
  siteIds: string[];
  /** What the harness changed beyond the bus and the stand-ins, for the report. */
  notes: string[];
}

const CORE_TYPES_WITHOUT_MODULE = new Set(['tab', 'subflow', 'group', 'junction']);

/**
 * The site's flow made ready for certification: every tectonic-bus points at
 * the private broker (the site keeps its site id), every node of a type this
 * runtime lacks (a site's own source nodes) becomes a pass-through with as
 * many outputs, and a small HTTP endpoint feeds the entry `link in` (the one
 * named `entryName`, default "entry") through a `link out`.
 */
/** The flow's entry before any rewriting: a `link in` named `entryName`, else a bus-subscribe reading local records. */
export function findEntry(flows: readonly FlowNode[], entryName = 'entry', env: Record<string, string> = {}): { entry: FlowEntry; bus?: string } | undefined {
  const wanted = entryName.toLowerCase();
  const link = flows.find((n) => n.type === 'link in' && typeof n.name === 'string' && n.name.trim().toLowerCase() === wanted);
  if (link !== undefined) return { entry: { kind: 'link', id: link.id, name: String(link.name) } };
  const subscriber = flows.find((n) => n.type === 'bus-subscribe' && n.kind === 'records' && typeof n.topic === 'string' && n.topic !== '');
  if (subscriber === undefined) return undefined;
  // A template names the topic by a variable, as every field: the site's value is in its env file.
  const topic = String(subscriber.topic).replace(/^\$\{(\S+)\}$/, (_m, name: string) => env[name] ?? '');
  if (topic === '' || /[+#]/.test(topic)) return undefined;
  return { entry: { kind: 'bus', topic, nodeId: subscriber.id }, bus: typeof subscriber.bus === 'string' ? subscriber.bus : undefined };
}

/** Whether the bus the entry reads is one the flow also publishes records on. */
export function entryBusPublishes(flows: readonly FlowNode[], busId: string): boolean {
  return flows.some((n) => n.type === 'bus-publish' && n.bus === busId);
}

export function prepareFlow(
  flows: readonly FlowNode[],
  options: { busUrl: string; installedTypes: ReadonlySet<string>; entryName?: string; env?: Record<string, string>; localBus?: { id: string; url: string } },
): PreparedFlow {
  const standIns: PreparedFlow['standIns'] = [];
  const notes: string[] = [];
  const env = options.env ?? {};
  const resolveEnv = (value: unknown): string => (typeof value === 'string' ? value.replace(/^\$\{(\S+)\}$/, (_m, name: string) => env[name] ?? '') : '');
  // The private bus is plaintext on loopback; a gate that checks the production bus for TLS judges what that bus is,
  // as the real gate would: TLS, or plaintext to this machine's loopback, which crosses no network (lib/policy/gate-settings.ts).
  const passesTransport = (n: FlowNode): boolean => {
    if (typeof n.tls === 'string' && n.tls !== '') return true;
    if (n.mode === 'embedded') return isLoopback(resolveEnv(n.host) || '127.0.0.1');
    const url = resolveEnv(n.url);
    if (/^(mqtts|wss):/.test(url)) return true;
    try {
      return isLoopback(new URL(url).hostname);
    } catch {
      return false;
    }
  };
  const tlsBuses = new Set(flows.filter((n) => n.type === 'tectonic-bus' && passesTransport(n)).map((n) => n.id));
  const siteIds: string[] = [];
  const out: FlowNode[] = flows.map((node) => {
    if (node.type === 'tectonic-bus') {
      if (typeof node.siteId === 'string' && node.siteId !== '') siteIds.push(node.siteId);
      // The private broker has no users: the kit's credentials are for the real bus.
      const url = options.localBus?.id === node.id ? options.localBus.url : options.busUrl;
      return { ...node, mode: 'external', url, host: '', port: '', clientId: '', tls: '', protocolVersion: '4', keepalive: '5' };
    }
    if (node.type === 'policy-gate' && typeof node.bus === 'string' && node.bus !== '') {
      const tls = tlsBuses.has(node.bus);
      notes.push(`policy-gate ${node.name !== undefined && node.name !== '' ? `"${node.name}"` : node.id} judges transport as ${tls ? 'passing (TLS or loopback)' : 'plaintext'}, as on the site's own bus`);
      return { ...node, bus: '', tls: tls ? 'tls' : 'plain' };
    }
    const isSubflowInstance = node.type.startsWith('subflow:');
    if (node.z !== undefined && !isSubflowInstance && !CORE_TYPES_WITHOUT_MODULE.has(node.type) && !options.installedTypes.has(node.type)) {
      standIns.push({ id: node.id, type: node.type, name: typeof node.name === 'string' ? node.name : '' });
      const outputs = Math.max(1, node.wires?.length ?? 0);
      return { id: node.id, type: 'function', z: node.z, name: `stand-in for ${node.type}`, func: 'return msg;', outputs, wires: node.wires ?? [[]], x: node.x, y: node.y };
    }
    return node;
  });
  const feedPath = `/tectonic-certify/feed-${randomBytes(6).toString('hex')}`;
  const entry = findEntry(flows, options.entryName, env)?.entry;
  if (entry?.kind === 'link') {
    const link = entry;
    const tab = 'tectonic-certify-harness';
    out.push(
      { id: tab, type: 'tab', label: 'certify harness', disabled: false, info: 'Added by tectonic certify: feeds the fixtures to the entry.' },
      { id: `${tab}-in`, type: 'http in', z: tab, name: 'fixtures', url: feedPath, method: 'post', upload: false, swaggerDoc: '', wires: [[`${tab}-out`, `${tab}-ok`]] },
      { id: `${tab}-out`, type: 'link out', z: tab, name: 'to the entry', mode: 'link', links: [link.id], wires: [] },
      { id: `${tab}-ok`, type: 'http response', z: tab, name: '', statusCode: '202', headers: {}, wires: [] },
    );
  }
  return { flows: out, standIns, entry, feedPath, siteIds, notes };
}

/** The node types between the entry and the bus, for the structural checks: is there a policy gate on the way? */
export function typesOnPaths(flows: readonly FlowNode[], from: string, to: (node: FlowNode) => boolean): Set<string>[] {
  const byId = new Map(flows.map((n) => [n.id, n]));
  const linkTargets = (node: FlowNode): string[] => (node.type === 'link out' && Array.isArray(node.links) ? (node.links as string[]) : []);
  const paths: Set<string>[] = [];
  const walk = (id: string, seen: string[]): void => {
    const node = byId.get(id);
    if (node === undefined || seen.includes(id) || seen.length > 200 || paths.length > 1000) return;
    const trail = [...seen, id];
    if (to(node)) {
      paths.push(new Set(trail.map((t) => byId.get(t)?.type ?? '')));
      return;
    }
    for (const next of [...(node.wires ?? []).flat(), ...linkTargets(node)]) walk(next, trail);
  };
  walk(from, []);
  return paths;
}
