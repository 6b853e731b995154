import { probeBoard, type ProbeBoard } from '../fleet/probe-board';
import { type ProbeStage, probeNonce } from '../fleet/probe-mark';
import type { Rejection } from '../envelope/pipeline-message';
import type { NodeCounters } from './counters';

/**
 * What a pipeline stage does with each record for the counters and the
 * probes, in one place: a record counts in, out or rejected (by its first
 * reason's rule); a probe counts nowhere and is stamped on the probe board
 * instead, or reported refused there with the stage's reason.
 */
export class StageTally {
  constructor(
    readonly counters: NodeCounters,
    readonly stage: ProbeStage,
    private readonly board: ProbeBoard = probeBoard,
  ) {}

  /** On input: the probe's nonce, or undefined for a record (counted). */
  in(msg: object): string | undefined {
    const probe = probeNonce(msg);
    if (probe === undefined) this.counters.in += 1;
    else this.board.stamp(probe, this.stage);
    return probe;
  }

  out(probe: string | undefined): void {
    if (probe === undefined) this.counters.out += 1;
  }

  /** The bus took a probe (its PUBACK): the last stage's end. */
  taken(probe: string): void {
    this.board.taken(probe);
  }

  rejected(probe: string | undefined, reject: Rejection | undefined): void {
    if (probe === undefined) this.counters.reject(reject?.reasons[0]?.rule);
    else this.board.rejected(probe, this.stage, reject?.reasons, reject?.transient === true);
  }
}
