import type { InFlight } from '../../lib/flow/in-flight';

/**
 * Follows tracked records through a Node-RED runtime with its message hooks
 * (Node-RED 4.1, @node-red/runtime flows/Flow.js and nodes/Node.js). For one
 * `node.send()` the runtime calls, synchronously: onSend, then per wire
 * preRoute, the clone (all but the first wire get one, with the same
 * `_msgid`), preDeliver and postDeliver; the delivery itself runs later
 * (setImmediate): onReceive, the node's input handlers, postReceive. A node
 * that calls done() triggers onComplete.
 *
 * So a delivery is counted at preDeliver, inside the sender's send() and
 * before the sender's own done(): counting at onReceive would let the record
 * reach 0 in the gap and finish while a copy is still on its way. A node can
 * also be handed a message without the router (link nodes, catch, complete
 * and status nodes call receive() directly); such a receipt has no preDeliver
 * before it and is counted at onReceive instead.
 *
 * Node-RED 4.1 never calls done() for a node whose input handlers do not take
 * it (fewer than three arguments), nor for a node with no input handler: for
 * those the receipt completes in a microtask queued at onReceive, which runs
 * once the handler has returned (anything it sent by then is already
 * counted). That spares a fourth hook on every delivery of the runtime.
 *
 * The hooks run for every message of the runtime, so they do as little as
 * they can: one Map lookup per tracker and event, with the counts kept per
 * record (InFlight), not per message object.
 */

/** The part of RED.hooks this uses. Hooks with a `.label` can be removed again. */
export interface HookEngine {
  add(hookId: string, handler: (event: never) => unknown): void;
  remove(hookId: string): void;
}

export const HOOK_LABEL = 'tectonic-flow';
export const HOOK_IDS: readonly string[] = ['preDeliver', 'onReceive', 'onComplete'].map((hook) => `${hook}.${HOOK_LABEL}`);

interface Message {
  _msgid?: unknown;
}

export interface DeliveryEvent {
  msg: Message;
}

export interface ReceiptEvent {
  msg: Message;
  destination: { node?: unknown };
}

/**
 * Node-RED counts, in `_expectedDoneCount`, the input handlers that take
 * done; 0 means no handler will ever call it. Another runtime without the
 * field: assume the node calls done, and let the lease cover it if not.
 */
export function callsDone(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return true;
  const expected = (node as { _expectedDoneCount?: unknown })._expectedDoneCount;
  return typeof expected !== 'number' || expected > 0;
}

function idOf(msg: Message): string | undefined {
  if (typeof msg !== 'object' || msg === null) return undefined;
  const id = msg._msgid;
  return typeof id === 'string' ? id : undefined;
}

/** msg.reject.transient (docs/message-contract.md): read only on completions, one property when there is no reject. */
function isTransientRefusal(msg: Message): boolean {
  const reject = (msg as { reject?: unknown }).reject;
  return typeof reject === 'object' && reject !== null && (reject as { transient?: unknown }).transient === true;
}

/** Which tracker owns which record: turns hook events into counts. */
export class MessageLedger {
  /** An array, replaced on change: the hooks loop over it on every delivery of the runtime. */
  private trackers: readonly InFlight[] = [];

  get size(): number {
    return this.trackers.length;
  }

  add(tracker: InFlight): void {
    if (!this.trackers.includes(tracker)) this.trackers = [...this.trackers, tracker];
  }

  delete(tracker: InFlight): void {
    this.trackers = this.trackers.filter((t) => t !== tracker);
  }

  delivered(event: DeliveryEvent): void {
    const id = idOf(event.msg);
    if (id === undefined) return;
    for (const tracker of this.trackers) if (tracker.announce(id)) return;
  }

  received(event: ReceiptEvent): void {
    const id = idOf(event.msg);
    if (id === undefined) return;
    for (const tracker of this.trackers) {
      if (!tracker.receive(id)) continue;
      if (!callsDone(event.destination.node)) queueMicrotask(() => tracker.settle(id));
      return;
    }
  }

  completed(event: DeliveryEvent): void {
    const id = idOf(event.msg);
    if (id === undefined) return;
    // A node completed a copy it refused for the site's state: its entry sends the record again once it finishes.
    if (isTransientRefusal(event.msg)) {
      for (const tracker of this.trackers) if (tracker.refusedTransiently(id) && tracker.settle(id)) return;
      return;
    }
    for (const tracker of this.trackers) if (tracker.settle(id)) return;
  }
}

/**
 * One ledger per hook engine (one per runtime). Hooks run for every message
 * in the runtime, so they are registered with the first tracker and removed
 * with the last: a runtime without flow control pays nothing, and a redeploy
 * that closes the last bus-subscribe leaves no hook behind.
 */
class HookedLedger {
  private readonly ledger = new MessageLedger();

  constructor(private readonly engine: HookEngine) {}

  /** Throws when the engine refuses the hooks (another copy of the pack registered the same label). */
  attach(tracker: InFlight): () => void {
    if (this.ledger.size === 0) this.register();
    this.ledger.add(tracker);
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.ledger.delete(tracker);
      if (this.ledger.size === 0) for (const id of HOOK_IDS) this.engine.remove(id);
    };
  }

  private register(): void {
    // Each handler takes one argument and returns nothing: Node-RED then runs it synchronously and carries on.
    const ledger = this.ledger;
    const handlers: Array<[string, (event: never) => void]> = [
      [`preDeliver.${HOOK_LABEL}`, (event: DeliveryEvent) => ledger.delivered(event)],
      [`onReceive.${HOOK_LABEL}`, (event: ReceiptEvent) => ledger.received(event)],
      [`onComplete.${HOOK_LABEL}`, (event: DeliveryEvent) => ledger.completed(event)],
    ];
    const added: string[] = [];
    try {
      for (const [id, handler] of handlers) {
        this.engine.add(id, handler);
        added.push(id);
      }
    } catch (err) {
      // Another copy of the pack holds the label: leave its hooks alone and remove only ours.
      for (const id of added) this.engine.remove(id);
      throw err;
    }
  }
}

const ledgers = new WeakMap<HookEngine, HookedLedger>();

/** Follows `tracker`'s records through the runtime whose hooks are `engine`; returns the way to stop. */
export function followRecords(engine: HookEngine, tracker: InFlight): () => void {
  let hooked = ledgers.get(engine);
  if (hooked === undefined) {
    hooked = new HookedLedger(engine);
    ledgers.set(engine, hooked);
  }
  return hooked.attach(tracker);
}
