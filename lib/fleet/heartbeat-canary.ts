import type { CanaryResult } from './heartbeat-format';
import { type ProbeBoard, ProbeRun, probeBoard } from './probe-board';
import { newProbeNonce } from './probe-mark';

export interface CanaryOptions {
  every: number;
  deadlineMs: number;
  record: unknown;
  /** Called once per probe with its outcome. */
  settled: (result: CanaryResult) => void;
  board?: ProbeBoard;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => () => void;
}

/**
 * The heartbeat's synthetic transactions: one probe every `every` beats (at
 * most one on its way at a time), settled by the broker acknowledging its
 * publish (bus-publish reports it on the probe board), a stage refusing it,
 * or the deadline.
 */
export class HeartbeatCanary {
  private beats = 0;
  private run: ProbeRun | undefined;
  private cancelTimer: (() => void) | undefined;
  private readonly board: ProbeBoard;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;

  constructor(private readonly options: CanaryOptions) {
    this.board = options.board ?? probeBoard;
    this.now = options.now ?? Date.now;
    this.setTimer =
      options.setTimer ??
      ((fn, ms) => {
        const timer = setTimeout(fn, ms);
        return () => clearTimeout(timer);
      });
  }

  /** At each beat: whether a probe is due now (the first beat's, then every `every`-th), none being on its way. */
  due(): boolean {
    const due = this.beats % this.options.every === 0 && this.run === undefined;
    this.beats += 1;
    return due;
  }

  get pending(): string | undefined {
    return this.run?.nonce;
  }

  /** Starts a probe: the message to send into the pipeline (a fresh copy of the record, marked). */
  start(): { payload: unknown; probe: string; topic: string } {
    const nonce = newProbeNonce();
    const finish = (): void => {
      this.board.close(nonce);
      this.cancelTimer?.();
      this.cancelTimer = undefined;
      this.run = undefined;
    };
    const run = new ProbeRun(
      nonce,
      this.now(),
      (result) => {
        finish();
        this.options.settled(result);
      },
      () => {
        // Refused as transient: the site is not ready, no verdict; the next due beat sends another.
        finish();
        this.beats = 0;
      },
    );
    this.run = run;
    this.board.open(run);
    this.cancelTimer = this.setTimer(() => run.overdue(this.now(), this.options.deadlineMs), this.options.deadlineMs);
    return { payload: structuredClone(this.options.record), probe: nonce, topic: 'tectonic/probe' };
  }

  /** The probe with this nonce reached the bus (the board's `taken` does the same for bus-publish). */
  arrived(nonce: string): void {
    if (this.run?.nonce === nonce) this.run.arrived(this.now());
  }

  close(): void {
    this.cancelTimer?.();
    if (this.run !== undefined) this.board.close(this.run.nonce);
    this.run = undefined;
  }
}
