import semver from 'semver';
import { parseDocument } from 'yaml';
import type { JsonValue } from '../catalog/types';
import { type Checked, type Reason, reason } from '../reasons';
import { checkJsonData } from './canonical';
import { compileCondition } from './conditions';
import { parseMaskPath } from './mask-path';
import { MASK_METHODS, MAX_SEPARATOR_LENGTH } from './masks';
import type { MaskMethod } from './masks';

/**
 * The policy bundle: a public contract (docs/policy-bundle.md). The central
 * team writes it in YAML or JSON, signs it, and every site enforces it. The
 * check here is strict: an unknown member or rule kind refuses the bundle,
 * because a site that skipped a rule it did not understand would enforce
 * less than the central team signed.
 */
export interface PolicyBundle {
  id: string;
  /** Only ever increases; a lower one than a site has seen is a rollback. */
  version: number;
  issuedAt: string;
  expiresAt: string;
  description?: string;
  rules: PolicyRule[];
}

/** Where a rule applies; an absent list means everywhere. */
export interface RuleScope {
  entities?: readonly string[];
  sites?: readonly string[];
}

interface RuleBase {
  /** Position in `rules`, from 0. */
  index: number;
  /** How reasons name the rule: `rules[3].deny`. */
  label: string;
  scope: RuleScope;
}

export type PolicyRule =
  | (RuleBase & { kind: 'maxBytes'; limit: number })
  | (RuleBase & { kind: 'validation' })
  | (RuleBase & { kind: 'transport'; tls: 'required' })
  | (RuleBase & { kind: 'mask'; paths: string[]; method: MaskMethod; keep?: number; keepAfter?: string; replacement?: string; key?: string })
  | (RuleBase & { kind: 'deny' | 'require'; when: string; reason: string })
  | (RuleBase & { kind: 'retry'; maxAttempts: number; backoffMs: number })
  | (RuleBase & { kind: 'rate'; perSecond: number; burst?: number })
  | (RuleBase & { kind: 'allow'; versions: Record<string, string> });

export type RuleKind = PolicyRule['kind'];
export const RULE_KINDS: readonly RuleKind[] = ['maxBytes', 'validation', 'transport', 'mask', 'deny', 'require', 'retry', 'rate', 'allow'];

const TOP_LEVEL = ['id', 'version', 'issuedAt', 'expiresAt', 'description', 'rules', 'signature'];
// Entity, site and bundle names become MQTT topic levels (as in the envelope).
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
export const MAX_RULES = 256;

/**
 * Reads a bundle's text: JSON when it starts with "{", YAML otherwise (YAML
 * 1.2 core schema, so `2026-11-24T00:00:00Z` stays a string and `yes` is not
 * a boolean). The result is checked to be JSON data, because that is what
 * the signature covers.
 */
export function parseBundleText(text: string, name = 'bundle'): Checked<JsonValue> {
  const trimmed = text.trimStart();
  let value: unknown;
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { ok: false, reasons: [reason('', 'malformed', `${name} is not valid JSON: ${(err as Error).message}`)] };
    }
  } else {
    const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: false });
    const first = doc.errors[0];
    if (first) return { ok: false, reasons: [reason('', 'malformed', `${name} is not valid YAML: ${first.message.split('\n')[0] ?? first.message}`)] };
    try {
      // Aliases are expanded here; the cap stops an alias bomb.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      return { ok: false, reasons: [reason('', 'malformed', `${name} is not usable YAML: ${(err as Error).message}`)] };
    }
  }
  const data = checkJsonData(value);
  if (!data.ok) return { ok: false, reasons: data.reasons.map((r) => ({ ...r, rule: 'malformed', message: `${r.path || name} ${r.message}` })) };
  return data;
}

