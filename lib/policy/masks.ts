import { createHmac } from 'node:crypto';
import { TectonicError } from '../errors';
import { canonicalJson } from './canonical';
import { formatConcretePath } from './mask-path';
import type { MaskStep } from './mask-path';

/**
 * The four mask methods of a bundle's `mask` rule:
 * - redact:  the value becomes a constant, "[REDACTED]" unless the rule gives `replacement`;
 * - hash:    the value becomes "hmac:" + base64url(HMAC-SHA256(key, value)): equal
 *            values give equal outputs, so records stay joinable, and without the
 *            key nobody can test a guess (a plain hash of a 6-digit id is reversed
 *            by trying all million);
 * - partial: a string keeps its last `keep` characters, the others become "*";
 *            or, with `keepAfter`, what follows the last separator (an
 *            e-mail's domain: "***@example.com");
 * - drop:    the member is removed (an array element is removed from its array).
 */
export type MaskMethod = 'redact' | 'hash' | 'partial' | 'drop';
export const MASK_METHODS: readonly MaskMethod[] = ['redact', 'hash', 'partial', 'drop'];
export const DEFAULT_REDACTION = '[REDACTED]';
export const DEFAULT_PARTIAL_KEEP = 4;
export const HASH_PREFIX = 'hmac:';

export type MaskOutcome = { drop: true } | { drop: false; value: unknown };
export type MaskTransform = (value: unknown) => MaskOutcome;

export interface MaskMethodSpec {
  method: MaskMethod;
  /** partial: characters kept at the end. */
  keep?: number;
  /** partial: keep what follows the last occurrence of this separator, instead of `keep` characters. */
  keepAfter?: string;
  /** redact: the constant written instead of the value. */
  replacement?: string;
}

/** `hashKey` is required for `hash` and ignored otherwise. */
export function maskTransform(spec: MaskMethodSpec, hashKey?: Buffer): MaskTransform {
  switch (spec.method) {
    case 'redact': {
      const replacement = spec.replacement ?? DEFAULT_REDACTION;
      return () => ({ drop: false, value: replacement });
    }
    case 'partial': {
      const separator = spec.keepAfter;
      if (separator !== undefined) return (value) => ({ drop: false, value: keepAfterValue(value, separator) });
      const keep = spec.keep ?? DEFAULT_PARTIAL_KEEP;
      return (value) => ({ drop: false, value: partialValue(value, keep) });
    }
    case 'hash': {
      if (hashKey === undefined || hashKey.length === 0) throw new TectonicError('BAD_CONFIG', 'a hash mask needs a non-empty key');
      const key = hashKey;
      return (value) => ({ drop: false, value: hashValue(value, key) });
    }
    case 'drop':
      return () => ({ drop: true });
  }
}

/**
 * A string is hashed as its UTF-8 bytes, so the output matches what another
 * system computes from the same secret and the plain text; any other value
 * is hashed as its RFC 8785 canonical JSON (so 42 and "42" differ).
 */
export function hashValue(value: unknown, key: Buffer): string {
  let data: string;
  if (typeof value === 'string') data = value;
  else {
    const canonical = canonicalJson(value);
    data = canonical.ok ? canonical.value : 'null';
  }
  return HASH_PREFIX + createHmac('sha256', key).update(data, 'utf8').digest('base64url');
}

/**
 * Keeps the last `keep` characters (Unicode code points) of a string or of a
 * number's decimal form. A value no longer than `keep` is starred entirely:
 * keeping "all of it" would pass a short secret through unchanged. Other
 * values (objects, lists, booleans, null) cannot be partly shown and are
 * redacted.
 */
export function partialValue(value: unknown, keep: number): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') text = String(value);
  else return DEFAULT_REDACTION;
  // Without surrogates every code unit is a code point, and slicing the
  // string gives the same answer as slicing its list of code points.
  if (!SURROGATE.test(text)) {
    if (text.length <= keep) return '*'.repeat(text.length);
    return '*'.repeat(text.length - keep) + text.slice(text.length - keep);
  }
  const chars = [...text];
  if (chars.length <= keep) return '*'.repeat(chars.length);
  return '*'.repeat(chars.length - keep) + chars.slice(chars.length - keep).join('');
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** What stands for the hidden part of a `keepAfter` mask, whatever its length. */
export const KEEP_AFTER_STARS = '***';
export const MAX_SEPARATOR_LENGTH = 16;

/**
 * Keeps the separator and what follows its last occurrence, and writes
 * `***` for what precedes it: "jane.doe@example.com" is "***@example.com"
 * (issue 18: keeping an e-mail's domain needed a JSONata expression). The
 * last occurrence, because a domain never contains "@" and a quoted local
 * part may. Three stars whatever the length, so the hidden part's length
 * does not show either. A value without the separator has nothing that may
 * be shown and becomes "***"; a number is its decimal text; objects, lists,
 * booleans and null are redacted, as with `keep`.
 */
