import { type Reason, reason } from '../reasons';
import { typeName } from './values';

/**
 * Reading a transform's options out of an untrusted spec: each reader checks
 * one option, pushes a reason with the option's full path when it is wrong,
 * and returns undefined then. Unknown options are refused, so a typo
 * (`"zome"`) is caught when the spec is compiled instead of being ignored.
 */
export type Options = Record<string, unknown>;

export function readOptions(value: unknown, path: string, allowed: readonly string[], reasons: Reason[]): Options | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    reasons.push(reason(path, 'type', `options must be an object${allowed.length > 0 ? ` (${allowed.join(', ')})` : ' ({})'}, got ${typeName(value)}`));
    return undefined;
  }
  const options = value as Options;
  let good = true;
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      reasons.push(reason(`${path}.${key}`, 'unknown-option', allowed.length > 0 ? `is not an option here (known: ${allowed.join(', ')})` : 'is not an option here (this transform takes none: {})'));
      good = false;
    }
  }
  return good ? options : undefined;
}

export function optionalString(options: Options, key: string, path: string, reasons: Reason[], allowed?: readonly string[]): string | undefined | null {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    reasons.push(reason(`${path}.${key}`, 'type', `must be a string, got ${typeName(value)}`));
    return null;
  }
  if (allowed && !allowed.includes(value)) {
    reasons.push(reason(`${path}.${key}`, 'enum', `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`));
    return null;
  }
  return value;
}

export function optionalInteger(options: Options, key: string, path: string, reasons: Reason[], min: number, max: number): number | undefined | null {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    reasons.push(reason(`${path}.${key}`, 'type', `must be an integer from ${min} to ${max}, got ${typeof value === 'number' ? String(value) : typeName(value)}`));
    return null;
  }
  return value;
}

export function optionalBoolean(options: Options, key: string, path: string, reasons: Reason[]): boolean | undefined | null {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    reasons.push(reason(`${path}.${key}`, 'type', `must be true or false, got ${typeName(value)}`));
    return null;
  }
  return value;
}
