import { type Reason, reason } from '../reasons';
import { isPrototypeKey } from '../untrusted-json';

/**
 * Dotted paths with array indexes (`a.b.0.c`), as the mapping spec writes
 * `from` and `to`. A path is checked and compiled once into a getter or a
 * setter closure; nothing is parsed per record.
 *
 * Segments that name the prototype machinery (lib/untrusted-json.ts,
 * PROTOTYPE_KEYS) are refused at compile time: a reading rule could
 * otherwise reach inherited members, and a writing rule could pollute
 * Object.prototype for the whole process.
 */

/** A path longer than this is a mistake, not a record layout. */
export const MAX_PATH_SEGMENTS = 32;

const INDEX = /^(0|[1-9]\d{0,8})$/;

export type Getter = (root: unknown) => unknown;
export type Setter = (root: Record<string, unknown>, value: unknown) => void;

/** A checked path: its segments, and for each the array index it names (-1 when not a number). */
export interface CompiledPath {
  readonly text: string;
  readonly segments: readonly string[];
  readonly indexes: readonly number[];
}

/**
 * Checks a path written in a spec. `target` paths must start with a field
 * name, because the canonical record is an object.
 */
export function parsePath(value: unknown, where: string, kind: 'source' | 'target', reasons: Reason[]): CompiledPath | undefined {
  if (typeof value !== 'string') {
    reasons.push(reason(where, 'type', `must be a dotted path such as "a.b.0.c", got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`));
    return undefined;
  }
  if (value === '') {
    reasons.push(reason(where, 'path', 'must not be empty'));
    return undefined;
  }
  const segments = value.split('.');
  if (segments.length > MAX_PATH_SEGMENTS) {
    reasons.push(reason(where, 'path', `has ${segments.length} segments, at most ${MAX_PATH_SEGMENTS} are allowed`));
    return undefined;
  }
  const bad = segments.find((s) => s === '' || isPrototypeKey(s));
  if (bad !== undefined) {
    reasons.push(
      reason(where, 'path', bad === '' ? `"${value}" has an empty segment (two dots, or a dot at either end)` : `"${value}" uses "${bad}", which is refused: it would reach the object prototype`),
    );
    return undefined;
  }
  if (kind === 'target' && INDEX.test(segments[0] ?? '')) {
    reasons.push(reason(where, 'path', `"${value}" starts with an array index, but the canonical record is an object`));
    return undefined;
  }
  return { text: value, segments, indexes: segments.map((s) => (INDEX.test(s) ? Number(s) : -1)) };
}

function step(current: unknown, segment: string, index: number): unknown {
  if (Array.isArray(current)) return index >= 0 && index < current.length ? (current[index] as unknown) : undefined;
  // Own properties only: `toString` or `hasOwnProperty` of a record are not data.
  if (typeof current === 'object' && current !== null && Object.hasOwn(current, segment)) return (current as Record<string, unknown>)[segment];
  return undefined;
}

/** A getter for a checked path; undefined wherever the path leads nowhere. */
export function compileGetter(path: CompiledPath): Getter {
  const { segments, indexes } = path;
  // The common one- and two-segment paths get their own closures, so mapping
  // a flat record does no loop bookkeeping.
  if (segments.length === 1) {
    const s0 = segments[0] as string;
    const i0 = indexes[0] as number;
    return (root) => step(root, s0, i0);
  }
  if (segments.length === 2) {
    const [s0, s1] = segments as [string, string];
    const [i0, i1] = indexes as [number, number];
    return (root) => step(step(root, s0, i0), s1, i1);
  }
  return (root) => {
    let current = root;
    for (let i = 0; i < segments.length && current !== undefined; i++) current = step(current, segments[i] as string, indexes[i] as number);
    return current;
  };
}

/**
 * A setter that writes into a record the mapper built itself. It creates the
 * objects and arrays on the way (an array where the next segment is an index),
 * fills the gap before a new array index with null so the result stays dense
 * JSON, and only ever writes own data properties named by a checked path.
 */
export function compileSetter(path: CompiledPath): Setter {
  const { segments, indexes } = path;
  const last = segments.length - 1;
  if (last === 0) {
    const s0 = segments[0] as string;
    return (root, value) => {
      root[s0] = value;
    };
  }
  return (root, value) => {
    let current: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i <= last; i++) {
      const index = indexes[i] as number;
      const segment = segments[i] as string;
      const isLast = i === last;
      const next: unknown = isLast ? value : read(current, segment, index);
      let child: unknown = next;
      if (!isLast && (typeof next !== 'object' || next === null)) child = (indexes[i + 1] as number) >= 0 ? [] : {};
      if (Array.isArray(current) && index >= 0) {
        while (current.length < index) current.push(null);
        current[index] = child;
      } else {
        (current as Record<string, unknown>)[segment] = child;
      }
      if (!isLast) current = child as Record<string, unknown> | unknown[];
    }
  };
}

function read(container: Record<string, unknown> | unknown[], segment: string, index: number): unknown {
  if (Array.isArray(container)) return index >= 0 ? container[index] : undefined;
  return Object.hasOwn(container, segment) ? container[segment] : undefined;
}

/** True when one path is the other or lies inside it: two rules would write the same place. */
export function overlaps(a: CompiledPath, b: CompiledPath): boolean {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) if (a.segments[i] !== b.segments[i]) return false;
  return true;
}
