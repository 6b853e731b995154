import semver from 'semver';
import { envelopeOf, envelopeScalars } from '../envelope/read-envelope';
import { isValidationMark, validationMark } from '../envelope/validation-mark';
import { type Reason, reason } from '../reasons';
import type { PolicyBundle, PolicyRule, RuleScope } from './bundle-format';
import { compileCondition } from './conditions';
import type { CompiledCondition } from './conditions';
import { parseMaskPath } from './mask-path';
import type { MaskStep } from './mask-path';
import { plainJsonForm } from './json-form';
import { applyMaskInto, maskTransform } from './masks';
import type { MaskTransform } from './masks';
import { createTokenBucket } from './rate-limiter';
import type { RateLimiter } from './rate-limiter';
import { DEFAULT_CLOCK_SKEW_MS, checkValidity } from './trust';

/** A key for hash masks: one secret, or several by name (a mask rule's `key`; `default` for rules naming none). */
export type HashKeys = Buffer | string | Readonly<Record<string, Buffer | string>>;

/** The system clock as PolicyOptions.now; given it, the engine reads Date.now() instead of making a Date per record. */
export const systemClock = (): Date => new Date();

export interface PolicyOptions {
  now: () => Date;
  /** The site's secret for `hash` masks. Never part of the bundle: the bundle travels, the key stays. */
  hashKey?: HashKeys;
  /** The site this engine enforces for; rules scoped to other sites do not apply. */
  site: string;
  /** The highest version already enforced here; compiling a lower one is refused as a rollback. */
  lastSeenVersion?: number;
  clockSkewMs?: number;
  /**
   * Largest record (UTF-8 bytes of its JSON) a condition is evaluated on.
   * Conditions cost at most about their size times the record's size, so
   * this bounds the time one record can take. Default 1 MiB.
   */
  maxConditionInputBytes?: number;
}

export interface PolicyInput {
  /** The canonical record. Never modified: a pass carries a masked copy. */
  payload: unknown;
  /** The envelope, msg.cdm: entity and version choose the rules; `validated` is what cdm-validate set. */
  cdm: unknown;
  /** The record's size in bytes if the caller measured it (e.g. the raw message); otherwise the UTF-8 length of its JSON. */
  bytes?: number;
  /** How the bus connection is secured; unknown counts as not TLS. */
  transport?: { tls: boolean };
}

export interface PolicyAnnotations {
  /** `id@version` of the bundle that decided. */
  policy: string;
  /** Concrete paths the masks touched (`patient.ids[0].value`). */
  masked: string[];
}

export type PolicyVerdict =
  | { pass: true; payload: unknown; annotations: PolicyAnnotations }
  /**
   * `payload`, when present, is the record with every applicable mask
   * applied, safe to send to a dead-letter topic. When absent the record
   * could not be masked (no policy in force, a record that is not JSON) and
   * must not leave the site.
   */
  | {
      pass: false;
      reasons: Reason[];
      payload?: unknown;
      annotations?: PolicyAnnotations;
      /**
       * The record was not judged: no valid, current bundle is in force
       * (none loaded yet, expired, not yet valid, refused). Failing closed
       * is right, and the same record may pass once a bundle is in force.
       */
      transient?: true;
    };

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
}

export interface CompiledPolicy {
  readonly bundle: PolicyBundle;
  /** `id@version`. */
  readonly name: string;
  evaluate(input: PolicyInput): PolicyVerdict;
  /** The validity window at this moment: undefined while current, the fail-closed reason once expired. */
  validity(): Reason | undefined;
  /** The first `retry` rule in scope, for bus-publish; undefined when the bundle sets none. */
  retryFor(entity: string, site?: string): RetryPolicy | undefined;
  /** The token bucket of the first `rate` rule in scope; one bucket per rule and site, shared by every entity the rule covers. */
  rateLimiter(entity: string, site?: string): RateLimiter | undefined;
}

export const DEFAULT_MAX_CONDITION_INPUT_BYTES = 1024 * 1024;

type CompiledRule =
  | Exclude<PolicyRule, { kind: 'mask' | 'deny' | 'require' }>
  | (Extract<PolicyRule, { kind: 'mask' }> & { steps: MaskStep[][]; transform: MaskTransform })
  | (Extract<PolicyRule, { kind: 'deny' | 'require' }> & { condition: CompiledCondition });

/**
 * Compiles a checked bundle once (conditions parsed, mask paths parsed, hash
 * keys bound) into a policy that evaluates records. Refuses, as values: a
 * rollback, a condition or path that does not compile, a hash mask whose key
 * this site lacks.
 */
