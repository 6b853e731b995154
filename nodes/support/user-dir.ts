import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { translator } from './i18n';

/**
 * Where a node keeps state that must outlive a restart (outbox, broker
 * sessions, policy cache): under Node-RED's user folder, so it survives as
 * long as the site's installation does. Without one (an embedded runtime
 * that set none) a temporary folder is used, and the node says so.
 */
export function stateDir(RED: NodeAPI, node: Node, ...parts: string[]): string {
  const userDir = (RED.settings as { userDir?: string }).userDir;
  const base = userDir ? join(userDir, 'tectonic') : join(tmpdir(), `tectonic-${process.pid}`);
  if (!userDir) node.warn(translator(RED)('tectonic-bus:tectonic-bus.warnings.noUserDir', { folder: parts.join('/'), base }));
  const dir = join(base, ...parts.map((p) => p.replace(/[^A-Za-z0-9._-]/g, '_')));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A client id that stays the same across restarts of this installation (its
 * persistent session is found by it) but differs between sites running the
 * same flow template, where the config node's id alone would collide.
 */
export function stableClientId(RED: NodeAPI, nodeId: string): string {
  const userDir = (RED.settings as { userDir?: string }).userDir ?? '';
  const digest = createHash('sha256').update(`${hostname()}\0${userDir}\0${nodeId}`).digest('hex');
  // 19 characters: within the 23 every MQTT 3.1.1 broker must accept [MQTT-3.1.3-5].
  return `tn_${digest.slice(0, 16)}`;
}
