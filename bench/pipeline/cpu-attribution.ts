/**
 * Where a V8 CPU profile of a Node-RED runtime spent its time, by the part of
 * the runtime that did the work: each of the pack's nodes, the pack's shared
 * code with no node on the stack (the bus connection's socket reads), the
 * pack's message hooks, Node-RED's own message passing, MQTT.js and Node.js,
 * and garbage collection. A sample belongs to the first frame, walking from
 * the one running up the stack, that is the pack's or Node-RED's: so a
 * library the pack calls (ajv, jsonata, LevelDB) counts for the pack's node
 * that called it, and what Node-RED calls in its send (its clone, its hooks'
 * dispatch) for Node-RED. Within the pack a sample goes to the nearest node
 * file on the stack (dist/nodes/<type>.js), or to the support module
 * (dist/nodes/support/<file>.js) or to "tectonic-bus connection" when only
 * lib/ code is there.
 */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export type CpuShares = Record<string, number>;

const IDLE = '(idle)';

/** 'pack', 'node-red', a part named by the frame alone (garbage collection), or undefined for any other code. */
function partOf(url: string, functionName: string): string | undefined {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(program)') return 'V8 and native (program)';
    if (functionName === IDLE) return IDLE;
    return undefined;
  }
  if (/\/dist\/(nodes|lib)\//.test(url)) return 'pack';
  if (/node_modules\/(@node-red\/|node-red\/)/.test(url)) return 'node-red';
  return undefined;
}

function fallback(url: string): string {
  if (/node_modules\/(mqtt|mqtt-packet|bl|readable-stream)\//.test(url)) return 'MQTT.js';
  if (url.startsWith('node:') || url === '') return 'Node.js core';
  return 'other libraries';
}

function packLabel(url: string): string | undefined {
  const node = /\/dist\/nodes\/([a-z-]+)\.js$/.exec(url);
  if (node) return node[1];
  const support = /\/dist\/nodes\/support\/([a-z-]+)\.js$/.exec(url);
  if (support) return support[1] === 'message-hooks' ? 'flow-control hooks' : `support/${support[1]}`;
  return undefined;
}

/** Microseconds of profile time per part, idle left out. */
export function attributeCpu(profile: CpuProfile): CpuShares {
  const parent = new Map<number, number>();
  const byId = new Map<number, CpuProfile['nodes'][number]>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // No node file on the stack: a timer or socket callback into lib/. The outbox's sends, PUBACKs and writes are bus-publish's work off its input path.
  const libOnlyLabel = (from: number): string => {
    for (let up: number | undefined = from; up !== undefined; up = parent.get(up)) {
      if (/\/dist\/lib\/outbox\//.test(byId.get(up)?.callFrame.url ?? '')) return 'bus-publish: outbox sends, PUBACKs, writes';
    }
    return 'tectonic-bus connection: socket reads, parsing, acks';
  };
  const labelCache = new Map<number, string>();
  const labelOf = (leaf: number): string => {
    const cached = labelCache.get(leaf);
    if (cached !== undefined) return cached;
    let label: string | undefined;
    let firstUrl = '';
    for (let id: number | undefined = leaf; id !== undefined && label === undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame === undefined) break;
      if (firstUrl === '' && frame.url !== '') firstUrl = frame.url;
      const part = partOf(frame.url, frame.functionName);
      if (part === undefined) continue;
      if (part === 'node-red') label = 'Node-RED (message passing, hooks, send)';
      else if (part === 'pack') {
        for (let up: number | undefined = id; up !== undefined && label === undefined; up = parent.get(up)) {
          const url = byId.get(up)?.callFrame.url ?? '';
          if (partOf(url, '') === 'node-red') break;
          label = packLabel(url);
        }
        label ??= libOnlyLabel(id);
      } else label = part;
    }
    label ??= fallback(firstUrl);
    labelCache.set(leaf, label);
    return label;
  };
  const shares: CpuShares = {};
  // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const label = labelOf(profile.samples[i] as number);
    if (label === IDLE) continue;
    shares[label] = (shares[label] ?? 0) + us;
  }
  return shares;
}
