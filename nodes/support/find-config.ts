import type { Node, NodeAPI } from 'node-red';
import { translator } from './i18n';

/** A config node that owns one resource (`bus`, `catalog`, `policy`), or says why it could not start. */
export type ConfigNodeWith<K extends string, R> = Node & { [P in K]?: R } & { problem?: string };

/** The catalog keys of the three reasons a config is not there, each in the config node's own catalog. */
export interface ConfigProblemKeys {
  none: string;
  missing: string;
  notStarted: string;
}

/**
 * Finds the resource `key` of the config node `id`, or says in
 * plain words why there is none: none configured, the config missing from
 * the flows (deleted, or not deployed), or the config's own start-up problem.
 */
export function findConfig<K extends string, R>(RED: NodeAPI, key: K, id: string | undefined, problems: ConfigProblemKeys): { [P in K]: R } | { problem: string } {
  const t = translator(RED);
  if (id === undefined || id === '') return { problem: t(problems.none) };
  const node = RED.nodes.getNode(id) as ConfigNodeWith<K, R> | null;
  if (node === null) return { problem: t(problems.missing) };
  const resource = node[key] as R | undefined;
  if (resource === undefined) return { problem: node.problem ?? t(problems.notStarted) };
  return { [key]: resource } as { [P in K]: R };
}