export function compilePolicy(bundle: PolicyBundle, options: PolicyOptions): { ok: true; policy: CompiledPolicy } | { ok: false; reasons: Reason[] } {
  const name = `${bundle.id}@${bundle.version}`;
  if (options.lastSeenVersion !== undefined && bundle.version < options.lastSeenVersion) {
    return { ok: false, reasons: [reason('version', 'policy-rollback', `${name} is older than version ${options.lastSeenVersion}, which this site has already enforced (a rollback)`)] };
  }
  const reasons: Reason[] = [];
  const rules: CompiledRule[] = [];
  for (const rule of bundle.rules) {
    switch (rule.kind) {
      case 'mask': {
        // A mask for another site never runs here, so this site needs no key for it.
        if (!inScope(rule.scope.sites, options.site)) continue;
        const steps: MaskStep[][] = [];
        rule.paths.forEach((p, i) => {
          const parsed = parseMaskPath(p);
          if (parsed.ok) steps.push(parsed.steps);
          else reasons.push(reason(`${rule.label}.paths[${i}]`, 'policy-invalid', parsed.message));
        });
        let key: Buffer | undefined;
        if (rule.method === 'hash') {
          key = resolveHashKey(options.hashKey, rule.key);
          if (key === undefined) {
            reasons.push(reason(rule.label, 'policy-invalid', rule.key === undefined ? 'hashes values, but this site has no hash key' : `hashes with key "${rule.key}", which this site does not have`));
            continue;
          }
        }
        rules.push({ ...rule, steps, transform: maskTransform(rule, key) });
        break;
      }
      case 'deny':
      case 'require': {
        const compiled = compileCondition(rule.when);
        if (compiled.ok) rules.push({ ...rule, condition: compiled.condition });
        else reasons.push(reason(`${rule.label}.when`, 'policy-invalid', compiled.message));
        break;
      }
      default:
        rules.push(rule);
    }
  }
  if (reasons.length > 0) return { ok: false, reasons };

  const skew = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const maxConditionInput = options.maxConditionInputBytes ?? DEFAULT_MAX_CONDITION_INPUT_BYTES;
  const sizeDecidedBelow = rules.reduce((smallest, r) => (r.kind === 'maxBytes' ? Math.min(smallest, r.limit) : smallest), maxConditionInput);
  const siteRules = rules.filter((r) => inScope(r.scope.sites, options.site));
  // Rules per entity, worked out on first sight of an entity: a site sees a handful.
  const byEntity = new Map<string, CompiledRule[]>();
  const rulesFor = (entity: string | undefined): CompiledRule[] => {
    // An unknown entity gets every rule, so every mask applies: over-masking
    // a record that is rejected anyway is the safe side.
    if (entity === undefined) return siteRules;
    let found = byEntity.get(entity);
    if (!found) {
      found = siteRules.filter((r) => inScope(r.scope.entities, entity));
      if (byEntity.size < 1000) byEntity.set(entity, found);
    }
    return found;
  };
  const buckets = new Map<string, RateLimiter>();
  // Allow decisions per entity, then version: a site publishes a handful, and
  // semver range matching is the slowest check otherwise. Two levels, so a
  // lookup builds no `entity@version` key string per record.
  const decisions = new Map<string, Map<string, AllowRefusal | null>>();
  let decisionCount = 0;
  const allowed = (scoped: readonly CompiledRule[], entity: string | undefined, version: string | undefined): AllowRefusal | undefined => {
    if (entity === undefined || version === undefined) return checkAllowed(scoped, entity, version);
    const known = decisions.get(entity)?.get(version);
    if (known !== undefined) return known ?? undefined;
    const decision = checkAllowed(scoped, entity, version);
    if (decisionCount < 1000) {
      let versions = decisions.get(entity);
      if (!versions) decisions.set(entity, (versions = new Map<string, AllowRefusal | null>()));
      versions.set(version, decision ?? null);
      decisionCount += 1;
    }
    return decision;
  };
  const expiresAtMs = Date.parse(bundle.expiresAt);
  const issuedAtMs = Date.parse(bundle.issuedAt);
  const nowMs = options.now === systemClock ? Date.now : (): number => options.now().getTime();

  const policy: CompiledPolicy = {
    bundle,
    name,
    validity() {
      // The common case without parsing dates; checkValidity words the reason.
      const t = nowMs();
      return t < expiresAtMs && issuedAtMs <= t + skew ? undefined : checkValidity(bundle, t, skew);
    },
    evaluate(input) {
      const invalid = policy.validity();
      if (invalid) return { pass: false, reasons: [invalid], transient: true };
      return evaluateRecord(input, { name, rulesFor, allowed, maxConditionInput, sizeDecidedBelow });
    },
    retryFor(entity, site = options.site) {
      const rule = rules.find((r) => r.kind === 'retry' && inScope(r.scope.entities, entity) && inScope(r.scope.sites, site));
      return rule?.kind === 'retry' ? { maxAttempts: rule.maxAttempts, backoffMs: rule.backoffMs } : undefined;
    },
    rateLimiter(entity, site = options.site) {
      const rule = rules.find((r) => r.kind === 'rate' && inScope(r.scope.entities, entity) && inScope(r.scope.sites, site));
      if (rule?.kind !== 'rate') return undefined;
      const key = `${rule.index}\u0000${site}`;
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = createTokenBucket({ perSecond: rule.perSecond, ...(rule.burst !== undefined ? { burst: rule.burst } : {}), now: options.now });
        buckets.set(key, bucket);
      }
      return bucket;
    },
  };
  return { ok: true, policy };
}

