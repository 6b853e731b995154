import type { Reason } from '../reasons';
import type { QoS } from './bus-client';

/**
 * A node's settings or the reasons it cannot run, plus `warnings`: problems
 * it runs with anyway, said once at deploy. A refusal carries the warnings
 * found before it, as the node said them before it failed.
 */
export type ParsedSettings<T> = ({ ok: true; value: T } | { ok: false; reasons: Reason[] }) & { warnings: string[] };

/**
 * A count field (bus-subscribe's windows and limits): its value, `fallback`
 * when empty, undefined when it is not a whole number a double holds exactly.
 */
export function countField(text: string | undefined, fallback: number): number | undefined {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return fallback;
  return /^\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : undefined;
}

/** A limit field (bus-publish's outbox bounds): its value, `fallback` when empty, undefined unless a whole number above 0. */
export function limitField(text: string | undefined, fallback: number): number | undefined {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return fallback;
  return /^\d+$/.test(trimmed) && Number(trimmed) > 0 ? Number(trimmed) : undefined;
}

/** The QoS select: 0, 1 or 2; anything else (an older node without the field) is 1. */
export function qosField(text: string | undefined): QoS {
  return (text === '0' || text === '1' || text === '2' ? Number(text) : 1) as QoS;
}
