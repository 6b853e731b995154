import type { ErrorObject } from 'ajv';
import { unescapePointer } from './json-text';
import type { Reason } from '../reasons';

/**
 * Turns ajv's errors into reasons a site technician can act on: the dotted
 * path of the field (as in mapping rules: `patient.ids.0.value`; empty for
 * the record itself), the failing keyword as the rule, and plain words that
 * say what was expected and what arrived.
 */
export function reasonsFromAjv(errors: readonly ErrorObject[] | null | undefined, record: unknown): Reason[] {
  if (!errors) return [];
  const out: Reason[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // A failed `if` only says which branch failed; that branch's own error follows.
    if (e.keyword === 'if') continue;
    const tokens = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map(unescapePointer);
    const params = e.params as Record<string, unknown>;
    let path = tokens.join('.');
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') path = join(path, params.missingProperty);
    if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') path = join(path, params.additionalProperty);
    if (e.keyword === 'unevaluatedProperties' && typeof params.unevaluatedProperty === 'string') path = join(path, params.unevaluatedProperty);
    const reason = { path, rule: e.keyword, message: describe(e, params, valueAt(record, tokens)) };
    const key = `${reason.path}|${reason.rule}|${reason.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(reason);
    }
  }
  return out;
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function valueAt(record: unknown, tokens: string[]): unknown {
  let here = record;
  for (const t of tokens) {
    if (typeof here !== 'object' || here === null || !Object.hasOwn(here, t)) return undefined;
    here = (here as Record<string, unknown>)[t];
  }
  return here;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describe(e: ErrorObject, p: Record<string, unknown>, value: unknown): string {
  const list = (v: unknown): string => (Array.isArray(v) ? v.map((x) => show(x)).join(', ') : show(v));
  switch (e.keyword) {
    case 'type':
      return `must be ${Array.isArray(p.type) ? p.type.join(' or ') : String(p.type)}, got ${typeName(value)}`;
    case 'required':
      return 'is required but missing';
    case 'additionalProperties':
    case 'unevaluatedProperties':
      return 'is not a field of this schema version';
    case 'enum':
      return `must be one of ${list(p.allowedValues)}, got ${show(value)}`;
    case 'const':
      return `must be ${show(p.allowedValue)}, got ${show(value)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(p.comparison)} ${String(p.limit)}, got ${show(value)}`;
    case 'multipleOf':
      return `must be a multiple of ${String(p.multipleOf)}, got ${show(value)}`;
    case 'minLength':
      return `must be at least ${String(p.limit)} characters long, got ${[...String(value)].length}`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters long, got ${[...String(value)].length}`;
    case 'minItems':
      return `must have at least ${String(p.limit)} items, got ${Array.isArray(value) ? value.length : 0}`;
    case 'maxItems':
      return `must have at most ${String(p.limit)} items, got ${Array.isArray(value) ? value.length : 0}`;
    case 'minProperties':
    case 'maxProperties':
      return `must have ${e.keyword === 'minProperties' ? 'at least' : 'at most'} ${String(p.limit)} fields`;
    case 'pattern':
      return `must match the pattern ${String(p.pattern)}, got ${show(value)}`;
    case 'format':
      return `must be a valid ${String(p.format)}, got ${show(value)}`;
    case 'uniqueItems':
      return `must not contain duplicates (items ${String(p.j)} and ${String(p.i)} are equal)`;
    case 'false schema':
      return 'is not allowed here';
    case 'anyOf':
    case 'oneOf':
      return `must match ${e.keyword === 'oneOf' ? 'exactly one' : 'at least one'} of the allowed shapes`;
    case 'dependentRequired':
      return `requires ${String(p.missingProperty)} when ${String(p.property)} is present`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}
