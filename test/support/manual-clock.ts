import type { FlowClock } from '../../lib/flow/in-flight';

/** A clock whose time and timers move only when the test says so. */
export class ManualClock implements FlowClock {
  time = 0;
  private readonly timers = new Map<number, { at: number; fire: () => void }>();
  private serial = 0;

  now(): number {
    return this.time;
  }

  setTimeout(fire: () => void, ms: number): unknown {
    this.serial += 1;
    this.timers.set(this.serial, { at: this.time + ms, fire });
    return this.serial;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Fires the timers due within `ms`, in the order they are due, each at its own time. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fire();
    }
    this.time = until;
  }
}
