import { breaking, childPath } from './compat-rules';
import type { DiffContext } from './compat-rules';
import { diffCount } from './diff-scalars';
import type { Recurse } from './schema-diff';
import { TRUE_SCHEMA, isFalse } from './schema-view';
import type { SchemaView } from './schema-view';
import type { CompatibilityReason } from './types';

/**
 * Objects, with Confluent's content models in mind. A writer with no
 * additionalProperties is OPEN: under STRICT it may already have sent any
 * undeclared name with any value, so a reader that starts constraining that
 * name breaks it. LENIENT assumes writers send only the properties their
 * schema declares, and skips those cases.
 */
export function diffObjects(w: SchemaView, r: SchemaView, ctx: DiffContext, path: string, recurse: Recurse): CompatibilityReason[] {
  const out: CompatibilityReason[] = [];
  const lenient = ctx.policy === 'LENIENT';
  const writerOpen = w.additional === undefined;

  for (const name of r.required) {
    if (!w.required.has(name)) out.push(breaking(ctx, 'required', childPath(path, name), `"${name}" is required in one version and optional or absent in the other`));
  }

  for (const name of new Set([...w.properties.keys(), ...r.properties.keys()])) {
    const at = childPath(path, name);
    const wDeclared = w.properties.has(name);
    const wSchema = w.properties.get(name) ?? w.additional;
    const rSchema = r.properties.get(name) ?? r.additional;
    if (!wDeclared && writerOpen && lenient) continue;
    if (isFalse(wSchema) || rSchema === undefined) continue;
    if (isFalse(rSchema) && !r.properties.has(name)) {
      out.push(breaking(ctx, 'closedProperty', at, `"${name}" is declared in one version and refused by the closed content model of the other`));
      continue;
    }
    if (!wDeclared && wSchema === undefined) {
      // Open writer, reader constrains the name: breaking unless the reader's schema accepts anything.
      if (recurse(TRUE_SCHEMA, rSchema, at).length > 0) {
        out.push(breaking(ctx, 'openProperty', at, `"${name}" is constrained in one version while the other's open content model accepts it with any value`));
      }
      continue;
    }
    out.push(...recurse(wSchema ?? TRUE_SCHEMA, rSchema, at));
  }

  if (r.additional !== undefined && !(writerOpen && lenient)) {
    const wAdd = w.additional ?? TRUE_SCHEMA;
    if (!isFalse(wAdd)) {
      if (isFalse(r.additional)) out.push(breaking(ctx, 'contentModel', `${path}.*`, 'one version accepts undeclared properties and the other refuses them (additionalProperties: false)', w.additional === undefined ? true : null, false));
      else if (recurse(wAdd, r.additional, `${path}.*`).length > 0) out.push(breaking(ctx, 'additionalProperties', `${path}.*`, 'undeclared properties are constrained differently'));
    }
  }

  out.push(...diffCount('propertyCount', 'number of properties', [w.minProperties, w.maxProperties], [r.minProperties, r.maxProperties], ctx, path));

  for (const [key, deps] of r.dependentRequired) {
    const writerNeverSends = !w.properties.has(key) && isFalse(w.additional);
    if (writerNeverSends) continue;
    for (const dep of deps) {
      if (w.required.has(dep) || w.dependentRequired.get(key)?.has(dep)) continue;
      out.push(breaking(ctx, 'dependentRequired', childPath(path, dep), `"${dep}" is required when "${key}" is present in one version only`));
    }
  }
  return out;
}
