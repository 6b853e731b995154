import type { Node, NodeStatus } from 'node-red';

/**
 * Status updates travel to every open editor; at thousands of messages a
 * second, one per message would cost more than the work. This shows the
 * first update at once and then at most one per interval.
 */
export class StatusThrottle {
  private timer: NodeJS.Timeout | undefined;
  private pending: (() => NodeStatus) | undefined;
  private last = 0;

  constructor(
    private readonly node: Node,
    private readonly intervalMs = 500,
  ) {}

  show(render: () => NodeStatus): void {
    // Called for every message: while an update is due anyway, only remember the latest.
    if (this.timer !== undefined) {
      this.pending = render;
      return;
    }
    const wait = this.last + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.last = Date.now();
      this.node.status(render());
      return;
    }
    this.pending = render;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.last = Date.now();
      const latest = this.pending;
      this.pending = undefined;
      if (latest) this.node.status(latest());
    }, Math.max(wait, 0));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}
