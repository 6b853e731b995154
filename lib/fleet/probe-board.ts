import type { Reason } from '../reasons';
import type { CanaryResult } from './heartbeat-format';
import { PROBE_STAGES, type ProbeStage } from './probe-mark';

/**
 * Where the stages of the pipeline note a probe passing (a time per stage)
 * or refusing it (the stage and its reason), and where the heartbeat node
 * that sent it reads the outcome. One board per process: the stages and the
 * heartbeat of a site run in one Node-RED. Only probes touch it, so a
 * record's cost is one property read (probeNonce).
 */
export class ProbeBoard {
  private readonly runs = new Map<string, ProbeRun>();

  constructor(private readonly now: () => number = Date.now) {}

  open(run: ProbeRun): void {
    this.runs.set(run.nonce, run);
  }

  stamp(nonce: string, stage: ProbeStage, at = this.now()): void {
    const run = this.runs.get(nonce);
    if (run !== undefined && !run.stamps.has(stage)) run.stamps.set(stage, at);
  }

  /**
   * A stage refused the probe. Refused as transient (no catalog or policy
   * yet, the outbox full: the site is not ready, the record would be tried
   * again) it is no verdict on the pipeline: the probe is given up without a
   * result, and the next one tries again.
   */
  rejected(nonce: string, stage: ProbeStage, reasons: readonly Reason[] | undefined, transient = false): void {
    const run = this.runs.get(nonce);
    if (run === undefined) return;
    if (transient) run.notReady();
    else run.refused(stage, describe(reasons));
  }

  /**
   * The broker acknowledged the probe's publish (bus-publish's PUBACK): it has
   * passed every stage of the site's pipeline and is on the bus. Watching the
   * acknowledgement instead of the probe's return keeps the heartbeat off the
   * site's records topic, which would bring every record of the site back to
   * it while a probe is on its way (issue 19).
   */
  taken(nonce: string, at = this.now()): void {
    this.runs.get(nonce)?.arrived(at);
  }

  close(nonce: string): void {
    this.runs.delete(nonce);
  }

  get size(): number {
    return this.runs.size;
  }
}

export const probeBoard = new ProbeBoard();

function describe(reasons: readonly Reason[] | undefined): string {
  const first = reasons?.[0];
  if (first === undefined) return 'refused without a reason';
  const more = (reasons?.length ?? 1) > 1 ? ` (and ${(reasons?.length ?? 1) - 1} more)` : '';
  return `${first.rule}${first.path !== '' ? ` at ${first.path}` : ''}: ${first.message}${more}`;
}

/** One probe on its way: sent, stamped by the stages, then on the bus, refused or overdue. */
export class ProbeRun {
  readonly stamps = new Map<ProbeStage, number>();
  private outcome: CanaryResult | undefined;

  constructor(
    readonly nonce: string,
    readonly sentAt: number,
    private readonly settled: (result: CanaryResult) => void,
    private readonly givenUp: () => void = () => undefined,
  ) {}

  notReady(): void {
    if (this.outcome !== undefined) return;
    this.givenUp();
  }

  get result(): CanaryResult | undefined {
    return this.outcome;
  }

  /** On the bus (the broker acknowledged it): success, with the time spent from each stage to the next. */
  arrived(at: number): void {
    if (this.outcome !== undefined) return;
    const stagesMs: Record<string, number> = {};
    let stage: ProbeStage | undefined;
    let since = this.sentAt;
    for (const next of PROBE_STAGES) {
      const stamped = next === 'bus' ? at : this.stamps.get(next);
      if (stamped === undefined) continue;
      if (stage !== undefined) stagesMs[stage] = stamped - since;
      stage = next;
      since = stamped;
    }
    // The publish stage ends when the broker acknowledges the probe; time before the first stamp is the wire from the heartbeat.
    this.settle({ ok: true, at: new Date(at).toISOString(), nonce: this.nonce, latencyMs: at - this.sentAt, stagesMs });
  }

  refused(stage: ProbeStage, reason: string): void {
    this.settle({ ok: false, at: new Date().toISOString(), nonce: this.nonce, stage, reason });
  }

  /** Past the deadline: it stopped after the last stage that saw it. */
  overdue(at: number, deadlineMs: number): void {
    let last: ProbeStage | undefined;
    for (const stage of PROBE_STAGES) if (this.stamps.has(stage)) last = stage;
    const stage = last === undefined ? 'map' : (PROBE_STAGES[PROBE_STAGES.indexOf(last) + 1] ?? 'bus');
    const where = last === undefined ? 'no stage saw it (is the heartbeat output wired to the pipeline\'s cdm-map?)' : `${last} saw it last`;
    this.settle({ ok: false, at: new Date(at).toISOString(), nonce: this.nonce, stage, reason: `deadline: not back on the bus after ${deadlineMs} ms; ${where}` });
  }

  private settle(result: CanaryResult): void {
    if (this.outcome !== undefined) return;
    this.outcome = result;
    this.settled(result);
  }
}
