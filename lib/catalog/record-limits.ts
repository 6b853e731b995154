import type { Reason } from '../reasons';
import { DEFAULT_MAX_DEPTH, isPollutingMember, pollutingKeyName } from '../untrusted-json';

/**
 * Bounds checked before a record reaches the schema validator. ajv follows
 * the schema, not the data, so most hostile shapes are harmless to it; these
 * cover what is not: a recursive schema walking a record nested thousands
 * deep (stack overflow), format regular expressions run over megabytes, a
 * record so wide that reporting every error costs more than the flow, and
 * the keys that the first merge downstream would turn into prototype
 * pollution (`__proto__`, `constructor.prototype`: lib/untrusted-json.ts).
 * The walks here check them as they go rather than calling a separate
 * check, so a record is walked once.
 */
export interface RecordLimits {
  /** Nesting of objects and arrays, as lib/untrusted-json.ts counts it: the record itself is depth 0, so an object at depth maxDepth is one level too deep. */
  maxDepth: number;
  /** Objects, arrays and values in all. */
  maxNodes: number;
  /** Characters in one string (keys included). */
  maxStringLength: number;
}

export const DEFAULT_RECORD_LIMITS: RecordLimits = { maxDepth: DEFAULT_MAX_DEPTH, maxNodes: 100_000, maxStringLength: 1_048_576 };

/** Every limit the record breaks (at most one reason per rule), or none. */
export function checkRecordLimits(record: unknown, limits: RecordLimits = DEFAULT_RECORD_LIMITS): Reason[] {
  // Nearly every record is within bounds: a first pass that only counts
  // and looks, allocating nothing, and the reasons are worded only if not.
  return nodesLeft(record, 0, limits, limits.maxNodes) >= 0 ? [] : recordLimitReasons(record, limits);
}

/**
 * The node budget left after `value` and everything inside it, or -1 as soon
 * as any limit breaks: the same checks as recordLimitReasons, in one
 * recursion no deeper than maxDepth.
 */
function nodesLeft(value: unknown, depth: number, limits: RecordLimits, budget: number): number {
  if (budget <= 0) return -1;
  let left = budget - 1;
  if (typeof value === 'string') return value.length > limits.maxStringLength ? -1 : left;
  if (typeof value !== 'object' || value === null) return left;
  if (depth >= limits.maxDepth) return -1;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const member = (value as Record<string, unknown>)[key];
    if (key.length > limits.maxStringLength || isPollutingMember(key, member)) return -1;
    left = nodesLeft(member, depth + 1, limits, left);
    if (left < 0) return -1;
  }
  return left;
}

/** checkRecordLimits' reasons, worded: every limit the record breaks, at most one reason per rule. */
export function recordLimitReasons(record: unknown, limits: RecordLimits = DEFAULT_RECORD_LIMITS): Reason[] {
  const reasons: Reason[] = [];
  const broken = new Set<string>();
  let nodes = 0;
  const report = (at: readonly string[], rule: string, message: string): void => {
    if (broken.has(rule)) return;
    broken.add(rule);
    reasons.push({ path: at.join('.'), rule, message });
  };
  // One path stack, pushed and popped, so a normal record costs no allocation per field.
  const path: string[] = [];
  const walk = (value: unknown): void => {
    nodes += 1;
    if (nodes > limits.maxNodes) return report([], 'too-many-values', `the record has more than ${limits.maxNodes} values`);
    if (typeof value === 'string') {
      if (value.length > limits.maxStringLength) report(path, 'string-too-long', `has ${value.length} characters, more than the limit of ${limits.maxStringLength}`);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    // A cycle never ends, so it is caught here as well.
    if (path.length >= limits.maxDepth) return report(path, 'too-deep', `is nested deeper than ${limits.maxDepth} levels`);
    for (const key of Object.keys(value)) {
      if (isPollutingMember(key, (value as Record<string, unknown>)[key])) {
        report([...path, key], 'forbidden-key', `the key "${pollutingKeyName(key)}" is refused to prevent prototype pollution`);
        continue;
      }
      if (key.length > limits.maxStringLength) {
        report(path, 'string-too-long', `has a key of ${key.length} characters, more than the limit of ${limits.maxStringLength}`);
        continue;
      }
      path.push(key);
      walk((value as Record<string, unknown>)[key]);
      path.pop();
      if (broken.has('too-many-values')) return;
    }
  };
  walk(record);
  return reasons;
}
