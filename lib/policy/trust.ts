import type { KeyObject } from 'node:crypto';
import type { JsonObject, JsonValue } from '../catalog/types';
import { type Reason, reason } from '../reasons';
import { checkBundle, parseBundleText } from './bundle-format';
import type { PolicyBundle } from './bundle-format';
import { checkJsonData } from './canonical';
import { verifyBundleSignature } from './signature';

/** 1 MiB: far above a real bundle (a few KiB), far below what hurts a site. */
export const DEFAULT_MAX_BUNDLE_BYTES = 1024 * 1024;
/** How far a site's clock may lag the signer's before a fresh bundle looks "not yet valid". */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface TrustOptions {
  /** The signed bundle: its text (YAML or JSON), its bytes, or the parsed document; undefined or null when there is none. */
  signed: string | Buffer | JsonValue | undefined;
  trustedKeys: readonly (string | KeyObject)[];
  now: () => Date;
  /** The highest version this site has enforced; a lower one is a rollback. */
  lastSeenVersion?: number;
  maxBundleBytes?: number;
  clockSkewMs?: number;
}

export type TrustCheck =
  | { ok: true; bundle: PolicyBundle; keyId: string; document: JsonObject }
  /** `reason.rule` is one of the fail-closed rules (policy-missing, policy-expired, ...); `details` lists every finding behind it. */
  | { ok: false; reason: Reason; details: Reason[] };

/**
 * Everything a site checks before it enforces a bundle, in the order that
 * reads the least untrusted input: presence, size, syntax, signature (only
 * then is the content interpreted), format, validity window, rollback. Any
 * failure is a value naming its fail-closed rule.
 */
export function checkBundleTrust(options: TrustOptions): TrustCheck {
  const { signed } = options;
  const max = options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  if (signed === undefined || signed === null || (typeof signed === 'string' && signed.trim() === '') || (Buffer.isBuffer(signed) && signed.length === 0)) {
    return refuse('', 'policy-missing', 'there is no policy bundle');
  }

  let document: JsonValue;
  if (typeof signed === 'string' || Buffer.isBuffer(signed)) {
    const size = typeof signed === 'string' ? Buffer.byteLength(signed, 'utf8') : signed.length;
    if (size > max) return refuse('', 'policy-too-large', `the bundle is ${size} bytes; this site accepts at most ${max}`);
    const parsed = parseBundleText(typeof signed === 'string' ? signed : signed.toString('utf8'));
    if (!parsed.ok) return refuse('', 'policy-malformed', `the bundle cannot be read: ${parsed.reasons[0]?.message ?? 'malformed'}`, parsed.reasons);
    document = parsed.value;
  } else {
    const data = checkJsonData(signed);
    if (!data.ok) return refuse('', 'policy-malformed', `the bundle is not JSON data: ${data.reasons[0]?.path ?? ''} ${data.reasons[0]?.message ?? ''}`.trim(), data.reasons);
    const size = Buffer.byteLength(JSON.stringify(data.value), 'utf8');
    if (size > max) return refuse('', 'policy-too-large', `the bundle is ${size} bytes as JSON; this site accepts at most ${max}`);
    document = data.value;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return refuse('', 'policy-malformed', 'the bundle is not an object');

  const signature = verifyBundleSignature(document, options.trustedKeys);
  if (!signature.ok) return { ok: false, reason: signature.reason, details: [signature.reason] };

  const checked = checkBundle(document);
  if (!checked.ok) return refuse('', 'policy-malformed', `the bundle is signed but not a valid policy bundle (${checked.reasons.length} problem(s), first: ${describe(checked.reasons[0])})`, checked.reasons);
  const bundle = checked.value;
  const name = `${bundle.id}@${bundle.version}`;

  const now = options.now().getTime();
  const timing = checkValidity(bundle, now, options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS);
  if (timing) return { ok: false, reason: timing, details: [timing] };
  if (options.lastSeenVersion !== undefined && bundle.version < options.lastSeenVersion) {
    return refuse('version', 'policy-rollback', `${name} is older than version ${options.lastSeenVersion}, which this site has already enforced (a rollback)`);
  }
  return { ok: true, bundle, keyId: signature.keyId, document };
}

/** The validity window, also re-checked on every evaluation: a bundle that expires while in force stops passing records. */
export function checkValidity(bundle: Pick<PolicyBundle, 'id' | 'version' | 'issuedAt' | 'expiresAt'>, nowMs: number, skewMs = DEFAULT_CLOCK_SKEW_MS): Reason | undefined {
  const name = `${bundle.id}@${bundle.version}`;
  if (Date.parse(bundle.expiresAt) <= nowMs) return reason('expiresAt', 'policy-expired', `${name} expired at ${bundle.expiresAt}`);
  if (Date.parse(bundle.issuedAt) > nowMs + skewMs) return reason('issuedAt', 'policy-not-yet-valid', `${name} is issued at ${bundle.issuedAt}, later than this site's clock (${new Date(nowMs).toISOString()})`);
  return undefined;
}

function refuse(path: string, rule: string, message: string, details?: Reason[]): TrustCheck {
  const headline = reason(path, rule, message);
  return { ok: false, reason: headline, details: details ?? [headline] };
}

function describe(r: Reason | undefined): string {
  if (!r) return 'unknown';
  return r.path ? `${r.path}: ${r.message}` : r.message;
}
