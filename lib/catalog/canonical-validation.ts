import { resolveTarget } from '../envelope/target';
import type { CastResult } from './catalog-casts';
import type { DeprecationStatus } from './catalog-model';
import type { CatalogSnapshot } from './catalog-store';
import { DEFAULT_RECORD_LIMITS, checkRecordLimits } from './record-limits';
import type { RecordLimits } from './record-limits';
import type { Reason } from '../reasons';

/** What cdm-validate asks for one message; the fixed fields come from the node's settings. */
export interface ValidationRequest {
  /** msg.cdm as it arrived (anything). */
  envelope: unknown;
  /** msg.payload. */
  record: unknown;
  /** Entity and version set on the node; each wins over msg.cdm's only when msg.cdm has none. */
  fixedEntity?: string;
  fixedVersion?: string;
  /** Up- or down-cast a valid record to this version of its entity. */
  castTo?: string;
  now?: Date;
  limits?: RecordLimits;
}

export type ValidationVerdict =
  | {
      ok: true;
      entity: string;
      /** The version the record now has: the cast target, or the version it arrived with. */
      version: string;
      /** The record, cast when a cast happened (a new object), else the input itself. */
      record: unknown;
      /** The version the record arrived with, when it was cast. */
      castFrom?: string;
      /** Set when the version the record arrived with is deprecated (and still before its sunset). */
      deprecation?: DeprecationStatus & { entity: string; version: string };
    }
  | { ok: false; reasons: Reason[]; entity?: string; version?: string };

/**
 * The whole of cdm-validate's decision for one message, against the catalog
 * in force: which entity@version, does it exist, is it past its sunset, is the
 * record within bounds and valid, and, when asked, the cast and the check of
 * its result. Synchronous unless a migration mapping is asynchronous.
 */
export function validateCanonical(snapshot: CatalogSnapshot, request: ValidationRequest): ValidationVerdict | Promise<ValidationVerdict> {
  const target = resolveTarget(request.envelope, request.fixedEntity, request.fixedVersion);
  if (!target.ok) return target;
  const { entity, version } = target;
  // Without a `now` the validators read the clock only for a deprecated version.
  let now = request.now;

  const known = knownVersion(snapshot, entity, version, 'cdm');
  if (known) return rejected([known], entity, version);
  const deprecation = snapshot.validators.deprecation(entity, version, now);
  if (deprecation?.pastSunset) return rejected([sunsetReason(entity, version, deprecation, 'cdm.version')], entity, version);

  if (request.record instanceof Uint8Array) {
    // ajv would see a Buffer as an object of byte-valued keys and list every field as missing.
    return rejected([{ path: '', rule: 'type', message: 'the record is binary data (a Buffer), not JSON: parse it first, e.g. with a json node' }], entity, version);
  }
  const limits = checkRecordLimits(request.record, request.limits ?? DEFAULT_RECORD_LIMITS);
  if (limits.length > 0) return rejected(limits, entity, version);
  const valid = snapshot.validators.validateRecord(entity, version, request.record);
  if (!valid.ok) return rejected(valid.reasons, entity, version);

  const castTo = request.castTo ?? '';
  if (castTo === '' || castTo === version) return passed(request.record, entity, version, version, deprecation);

  const castProblem = knownVersion(snapshot, entity, castTo, 'castTo');
  if (castProblem) return rejected([castProblem], entity, version);
  now ??= new Date();
  const castDeprecation = snapshot.validators.deprecation(entity, castTo, now);
  if (castDeprecation?.pastSunset) return rejected([sunsetReason(entity, castTo, castDeprecation, 'castTo')], entity, version);
  if (snapshot.casts.route(entity, version, castTo) === undefined) {
    return rejected([{ path: 'castTo', rule: 'no-migration', message: `the catalog has no chain of migrations from ${entity} ${version} to ${castTo}` }], entity, version);
  }
  const afterCast = (cast: CastResult): ValidationVerdict => {
    if (!cast.ok) return rejected(cast.reasons, entity, version);
    const check = snapshot.validators.validateRecord(entity, castTo, cast.value);
    if (!check.ok) {
      return rejected([{ path: '', rule: 'cast-invalid', message: `the record cast from ${entity} ${version} to ${castTo} does not validate against ${castTo}` }, ...check.reasons], entity, version);
    }
    return passed(cast.value, entity, version, castTo, deprecation);
  };
  // Migrations take a copy: the message's own payload stays untouched whatever a mapping does.
  let copy: unknown;
  try {
    copy = structuredClone(request.record);
  } catch (err) {
    return rejected([{ path: '', rule: 'cast-failed', message: `the record cannot be copied for the cast: ${(err as Error).message}` }], entity, version);
  }
  const cast = snapshot.casts.cast(entity, version, castTo, copy);
  return cast instanceof Promise ? cast.then(afterCast) : afterCast(cast);
}

// Plain functions rather than closures in validateCanonical: it runs for every record.
function rejected(reasons: Reason[], entity: string, version: string): ValidationVerdict {
  return { ok: false, reasons, entity, version };
}

function passed(record: unknown, entity: string, version: string, finalVersion: string, deprecation: DeprecationStatus | undefined): ValidationVerdict {
  const verdict: ValidationVerdict = { ok: true, entity, version: finalVersion, record };
  if (finalVersion !== version) verdict.castFrom = version;
  if (deprecation?.deprecated) verdict.deprecation = Object.assign({}, deprecation, { entity, version });
  return verdict;
}

function knownVersion(snapshot: CatalogSnapshot, entity: string, version: string, field: 'cdm' | 'castTo'): Reason | undefined {
  const e = snapshot.catalog.entities.get(entity);
  if (!e) {
    const names = [...snapshot.catalog.entities.keys()].join(', ');
    return { path: field === 'cdm' ? 'cdm.entity' : 'castTo', rule: 'unknown-entity', message: `the catalog (${snapshot.label}) has no entity "${entity}"; it knows ${names || 'none'}` };
  }
  if (!hasVersion(e.versions, version)) {
    const what = field === 'cdm' ? 'the record' : 'the cast target';
    return { path: field === 'cdm' ? 'cdm.version' : 'castTo', rule: 'unknown-version', message: `${what} names ${entity} ${version}, which the catalog (${snapshot.label}) does not have; it has ${e.versions.map((v) => v.version).join(', ')}` };
  }
  return undefined;
}

function hasVersion(versions: readonly { version: string }[], version: string): boolean {
  for (const v of versions) if (v.version === version) return true;
  return false;
}

function sunsetReason(entity: string, version: string, d: DeprecationStatus, path: string): Reason {
  return { path, rule: 'sunset', message: `${entity} ${version} was deprecated and its sunset ${d.sunset ?? ''} has passed${d.note ? ` (${d.note})` : ''}` };
}
