import type { Node } from 'node-red';
import { problemStatus } from './status';

/**
 * A node whose settings or config nodes leave it unable to work says so twice:
 * a red dot with the problem under the node, and one error in the log (which
 * a `catch` node does not see: it is not about a message).
 */
export function showCannotStart(node: Node, status: string, logged: string): void {
  node.status(problemStatus(status));
  node.error(logged);
}

/** Releases what a node holds (listeners, timers) when it closes, for nodes whose release is synchronous. */
export function releaseOnClose(node: Node, ...release: Array<() => void>): void {
  node.on('close', (done: () => void) => {
    for (const free of release) free();
    done();
  });
}
