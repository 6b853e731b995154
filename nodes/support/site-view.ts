import type { NodeAPI } from 'node-red';
import { flowsFingerprint } from '../../lib/fleet/fingerprint';
import type { Heartbeat } from '../../lib/fleet/heartbeat-format';
import type { CatalogView } from './catalog-config';
import type { PolicyView } from './policy-config';

/** What Node-RED's log hands each entry to: it calls only `emit('log', entry)`. */
interface LogSink {
  emit(event: string, entry?: { level?: number; msg?: unknown; id?: string; timestamp?: number }): void;
}

/**
 * What a heartbeat reads from the running Node-RED: the deployed flows'
 * fingerprint, the catalog and policy in force, the last error a node
 * reported. The runtime parts of the beat; lib/fleet builds the rest.
 */
export class SiteView {
  private fingerprint: string | undefined;
  private last: Heartbeat['lastError'];
  /**
   * Node-RED's log calls `emit('log', entry)` on each handler for every entry,
   * and with metrics that is three entries per message per node, whatever
   * the level. A plain object whose emit returns at once for anything but an
   * error, not an EventEmitter: its dispatch per entry was most of what a
   * heartbeat cost a site at full speed (issue 19).
   */
  private readonly handler: LogSink = { emit: () => undefined };
  private readonly stop: Array<() => void> = [];

  constructor(private readonly RED: NodeAPI) {
    // A new deploy changes the flows: fingerprint again at the next beat.
    const redeployed = (): void => {
      this.fingerprint = undefined;
    };
    RED.events.on('flows:started', redeployed);
    this.stop.push(() => RED.events.removeListener('flows:started', redeployed));
    // The last error: every node's error goes through the runtime's log
    // (node.error and done(err) alike), which takes extra handlers; a catch
    // node would only see those with a message, in its own tab.
    const log = RED.log as unknown as { addHandler?: (h: LogSink) => void; removeHandler?: (h: LogSink) => void };
    if (typeof log.addHandler === 'function') {
      this.handler.emit = (event, entry) => {
        if (event !== 'log' || typeof entry !== 'object' || entry === null) return;
        // Errors are level 20 and fatal 10; metrics 99, debug 50, info 30.
        const level = entry.level;
        if (level === undefined || level > 20) return;
        const message = entry.msg instanceof Error ? entry.msg.message : typeof entry.msg === 'string' ? entry.msg : JSON.stringify(entry.msg) ?? '';
        this.last = { at: new Date(entry.timestamp ?? Date.now()).toISOString(), message: message.slice(0, 500), ...(entry.id !== undefined ? { node: entry.id } : {}) };
      };
      log.addHandler(this.handler);
      this.stop.push(() => log.removeHandler?.(this.handler));
    }
  }

  get lastError(): Heartbeat['lastError'] {
    return this.last;
  }

  flowsFingerprint(): string {
    if (this.fingerprint === undefined) {
      const flows: unknown[] = [];
      this.RED.nodes.eachNode((n) => {
        flows.push(n);
      });
      this.fingerprint = flowsFingerprint(flows);
    }
    return this.fingerprint;
  }

  /** The catalog and policy in force, from every cdm-catalog and tectonic-policy of the flows (`,` between several). */
  versions(): { catalog?: string; policy?: string } {
    const catalogs: string[] = [];
    const policies: string[] = [];
    this.RED.nodes.eachNode((n) => {
      if (n.type === 'cdm-catalog') {
        const digest = (this.RED.nodes.getNode(n.id) as { catalog?: CatalogView } | null)?.catalog?.snapshot?.digest;
        if (digest !== undefined) catalogs.push(digest);
      } else if (n.type === 'tectonic-policy') {
        const status = (this.RED.nodes.getNode(n.id) as { policy?: PolicyView } | null)?.policy?.status;
        if (status?.state === 'in-force') policies.push(`${status.id}@${status.version}`);
      }
    });
    return { ...(catalogs.length > 0 ? { catalog: [...new Set(catalogs)].sort().join(',') } : {}), ...(policies.length > 0 ? { policy: [...new Set(policies)].sort().join(',') } : {}) };
  }

  close(): void {
    for (const stop of this.stop.splice(0)) stop();
  }
}
