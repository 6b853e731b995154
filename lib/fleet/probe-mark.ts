import { randomUUID } from 'node:crypto';

/**
 * A synthetic transaction ("probe"): a record the heartbeat node sends
 * through the site's real pipeline (docs/fleet.md, "Synthetic
 * transactions"). Before cdm-map it is marked `msg.probe = nonce`; cdm-map
 * copies the nonce into the envelope (`msg.cdm.probe`, CloudEvents
 * extension `cdmprobe`), so the mark survives validation, the policy gate
 * and the bus. Each probe has a fresh nonce and a fresh envelope id, so no
 * duplicate window swallows it.
 */
export function probeNonce(msg: object): string | undefined {
  const p = (msg as { probe?: unknown }).probe;
  return typeof p === 'string' && p !== '' && p.length <= 64 ? p : undefined;
}

export function newProbeNonce(): string {
  return `probe-${randomUUID()}`;
}

/** The stages a probe passes, in order, as heartbeats and canary results name them. */
export const PROBE_STAGES = ['map', 'validate', 'policy', 'publish', 'bus'] as const;
export type ProbeStage = (typeof PROBE_STAGES)[number];