export function keepAfterValue(value: unknown, separator: string): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') text = String(value);
  else return DEFAULT_REDACTION;
  const at = separator === '' ? -1 : text.lastIndexOf(separator);
  return at < 0 ? KEEP_AFTER_STARS : KEEP_AFTER_STARS + text.slice(at);
}

// Records deeper than this are refused by the engine rather than walked: a
// JSON record nested thousands deep would otherwise exhaust the stack.
export const MAX_MASK_DEPTH = 256;

export type MaskApplication = { ok: true; touched: string[] } | { ok: false; message: string };

/**
 * Applies one mask path to `root` in place (the engine hands it a private
 * copy) and lists the concrete paths it touched. Values are replaced before
 * anything below them is visited, so a `**` path never reaches into a value
 * it has already masked.
 */
export function applyMask(root: unknown, steps: readonly MaskStep[], transform: MaskTransform): MaskApplication {
  const touched: string[] = [];
  const problem = applyMaskInto(root, steps, transform, touched);
  return problem === undefined ? { ok: true, touched } : { ok: false, message: problem };
}

/**
 * applyMask for the engine, which runs it per record and path: the touched
 * paths are appended to `touched`, and the result is the reason the record
 * cannot be masked, undefined when it was.
 */
export function applyMaskInto(root: unknown, steps: readonly MaskStep[], transform: MaskTransform, touched: string[]): string | undefined {
  try {
    visit(root, steps, 0, [], transform, touched);
  } catch (err) {
    if (err instanceof TooDeep) return `the record nests deeper than ${MAX_MASK_DEPTH} levels`;
    throw err;
  }
  return undefined;
}

class TooDeep extends Error {}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function childKeys(node: Container): (string | number)[] {
  return Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
}

// `keys` is one path stack shared by the whole walk (pushed and popped), and
// a concrete path is only formatted when a mask applies: this runs per record.
function visit(node: unknown, steps: readonly MaskStep[], i: number, keys: (string | number)[], transform: MaskTransform, touched: string[]): void {
  if (keys.length > MAX_MASK_DEPTH) throw new TooDeep();
  const step = steps[i];
  if (step === undefined || !isContainer(node)) return;
  switch (step.kind) {
    case 'member':
      if (!Array.isArray(node) && Object.hasOwn(node, step.name)) takeStep(node, step.name, steps, i, keys, transform, touched);
      return;
    case 'index':
      if (Array.isArray(node) && step.index < node.length) takeStep(node, step.index, steps, i, keys, transform, touched);
      return;
    case 'elements':
    case 'children': {
      if (step.kind === 'elements' && !Array.isArray(node)) return;
      // Backwards, so that dropping an array element does not shift the ones still to visit.
      const children = childKeys(node);
      for (let c = children.length - 1; c >= 0; c--) takeStep(node, children[c] as string | number, steps, i, keys, transform, touched);
      return;
    }
    case 'descendants':
      // `**` matches here, then below: first the rest of the path at this node...
      visit(node, steps, i + 1, keys, transform, touched);
      // ...then this same `**` step inside every child still present.
      for (const key of childKeys(node)) {
        const child = read(node, key);
        if (!isContainer(child)) continue;
        keys.push(key);
        visit(child, steps, i, keys, transform, touched);
        keys.pop();
      }
      return;
  }
}

/** One step taken: apply the mask if it was the last step, otherwise walk on. */
function takeStep(node: Container, key: string | number, steps: readonly MaskStep[], i: number, keys: (string | number)[], transform: MaskTransform, touched: string[]): void {
  keys.push(key);
  if (i === steps.length - 1) apply(node, key, keys, transform, touched);
  else visit(read(node, key), steps, i + 1, keys, transform, touched);
  keys.pop();
}

function read(node: Container, key: string | number): unknown {
  return Array.isArray(node) ? node[key as number] : node[key as string];
}

function apply(node: Container, key: string | number, keys: (string | number)[], transform: MaskTransform, touched: string[]): void {
  const outcome = transform(read(node, key));
  if (Array.isArray(node)) {
    const index = key as number;
    if (outcome.drop) node.splice(index, 1);
    else node[index] = outcome.value;
  } else if (outcome.drop) {
    delete node[key as string];
  } else if (key === '__proto__') {
    // defineProperty, not assignment: a record parsed from JSON may carry an
    // own "__proto__" member, and assigning to that name would leave the
    // original value in place (and touch the prototype instead). Every other
    // member of the engine's copy is a plain writable one, which assignment
    // replaces just the same, without a descriptor per masked value.
    Object.defineProperty(node, key, { value: outcome.value, writable: true, enumerable: true, configurable: true });
  } else {
    node[key as string] = outcome.value;
  }
  touched.push(formatConcretePath(keys));
}
