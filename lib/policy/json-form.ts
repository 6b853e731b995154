import { constants as bufferConstants } from 'node:buffer';

// The policy engine masks and measures a private copy of each record in its
// JSON form. JSON.parse(JSON.stringify(record)) is that copy by definition,
// but it builds the whole text only to parse it again and measure it; for
// plain data this walk gives the same copy and size at a fraction of the cost.

/**
 * The record as JSON.parse(JSON.stringify(value)) gives it, and the UTF-8
 * length of that JSON, from one walk without the text in between. Only plain
 * data is walked: objects whose prototype is Object.prototype (or none),
 * arrays, strings, numbers, booleans and null, no `toJSON` anywhere. For
 * those, JSON.stringify reads the same members in the same order (Object.keys
 * order, each member read once), drops the same ones (undefined, functions,
 * symbols) and writes non-finite numbers as null, and JSON.parse gives back
 * fresh plain objects with the members in that order, which is what this
 * builds. Anything else (Dates, class instances, Buffers, BigInts, a
 * `__proto__` member, holes, cycles, very deep nesting, a JSON text beyond
 * the longest string) is undefined, and the caller takes the round trip,
 * whose result and whose errors are the definition this must match.
 */
export function plainJsonForm(value: unknown): { value: unknown; bytes: number } | undefined {
  const size = { bytes: 0 };
  const copy = plainJsonCopy(value, size, 0);
  if (copy === NOT_PLAIN || size.bytes > bufferConstants.MAX_STRING_LENGTH) return undefined;
  return { value: copy, bytes: size.bytes };
}

const NOT_PLAIN: unique symbol = Symbol('not plain JSON data');

// Deep enough for any real record; deeper ones (and cycles) take the round trip, which reports a cycle as such.
const MAX_PLAIN_DEPTH = 64;

function plainJsonCopy(value: unknown, size: { bytes: number }, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      size.bytes += jsonStringBytes(value);
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        size.bytes += 4;
        return null;
      }
      size.bytes += jsonNumberLength(value);
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
  let first = true;
  for (const key of Object.keys(source)) {
    // Assigning "__proto__" would set the copy's prototype; JSON.parse makes it a member.
    if (key === '__proto__') return NOT_PLAIN;
    const member = (source as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    const copied = plainJsonCopy(member, size, depth + 1);
    if (copied === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = copied;
    bytes += jsonStringBytes(key) + (first ? 1 : 2); // "key": and the comma before it
    first = false;
  }
  size.bytes += bytes;
  return copy;
}

function plainJsonArray(source: readonly unknown[], size: { bytes: number }, depth: number): unknown {
  if (Object.getPrototypeOf(source) !== Array.prototype || (source as { toJSON?: unknown }).toJSON !== undefined) return NOT_PLAIN;
  const length = source.length;
  const copy: unknown[] = [];
  size.bytes += length === 0 ? 2 : length + 1; // [] and the commas
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

/**
 * Characters of JSON.stringify(n) for a finite number, without making the
 * string for integers and for values with up to three decimals (prices,
 * weights, measurements), which is what records carry. The shortest decimal
 * that reads back as n is what ECMAScript prints (Number::toString): when
 * m / 10^k is exactly n for an integer m below 2^53 and the smallest such k,
 * that decimal has k fraction digits and n's integer part. From 1e-6 on the
 * form is plain decimal; smaller values are printed with an exponent.
 */
function jsonNumberLength(n: number): number {
  const sign = n < 0 ? 1 : 0;
  const magnitude = Math.abs(n);
  if (Number.isSafeInteger(n)) return sign + integerLength(magnitude);
  if (magnitude >= 1e-6 && magnitude < 9e12) {
    for (let k = 1, scale = 10; k <= 3; k++, scale *= 10) {
      if (Math.round(magnitude * scale) / scale === magnitude) return sign + integerLength(Math.floor(magnitude)) + 1 + k;
    }
  }
  return String(n).length;
}

/** Decimal digits of a non-negative safe integer. */
function integerLength(n: number): number {
  let length = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) length++;
  return length;
}

/**
 * UTF-8 bytes of JSON.stringify(text): the quotes, two-character escapes for
 * `"`, `\\` and \b \t \n \f \r, six-character \u escapes for the other
 * control characters and for lone surrogates (ES2019 well-formed
 * JSON.stringify), and UTF-8 for the rest.
 */
function jsonStringBytes(text: string): number {
  let bytes = text.length + 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) bytes += 1;
      else if (c < 0x20) bytes += 5;
    } else if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: two code units, four bytes
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) bytes += 5;
    else bytes += 2;
  }
  return bytes;
}