function inScope(names: RuleScope['entities'], name: string): boolean {
  return names === undefined || names.includes(name);
}

function resolveHashKey(keys: HashKeys | undefined, name: string | undefined): Buffer | undefined {
  if (keys === undefined) return undefined;
  let key: Buffer | string | undefined;
  if (typeof keys === 'string' || Buffer.isBuffer(keys)) key = name === undefined ? keys : undefined;
  else key = Object.hasOwn(keys, name ?? 'default') ? keys[name ?? 'default'] : undefined;
  if (key === undefined) return undefined;
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return bytes.length > 0 ? bytes : undefined;
}

interface EvaluationContext {
  name: string;
  /** The smallest size limit of the bundle (maxBytes, condition input): a record's bound below it decides as its exact size would. */
  sizeDecidedBelow: number;
  rulesFor(entity: string | undefined): CompiledRule[];
  allowed(rules: readonly CompiledRule[], entity: string | undefined, version: string | undefined): AllowRefusal | undefined;
  maxConditionInput: number;
}

type AllowRefusal = { path: string; message: string };

function evaluateRecord(input: PolicyInput, ctx: EvaluationContext): PolicyVerdict {
  // The copy is the JSON the record will be sent as (Dates become strings,
  // undefined members vanish), so the masks and the size limit see exactly
  // what would leave the site, and the caller's object is never touched.
  // Plain data is copied and measured in one walk; anything else takes the
  // round trip through the JSON text, which defines what "the JSON" is.
  const form = plainJsonForm(input.payload);
  let payload: unknown;
  // An upper bound on the JSON's UTF-8 size, and the size itself once measured.
  let bytesAtMost: number;
  let jsonBytes: number | undefined;
  if (form !== undefined) {
    payload = form.value;
    bytesAtMost = form.bytesAtMost;
  } else {
    let text: string | undefined;
    try {
      text = JSON.stringify(input.payload);
    } catch (err) {
      return { pass: false, reasons: [reason('payload', 'policy-payload', `the record cannot be serialised as JSON: ${(err as Error).message}`)] };
    }
    if (text === undefined) return { pass: false, reasons: [reason('payload', 'policy-payload', 'the record has no JSON form (it is undefined or a function)')] };
    payload = JSON.parse(text);
    jsonBytes = bytesAtMost = Buffer.byteLength(text, 'utf8');
  }
  // Within every size limit of the bundle the bound decides as the size would;
  // beyond any of them the size is measured now, before a mask changes the record.
  if (jsonBytes === undefined && input.bytes === undefined && bytesAtMost > ctx.sizeDecidedBelow) jsonBytes = serialisedBytes(payload);
  const cdm = envelopeScalars(envelopeOf(input.cdm));
  const entity = typeof cdm?.entity === 'string' ? cdm.entity : undefined;
  const version = typeof cdm?.version === 'string' ? cdm.version : undefined;

  // Allocated at the first reason: most records have none.
  let reasons: Reason[] | undefined;
  if (entity === undefined) reasons = [reason('cdm.entity', 'policy-envelope', 'the record has no envelope entity (msg.cdm.entity), so the policy cannot tell which rules apply')];
  const rules = ctx.rulesFor(entity);

  // The size as received, or its bound when that is within every limit; and
  // the exact size of the record as it is now, when known (unknown again
  // once a mask changed it: measuring costs a serialisation, so it waits
  // until a rule needs it).
  const receivedSize = input.bytes ?? jsonBytes ?? bytesAtMost;
  let size: number | undefined = input.bytes ?? jsonBytes;
  let changed = false;
  const masked: string[] = [];
  let maskable = true;
  let allowChecked = false;

  for (const rule of rules) {
    switch (rule.kind) {
      case 'maxBytes': {
        const bytes = size ?? (changed ? (size = serialisedBytes(payload)) : receivedSize);
        if (bytes > rule.limit) (reasons ??= []).push(reason('payload', rule.label, `the record is ${bytes} bytes; at most ${rule.limit} are allowed`));
        break;
      }
      case 'validation': {
        const validated = cdm?.validated;
        if (validated === undefined) (reasons ??= []).push(reason('cdm.validated', rule.label, 'the record has not passed cdm-validate'));
        else if (!isValidationMark(validated, entity, version)) {
          const expected = entity !== undefined && version !== undefined ? validationMark(entity, version) : undefined;
          (reasons ??= []).push(reason('cdm.validated', rule.label, `the record was validated as ${JSON.stringify(validated)}, not as ${expected ?? 'its envelope entity@version'}`));
        }
        break;
      }
      case 'transport':
        if (input.transport?.tls !== true) (reasons ??= []).push(reason('transport.tls', rule.label, input.transport === undefined ? 'the bus connection must use TLS, and this one is not known to' : 'the bus connection must use TLS, and this one does not'));
        break;
      case 'mask':
        for (const steps of rule.steps) {
          const before = masked.length;
          const problem = applyMaskInto(payload, steps, rule.transform, masked);
          if (problem !== undefined) {
            (reasons ??= []).push(reason('payload', rule.label, problem));
            maskable = false;
          } else if (masked.length > before) {
            size = undefined;
            changed = true;
          }
        }
        break;
      case 'deny':
      case 'require': {
        // The cost bound uses the size as received unless a mask since made it
        // stale; measuring again is only worth it when the condition reads byteSize.
        const bytes = rule.condition.usesByteSize ? (size ??= serialisedBytes(payload)) : (size ?? receivedSize);
        if (bytes > ctx.maxConditionInput) {
          (reasons ??= []).push(reason('', rule.label, `${rule.reason}: the record is ${bytes} bytes, too large to evaluate the condition on (limit ${ctx.maxConditionInput}), so it is rejected`));
          break;
        }
        const result = rule.condition.evaluate({ payload, cdm: cdm ?? {}, byteSize: bytes });
        if (!result.ok) (reasons ??= []).push(reason('', rule.label, `${rule.reason}: the condition could not be evaluated (${result.message}), so the record is rejected`));
        else if (result.value === (rule.kind === 'deny')) (reasons ??= []).push(reason('', rule.label, rule.reason));
        break;
      }
      case 'allow':
        // Every allow rule in scope together is one allow list: the record's
        // entity@version must be allowed by at least one of them. Checked at
        // the first, reported under its name.
        if (!allowChecked) {
          allowChecked = true;
          const allowed = ctx.allowed(rules, entity, version);
          if (allowed) (reasons ??= []).push(reason(allowed.path, rule.label, allowed.message));
        }
        break;
      case 'retry':
      case 'rate':
        // Honoured by bus-publish through retryFor / rateLimiter.
        break;
    }
  }
  const annotations: PolicyAnnotations = { policy: ctx.name, masked };
  if (reasons === undefined) return { pass: true, payload, annotations };
  return maskable ? { pass: false, reasons, payload, annotations } : { pass: false, reasons, annotations };
}

function serialisedBytes(payload: unknown): number {
  return Buffer.byteLength(JSON.stringify(payload), 'utf8');
}

function checkAllowed(rules: readonly CompiledRule[], entity: string | undefined, version: string | undefined): AllowRefusal | undefined {
  const lists = rules.filter((r): r is Extract<CompiledRule, { kind: 'allow' }> => r.kind === 'allow');
  if (entity === undefined) return { path: 'cdm.entity', message: 'the record has no entity, so it is not on the allow list' };
  const ranges = lists.flatMap((l) => (Object.hasOwn(l.versions, entity) ? [l.versions[entity] ?? ''] : []));
  if (ranges.length === 0) return { path: 'cdm.entity', message: `${entity} is not on this site's allow list (allowed: ${[...new Set(lists.flatMap((l) => Object.keys(l.versions)))].join(', ')})` };
  if (version === undefined || semver.valid(version) === null) return { path: 'cdm.version', message: `the record's version ${version === undefined ? 'is missing' : `"${version}" is not a semantic version`}` };
  if (ranges.some((range) => semver.satisfies(version, range))) return undefined;
  return { path: 'cdm.version', message: `${entity}@${version} is not allowed here (allowed: ${ranges.join(' or ')})` };
}
