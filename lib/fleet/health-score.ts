/**
 * A site's health, 0 to 100, from published weights (docs/fleet.md "Health
 * score"). Every point lost is accounted for by a reason, so the page can say
 * why a site scores 60 and not only that it does.
 */
export const SCORE_WEIGHTS = {
  liveness: 40,
  canary: 20,
  rejects: 10,
  outbox: 10,
  versions: 10,
  drift: 10,
} as const;

export type ScoreFactor = keyof typeof SCORE_WEIGHTS;

/** A reject rate at or above this loses the whole rejects weight; below it, in proportion. */
export const FULL_REJECT_RATE = 0.1;
/** An outbox this deep loses the whole outbox weight; shallower, in proportion. */
export const FULL_OUTBOX_DEPTH = 1000;

export interface ScoreInput {
  /** down: offline or missing; late: the last beat is over one and a half intervals old. */
  liveness: { kind: 'up' } | { kind: 'late' | 'down'; reason: string };
  canaryFailure?: string;
  /** Rejected / in over the last beat's interval, 0 to 1. */
  rejectRate: number;
  outboxDepth: number;
  /** One reason per catalog or policy behind the current one, and per sun-setting CDM version published. */
  versionProblems: Array<{ reason: string; severe: boolean }>;
  drift?: string;
}

export interface PointsLost {
  factor: ScoreFactor;
  points: number;
  reason: string;
}

export interface HealthScore {
  score: number;
  lost: PointsLost[];
}

export function healthScore(input: ScoreInput): HealthScore {
  const lost: PointsLost[] = [];
  const lose = (factor: ScoreFactor, points: number, reason: string): void => {
    const bounded = Math.min(SCORE_WEIGHTS[factor], Math.max(0, Math.round(points)));
    if (bounded > 0) lost.push({ factor, points: bounded, reason });
  };
  if (input.liveness.kind === 'down') lose('liveness', SCORE_WEIGHTS.liveness, input.liveness.reason);
  else if (input.liveness.kind === 'late') lose('liveness', SCORE_WEIGHTS.liveness / 2, input.liveness.reason);
  if (input.canaryFailure !== undefined) lose('canary', SCORE_WEIGHTS.canary, input.canaryFailure);
  if (input.rejectRate > 0) {
    lose('rejects', (SCORE_WEIGHTS.rejects * Math.min(1, input.rejectRate)) / FULL_REJECT_RATE, `${(input.rejectRate * 100).toFixed(1)}% of records rejected`);
  }
  if (input.outboxDepth > 0) lose('outbox', (SCORE_WEIGHTS.outbox * Math.min(input.outboxDepth, FULL_OUTBOX_DEPTH)) / FULL_OUTBOX_DEPTH, `${input.outboxDepth} records waiting in the outbox`);
  let versionPoints = 0;
  for (const problem of input.versionProblems) {
    const points = Math.min(problem.severe ? SCORE_WEIGHTS.versions : SCORE_WEIGHTS.versions / 2, SCORE_WEIGHTS.versions - versionPoints);
    if (points <= 0) break;
    versionPoints += points;
    lose('versions', points, problem.reason);
  }
  if (input.drift !== undefined) lose('drift', SCORE_WEIGHTS.drift, input.drift);
  return { score: 100 - lost.reduce((sum, l) => sum + l.points, 0), lost };
}
