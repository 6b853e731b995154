/**
 * The validation mark, `msg.cdm.validated` (docs/message-contract.md): the
 * `entity@version` of the schema the payload passed. Its text is written by
 * validationMark() and read by isValidationMark(), nowhere else.
 */

const marks = new Map<string, Map<string, string>>();
let markCount = 0;

/** `entity@version`, the same string object for every record of a version. */
export function validationMark(entity: string, version: string): string {
  let byVersion = marks.get(entity);
  let mark = byVersion?.get(version);
  if (mark !== undefined) return mark;
  mark = `${entity}@${version}`;
  if (markCount >= 256) {
    marks.clear();
    markCount = 0;
    byVersion = undefined;
  }
  if (byVersion === undefined) marks.set(entity, (byVersion = new Map<string, string>()));
  byVersion.set(version, mark);
  markCount += 1;
  return mark;
}

/** Whether `mark` is the mark of entity@version, without building that string per record. */
export function isValidationMark(mark: unknown, entity: string | undefined, version: string | undefined): boolean {
  return (
    entity !== undefined &&
    version !== undefined &&
    typeof mark === 'string' &&
    mark.length === entity.length + 1 + version.length &&
    mark.startsWith(entity) &&
    mark.charCodeAt(entity.length) === 0x40 && // '@'
    mark.endsWith(version)
  );
}

/**
 * msg.cdm as cdm-validate passes it on: a new object (the old one may be
 * shared with a message on another wire) with every member of the old one,
 * the entity and version it was validated as, and the validation mark.
 *
 * Copied member by member, not as `{ ...cdm, entity, version, validated }`:
 * on Node 20's V8 objects made by a spread with further members get a shape
 * on which reading a property takes a slow path, each read of a fresh object
 * up to a hundred times slower, and every node after cdm-validate reads the
 * envelope of every record.
 */
export function markValidated(cdm: unknown, entity: string, version: string): Record<string, unknown> {
  const next: Record<string, unknown> = {};
  if (typeof cdm === 'object' && cdm !== null && !Array.isArray(cdm)) {
    const old = cdm as Record<string, unknown>;
    for (const key in old) {
      if (!Object.hasOwn(old, key)) continue;
      // An own "__proto__" member (JSON.parse makes one) stays a member; assigning it would set the prototype.
      if (key === '__proto__') Object.defineProperty(next, key, { value: old[key], writable: true, enumerable: true, configurable: true });
      else next[key] = old[key];
    }
  }
  next.entity = entity;
  next.version = version;
  next.validated = validationMark(entity, version);
  return next;
}

/**
 * msg.cdm without its mark, for a message a validation refused: a mark left
 * by an earlier validation must not survive the refusal. A new object when
 * there was a mark (the old one may be shared), `cdm` itself otherwise.
 */
export function withoutValidationMark(cdm: unknown): unknown {
  if (typeof cdm !== 'object' || cdm === null || Array.isArray(cdm) || !('validated' in cdm)) return cdm;
  const { validated: _dropped, ...rest } = cdm as Record<string, unknown>;
  return rest;
}
