import type { Reason } from '../reasons';
import { envelopeOf } from './read-envelope';

export type EnvelopeTarget = { ok: true; entity: string; version: string } | { ok: false; reasons: Reason[] };

/**
 * The entity and version a message is to be validated as: those its envelope
 * names, or those a node fixes. A node's fixed value wins only over an
 * envelope that names none; an envelope naming another is refused, since a
 * mark for one version on an envelope saying another would mislead every
 * later stage.
 */
export function resolveTarget(cdm: unknown, fixedEntity = '', fixedVersion = ''): EnvelopeTarget {
  const envelope = envelopeOf(cdm);
  // The common case, an envelope naming both and a node fixing neither, without the general walk below.
  if (fixedEntity === '' && fixedVersion === '' && envelope !== undefined) {
    const { entity, version } = envelope;
    if (typeof entity === 'string' && entity !== '' && typeof version === 'string' && version !== '') return { ok: true, entity, version };
  }
  if (cdm !== undefined && cdm !== null && envelope === undefined) {
    return { ok: false, reasons: [{ path: 'cdm', rule: 'invalid-envelope', message: 'msg.cdm must be an object with entity and version' }] };
  }
  const reasons: Reason[] = [];
  const entity = pick(envelope, 'entity', fixedEntity, reasons);
  const version = pick(envelope, 'version', fixedVersion, reasons);
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, entity, version };
}

function pick(envelope: ReturnType<typeof envelopeOf>, field: 'entity' | 'version', fixed: string, reasons: Reason[]): string {
  const given = envelope?.[field];
  if (given !== undefined && typeof given !== 'string') {
    reasons.push({ path: `cdm.${field}`, rule: 'type', message: `msg.cdm.${field} must be a string, got ${typeof given}` });
    return '';
  }
  if (fixed !== '') {
    if (given !== undefined && given !== '' && given !== fixed) {
      reasons.push({ path: `cdm.${field}`, rule: 'envelope-mismatch', message: `msg.cdm.${field} is "${given}" but this node validates ${field} "${fixed}"` });
    }
    return fixed;
  }
  if (given === undefined || given === '') {
    const where = envelope ? `msg.cdm has no ${field}` : 'the message has no msg.cdm';
    reasons.push({ path: `cdm.${field}`, rule: 'required', message: `${where} and the node sets no fixed ${field}` });
    return '';
  }
  return given;
}
