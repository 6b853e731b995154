import sjson from 'secure-json-parse';
import { type Checked, reason } from './reasons';

/**
 * JSON from outside the process (bus messages, catalog and policy files,
 * records a flow hands in, dead letters): the one place that says which keys
 * are refused and how deep a value may nest. Every check elsewhere calls in
 * here, or, where it is fused into a walk that runs per record anyway
 * (record limits, the mapper's copy, the policy engine's copy), uses these
 * names and this bound, so no record pays for a second walk.
 *
 * The forbidden keys: one set, PROTOTYPE_KEYS = `__proto__`, `constructor`,
 * `prototype`, the names of JavaScript's prototype machinery. How much of it
 * a site refuses depends on whether the name is a step a program takes or a
 * member of data:
 *  - A name the program walks or writes through (a mapping path segment, a
 *    key of the canonical record the mapper builds, which only such paths
 *    address) is refused if it is any of the three: `a.constructor` already
 *    leaves the data, `a.constructor.prototype` reaches Object.prototype.
 *    isPrototypeKey.
 *  - A member of untrusted data is refused only where the set spells a way
 *    into a prototype for the naive merge code downstream: a `__proto__` key
 *    (JSON.parse keeps it as an own member; the first spread or
 *    Object.assign turns it into a prototype write), or a `constructor`
 *    member holding a `prototype` member (a deep merge walks
 *    target.constructor.prototype). That is secure-json-parse's rule, which
 *    the bus has always applied and docs/message-contract.md promises.
 *    A field merely named `constructor` or `prototype` is inert as an own
 *    data member and is legitimate data (a product's "prototype" flag, a
 *    site system's "constructor" record: test/lib/flow/local-record.test.ts),
 *    so the union of the three is not refused in data: it would turn away
 *    real records to close no hole. isPollutingMember.
 * Before this module the catalog and the record limits refused `__proto__`
 * alone; they now refuse `constructor.prototype` too, which no catalog or
 * canonical record needs and the bus already refused on the way in.
 *
 * The depth rule: every object or array is one level, the outermost is
 * level 1, and a value with a container deeper than `maxDepth` levels is
 * refused (scalars add no level). DEFAULT_MAX_DEPTH is 64 everywhere: later
 * stages (cloning, masking, ajv's recursive schemas) walk records
 * recursively, and no canonical record comes near it.
 */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const DEFAULT_MAX_DEPTH = 64;

/** Whether a path segment or a key the program writes names the prototype machinery. */
export function isPrototypeKey(name: string): boolean {
  return PROTOTYPE_KEYS.has(name);
}

/**
 * Whether the member `key` holding `value` is a way into a prototype: the
 * data rule above. Written for walks that already hold each member, so it
 * costs a string comparison per key.
 */
export function isPollutingMember(key: string, value: unknown): boolean {
  if (key === '__proto__') return true;
  return key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype');
}

/** How a reason names the refused key. */
export function pollutingKeyName(key: string): string {
  return key === '__proto__' ? '__proto__' : 'constructor.prototype';
}

/**
 * Whether a JSON text could parse to an object with a polluting member. The
 * names, written or escaped, are the only way in: a text with no backslash
 * (so no escape) and neither name anywhere cannot hold one. Searching for a
 * few fixed strings is much quicker than the two regular expressions
 * secure-json-parse runs over every text, so hot paths ask this first.
 */
export function mayHoldPollutingKey(text: string): boolean {
  return text.includes('\\') || text.includes('__proto__') || text.includes('constructor');
}

/**
 * JSON.parse, refusing a polluting member anywhere: throws a SyntaxError
 * whose message names "prototype" for one, as secure-json-parse does, and
 * JSON.parse's own error otherwise. A text that cannot hold such a member
 * (and has no byte-order mark, which secure-json-parse strips and JSON.parse
 * refuses) takes JSON.parse alone, which gives the same value.
 */
export function parseJsonRefusingPrototypeKeys(text: string): unknown {
  if (text.charCodeAt(0) !== 0xfeff && !mayHoldPollutingKey(text)) return JSON.parse(text);
  return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
}

/** Untrusted JSON as a value or one reason (rule `json` or `prototype-key`) at `path`, never a throw. */
export function parseUntrustedJson(text: string, path: string): Checked<unknown> {
  try {
    return { ok: true, value: parseJsonRefusingPrototypeKeys(text) };
  } catch (err) {
    const message = (err as Error).message;
    const rule = /prototype/i.test(message) ? 'prototype-key' : 'json';
    return { ok: false, reasons: [reason(path, rule, rule === 'json' ? `is not valid JSON: ${message}` : 'contains a forbidden __proto__ or constructor.prototype key')] };
  }
}

/**
 * Whether objects and arrays nest deeper than `maxDepth` (the depth rule
 * above). Recursive, so no list of what is left to visit is made per record;
 * the recursion stops one level past maxDepth, and limits deeper than any
 * record needs take the walk below, so a hostile payload cannot blow the
 * stack here.
 */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  return maxDepth <= 256 ? nestsDeeper(value, 1, maxDepth) : exceedsDepthIteratively(value, maxDepth);
}

function nestsDeeper(node: unknown, depth: number, maxDepth: number): boolean {
  if (typeof node !== 'object' || node === null) return false;
  if (depth > maxDepth) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) if (nestsDeeper(node[i], depth + 1, maxDepth)) return true;
    return false;
  }
  for (const key in node) {
    if (Object.hasOwn(node, key) && nestsDeeper((node as Record<string, unknown>)[key], depth + 1, maxDepth)) return true;
  }
  return false;
}

function exceedsDepthIteratively(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    if (depth > maxDepth) return true;
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

