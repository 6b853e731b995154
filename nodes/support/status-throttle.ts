import type { Node, NodeStatus } from 'node-red';

/**
 * Status updates travel to every open editor; at thousands of messages a
 * second, one per message would cost more than the work. This shows the
 * first update at once and then at most one per interval. The status is
 * worked out when it is shown, from the node's state then, so a call per
 * message costs a check and nothing is made for it.
 */
export class StatusThrottle {
  private timer: NodeJS.Timeout | undefined;
  private last = 0;

  constructor(
    private readonly node: Node,
    private readonly status: () => NodeStatus,
    private readonly intervalMs = 500,
  ) {}

  show(): void {
    // Called for every message: while an update is due anyway, it will show the state as it is then.
    if (this.timer !== undefined) return;
    const wait = this.last + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.last = Date.now();
      this.node.status(this.status());
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.last = Date.now();
      this.node.status(this.status());
    }, wait);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