/** Checks a parsed document against the bundle format and returns it typed, or every problem found. */
export function checkBundle(document: unknown): Checked<PolicyBundle> {
  const reasons: Reason[] = [];
  if (!isObject(document)) return { ok: false, reasons: [reason('', 'type', 'a policy bundle must be an object with id, version, issuedAt, expiresAt and rules')] };
  for (const key of Object.keys(document)) if (!TOP_LEVEL.includes(key)) reasons.push(reason(key, 'unknown-member', `"${key}" is not a member of a policy bundle`));

  const id = document.id;
  if (typeof id !== 'string' || !NAME.test(id)) reasons.push(reason('id', id === undefined ? 'required' : 'format', 'must be a name of letters, digits, ".", "_" or "-" (it becomes a topic level)'));
  const version = document.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) reasons.push(reason('version', version === undefined ? 'required' : 'type', 'must be a whole number from 1 up'));
  const issued = timestamp(document.issuedAt, 'issuedAt', reasons);
  const expires = timestamp(document.expiresAt, 'expiresAt', reasons);
  if (issued !== undefined && expires !== undefined && expires <= issued) reasons.push(reason('expiresAt', 'range', 'must be later than issuedAt'));
  if (document.description !== undefined && typeof document.description !== 'string') reasons.push(reason('description', 'type', 'must be a string'));

  const rules: PolicyRule[] = [];
  if (!Array.isArray(document.rules)) reasons.push(reason('rules', document.rules === undefined ? 'required' : 'type', 'must be a list of rules'));
  else if (document.rules.length > MAX_RULES) reasons.push(reason('rules', 'maxItems', `must have at most ${MAX_RULES} rules`));
  else document.rules.forEach((item, index) => {
    const rule = checkRule(item, index, reasons);
    if (rule) rules.push(rule);
  });

  if (reasons.length > 0) return { ok: false, reasons };
  const bundle: PolicyBundle = { id: id as string, version: version as number, issuedAt: document.issuedAt as string, expiresAt: document.expiresAt as string, rules };
  if (typeof document.description === 'string') bundle.description = document.description;
  return { ok: true, value: bundle };
}

function timestamp(value: unknown, path: string, reasons: Reason[]): number | undefined {
  if (typeof value !== 'string') {
    reasons.push(reason(path, value === undefined ? 'required' : 'type', 'must be an RFC 3339 date-time such as 2026-11-24T00:00:00Z'));
    return undefined;
  }
  const ms = Date.parse(value);
  if (!RFC3339.test(value) || Number.isNaN(ms)) {
    reasons.push(reason(path, 'format', `must be an RFC 3339 date-time such as 2026-11-24T00:00:00Z, got "${value}"`));
    return undefined;
  }
  return ms;
}

/**
 * One rule: an object with exactly one kind member, optionally `entity` and
 * `site` beside it. Where the kind's value is an object, `entity` and `site`
 * may go inside it instead (`mask: { entity: lab-result, ... }`), as
 * DESIGN.md writes them; not in both places.
 */
