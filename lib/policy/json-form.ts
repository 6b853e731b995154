import { constants as bufferConstants } from 'node:buffer';
import { DEFAULT_MAX_DEPTH } from '../untrusted-json';

// The policy engine masks and measures a private copy of each record in its
// JSON form. JSON.parse(JSON.stringify(record)) is that copy by definition,
// but it builds the whole text only to parse it again; for plain data this
// walk gives the same copy, with a bound on the text's size that is enough
// for nearly every decision (the engine measures exactly when it is not).

/**
 * The record as JSON.parse(JSON.stringify(value)) gives it, and an upper
 * bound on the UTF-8 length of that JSON, from one walk without the text in
 * between. Only plain data is walked: objects whose prototype is
 * Object.prototype (or none), arrays, strings, numbers, booleans and null,
 * no `toJSON` anywhere. For those, JSON.stringify reads the same members in
 * the same order (Object.keys order, each member read once), drops the same
 * ones (undefined, functions, symbols) and writes non-finite numbers as
 * null, and JSON.parse gives back fresh plain objects with the members in
 * that order, which is what this builds. Anything else (Dates, class
 * instances, Buffers, BigInts, a `__proto__` member, holes, cycles, very
 * deep nesting, a JSON text beyond the longest string) is undefined, and the
 * caller takes the round trip, whose result and whose errors are the
 * definition this must match.
 *
 * The bound counts six bytes for every UTF-16 unit of a string or key (the
 * most JSON.stringify and UTF-8 make of one: a `\u` escape), the widest a
 * number can print, and the exact punctuation: no character is looked at.
 */
export function plainJsonForm(value: unknown): { value: unknown; bytesAtMost: number } | undefined {
  const size = { bytes: 0 };
  const copy = plainJsonCopy(value, size, 0);
  // The bound is at least the text's length in UTF-16 units too: within it, the text can be made.
  if (copy === NOT_PLAIN || size.bytes > bufferConstants.MAX_STRING_LENGTH) return undefined;
  return { value: copy, bytesAtMost: size.bytes };
}

const NOT_PLAIN: unique symbol = Symbol('not plain JSON data');

// Deep enough for any real record; deeper ones (and cycles) take the round trip, which reports a cycle as such.
const MAX_PLAIN_DEPTH = DEFAULT_MAX_DEPTH;
/** "-1.7976931348623157e+308": no finite number prints longer. */
const WIDEST_NUMBER = 24;

function stringBytesAtMost(text: string): number {
  return 2 + 6 * text.length;
}

function plainJsonCopy(value: unknown, size: { bytes: number }, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      size.bytes += stringBytesAtMost(value);
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        size.bytes += 4;
        return null;
      }
      size.bytes += WIDEST_NUMBER;
      // -0 is written "0" and parses back as 0.
      return value === 0 ? 0 : value;
    case 'boolean':
      size.bytes += value ? 4 : 5;
      return value;
    case 'object':
      if (value === null) {
        size.bytes += 4;
        return null;
      }
      if (depth >= MAX_PLAIN_DEPTH) return NOT_PLAIN;
      return Array.isArray(value) ? plainJsonArray(value, size, depth) : plainJsonObject(value, size, depth);
    default:
      // undefined, functions and symbols have no JSON form of their own; a BigInt has one only through a toJSON.
      return NOT_PLAIN;
  }
}

function plainJsonObject(source: object, size: { bytes: number }, depth: number): unknown {
  const proto: unknown = Object.getPrototypeOf(source);
  if ((proto !== Object.prototype && proto !== null) || (source as { toJSON?: unknown }).toJSON !== undefined) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  let bytes = 2; // {}
  // for-in with hasOwn, not Object.keys: the same keys in the same order without an array per object.
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    // Assigning "__proto__" would set the copy's prototype; JSON.parse makes it a member.
    if (key === '__proto__') return NOT_PLAIN;
    const member = (source as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    const copied = plainJsonCopy(member, size, depth + 1);
    if (copied === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = copied;
    bytes += stringBytesAtMost(key) + 2; // "key": and the comma before it
  }
  size.bytes += bytes;
  return copy;
}

function plainJsonArray(source: readonly unknown[], size: { bytes: number }, depth: number): unknown {
  if (Object.getPrototypeOf(source) !== Array.prototype || (source as { toJSON?: unknown }).toJSON !== undefined) return NOT_PLAIN;
  const length = source.length;
  const copy: unknown[] = [];
  size.bytes += length + 2; // [], the commas and then some
  for (let i = 0; i < length; i++) {
    // A hole or an element with no JSON form becomes null; rare enough to leave to the round trip,
    // which also keeps a sparse array of huge length from being walked here.
    const element = source[i];
    if (element === undefined || typeof element === 'function' || typeof element === 'symbol') return NOT_PLAIN;
    const copied = plainJsonCopy(element, size, depth + 1);
    if (copied === NOT_PLAIN) return NOT_PLAIN;
    copy.push(copied);
  }
  return copy;
}
