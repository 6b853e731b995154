import type { Reason } from '../reasons';

/** Shared shapes of the catalog: JSON values, schemas and compatibility findings (a Reason, lib/reasons.ts, with more). */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A JSON Schema draft 2020-12 document or subschema (booleans are schemas). */
export type JsonSchema = boolean | JsonObject;

/** A breaking change found by the compatibility checker. */
export interface CompatibilityReason extends Reason {
  /** The value in the older schema (absent when the older schema had none). */
  from?: JsonValue;
  /** The value in the newer schema. */
  to?: JsonValue;
  /** Label of the older schema the candidate was compared with. */
  against?: string;
  /** Which guarantee broke: old data read by the new schema, or the reverse. */
  direction?: 'backward' | 'forward';
}

export const COMPATIBILITY_LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** Confluent's two policies for JSON Schema; STRICT is its default. */
export type CompatibilityPolicy = 'STRICT' | 'LENIENT';

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type Outcome<T> = ({ ok: true } & T) | { ok: false; reasons: Reason[] };
