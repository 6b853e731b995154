import type { DiffContext } from './compat-rules';
import { TectonicError } from '../errors';
import { addSchemaDocument, createSchemaIndex } from './ref-resolver';
import type { Located, SchemaIndex } from './ref-resolver';
import { diffSchemas } from './schema-diff';
import type { CompatibilityLevel, CompatibilityPolicy, CompatibilityReason, JsonSchema } from './types';

export interface CompatibilityOptions {
  /** STRICT (default) or LENIENT, as in Confluent Schema Registry. */
  policy?: CompatibilityPolicy;
  /** Where `$ref`s that leave a schema are resolved (the catalog's files). */
  index?: SchemaIndex;
  /** Names of the schemas for the reasons' `against`, e.g. their versions. */
  labels?: readonly string[];
}

export interface CompatibilityResult {
  compatible: boolean;
  reasons: CompatibilityReason[];
}

/**
 * Which earlier schemas the candidate is checked against, and in which
 * direction, per Confluent's definitions:
 * BACKWARD: readers of the new schema read data written with the last one;
 * FORWARD: readers of the last schema read data written with the new one;
 * FULL: both; *_TRANSITIVE: against every earlier schema, not just the last.
 */
const LEVELS: Record<CompatibilityLevel, { backward: boolean; forward: boolean; transitive: boolean }> = {
  BACKWARD: { backward: true, forward: false, transitive: false },
  BACKWARD_TRANSITIVE: { backward: true, forward: false, transitive: true },
  FORWARD: { backward: false, forward: true, transitive: false },
  FORWARD_TRANSITIVE: { backward: false, forward: true, transitive: true },
  FULL: { backward: true, forward: true, transitive: false },
  FULL_TRANSITIVE: { backward: true, forward: true, transitive: true },
  NONE: { backward: false, forward: false, transitive: false },
};

/**
 * Is the last schema (the candidate) compatible with the ones before it
 * (oldest first) under `level`? Each breaking change comes with its path
 * and rule; an empty list means compatible.
 */
export function checkCompatibility(level: CompatibilityLevel, schemas: readonly JsonSchema[], options: CompatibilityOptions = {}): CompatibilityResult {
  if (schemas.length === 0) throw new TectonicError('INVALID_ARGUMENT', 'checkCompatibility needs at least the candidate schema');
  const mode = LEVELS[level];
  if (!mode) throw new TectonicError('INVALID_ARGUMENT', `unknown compatibility level ${String(level)}`);
  const located: Located[] = schemas.map((s) => addSchemaDocument(createSchemaIndex(options.index), s));
  const candidate = located[located.length - 1] as Located;
  const previous = located.slice(0, -1);
  const targets = mode.transitive ? previous.map((_, i) => i) : previous.length > 0 ? [previous.length - 1] : [];
  const policy = options.policy ?? 'STRICT';
  const reasons: CompatibilityReason[] = [];
  for (const i of targets) {
    const older = located[i] as Located;
    const against = options.labels?.[i] ?? `#${i}`;
    const label = (r: CompatibilityReason): CompatibilityReason => ({ ...r, against });
    if (mode.backward) reasons.push(...diffSchemas(older, candidate, context('backward', policy)).map(label));
    if (mode.forward) reasons.push(...diffSchemas(candidate, older, context('forward', policy)).map(label));
  }
  return { compatible: reasons.length === 0, reasons };
}

function context(direction: 'backward' | 'forward', policy: CompatibilityPolicy): DiffContext {
  return { direction, policy, seen: new Set(), depth: 0 };
}
