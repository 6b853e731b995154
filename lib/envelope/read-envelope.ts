import type { CdmEnvelope } from './envelope';

/**
 * msg.cdm as a reader finds it: the members of the contract by name, each
 * unknown until the reader checks it, because any node of a flow may have
 * written there. checkEnvelope() is the full check; this is the read that
 * costs nothing, for the stages that look at a member or two per record.
 */
export type EnvelopeFields = { readonly [K in keyof CdmEnvelope]?: unknown } & { readonly [member: string]: unknown };

/** `cdm` when it is an object, the only shape a member can be read from; undefined otherwise. No copy. */
export function envelopeOf(cdm: unknown): EnvelopeFields | undefined {
  return typeof cdm === 'object' && cdm !== null && !Array.isArray(cdm) ? (cdm as EnvelopeFields) : undefined;
}

/** The envelope a message carries, undefined when msg.cdm is missing or not an object. */
export function readEnvelope(msg: { readonly cdm?: unknown }): EnvelopeFields | undefined {
  return envelopeOf(msg.cdm);
}

/**
 * The envelope's scalar members only: every CloudEvents attribute is a
 * string, so this is all of it, and a policy condition sees neither what a
 * flow hung on msg.cdm nor anything but data. A shallow copy, because it
 * runs per record.
 */
export function envelopeScalars(fields: EnvelopeFields | undefined): Record<string, unknown> | undefined {
  if (fields === undefined) return undefined;
  const copy: Record<string, unknown> = {};
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    if (key !== '__proto__' && (typeof value === 'string' || typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value)))) copy[key] = value;
  }
  return copy;
}
