import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * The fingerprint of a set of deployed flows: what a vetted template owns,
 * so the centre can tell a site running its template as shipped from one
 * changed by hand (docs/fleet.md, "The flows fingerprint").
 *
 * Covered: each node's type and settings, and how the nodes are wired
 * (output port to node) and refer to each other (a setting naming another
 * node, such as a config node). Left out, because the site owns them by
 * design: node ids (a node is known by what it is and where it is wired,
 * not by its id), positions and sizes, tabs, groups and comments, names,
 * labels and descriptions (a technician names nodes as the site calls
 * things; names change nothing a node does), credentials (never in a flows
 * file anyway), cdm-map's mapping (its rules and key: the site's own
 * mapping spec). Environment values never enter: settings are taken as
 * written, so `${SITE_ID}` stays that text whatever the site sets.
 *
 * Ids are replaced by structure, Weisfeiler-Lehman style: every node gets a
 * label from its type and settings, then, a few rounds over, from its own
 * label and the labels of the nodes it is wired to and from. The
 * fingerprint is the sha256 of the sorted final labels, so it does not
 * depend on ids, on the order of the file, or on positions.
 */
export function flowsFingerprint(flows: readonly unknown[]): string {
  const nodes = flows.filter(isFlowNode).filter((n) => !LEFT_OUT_TYPES.has(n.type));
  const ids = new Set(nodes.map((n) => n.id));
  const edges = new Map<string, Array<{ to: string; via: string }>>();
  const own = new Map<string, string>();
  for (const n of nodes) {
    const out: Array<{ to: string; via: string }> = [];
    const settings: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(n)) {
      if (LEFT_OUT_KEYS.has(key) || (LEFT_OUT_BY_TYPE[n.type]?.has(key) ?? false)) continue;
      if (key === 'wires') {
        if (Array.isArray(value)) value.forEach((port, i) => Array.isArray(port) && port.forEach((to) => typeof to === 'string' && ids.has(to) && out.push({ to, via: `wire${i}` })));
        continue;
      }
      settings[key] = withoutRefs(value, ids, (to) => out.push({ to, via: key }));
    }
    edges.set(n.id, out);
    // RFC 8785: the same settings give the same text whatever order their keys were written in.
    own.set(n.id, hash(canonicalize({ type: n.type, settings }) ?? ''));
  }
  const incoming = new Map<string, Array<{ from: string; via: string }>>();
  for (const [from, out] of edges) for (const { to, via } of out) (incoming.get(to) ?? incoming.set(to, []).get(to))?.push({ from, via });

  let labels = own;
  for (let round = 0; round < ROUNDS; round += 1) {
    const next = new Map<string, string>();
    for (const n of nodes) {
      const outs = (edges.get(n.id) ?? []).map(({ to, via }) => `>${via}:${labels.get(to) ?? ''}`).sort();
      const ins = (incoming.get(n.id) ?? []).map(({ from, via }) => `<${via}:${labels.get(from) ?? ''}`).sort();
      next.set(n.id, hash([labels.get(n.id) ?? '', ...outs, ...ins].join('\n')));
    }
    labels = next;
  }
  return hash([...labels.values()].sort().join('\n'));
}

/** Rounds of refinement: enough to tell apart nodes up to a few hops away, which covers a site's pipelines. */
const ROUNDS = 4;

const LEFT_OUT_TYPES = new Set(['tab', 'group', 'comment']);
const LEFT_OUT_KEYS = new Set(['id', 'x', 'y', 'z', 'w', 'h', 'g', 'l', 'name', 'label', 'info', 'credentials', 'inputLabels', 'outputLabels', 'icon']);
/** What the site owns inside a node the template owns: cdm-map's mapping spec. */
const LEFT_OUT_BY_TYPE: Partial<Record<string, ReadonlySet<string>>> = { 'cdm-map': new Set(['rules', 'idFrom']) };

interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

function isFlowNode(value: unknown): value is FlowNode {
  return typeof value === 'object' && value !== null && typeof (value as FlowNode).id === 'string' && typeof (value as FlowNode).type === 'string';
}

/** The value with every string that names another node replaced by a mark, each reference reported as an edge. */
function withoutRefs(value: unknown, ids: ReadonlySet<string>, ref: (id: string) => void): unknown {
  if (typeof value === 'string' && ids.has(value)) {
    ref(value);
    return '#ref';
  }
  if (Array.isArray(value)) return value.map((v) => withoutRefs(v, ids, ref));
  return value;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
