import type { Node, NodeAPI } from 'node-red';

/** A config node that owns one resource (`bus`, `catalog`, `policy`), or says why it could not start. */
export type ConfigNodeWith<K extends string, R> = Node & { [P in K]?: R } & { problem?: string };

/**
 * Finds the resource of the config node `id` of type `type`, or says in
 * plain words why there is none: none configured, the config missing from
 * the flows (deleted, or not deployed), or the config's own start-up problem.
 */
export function findConfig<K extends string, R>(RED: NodeAPI, type: string, key: K, id: string | undefined): { [P in K]: R } | { problem: string } {
  if (id === undefined || id === '') return { problem: `no ${type} configured` };
  const node = RED.nodes.getNode(id) as ConfigNodeWith<K, R> | null;
  if (node === null) return { problem: `the ${type} config is missing` };
  const resource = node[key] as R | undefined;
  if (resource === undefined) return { problem: node.problem ?? `the ${type} config did not start` };
  return { [key]: resource } as { [P in K]: R };
}
