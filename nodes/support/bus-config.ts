import type { Node, NodeAPI } from 'node-red';
import type { SharedBus } from '../../lib/bus/shared-bus';

/** The tectonic-bus config node as the nodes that use it see it. */
export interface BusCredentials {
  user?: string;
  password?: string;
}

export interface TectonicBusNode extends Node<BusCredentials> {
  bus?: SharedBus;
  /** Why the config could not start, in plain words. */
  problem?: string;
}

/** Finds the bus a node is configured with, or says in plain words why there is none. */
export function findBus(RED: NodeAPI, id: string | undefined): { bus: SharedBus } | { problem: string } {
  if (id === undefined || id === '') return { problem: 'no tectonic-bus configured' };
  const node = RED.nodes.getNode(id) as TectonicBusNode | null;
  if (node === null) return { problem: 'the tectonic-bus config is missing' };
  if (node.bus === undefined) return { problem: node.problem ?? 'the tectonic-bus config did not start' };
  return { bus: node.bus };
}
