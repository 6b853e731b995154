import type { Node, NodeAPI } from 'node-red';
import { AllReady, type Readiness, ReadinessHold, ReadinessSignal, isReadiness } from '../../lib/flow/readiness';

/** A flow node as the runtime holds it: its wires, and the readiness a pack node offers. */
type FlowNode = Node & { wires?: string[][]; readiness?: unknown };

/** How a node is named in a waiting text: `'its name'`, or its id when it has none. */
export function labelOf(name: unknown, id: string): string {
  return `'${typeof name === 'string' && name !== '' ? name : id}'`;
}

/** The label of a config node the runtime has (`labelOf` its name). */
export function nodeLabel(RED: NodeAPI, id: string): string {
  const found = RED.nodes.getNode(id) as (Node & { name?: unknown }) | null;
  return labelOf(found?.name, id);
}

/**
 * Offers `signal` as the node's `readiness`: what an entry upstream waits for
 * before it reads the bus (lib/flow/readiness). The node keeps it current.
 */
export function offerReadiness(node: Node, waitingFor: string): ReadinessSignal {
  const signal = new ReadinessSignal(false, waitingFor);
  (node as FlowNode).readiness = signal;
  return signal;
}

/**
 * The readiness of every node reachable from `start`'s wires, each node
 * once, in the order met. The walk goes on past a node with a readiness (a
 * cdm-validate leads to a policy-gate and a bus-publish) and follows every
 * output, reject outputs included: a dead-letter bus-publish needs its outbox
 * too. It follows wires only: what a link-out or a subflow instance leads to
 * is not seen.
 */
export function downstreamReadiness(RED: NodeAPI, start: Node): Readiness[] {
  const found: Readiness[] = [];
  const seen = new Set<string>([start.id]);
  const queue = ((start as FlowNode).wires ?? []).flat();
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (seen.has(id)) continue;
    seen.add(id);
    const node = RED.nodes.getNode(id) as FlowNode | null;
    if (node === null) continue;
    if (isReadiness(node.readiness)) found.push(node.readiness);
    queue.push(...(node.wires ?? []).flat());
  }
  return found;
}

type Looker = { started(): void; stopping(): void };
type Events = NodeAPI['events'];
const watching = new Map<Events, { lookers: Set<Looker>; off: () => void }>();

/**
 * One listener per runtime for the flows' start and stop, however many
 * entries there are (an emitter warns past ten listeners per event).
 */
function watchFlows(events: Events, looker: Looker): () => void {
  let watch = watching.get(events);
  if (watch === undefined) {
    const lookers = new Set<Looker>();
    const started = (): void => {
      for (const l of [...lookers]) l.started();
    };
    const stopping = (): void => {
      for (const l of [...lookers]) l.stopping();
    };
    events.on('flows:started', started);
    events.on('flows:stopping', stopping);
    watch = {
      lookers,
      off: () => {
        events.removeListener('flows:started', started);
        events.removeListener('flows:stopping', stopping);
      },
    };
    watching.set(events, watch);
  }
  const mine = watch;
  mine.lookers.add(looker);
  return () => {
    mine.lookers.delete(looker);
    if (mine.lookers.size === 0 && watching.get(events) === mine) {
      watching.delete(events);
      mine.off();
    }
  };
}

export interface FlowWait {
  /** Holding the entry's reading, and what for. */
  readonly hold: ReadinessHold;
  stop(): void;
}

/**
 * An entry's wait for its flow: it holds its reading from now (`hold`, the
 * bus's holdInbound), and once the runtime has started the flows (every node
 * exists then, so the walk finds them) it follows the readiness of every node
 * downstream and reads while all are ready. Every deploy is looked at again:
 * while the runtime stops flows for a deploy the entry holds, so it never
 * reads into a pipeline half redeployed, and follows the new nodes once
 * they have started. A runtime without `RED.events` is looked at once, on the
 * next turn.
 */
export function waitForFlow(RED: NodeAPI, entry: Node, hold: () => () => void, changed: () => void, texts: { starting: string }): FlowWait {
  const wait = new ReadinessHold(hold, changed, texts.starting);
  let combined: AllReady | undefined;
  let stopped = false;
  const look = (): void => {
    if (stopped) return;
    combined?.close();
    combined = new AllReady(downstreamReadiness(RED, entry));
    wait.follow(combined);
  };
  const events = (RED as { events?: Events }).events;
  let unwatch: () => void = () => undefined;
  if (events !== undefined) unwatch = watchFlows(events, { started: look, stopping: () => wait.suspend(texts.starting) });
  else setImmediate(look);
  return {
    hold: wait,
    stop: () => {
      stopped = true;
      unwatch();
      combined?.close();
      wait.close();
    },
  };
}

/**
 * An entry that cannot hold (no flow control, so no inbound lane of its own)
 * reads at once; once the flow has started it says, in one warning, what it
 * is not waiting for, if anything downstream is not ready yet.
 */
export function warnIfNotWaiting(RED: NodeAPI, entry: Node, warn: (waitingFor: string) => void): void {
  const check = (): void => {
    const all = new AllReady(downstreamReadiness(RED, entry));
    if (!all.ready) warn(all.waitingFor);
    all.close();
  };
  const events = (RED as { events?: Events }).events;
  if (events === undefined) {
    setImmediate(check);
    return;
  }
  const unwatch = watchFlows(events, {
    started: () => {
      unwatch();
      check();
    },
    stopping: () => unwatch(),
  });
}