function checkRule(item: unknown, index: number, reasons: Reason[]): PolicyRule | undefined {
  const at = `rules[${index}]`;
  if (!isObject(item)) {
    reasons.push(reason(at, 'type', `must be an object with one of: ${RULE_KINDS.join(', ')}`));
    return undefined;
  }
  const kinds = Object.keys(item).filter((k): k is RuleKind => (RULE_KINDS as readonly string[]).includes(k));
  const others = Object.keys(item).filter((k) => !(RULE_KINDS as readonly string[]).includes(k) && k !== 'entity' && k !== 'site');
  for (const k of others) reasons.push(reason(`${at}.${k}`, 'unknown-member', `"${k}" is not a rule kind (${RULE_KINDS.join(', ')}) nor entity or site`));
  const kind = kinds[0];
  if (kind === undefined || kinds.length > 1) {
    reasons.push(reason(at, 'one-kind', kind === undefined ? `has no rule kind; give one of ${RULE_KINDS.join(', ')}` : `has several rule kinds (${kinds.join(', ')}); give one per rule`));
    return undefined;
  }
  const label = `${at}.${kind}`;
  const before = reasons.length;
  const body = item[kind];
  const inner = isObject(body) ? body : {};
  const scope: RuleScope = {};
  for (const [field, target] of [['entity', 'entities'], ['site', 'sites']] as const) {
    const outside = item[field];
    const inside = inner[field];
    if (outside !== undefined && inside !== undefined) reasons.push(reason(`${label}.${field}`, 'duplicate', `${field} is given both beside and inside ${kind}; give it once`));
    const given = outside ?? inside;
    const where = outside !== undefined ? `${at}.${field}` : `${label}.${field}`;
    if (given === undefined) continue;
    if (kind === 'allow' && field === 'entity') {
      reasons.push(reason(where, 'unknown-member', 'allow lists its entities under "entities"; it takes no entity scope'));
      continue;
    }
    const names = Array.isArray(given) ? given : [given];
    if (names.length === 0 || !names.every((n): n is string => typeof n === 'string' && NAME.test(n))) {
      reasons.push(reason(where, 'format', `must be a ${field} name or a non-empty list of them`));
    } else scope[target] = names;
  }
  const base = { index, label, scope };
  const fields = (allowed: string[]): void => {
    for (const key of Object.keys(inner)) {
      if (!allowed.includes(key) && key !== 'entity' && key !== 'site') reasons.push(reason(`${label}.${key}`, 'unknown-member', `"${key}" is not a member of ${kind} (${allowed.join(', ')})`));
    }
  };
  const integer = (path: string, value: unknown, min: number, max: number): number | undefined => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) return value;
    reasons.push(reason(path, value === undefined ? 'required' : 'range', `must be a whole number from ${min} to ${max}`));
    return undefined;
  };
  const text = (path: string, value: unknown, max: number): string | undefined => {
    if (typeof value === 'string' && value.trim() !== '' && value.length <= max) return value;
    reasons.push(reason(path, value === undefined ? 'required' : 'type', `must be a non-empty string of at most ${max} characters`));
    return undefined;
  };
  const needObject = (): boolean => {
    if (isObject(body)) return true;
    reasons.push(reason(label, 'type', `must be an object`));
    return false;
  };

  let rule: PolicyRule | undefined;
  switch (kind) {
    case 'maxBytes': {
      // `maxBytes: 65536`, or `maxBytes: { limit: 65536, entity: ... }` to scope it inside.
      const limit = isObject(body) ? (fields(['limit']), integer(`${label}.limit`, body.limit, 1, 2 ** 31)) : integer(label, body, 1, 2 ** 31);
      if (limit !== undefined) rule = { ...base, kind, limit };
      break;
    }
    case 'validation': {
      const required = isObject(body) ? (fields(['required']), body.required === true) : body === 'required';
      if (!required) reasons.push(reason(label, 'format', 'must be "required" (or { required: true })'));
      else rule = { ...base, kind };
      break;
    }
    case 'transport':
      if (!needObject()) break;
      fields(['tls']);
      if (inner.tls !== 'required') reasons.push(reason(`${label}.tls`, inner.tls === undefined ? 'required' : 'format', 'must be "required"'));
      else rule = { ...base, kind, tls: 'required' };
      break;
    case 'mask': {
      if (!needObject()) break;
      fields(['paths', 'method', 'keep', 'keepAfter', 'replacement', 'key']);
      const method = inner.method;
      if (typeof method !== 'string' || !(MASK_METHODS as readonly string[]).includes(method)) {
        reasons.push(reason(`${label}.method`, method === undefined ? 'required' : 'format', `must be one of ${MASK_METHODS.join(', ')}`));
      }
      const paths = inner.paths;
      if (!Array.isArray(paths) || paths.length === 0) reasons.push(reason(`${label}.paths`, paths === undefined ? 'required' : 'type', 'must be a non-empty list of paths'));
      else paths.forEach((p, i) => {
        if (typeof p !== 'string') reasons.push(reason(`${label}.paths[${i}]`, 'type', 'must be a string'));
        else {
          const parsed = parseMaskPath(p);
          if (!parsed.ok) reasons.push(reason(`${label}.paths[${i}]`, 'mask-path', `"${p}": ${parsed.message}`));
        }
      });
      if (inner.keep !== undefined && method !== 'partial') reasons.push(reason(`${label}.keep`, 'unknown-member', 'keep is for method partial'));
      if (inner.keepAfter !== undefined && method !== 'partial') reasons.push(reason(`${label}.keepAfter`, 'unknown-member', 'keepAfter is for method partial'));
      if (inner.keepAfter !== undefined && inner.keep !== undefined) reasons.push(reason(`${label}.keepAfter`, 'format', 'give keep or keepAfter, not both'));
      const keepAfter = inner.keepAfter === undefined ? undefined : typeof inner.keepAfter === 'string' && inner.keepAfter.length > 0 && inner.keepAfter.length <= MAX_SEPARATOR_LENGTH ? inner.keepAfter : (reasons.push(reason(`${label}.keepAfter`, 'type', `must be a separator of 1 to ${MAX_SEPARATOR_LENGTH} characters, e.g. "@"`)), undefined);
      if (inner.replacement !== undefined && method !== 'redact') reasons.push(reason(`${label}.replacement`, 'unknown-member', 'replacement is for method redact'));
      if (inner.key !== undefined && method !== 'hash') reasons.push(reason(`${label}.key`, 'unknown-member', 'key is for method hash'));
      const keep = inner.keep === undefined ? undefined : integer(`${label}.keep`, inner.keep, 0, 64);
      const replacement = inner.replacement === undefined ? undefined : typeof inner.replacement === 'string' && inner.replacement.length <= 256 ? inner.replacement : (reasons.push(reason(`${label}.replacement`, 'type', 'must be a string of at most 256 characters')), undefined);
      const key = inner.key === undefined ? undefined : typeof inner.key === 'string' && NAME.test(inner.key) ? inner.key : (reasons.push(reason(`${label}.key`, 'format', 'must be a key name of letters, digits, ".", "_" or "-"')), undefined);
      if (reasons.length === before) {
        rule = { ...base, kind, paths: paths as string[], method: method as MaskMethod };
        if (keep !== undefined) rule.keep = keep;
        if (keepAfter !== undefined) rule.keepAfter = keepAfter;
        if (replacement !== undefined) rule.replacement = replacement;
        if (key !== undefined) rule.key = key;
      }
      break;
    }
    case 'deny':
    case 'require': {
      if (!needObject()) break;
      fields(['when', 'reason']);
      const why = text(`${label}.reason`, inner.reason, 500);
      const when = typeof inner.when === 'string' ? inner.when : undefined;
      if (when === undefined) reasons.push(reason(`${label}.when`, inner.when === undefined ? 'required' : 'type', 'must be a CEL expression'));
      else {
        const compiled = compileCondition(when);
        if (!compiled.ok) reasons.push(reason(`${label}.when`, 'expression', compiled.message));
      }
      if (why !== undefined && when !== undefined && reasons.length === before) rule = { ...base, kind, when, reason: why };
      break;
    }
    case 'retry': {
      if (!needObject()) break;
      fields(['maxAttempts', 'backoffMs']);
      const maxAttempts = integer(`${label}.maxAttempts`, inner.maxAttempts, 1, 1000);
      const backoffMs = integer(`${label}.backoffMs`, inner.backoffMs, 0, 3_600_000);
      if (maxAttempts !== undefined && backoffMs !== undefined) rule = { ...base, kind, maxAttempts, backoffMs };
      break;
    }
    case 'rate': {
      if (!needObject()) break;
      fields(['perSecond', 'burst']);
      const perSecond = inner.perSecond;
      if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0 || perSecond > 1_000_000) {
        reasons.push(reason(`${label}.perSecond`, perSecond === undefined ? 'required' : 'range', 'must be a number above 0 and at most 1000000'));
      }
      const burst = inner.burst === undefined ? undefined : integer(`${label}.burst`, inner.burst, 1, 1_000_000);
      if (reasons.length === before) {
        rule = { ...base, kind, perSecond: perSecond as number };
        if (burst !== undefined) rule.burst = burst;
      }
      break;
    }
    case 'allow': {
      if (!needObject()) break;
      fields(['entities']);
      const entities = inner.entities;
      if (!isObject(entities) || Object.keys(entities).length === 0) {
        reasons.push(reason(`${label}.entities`, entities === undefined ? 'required' : 'type', 'must map entity names to semver ranges, e.g. { shipment: ">=1.0.0 <2.0.0" }'));
        break;
      }
      const versions: Record<string, string> = {};
      for (const [entity, range] of Object.entries(entities)) {
        if (!NAME.test(entity)) reasons.push(reason(`${label}.entities.${entity}`, 'format', 'is not an entity name'));
        else if (typeof range !== 'string' || semver.validRange(range) === null) reasons.push(reason(`${label}.entities.${entity}`, 'semver-range', `must be a semver range such as ">=1.0.0 <2.0.0" or "*", got ${JSON.stringify(range)}`));
        else versions[entity] = range;
      }
      if (reasons.length === before) rule = { ...base, kind, versions };
      break;
    }
  }
  return reasons.length === before ? rule : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
