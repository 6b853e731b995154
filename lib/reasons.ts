/**
 * Why a record, a message or an artefact was refused. Every rejecting stage
 * (mapper, validator, policy gate, bus) speaks this one shape so a technician
 * reads the same `{ path, rule, message }` whichever node said no.
 */
export interface Reason {
  /** Where the problem is, as a dotted path (`cdm.time`, `payload.items.0.sku`), or '' for the whole thing. */
  path: string;
  /** A stable machine-readable name for the check that failed. */
  rule: string;
  /** Plain words for the person reading the debug sidebar. */
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reasons: Reason[] };

export function reason(path: string, rule: string, message: string): Reason {
  return { path, rule, message };
}

export function describeReasons(reasons: readonly Reason[]): string {
  return reasons.map((r) => (r.path ? `${r.path}: ${r.message}` : r.message)).join('; ');
}
