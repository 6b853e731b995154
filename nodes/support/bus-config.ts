import type { Node, NodeAPI } from 'node-red';
import type { SharedBus } from '../../lib/bus/shared-bus';
import { CLOSE_BOUND_MS, closeWithin } from '../../lib/close-within';
import { findConfig } from './find-config';

const PROBLEMS = { none: 'tectonic-bus:tectonic-bus.errors.none', missing: 'tectonic-bus:tectonic-bus.errors.missing', notStarted: 'tectonic-bus:tectonic-bus.errors.notStarted' };

/** The tectonic-bus config node as the nodes that use it see it. */
export interface BusCredentials {
  user?: string;
  password?: string;
}

export interface TectonicBusNode extends Node<BusCredentials> {
  bus?: SharedBus;
  /** The site this connection announces on `tectonic/health/{site}/state`; '' for none. */
  siteId?: string;
  /** Why the config could not start, in plain words. */
  problem?: string;
}

/**
 * Finds the bus a node is configured with, or says in plain words why there
 * is none. With a `user`, registers it as one of the bus's users, as core's
 * mqtt-broker does: the first user opens the connection (and the embedded
 * broker), and the user leaves on its own 'close', the last one closing them.
 * Without one it only looks: policy-gate reads the URL for its TLS check
 * and never uses the connection.
 */
export function findBus(RED: NodeAPI, id: string | undefined, user?: Node): { bus: SharedBus } | { problem: string } {
  const found = findConfig<'bus', SharedBus>(RED, 'bus', id, PROBLEMS);
  if (user !== undefined && 'bus' in found) {
    const { bus } = found;
    bus.register(user.id);
    // Awaited by Node-RED before it starts the node's successor, so a redeploy reconnects after the last user left, not during.
    user.on('close', (_removed: boolean, done: () => void) => {
      void closeWithin(bus.deregister(user.id), CLOSE_BOUND_MS).then(done);
    });
  }
  return found;
}
