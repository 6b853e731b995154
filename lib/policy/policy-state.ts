import type { KeyObject } from 'node:crypto';
import type { JsonValue } from '../catalog/types';
import { type Reason, reason } from '../reasons';
import { compilePolicy } from './engine';
import type { CompiledPolicy, PolicyInput, PolicyOptions, PolicyVerdict } from './engine';
import { checkBundleTrust } from './trust';

export interface PolicyStateOptions extends Omit<PolicyOptions, 'lastSeenVersion'> {
  trustedKeys: readonly (string | KeyObject)[];
  maxBundleBytes?: number;
  /** The highest version enforced before a restart (the tectonic-policy node persists it). */
  lastSeenVersion?: number;
  /**
   * What a refused bundle does to the one in force. `fail-closed` (default,
   * as issue 5 asks): every record is rejected with the refusal's reason, so
   * a tampered or rolled-back bundle is seen at once. `keep-current`: the
   * bundle in force stays while it is valid.
   */
  onRefusal?: 'fail-closed' | 'keep-current';
}

export type PolicyStatus =
  | { state: 'in-force'; name: string; id: string; version: number; expiresAt: string; keyId: string }
  | { state: 'fail-closed'; reason: Reason; details: Reason[] };

export type PolicyOffer = { ok: true; name: string; keyId: string } | { ok: false; reason: Reason; details: Reason[] };

export const POLICY_UNAVAILABLE = 'policy-unavailable';

/**
 * The bundle a site enforces, or why it enforces none. A gate asks it for a
 * verdict per record; with no valid, current bundle every record is rejected
 * with the fail-closed reason. Expiry is checked at every evaluation, so a
 * bundle that runs out while in force starts failing closed by itself.
 */
export class PolicyState {
  readonly #options: PolicyStateOptions;
  #current: { policy: CompiledPolicy; keyId: string } | undefined;
  #failure: { reason: Reason; details: Reason[] } | undefined = {
    reason: reason('', POLICY_UNAVAILABLE, 'no policy bundle has been loaded yet'),
    details: [],
  };
  #lastSeenVersion: number | undefined;

  constructor(options: PolicyStateOptions) {
    this.#options = options;
    this.#lastSeenVersion = options.lastSeenVersion;
  }

  /** The highest version put in force so far: persist it, so a restart still refuses a rollback. */
  get lastSeenVersion(): number | undefined {
    return this.#lastSeenVersion;
  }

  /** Checks and compiles a signed bundle; puts it in force, or records why not. */
  offer(signed: string | Buffer | JsonValue | undefined): PolicyOffer {
    const o = this.#options;
    const trust = checkBundleTrust({
      signed,
      trustedKeys: o.trustedKeys,
      now: o.now,
      ...(this.#lastSeenVersion !== undefined ? { lastSeenVersion: this.#lastSeenVersion } : {}),
      ...(o.maxBundleBytes !== undefined ? { maxBundleBytes: o.maxBundleBytes } : {}),
      ...(o.clockSkewMs !== undefined ? { clockSkewMs: o.clockSkewMs } : {}),
    });
    if (!trust.ok) return this.#refuse(trust.reason, trust.details);
    const { trustedKeys: _keys, maxBundleBytes: _max, onRefusal: _mode, lastSeenVersion: _seen, ...engineOptions } = o;
    const compiled = compilePolicy(trust.bundle, engineOptions);
    if (!compiled.ok) {
      const name = `${trust.bundle.id}@${trust.bundle.version}`;
      const first = compiled.reasons[0];
      return this.#refuse(reason('', 'policy-invalid', `${name} cannot be enforced here: ${first ? `${first.path}: ${first.message}` : 'it does not compile'}`), compiled.reasons);
    }
    this.#current = { policy: compiled.policy, keyId: trust.keyId };
    this.#failure = undefined;
    this.#lastSeenVersion = Math.max(this.#lastSeenVersion ?? 0, trust.bundle.version);
    return { ok: true, name: compiled.policy.name, keyId: trust.keyId };
  }

  /** For what the state cannot see itself: the source is unreachable and nothing is cached. */
  failClosed(why: Reason): void {
    this.#current = undefined;
    this.#failure = { reason: why, details: [why] };
  }

  status(): PolicyStatus {
    const failure = this.#failure;
    if (failure) return { state: 'fail-closed', reason: failure.reason, details: failure.details };
    const current = this.#current;
    if (!current) return { state: 'fail-closed', reason: reason('', POLICY_UNAVAILABLE, 'no policy bundle is in force'), details: [] };
    const invalid = current.policy.validity();
    if (invalid) return { state: 'fail-closed', reason: invalid, details: [invalid] };
    const { bundle } = current.policy;
    return { state: 'in-force', name: current.policy.name, id: bundle.id, version: bundle.version, expiresAt: bundle.expiresAt, keyId: current.keyId };
  }

  /** The compiled policy while one is in force and current (for retryFor / rateLimiter). */
  get policy(): CompiledPolicy | undefined {
    return this.status().state === 'in-force' ? this.#current?.policy : undefined;
  }

  evaluate(input: PolicyInput): PolicyVerdict {
    // status() without building it per record: the compiled policy checks its
    // own validity window first and rejects with the same reason status() gives.
    const failure = this.#failure;
    // Failing closed is never about the record: it was not judged, and may pass once a bundle is in force.
    if (failure) return { pass: false, reasons: [failure.reason], transient: true };
    const current = this.#current;
    if (!current) return { pass: false, reasons: [reason('', POLICY_UNAVAILABLE, 'no policy bundle is in force')], transient: true };
    return current.policy.evaluate(input);
  }

  #refuse(why: Reason, details: Reason[]): PolicyOffer {
    const keep = this.#options.onRefusal === 'keep-current' && this.#current !== undefined && this.#current.policy.validity() === undefined;
    if (!keep) {
      this.#current = undefined;
      this.#failure = { reason: why, details };
    }
    return { ok: false, reason: why, details };
  }
}
