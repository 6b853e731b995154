import type { PipelineMessage } from '../envelope/pipeline-message';
import { markValidated, validationMark, withoutValidationMark } from '../envelope/validation-mark';
import { type Reason, describeReasons } from '../reasons';
import { type ValidationVerdict, validateCanonical } from './canonical-validation';
import type { CatalogSnapshot, CatalogState } from './catalog-store';
import type { ValidateSettings } from './validate-settings';

/** cdm-validate's stage name in msg.reject. */
export const VALIDATE_STAGE = 'cdm-validate';

/** cdm-validate's decision for one message: the envelope and payload it carries, the node's settings. */
export function validateMessage(snapshot: CatalogSnapshot, msg: PipelineMessage, settings: ValidateSettings): ValidationVerdict | Promise<ValidationVerdict> {
  return validateCanonical(snapshot, { envelope: msg.cdm, record: msg.payload, fixedEntity: settings.entity, fixedVersion: settings.version, castTo: settings.castTo });
}

/**
 * Puts the verdict on the message: a pass carries the record as validated
 * (cast, when it was) and the validation mark; a refusal its reasons.
 * True when it passed.
 */
export function applyValidation(msg: PipelineMessage, verdict: ValidationVerdict): boolean {
  if (!verdict.ok) {
    refuseValidation(msg, verdict.reasons);
    return false;
  }
  if (verdict.castFrom !== undefined) msg.payload = verdict.record;
  msg.cdm = markValidated(msg.cdm, verdict.entity, verdict.version);
  return true;
}

/** A refusal, which takes away any mark an earlier validation left. `transient`: see Rejection.transient. */
export function refuseValidation(msg: PipelineMessage, reasons: Reason[], transient = false): void {
  msg.cdm = withoutValidationMark(msg.cdm);
  msg.reject = transient ? { stage: VALIDATE_STAGE, reasons, transient: true } : { stage: VALIDATE_STAGE, reasons };
}

/** The refusal while no catalog is in force: transient, since the record was not looked at and may pass once one is. */
export function refuseForNoCatalog(msg: PipelineMessage, state: CatalogState): void {
  refuseValidation(msg, noCatalogReasons(state), true);
}

/** Why nothing can be validated while no catalog is in force, with what was wrong with the last one offered. */
export function noCatalogReasons(state: CatalogState): Reason[] {
  const why = state.kind === 'waiting' && state.issue ? `: ${describeReasons(state.issue.reasons)}` : '';
  return [{ path: '', rule: 'no-catalog', message: `no catalog is in force yet, so nothing can be validated${why}` }];
}

/** What a throw inside the validator or a migration becomes: a refusal, so the message still leaves on the reject output. */
export function internalErrorReasons(err: unknown): Reason[] {
  return [{ path: '', rule: 'internal-error', message: `the record could not be validated: ${err instanceof Error ? err.message : String(err)}` }];
}

type Deprecated = NonNullable<Extract<ValidationVerdict, { ok: true }>['deprecation']>;

/** The deprecated versions a cdm-validate has passed: the last for its status, each one warned about once. */
export class DeprecationNotices {
  #last: Deprecated | undefined;
  readonly #warned = new Set<string>();

  /** Notes one record of a deprecated version; the warning, the first time its version is seen. */
  note(d: Deprecated): string | undefined {
    this.#last = d;
    const key = validationMark(d.entity, d.version);
    if (this.#warned.has(key)) return undefined;
    this.#warned.add(key);
    return `cdm-validate: ${d.entity} ${d.version} is deprecated${d.sunset ? `; it is rejected after ${d.sunset}` : ''}${d.note ? ` (${d.note})` : ''}`;
  }

  /** The last deprecated version passed, as the status shows it; '' before any. */
  get last(): string {
    const d = this.#last;
    return d === undefined ? '' : `${d.entity} ${d.version}${d.sunset ? ` (sunset ${d.sunset})` : ''}`;
  }
}
